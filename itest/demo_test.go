package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
)

// TestDemo builds itest/demo and runs it with -exit-after: it must print
// the three nodes' getinfo and the xlncli command lines, exit 0 and remove
// its directory.
func TestDemo(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("itest: starts btcd and xlnd processes; not run with -short")
	}
	root, err := harness.ModuleRoot()
	check(t, err)
	bin := filepath.Join(t.TempDir(), "demo")
	goCmd, err := exec.LookPath("go")
	check(t, err)
	build := exec.Command(goCmd, "build", "-o", bin, "./itest/demo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./itest/demo: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-exit-after=2s")
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err = cmd.Run()
	out := stdout.String()
	if err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}

	dir := regexp.MustCompile(`xlnd demo: files in (\S+)`).FindStringSubmatch(out)
	if dir == nil {
		t.Fatalf("demo did not say where its files are:\n%s", out)
	}
	if _, err := os.Stat(dir[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("demo left %s behind (%v)", dir[1], err)
	}

	keys := make(map[string]bool)
	for _, name := range []string{"alice", "bob", "carol"} {
		marker := "=== " + name + " getinfo ===\n"
		i := strings.Index(out, marker)
		if i < 0 {
			t.Errorf("no getinfo block for %s:\n%s", name, out)
			continue
		}
		var info struct {
			IdentityPubkey string   `json:"identity_pubkey"`
			Alias          string   `json:"alias"`
			NumPeers       int      `json:"num_peers"`
			URIs           []string `json:"uris"`
		}
		dec := json.NewDecoder(strings.NewReader(out[i+len(marker):]))
		if err := dec.Decode(&info); err != nil {
			t.Errorf("%s's getinfo is not JSON: %v", name, err)
			continue
		}
		wantPeers := map[string]int{"alice": 1, "bob": 2, "carol": 1}[name]
		if info.Alias != name || len(info.IdentityPubkey) != 66 || info.NumPeers != wantPeers || len(info.URIs) != 1 {
			t.Errorf("%s's getinfo: %+v (want %d peers)", name, info, wantPeers)
		}
		keys[info.IdentityPubkey] = true
		if !strings.Contains(out, "# "+name+"\n") ||
			!regexp.MustCompile(`xlncli --rpcserver=127\.0\.0\.1:\d+ --tlscertpath=\S+/`+name+
				`/tls\.cert --macaroonpath=\S+/`+name+`/data/chain/bitcoin/regtest/admin\.macaroon getinfo`).MatchString(out) {
			t.Errorf("no xlncli command line for %s:\n%s", name, out)
		}
	}
	if len(keys) != 3 {
		t.Errorf("identity keys not distinct: %v", keys)
	}
	if !strings.Contains(out, "btcctl --regtest --rpcserver=") {
		t.Errorf("no btcctl command line:\n%s", out)
	}
}
