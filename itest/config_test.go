package itest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
)

// TestBadConfig: xlnd started with a bad option or value exits non-zero
// with one line on stderr naming the option, without hanging.
func TestBadConfig(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node, err := nw.AddNode(harness.NodeConfig{Name: "alice"})
	check(t, err)
	base := node.Args()

	tests := []struct {
		arg  string
		name string // what the error line must mention
	}{
		{"--network=foonet", "--network"},
		{"--bogusflag", "bogusflag"},
		{"--color=blue", "--color"},
		{"--alias=" + strings.Repeat("a", 33), "--alias"},
		{"--debuglevel=loud", "--debuglevel"},
		{"--maxinboundpeers=-1", "--maxinboundpeers"},
		{"--listen=127.0.0.1:99999", "--listen"},
		{"--rpclisten=127.0.0.1:notaport", "--rpclisten"},
		// Neither an IPv4 address nor a host name (xlnd up to f8152b0
		// advertised it).
		{"--externalip=256.1.1.1:9735", "--externalip"},
		{"--btcd.rpccert=/nonexistent/rpc.cert", "--btcd.rpccert"},
		{"--dev.requirefeature=5000", "--dev.requirefeature"},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			// A refused option stops xlnd in seconds; one it wrongly
			// accepts leaves it running.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append(append([]string{}, base...), tc.arg)
			args[0] = "--datadir=" + filepath.Join(t.TempDir(), "xlnd")
			cmd := exec.CommandContext(ctx, filepath.Join(nw.BinDir(), "xlnd"), args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout = &stdout
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("xlnd %s did not exit within 30 s; its output:\n%s%s",
					tc.arg, stdout.String(), stderr.String())
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("xlnd %s: %v, want a non-zero exit", tc.arg, err)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.name) {
				t.Errorf("xlnd %s: stderr %q, want one line naming %s", tc.arg, stderr.String(), tc.name)
			}
		})
	}
}

// TestConfigFileAndTLS: xlnd.conf in the data dir is read and the command
// line wins over it; the TLS certificate names --tlsextraip and
// --tlsextradomain; certificate and macaroons are reused after a restart.
func TestConfigFileAndTLS(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node, err := nw.AddNode(harness.NodeConfig{Name: "alice", ExtraArgs: []string{
		"--tlsextraip=10.1.2.3", "--tlsextradomain=xlnd.example",
	}})
	check(t, err)
	conf := "[Application Options]\nalias=fromfile\ncolor=#112233\n"
	check(t, os.WriteFile(filepath.Join(node.DataDir(), "xlnd.conf"), []byte(conf), 0o600))
	check(t, node.Start())

	info, err := node.Info()
	check(t, err)
	if info.Alias != "alice" || info.Color != "#112233" {
		t.Errorf("alias %q (want the command line's alice), color %q (want the file's #112233)",
			info.Alias, info.Color)
	}
	hash, height, err := nw.Btcd().Client().GetBestBlock()
	check(t, err)
	// Nothing mines here: a node behind btcd's tip must not say it is
	// synced.
	if info.SyncedToChain && int32(info.BlockHeight) < height {
		t.Errorf("getinfo says synced_to_chain at %d; btcd is at %d", info.BlockHeight, height)
	}
	check(t, node.WaitHeight(height))
	info, err = node.Info()
	check(t, err)
	if info.BlockHash != hash.String() || int32(info.BlockHeight) != height {
		t.Errorf("getinfo at %s (%d), btcd at %s (%d)", info.BlockHash, info.BlockHeight, hash, height)
	}

	certPEM, err := os.ReadFile(node.TLSCertPath())
	check(t, err)
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatalf("%s is not PEM", node.TLSCertPath())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	check(t, err)
	for _, ip := range []string{"127.0.0.1", "10.1.2.3"} {
		if !slices.ContainsFunc(cert.IPAddresses, func(a net.IP) bool { return a.Equal(net.ParseIP(ip)) }) {
			t.Errorf("certificate IPs %v lack %s", cert.IPAddresses, ip)
		}
	}
	for _, name := range []string{"localhost", "xlnd.example"} {
		if !slices.Contains(cert.DNSNames, name) {
			t.Errorf("certificate names %v lack %s", cert.DNSNames, name)
		}
	}

	mac, err := os.ReadFile(node.AdminMacaroonPath())
	check(t, err)
	check(t, node.Restart())
	certAfter, err := os.ReadFile(node.TLSCertPath())
	check(t, err)
	macAfter, err := os.ReadFile(node.AdminMacaroonPath())
	check(t, err)
	if !bytes.Equal(certAfter, certPEM) || !bytes.Equal(macAfter, mac) {
		t.Errorf("restart replaced the certificate (%v) or the admin macaroon (%v)",
			!bytes.Equal(certAfter, certPEM), !bytes.Equal(macAfter, mac))
	}
}
