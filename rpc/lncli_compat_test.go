//go:build lnclicompat

// Opt-in check that lnd's own lncli drives this server:
//
//	go build -o /tmp/lncli ./cmd/lncli   # in an lnd checkout
//	LNCLI=/tmp/lncli go test -tags lnclicompat -run TestLncliCompat ./rpc/
package rpc

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

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
	// lncli create: password twice, no existing seed, no passphrase; it
	// shows the seed and initialises.
	out, err := lncli("password1\npassword1\nn\n\n", "create")
	if err != nil {
		t.Fatalf("lncli create: %v\n%s", err, out)
	}
	t.Logf("lncli create:\n%s", out)
	if h.loader.created == nil || len(h.loader.created.Mnemonic) != 24 || h.loader.created.Restore {
		t.Fatalf("wallet not created from a fresh seed: %+v", h.loader.created)
	}
	if err := h.srv.Activate(h.node.backend()); err != nil {
		t.Fatal(err)
	}

	info := mustJSON("getinfo")
	if info["alias"] != "alice" || info["block_height"] != float64(101) {
		t.Fatalf("getinfo %v", info)
	}
	mustJSON("printmacaroon", "--macaroon_file", h.paths.AdminMacaroon)
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
	mustJSON("stop")
	_ = lnrpc.WalletState_LOCKED
}
