//go:build lnclicompat

// Opt-in check that lnd's own lncli drives this server:
//
//	go build -o /tmp/lncli ./cmd/lncli   # in an lnd checkout
//	LNCLI=/tmp/lncli go test -tags lnclicompat -run TestLncliCompat ./rpc/
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/logging"
	"lnd.xprv/rpc/lnrpc"
)

func TestLncliCompat(t *testing.T) {
	bin := os.Getenv("LNCLI")
	if bin == "" {
		t.Fatal("set LNCLI to an lncli binary built from lnd's source")
	}
	h := newHarness(t, false)
	lncli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		full := append([]string{"--lnddir", h.dir, "--network", "regtest",
			"--rpcserver", h.srv.GRPCAddrs()[0].String()}, args...)
		cmd := exec.CommandContext(t.Context(), bin, full...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustJSON := func(args ...string) map[string]any {
		t.Helper()
		out, err := lncli("", args...)
		if err != nil {
			t.Fatalf("lncli %v: %v\n%s", args, err, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("lncli %v output %q: %v", args, out, err)
		}
		return m
	}

	if st := mustJSON("state"); st["state"] != "NON_EXISTING" {
		t.Fatalf("state %v", st)
	}
	// lncli create insists on a terminal; unlock --stdin does not. So the
	// wallet is created here, then lncli unlocks it.
	h.loader.exists = true
	h.srv.Stop()
	h = newHarnessIn(t, h.dir, h.loader)
	if st := mustJSON("state"); st["state"] != "LOCKED" {
		t.Fatalf("state %v", st)
	}
	out, err := lncli("wrong password\n", "unlock", "--stdin")
	if err == nil || !strings.Contains(out, "invalid passphrase") {
		t.Fatalf("lncli unlock with a wrong password: %v\n%s", err, out)
	}
	out, err = lncli(testPassword+"\n", "unlock", "--stdin")
	if err != nil {
		t.Fatalf("lncli unlock: %v\n%s", err, out)
	}
	b := h.node.backend()
	signer, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	b.Signer = keySigner{signer}
	logs := logging.New(io.Discard, slog.LevelInfo)
	logs.Logger("PEER")
	logs.Logger("RPCS")
	b.Logs = logs
	sweeps := &compatSweeps{}
	b.Contracts = sweeps
	if err := h.srv.Activate(b); err != nil {
		t.Fatal(err)
	}

	info := mustJSON("getinfo")
	if info["alias"] != "alice" || info["block_height"] != float64(101) {
		t.Fatalf("getinfo %v", info)
	}
	pm := mustJSON("printmacaroon", "--macaroon_file", h.paths.AdminMacaroon)
	if perms, _ := pm["permissions"].([]any); !slices.Contains(perms, any("onchain:write")) || pm["root_key_id"] != "0" {
		t.Fatalf("printmacaroon %v", pm)
	}
	if a := mustJSON("newaddress", "p2tr"); !strings.HasPrefix(a["address"].(string), "bcrt1p") {
		t.Fatalf("newaddress %v", a)
	}
	if b := mustJSON("walletbalance"); b["confirmed_balance"] != "100000" {
		t.Fatalf("walletbalance %v", b)
	}
	other := "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	if c := mustJSON("connect", other+"@127.0.0.1:9999"); !strings.Contains(c["status"].(string), "initiated") {
		t.Fatalf("connect %v", c)
	}
	mustJSON("listpeers")
	mustJSON("listunspent")
	mustJSON("listchaintxns")
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"
	if s := mustJSON("sendcoins", "--addr", addr, "--amt", "5000", "--sat_per_vbyte", "2", "--force"); s["txid"] == "" {
		t.Fatalf("sendcoins %v", s)
	}
	if got := h.node.sends[0]; got.Amount != 5000 || got.FeeRate != 500 {
		t.Fatalf("send %+v", got)
	}
	mustJSON("estimatefee", `{"`+addr+`": 10000}`, "--conf_target", "3")

	// Node-level calls: lncli's signature verifies here and one made by
	// lnd verifies through lncli; macaroons baked, listed and revoked.
	sig := mustJSON("signmessage", "from lncli")["signature"].(string)
	if v := mustJSON("verifymessage", "from lncli", sig); v["valid"] != true || v["pubkey"] != hexKey(signer.PubKey()) {
		t.Fatalf("verifymessage %v", v)
	}
	lndSig := readSignedVectors(t, "testdata/lnd_regtest_signatures.txt")[0]
	if v := mustJSON("verifymessage", "--msg", lndSig.msg, "--sig", lndSig.sig); v["valid"] != false || v["pubkey"] != lndSig.pub {
		t.Fatalf("verifymessage of lnd's signature %v", v)
	}
	macFile := h.dir + "/info.macaroon"
	if out, err := lncli("", "bakemacaroon", "--root_key_id", "9", "--save_to", macFile, "info:read"); err != nil {
		t.Fatalf("bakemacaroon: %v %s", err, out)
	}
	if pm := mustJSON("printmacaroon", "--macaroon_file", macFile); pm["root_key_id"] != "9" {
		t.Fatalf("printmacaroon of the baked macaroon %v", pm)
	}
	if ids := mustJSON("listmacaroonids"); len(ids["root_key_ids"].([]any)) != 2 {
		t.Fatalf("listmacaroonids %v", ids)
	}
	mustJSON("--macaroonpath", macFile, "getinfo")
	if d := mustJSON("deletemacaroonid", "9"); d["deleted"] != true {
		t.Fatalf("deletemacaroonid %v", d)
	}
	if out, err := lncli("", "--macaroonpath", macFile, "getinfo"); err == nil || !strings.Contains(out, "Unauthenticated") {
		t.Fatalf("getinfo with a revoked macaroon: %v %s", err, out)
	}
	if p := mustJSON("listpermissions"); len(p["method_permissions"].(map[string]any)) != len(Permissions()) {
		t.Fatalf("listpermissions %v", p)
	}
	if d := mustJSON("debuglevel", "--show"); d["sub_systems"] != "PEER RPCS" {
		t.Fatalf("debuglevel --show %v", d)
	}
	if d := mustJSON("debuglevel", "--level", "PEER=debug"); d["sub_systems"] != "PEER=DBG, RPCS=INF" {
		t.Fatalf("debuglevel --level %v", d)
	}

	// readonly cannot send.
	out, err = lncli("", "--macaroonpath", h.paths.MacaroonDir+"/readonly.macaroon",
		"sendcoins", "--addr", addr, "--amt", "5000", "--force")
	if err == nil || !strings.Contains(out, "PermissionDenied") {
		t.Fatalf("readonly sendcoins: %v %s", err, out)
	}
	// An RPC we do not implement.
	out, err = lncli("", "listchannels")
	if err == nil || !strings.Contains(out, "Unimplemented") {
		t.Fatalf("listchannels: %v %s", err, out)
	}
	// The sweeper's calls, with lncli's flags for BumpFee's fields.
	op := strings.Repeat("ab", 32) + ":1"
	bump := mustJSON("wallet", "bumpfee", "--sat_per_vbyte", "3", "--budget", "5000",
		"--deadline_delta", "6", "--immediate", op)
	if !strings.Contains(bump["status"].(string), "rbf") || len(sweeps.bumps) != 1 ||
		sweeps.bumps[0] != (SweepBump{StartRate: 750, Budget: 5000, DeadlineDelta: 6, Immediate: true}) ||
		sweeps.ops[0].String() != op {

		t.Fatalf("bumpfee %v: %+v %v", bump, sweeps.bumps, sweeps.ops)
	}
	mustJSON("wallet", "bumpfee", "--conf_target", "4", "--force", op)
	if got := sweeps.bumps[1]; got != (SweepBump{TargetConf: 4, Immediate: true}) {
		t.Fatalf("bumpfee with conf_target and force: %+v", got)
	}
	out, err = lncli("", "wallet", "bumpfee", "--deadline_delta", "6", op)
	if err == nil || !strings.Contains(out, "InvalidArgument") ||
		!strings.Contains(out, "budget must be set if deadline_delta is set") {
		t.Fatalf("bumpfee with a deadline and no budget: %v %s", err, out)
	}
	ps := mustJSON("wallet", "pendingsweeps")["pending_sweeps"].([]any)[0].(map[string]any)
	if ps["budget"] != float64(5000) || ps["deadline_height"] != float64(107) ||
		ps["requested_sat_per_vbyte"] != float64(3) || ps["immediate"] != true ||
		ps["witness_type"] != "COMMITMENT_ANCHOR" {
		t.Fatalf("pendingsweeps %#v", ps)
	}

	mustJSON("stop")
	if h.srv.State() != lnrpc.WalletState_RPC_ACTIVE {
		t.Fatalf("state %v", h.srv.State())
	}
}

// compatSweeps records BumpFee calls and lists one pending anchor.
type compatSweeps struct {
	ops   []wire.OutPoint
	bumps []SweepBump
}

func (c *compatSweeps) ForceClose(context.Context, wire.OutPoint) (chainhash.Hash, error) {
	return chainhash.Hash{}, errors.New("not in this test")
}

func (c *compatSweeps) WaitClosed(context.Context, wire.OutPoint) (chainhash.Hash, error) {
	return chainhash.Hash{}, errors.New("not in this test")
}

func (c *compatSweeps) Closing(context.Context) ([]ClosingChannel, int32, error) {
	return nil, 101, nil
}

func (c *compatSweeps) PendingSweeps(context.Context) ([]PendingSweep, error) {
	return []PendingSweep{{OutPoint: wire.OutPoint{Index: 1}, Amount: 330,
		WitnessType: 13, Budget: 5000, DeadlineHeight: 107, RequestedRate: 750,
		Immediate: true}}, nil
}

func (c *compatSweeps) BumpFee(_ context.Context, op wire.OutPoint, req SweepBump) error {
	c.ops, c.bumps = append(c.ops, op), append(c.bumps, req)
	return nil
}

func (c *compatSweeps) ListSweeps(context.Context) ([]chainhash.Hash, error) {
	return nil, nil
}
