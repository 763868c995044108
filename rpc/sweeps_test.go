//lint:file-ignore SA1019 the deprecated fields are what older clients send.

package rpc

import (
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// TestSweepBump: BumpFee's fields as lnd reads them, and the
// combinations it refuses with InvalidArgument naming the fix.
func TestSweepBump(t *testing.T) {
	for _, c := range []struct {
		name string
		req  *walletrpc.BumpFeeRequest
		want SweepBump
		err  string
	}{
		{name: "rate", req: &walletrpc.BumpFeeRequest{SatPerVbyte: 10},
			want: SweepBump{StartRate: chain.SatPerVByte(10).FeePerKWeight()}},
		{name: "deprecated rate", req: &walletrpc.BumpFeeRequest{SatPerByte: 10},
			want: SweepBump{StartRate: chain.SatPerVByte(10).FeePerKWeight()}},
		{name: "target", req: &walletrpc.BumpFeeRequest{TargetConf: 3},
			want: SweepBump{TargetConf: 3}},
		{name: "budget deadline immediate", req: &walletrpc.BumpFeeRequest{Budget: 5000,
			DeadlineDelta: 6, Immediate: true},
			want: SweepBump{Budget: 5000, DeadlineDelta: 6, Immediate: true}},
		{name: "force", req: &walletrpc.BumpFeeRequest{Force: true},
			want: SweepBump{Immediate: true}},
		{name: "both rates", req: &walletrpc.BumpFeeRequest{SatPerByte: 1, SatPerVbyte: 2},
			err: "either sat_per_byte or sat_per_vbyte"},
		{name: "rate and target", req: &walletrpc.BumpFeeRequest{SatPerVbyte: 2, TargetConf: 2},
			err: "either target_conf or sat_per_vbyte"},
		{name: "force and immediate", req: &walletrpc.BumpFeeRequest{Force: true, Immediate: true},
			err: "either force or immediate"},
		{name: "deadline alone", req: &walletrpc.BumpFeeRequest{DeadlineDelta: 6},
			err: "budget must be set if deadline_delta is set"},
		{name: "absurd rate", req: &walletrpc.BumpFeeRequest{SatPerVbyte: 1 << 40},
			err: "is absurd"},
		{name: "absurd budget", req: &walletrpc.BumpFeeRequest{Budget: 1 << 62},
			err: "exceeds 21 million"},
	} {
		got, err := sweepBump(c.req)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
			}
			continue
		}
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want InvalidArgument %q", c.name, err, c.err)
		}
	}
}

// TestClosedProtoResolutions: a force close's resolutions go out as
// lnd's, the sweep txid only when there is one.
func TestClosedProtoResolutions(t *testing.T) {
	op := wire.OutPoint{Hash: chainhash.Hash{7}, Index: 2}
	c := &ClosedChannel{ChanPoint: op, CloseType: 1, Resolutions: []Resolution{
		{Type: 1, Outcome: 3, OutPoint: op, Amount: 330},
		{Type: 4, Outcome: 1, OutPoint: op, Amount: 9_000, SweepTxID: chainhash.Hash{8}},
	}}
	p := closedProto(c, "")
	if len(p.Resolutions) != 2 {
		t.Fatalf("resolutions %v", p.Resolutions)
	}
	a, b := p.Resolutions[0], p.Resolutions[1]
	if a.ResolutionType != lnrpc.ResolutionType_ANCHOR || a.Outcome != lnrpc.ResolutionOutcome_ABANDONED ||
		a.SweepTxid != "" || a.AmountSat != 330 || a.Outpoint.TxidStr != op.Hash.String() ||
		a.Outpoint.OutputIndex != 2 {
		t.Errorf("anchor %v", a)
	}
	if b.ResolutionType != lnrpc.ResolutionType_COMMIT || b.Outcome != lnrpc.ResolutionOutcome_CLAIMED ||
		b.SweepTxid != (chainhash.Hash{8}).String() {
		t.Errorf("commit %v", b)
	}
}
