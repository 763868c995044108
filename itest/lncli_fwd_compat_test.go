//go:build lnclicompat

// Opt-in check that lnd's own lncli drives xlnd's forwarding calls and
// that xlncli prints the same JSON:
//
//	LNCLI=/work/lnd-bin/lncli go test -tags lnclicompat -run TestLncliForwarding ./itest/

package itest

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

func TestLncliForwarding(t *testing.T) {
	bin := os.Getenv("LNCLI")
	if bin == "" {
		t.Fatal("set LNCLI to an lncli binary built from lnd's source")
	}
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	_, point := openChannel(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	_, err := nw.Mine(3)
	check(t, err)
	waitActive(t, alice, point)

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
	const bogus = "0000000000000000000000000000000000000000000000000000000000000001:7"
	for _, args := range [][]string{
		{"feereport"},
		{"updatechanpolicy", "--base_fee_msat", "2000", "--fee_rate_ppm", "50", "--time_lock_delta", "40"},
		{"updatechanpolicy", "2500", "0.0001", "40", bogus},
		{"feereport"},
		{"fwdinghistory", "--start_time", "-1w", "--max_events", "5"},
		{"fwdinghistory", "--start_time", "0"},
	} {
		want, got := lncli(args...), xlncli(args...)
		var w, g any
		if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil ||
			!reflect.DeepEqual(w, g) {
			t.Errorf("%v: lncli printed\n%s\nxlncli\n%s", args, want, got)
		}
	}
}
