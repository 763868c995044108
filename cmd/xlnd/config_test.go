package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig([]string{"--datadir", dir, "--network", "regtest"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Listeners, []string{"0.0.0.0:9735"}) ||
		!reflect.DeepEqual(cfg.RPCListeners, []string{"127.0.0.1:10009"}) ||
		!reflect.DeepEqual(cfg.RESTListeners, []string{"127.0.0.1:8080"}) {
		t.Fatalf("listeners %v %v %v", cfg.Listeners, cfg.RPCListeners, cfg.RESTListeners)
	}
	if cfg.Btcd.RPCHost != "localhost:18334" {
		t.Errorf("btcd rpchost %q", cfg.Btcd.RPCHost)
	}
	if want := filepath.Join(dir, "data/chain/bitcoin/regtest"); cfg.chainDir() != want {
		t.Errorf("chain dir %q", cfg.chainDir())
	}
	if want := filepath.Join(dir, "logs/bitcoin/regtest/xlnd.log"); cfg.logFile() != want {
		t.Errorf("log file %q", cfg.logFile())
	}
}

func TestCommandLineWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	conf := `
alias=fromfile
color=#010203
listen=0.0.0.0:1111
listen=0.0.0.0:2222
network=regtest
debuglevel=debug
[btcd]
btcd.rpcuser=fileuser
`
	if err := os.WriteFile(filepath.Join(dir, "xlnd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--datadir=" + dir, "--alias=fromcli",
		"--listen=127.0.0.1:3333", "--btcd.rpcpass=clipass"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alias != "fromcli" || cfg.Color != "#010203" || cfg.Network != "regtest" ||
		cfg.DebugLevel != "debug" {
		t.Errorf("alias %q color %q network %q debuglevel %q",
			cfg.Alias, cfg.Color, cfg.Network, cfg.DebugLevel)
	}
	if !reflect.DeepEqual(cfg.Listeners, []string{"127.0.0.1:3333"}) {
		t.Errorf("listeners %v: the command line must replace the file's", cfg.Listeners)
	}
	if cfg.Btcd.RPCUser != "fileuser" || cfg.Btcd.RPCPass != "clipass" {
		t.Errorf("btcd user %q pass %q", cfg.Btcd.RPCUser, cfg.Btcd.RPCPass)
	}

	// Without the flag, the file's two listeners stay.
	cfg, err = loadConfig([]string{"--datadir=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Listeners, []string{"0.0.0.0:1111", "0.0.0.0:2222"}) {
		t.Errorf("listeners %v", cfg.Listeners)
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--network=bitcoincash"}, "--network"},
		{[]string{"--color=red"}, "--color"},
		{[]string{"--alias=" + strings.Repeat("a", 33)}, "--alias"},
		{[]string{"--debuglevel=loud"}, "--debuglevel"},
		{[]string{"--debuglevel=PEER=loud"}, "--debuglevel"},
		{[]string{"--listen=0.0.0.0:99999"}, "--listen"},
		{[]string{"--externalip=256.1.1.1:9735"}, "--externalip"},
		{[]string{"--externalip=bad_host:9735"}, "--externalip"},
		{[]string{"--rpclisten=[::zz]:10009"}, "--rpclisten"},
		{[]string{"--btcd.rpchost=-x.example:1"}, "--btcd.rpchost"},
		{[]string{"--nolisten", "--listen=0.0.0.0:1"}, "--nolisten"},
		{[]string{"--tor.v3"}, "--tor.v3"},
		{[]string{"--tlsextraip=notanip"}, "--tlsextraip"},
		{[]string{"--maxinboundpeers=-1"}, "--maxinboundpeers"},
		{[]string{"--nosuchflag"}, "nosuchflag"},
		{[]string{"--configfile=" + filepath.Join(dir, "missing.conf")}, "missing.conf"},
	}
	for _, c := range cases {
		_, err := loadConfig(append([]string{"--datadir=" + dir}, c.args...))
		if err == nil {
			t.Errorf("%v: accepted", c.args)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q should be one line naming %s", c.args, msg, c.want)
		}
	}
}

func TestGoodHosts(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig([]string{"--datadir=" + dir,
		"--externalip=203.0.113.7", "--externalip=node.example.com:9736",
		"--externalip=[2001:db8::1]:9735", "--listen=:9735",
		"--btcd.rpchost=btcd-host:8334"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"203.0.113.7:9735", "node.example.com:9736", "[2001:db8::1]:9735"}
	if !reflect.DeepEqual(cfg.ExternalIPs, want) {
		t.Fatalf("external IPs %v", cfg.ExternalIPs)
	}
}

func TestBadConfigFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "xlnd.conf"), []byte("color=blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig([]string{"--datadir=" + dir}); err == nil ||
		!strings.Contains(err.Error(), "--color") {
		t.Fatalf("bad color in the file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "xlnd.conf"), []byte("nosuch=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig([]string{"--datadir=" + dir}); err == nil ||
		!strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("unknown option in the file: %v", err)
	}
}
