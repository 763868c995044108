package cert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	return Config{
		CertPath: filepath.Join(dir, "tls.cert"),
		KeyPath:  filepath.Join(dir, "tls.key"),
		Hostname: func() (string, error) { return "node.example", nil },
	}
}

func mustLoad(t *testing.T, cfg Config) (tls.Certificate, bool) {
	t.Helper()
	pair, regen, err := LoadOrCreate(cfg)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return pair, regen
}

func TestCreateNamesAndKey(t *testing.T) {
	cfg := testConfig(t)
	cfg.ExtraIPs = []string{"10.1.2.3"}
	cfg.ExtraDomains = []string{"rpc.example.org"}
	pair, regen := mustLoad(t, cfg)
	if !regen {
		t.Fatal("first start did not report a new certificate")
	}
	leaf := pair.Leaf
	for _, d := range []string{"localhost", "node.example", "rpc.example.org"} {
		if !slices.Contains(leaf.DNSNames, d) {
			t.Errorf("DNS name %q missing from %v", d, leaf.DNSNames)
		}
	}
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3"} {
		if !slices.ContainsFunc(leaf.IPAddresses, net.ParseIP(s).Equal) {
			t.Errorf("IP %s missing from %v", s, leaf.IPAddresses)
		}
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got < DefaultValidity {
		t.Errorf("validity %v shorter than %v", got, DefaultValidity)
	}
	st, err := os.Stat(cfg.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
}

func TestReuseAndRegenerate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		change    func(*Config)
		wantRegen bool
	}{
		{"unchanged", func(*Config) {}, false},
		{"later but valid", func(c *Config) {
			c.Now = func() time.Time { return now.Add(DefaultValidity - time.Hour) }
		}, false},
		{"expired", func(c *Config) {
			c.Now = func() time.Time { return now.Add(DefaultValidity + time.Minute) }
		}, true},
		{"new extra ip", func(c *Config) { c.ExtraIPs = []string{"192.0.2.7"} }, true},
		{"new extra domain", func(c *Config) { c.ExtraDomains = []string{"x.example"} }, true},
		{"host renamed", func(c *Config) {
			c.Hostname = func() (string, error) { return "other", nil }
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Now = func() time.Time { return now }
			first, _ := mustLoad(t, cfg)
			before, err := os.ReadFile(cfg.CertPath)
			if err != nil {
				t.Fatal(err)
			}

			tc.change(&cfg)
			second, regen := mustLoad(t, cfg)
			after, err := os.ReadFile(cfg.CertPath)
			if err != nil {
				t.Fatal(err)
			}
			if regen != tc.wantRegen {
				t.Fatalf("regenerated = %v, want %v", regen, tc.wantRegen)
			}
			same := bytes.Equal(before, after) &&
				bytes.Equal(first.Certificate[0], second.Certificate[0])
			if same == tc.wantRegen {
				t.Fatalf("certificate unchanged = %v, want %v", same, !tc.wantRegen)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	cfg := testConfig(t)
	cfg.ExtraIPs = []string{"not-an-ip"}
	if _, _, err := LoadOrCreate(cfg); err == nil {
		t.Fatal("bad extra IP accepted")
	}

	cfg = testConfig(t)
	if err := os.WriteFile(cfg.CertPath, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.KeyPath, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(cfg); err == nil {
		t.Fatal("corrupt pair accepted")
	}
	if _, err := ClientConfig(cfg.CertPath); err == nil {
		t.Fatal("ClientConfig accepted a file without a certificate")
	}
}

func TestHandshake(t *testing.T) {
	cfg := testConfig(t)
	pair, _ := mustLoad(t, cfg)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(pair))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()

	client, err := ClientConfig(cfg.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		c := client.Clone()
		c.ServerName = host
		conn, err := tls.Dial("tcp", ln.Addr().String(), c)
		if err != nil {
			t.Fatalf("handshake as %s: %v", host, err)
		}
		if v := conn.ConnectionState().Version; v < tls.VersionTLS12 {
			t.Errorf("negotiated TLS version %x", v)
		}
		conn.Close()
	}

	old := client.Clone()
	old.MinVersion = tls.VersionTLS10
	old.MaxVersion = tls.VersionTLS11
	if conn, err := tls.Dial("tcp", ln.Addr().String(), old); err == nil {
		conn.Close()
		t.Fatal("TLS 1.1 client accepted")
	}
}
