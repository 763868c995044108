//go:build lnclicompat

// Opt-in check that lnd's own lncli drives xlnd's mission control calls,
// and that xlncli prints the same JSON:
//
//	LNCLI=/tmp/lncli go test -tags lnclicompat -run TestLncliMissionControl ./itest/

package itest

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/itest/harness"
)

func TestLncliMissionControl(t *testing.T) {
	bin := os.Getenv("LNCLI")
	if bin == "" {
		t.Fatal("set LNCLI to an lncli binary built from lnd's source")
	}
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	lncli := func(args ...string) string {
		t.Helper()
		full := append([]string{"--rpcserver", alice.RPCAddr(), "--tlscertpath", alice.TLSCertPath(),
			"--macaroonpath", alice.AdminMacaroonPath()}, args...)
		out, err := exec.CommandContext(t.Context(), bin, full...).CombinedOutput()
		if err != nil {
			t.Fatalf("lncli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	xlncli := func(args ...string) string {
		t.Helper()
		out, err := alice.CLI(append(alice.CLIArgs(), args...)...)
		check(t, err)
		return string(out)
	}
	key := func() string {
		k, err := btcec.NewPrivateKey()
		check(t, err)
		return hex.EncodeToString(k.PubKey().SerializeCompressed())
	}
	from, to := key(), key()
	for _, args := range [][]string{{"querymc"}, {"resetmc"}, {"queryprob", from, to, "10000"}} {
		// The same JSON; lncli's spacing varies with protojson's.
		want, got := lncli(args...), xlncli(args...)
		var w, g any
		if want == "" && got == "" {
			continue
		}
		if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil || !reflect.DeepEqual(w, g) {
			t.Errorf("%v: lncli printed\n%s\nxlncli\n%s", args, want, got)
		}
	}
	var cfg struct {
		Config struct {
			Model   string `json:"model"`
			Apriori struct {
				HopProbability float64 `json:"hop_probability"`
			} `json:"apriori"`
			MaximumPaymentResults int `json:"maximum_payment_results"`
		} `json:"config"`
	}
	out := lncli("getmccfg")
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("getmccfg: %v\n%s", err, out)
	}
	if cfg.Config.Model != "APRIORI" || cfg.Config.Apriori.HopProbability != 0.6 || cfg.Config.MaximumPaymentResults != 1000 {
		t.Fatalf("getmccfg %s", out)
	}
}

// TestLndMissionControl puts xlnd's answers beside an lnd's built from
// its source (LND, LNCLI), on the harness's regtest btcd, through lnd's
// lncli: querymc and getmccfg of fresh nodes agree, and so does queryprob
// of a pair with no channel between them in the graph (0, as lnd since
// 0.17 answers, with an empty history).
func TestLndMissionControl(t *testing.T) {
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	lndCLI, xlndCLI := startLndBeside(t, nw, alice)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info struct {
			Synced bool `json:"synced_to_chain"`
		}
		out, err := lndCLI("getinfo")
		if err == nil && json.Unmarshal(out, &info) == nil && info.Synced {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(nw.Dir(), "lnd.out"))
			t.Fatalf("lnd not ready: %v %s\n%s", err, out, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	same := func(args ...string) {
		t.Helper()
		a, err := lndCLI(args...)
		if err != nil {
			t.Fatalf("lnd %v: %v %s", args, err, a)
		}
		b, err := xlndCLI(args...)
		if err != nil {
			t.Fatalf("xlnd %v: %v %s", args, err, b)
		}
		var x, y any
		if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil || !reflect.DeepEqual(x, y) {
			t.Errorf("%v: lnd\n%s\nxlnd\n%s", args, a, b)
		}
	}
	same("querymc")
	same("getmccfg")
	same("queryprob", randHexKey(t), randHexKey(t), "10000")
}

func randHexKey(t *testing.T) string {
	k, err := btcec.NewPrivateKey()
	check(t, err)
	return hex.EncodeToString(k.PubKey().SerializeCompressed())
}
