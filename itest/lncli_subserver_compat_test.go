//go:build lnclicompat

// Opt-in check that lnd's own lncli drives xlnd's sub-servers on a real
// regtest node:
//
//	go build -o /tmp/lncli ./cmd/lncli   # in an lnd checkout
//	LNCLI=/tmp/lncli go test -tags lnclicompat -run TestLncliSubservers ./itest/
package itest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

func TestLncliSubservers(t *testing.T) {
	bin := os.Getenv("LNCLI")
	if bin == "" {
		t.Fatal("set LNCLI to an lncli binary built from lnd's source")
	}
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 10_000_000))
	lncli := func(args ...string) []byte {
		t.Helper()
		full := append([]string{"--rpcserver", alice.RPCAddr(), "--tlscertpath", alice.TLSCertPath(),
			"--macaroonpath", alice.AdminMacaroonPath()}, args...)
		out, err := exec.CommandContext(t.Context(), bin, full...).CombinedOutput()
		if err != nil {
			t.Fatalf("lncli %v: %v\n%s", args, err, out)
		}
		t.Logf("lncli %s:\n%s", strings.Join(args, " "), out)
		return out
	}
	decode := func(out []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("not JSON (%v): %s", err, out)
		}
	}

	var ver struct {
		Lnd struct {
			Version string `json:"version"`
		} `json:"lnd"`
	}
	decode(lncli("version"), &ver)
	if !strings.HasPrefix(ver.Lnd.Version, "0.") {
		t.Fatalf("version %+v", ver)
	}
	var accts struct {
		Accounts []struct {
			AddressType string `json:"address_type"`
		} `json:"accounts"`
	}
	decode(lncli("wallet", "accounts", "list"), &accts)
	if len(accts.Accounts) != 3 {
		t.Fatalf("accounts %+v", accts)
	}
	var fee struct {
		SatPerKw int64 `json:"sat_per_kw"`
	}
	decode(lncli("wallet", "estimatefeerate", "6"), &fee)
	if fee.SatPerKw < 253 {
		t.Fatalf("fee %+v", fee)
	}

	bobAddr, err := bob.NewAddress(t.Context(), 0)
	check(t, err)
	var funded struct {
		Psbt  string `json:"psbt"`
		Locks []struct {
			Outpoint string `json:"outpoint"`
		} `json:"locks"`
	}
	decode(lncli("wallet", "psbt", "fund", "--outputs", `{"`+bobAddr.EncodeAddress()+`": 1000000}`,
		"--sat_per_vbyte", "3"), &funded)
	var leases []struct {
		Outpoint string `json:"outpoint"`
	}
	decode(lncli("wallet", "listleases"), &leases)
	if len(leases) != len(funded.Locks) || len(leases) == 0 {
		t.Fatalf("leases %+v for %+v", leases, funded.Locks)
	}
	var final struct {
		FinalTx string `json:"final_tx"`
	}
	decode(lncli("wallet", "psbt", "finalize", funded.Psbt), &final)
	var pub struct {
		Txid string `json:"txid"`
	}
	decode(lncli("wallet", "publishtx", final.FinalTx, "--label", "via lncli"), &pub)
	_, err = nw.WaitTx(pub.Txid)
	check(t, err)
	_, err = nw.Mine(1)
	check(t, err)
	check(t, bob.WaitConfirmedBalance(1_000_000))
	lncli("wallet", "labeltx", "--overwrite", pub.Txid, "relabelled by lncli")
	if tx := findTx(t, alice, pub.Txid); tx == nil || tx.Label != "relabelled by lncli" {
		t.Fatalf("label %v", tx)
	}

	// The sweeper: bob force-closes, alice sweeps her to_remote; lncli
	// lists it and bumps it with lnd's budget, deadline and immediate.
	check(t, nw.ConnectNodes(alice, bob, false))
	point, ac, _ := openActiveBoth(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	commit, _ := forceClose(t, nw, bob, point)
	toRemote := commitOutput(t, commit, ac.LocalBalance)
	_, err = nw.Mine(1)
	check(t, err)
	first := waitSpender(t, nw, toRemote)
	var ps struct {
		PendingSweeps []struct {
			Outpoint    string `json:"outpoint"`
			WitnessType string `json:"witness_type"`
			Budget      any    `json:"budget"`
			Immediate   bool   `json:"immediate"`
		} `json:"pending_sweeps"`
	}
	decode(lncli("wallet", "pendingsweeps"), &ps)
	found := false
	for _, p := range ps.PendingSweeps {
		if p.Outpoint == toRemote.String() {
			found = p.WitnessType == "COMMITMENT_TO_REMOTE_CONFIRMED" &&
				fmt.Sprint(p.Budget) == fmt.Sprint(ac.LocalBalance/2)
		}
	}
	if !found {
		t.Fatalf("pendingsweeps %+v", ps)
	}
	out, err := exec.CommandContext(t.Context(), bin, "--rpcserver", alice.RPCAddr(),
		"--tlscertpath", alice.TLSCertPath(), "--macaroonpath", alice.AdminMacaroonPath(),
		"wallet", "bumpfee", "--deadline_delta", "3", toRemote.String()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "budget must be set if deadline_delta is set") {
		t.Fatalf("lncli bumpfee with a deadline and no budget: %v %s", err, out)
	}
	lncli("wallet", "bumpfee", "--budget", "20000", "--deadline_delta", "3", "--immediate",
		toRemote.String())
	var bumped *harness.ChainTx
	check(t, harness.WaitFor(func() error {
		s := waitSpender(t, nw, toRemote)
		if s.Tx.TxHash() == first.Tx.TxHash() {
			return fmt.Errorf("sweep not replaced")
		}
		bumped = s
		return nil
	}, harness.SyncTimeout))
	if bumped.Fee <= first.Fee || bumped.Fee > 20_000 {
		t.Fatalf("bumped fee %d, first %d, budget 20000", bumped.Fee, first.Fee)
	}
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)
}
