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
	"sync"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
)

// TestDemo builds itest/demo and runs it: it must print the three nodes'
// getinfo (two active channels each) and, for each node, the command lines
// an operator tries next (getinfo, listpeers, walletbalance, newaddress
// p2wkh, the channel listings), a closechannel line for each channel and a
// btcctl line, each of which must work as printed while the demo runs. At Ctrl-C the
// demo exits 0 and removes its directory.
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
	// -exit-after only bounds a demo this test fails to stop.
	cmd := exec.CommandContext(ctx, bin, "-exit-after=4m")
	cmd.Dir = root
	stdout := &syncBuffer{ready: make(chan struct{})}
	var stderr bytes.Buffer
	cmd.Stdout = stdout
	cmd.Stderr = &stderr
	check(t, cmd.Start())
	select {
	case <-stdout.ready:
	case <-ctx.Done():
		t.Fatalf("demo printed no command lines:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	out := stdout.String()

	// Every printed command line works as printed, from the repository
	// root (where make demo runs).
	talk := out[strings.Index(out, "=== talk to the nodes ===\n"):strings.Index(out, "\n# logs\n")]
	var ran []string
	paid := 0
	for _, line := range strings.Split(talk, "\n")[1:] {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		args := strings.Fields(line)
		run := exec.CommandContext(ctx, args[0], args[1:]...)
		run.Dir = root
		var runOut, runErr bytes.Buffer
		run.Stdout, run.Stderr = &runOut, &runErr
		if err := run.Run(); err != nil || runErr.Len() != 0 {
			t.Errorf("printed line %q: %v\nstdout: %s\nstderr: %s", line, err, runOut.String(), runErr.String())
		}
		last := args[len(args)-1]
		want := map[string]string{"listpeers": `"peers"`, "walletbalance": `"confirmed_balance"`,
			"p2wkh": `"address": "bcrt1q`, "listchannels": `"active": true`,
			"channelbalance": `"local_balance"`, "closedchannels": `"channels"`,
			"pendingchannels": `"pending_open_channels"`}[last]
		if strings.Contains(line, " closechannel ") {
			want = `"closing_txid"`
		}
		if want != "" && !strings.Contains(runOut.String(), want) {
			t.Errorf("printed line %q printed %s, want %s", line, runOut.String(), want)
		}
		if strings.Contains(line, " payinvoice ") || strings.HasSuffix(line, " --keysend") {
			if !strings.Contains(runOut.String(), "Payment status: SUCCEEDED") {
				t.Errorf("printed line %q did not pay: %s", line, runOut.String())
			}
			paid++
		}
		ran = append(ran, filepath.Base(args[0])+" "+strings.Join(args[len(args)-2:], " "))
	}
	for _, want := range []string{"listpeers", "walletbalance", "newaddress p2wkh",
		"listchannels", "channelbalance", "closedchannels", "generate 1"} {
		n := 0
		for _, r := range ran {
			if strings.HasSuffix(r, " "+want) {
				n++
			}
		}
		if wantN := map[bool]int{true: 1, false: 3}[want == "generate 1"]; n != wantN {
			t.Errorf("%d printed lines end in %q, want %d (ran %q)", n, want, wantN, ran)
		}
	}

	check(t, cmd.Process.Signal(os.Interrupt))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out = stdout.String()

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
		wantPeers := 2 // a triangle
		var chans struct {
			Active int `json:"num_active_channels"`
		}
		_ = json.NewDecoder(strings.NewReader(out[i+len(marker):])).Decode(&chans)
		if chans.Active != 2 {
			t.Errorf("%s: %d active channels in getinfo, want 2", name, chans.Active)
		}
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
	// alice paid carol across bob, and the printed payment lines paid
	// again (carol's second invoice, a keysend to bob).
	if !strings.Contains(out, "=== payment alice -> bob -> carol ===\nstatus: SUCCEEDED\n") {
		t.Errorf("no payment from alice to carol:\n%s", out)
	}
	if paid != 2 {
		t.Errorf("%d printed payment lines paid, want 2 (payinvoice, sendpayment --keysend)", paid)
	}
	if !regexp.MustCompile(`btcctl --configfile=\S+/btcctl\.conf generate 1`).MatchString(out) {
		t.Errorf("no btcctl command line:\n%s", out)
	}
}

// syncBuffer collects a process's output and closes ready once the command
// lines have been printed (the logs section follows them).
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if strings.Contains(b.buf.String(), "\n# logs\n") {
		b.once.Do(func() { close(b.ready) })
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
