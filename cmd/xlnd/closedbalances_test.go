package main

import (
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/rpc"
)

// TestCloseBalances: settled_balance and time_locked_balance of a force
// close as lnd's close summary has them.
func TestCloseBalances(t *testing.T) {
	outs := []channeldb.ContractOutput{
		{Kind: channeldb.OutputAnchor, Amount: 330},
		{Kind: channeldb.OutputToLocal, Amount: 70_000, CSV: 144},
		{Kind: channeldb.OutputToRemote, Amount: 60_000, CSV: 1},
		{Kind: channeldb.OutputLocalHTLCTimeout, Amount: 5_000},
		{Kind: channeldb.OutputLocalHTLCTimeout, Amount: 6_000},
		{Kind: channeldb.OutputLocalHTLCSuccess, Amount: 8_000},
		{Kind: channeldb.OutputHTLCTimeout, Amount: 9_000, CSV: 1},
		{Kind: channeldb.OutputHTLCSuccess, Amount: 4_000, CSV: 1},
		{Kind: channeldb.OutputSecondLevel, Amount: 5_000, CSV: 144},
	}
	anchors := &channeldb.OpenChannel{ChanType: uint8(lnwallet.ChannelTypeAnchors),
		LocalCommit: channeldb.ChannelCommitment{FeeRate: 253}}
	// Without anchors an HTLC-timeout transaction pays 253·663/1000 =
	// 167 sat of each offered HTLC (lnd counts what is left).
	tweakless := &channeldb.OpenChannel{ChanType: 0,
		LocalCommit: channeldb.ChannelCommitment{FeeRate: 253}}
	for _, tc := range []struct {
		kind                channeldb.ContractKind
		st                  *channeldb.OpenChannel
		settled, timeLocked btcutil.Amount
	}{
		{channeldb.ContractLocalCommit, anchors, 70_000, 81_000},
		{channeldb.ContractLocalCommit, tweakless, 70_000, 81_000 - 2*167},
		{channeldb.ContractRemoteCommit, anchors, 60_000, 0},
		{channeldb.ContractRemotePending, tweakless, 60_000, 0},
		{channeldb.ContractBreach, anchors, 60_000, 0},
	} {
		var c rpc.ClosedChannel
		closeBalances(&c, &channeldb.ContractRecord{Kind: tc.kind, Outputs: outs, Channel: tc.st})
		if c.Settled != tc.settled || c.TimeLocked != tc.timeLocked {
			t.Errorf("%v: settled %d time-locked %d, want %d %d", tc.kind,
				c.Settled, c.TimeLocked, tc.settled, tc.timeLocked)
		}
	}
}
