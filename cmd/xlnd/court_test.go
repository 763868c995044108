package main

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/rpc"
)

// TestResolutions: each settled output of a contract is described as
// lnd does; unsettled ones are left out.
func TestResolutions(t *testing.T) {
	sweep, htlcTx, peer := chainhash.Hash{1}, chainhash.Hash{2}, chainhash.Hash{3}
	commit := chainhash.Hash{9}
	op := func(i uint32) wire.OutPoint { return wire.OutPoint{Hash: commit, Index: i} }
	rec := &channeldb.ContractRecord{Kind: channeldb.ContractLocalCommit,
		Channel: &channeldb.OpenChannel{IsInitiator: true}, Sweeps: []chainhash.Hash{sweep},
		Outputs: []channeldb.ContractOutput{
			{OutPoint: op(0), Amount: 330, Kind: channeldb.OutputAnchor, Abandoned: true},
			{OutPoint: op(1), Amount: 70_000, Kind: channeldb.OutputToLocal, SpentBy: sweep},
			{OutPoint: op(2), Amount: 5_000, Kind: channeldb.OutputLocalHTLCTimeout, SpentBy: htlcTx},
			{OutPoint: op(3), Amount: 6_000, Kind: channeldb.OutputLocalHTLCTimeout, SpentBy: peer},
			{OutPoint: op(4), Amount: 7_000, Kind: channeldb.OutputLocalHTLCSuccess, Incoming: true},
			{OutPoint: op(5), Amount: 8_000, Kind: channeldb.OutputLocalHTLCSuccess, Incoming: true,
				SpentBy: chainhash.Hash{4}},
			{OutPoint: wire.OutPoint{Hash: chainhash.Hash{4}}, Amount: 8_000,
				Kind: channeldb.OutputSecondLevel, SpentBy: sweep},
			{OutPoint: wire.OutPoint{Hash: htlcTx}, Amount: 5_000,
				Kind: channeldb.OutputSecondLevel, SpentBy: sweep},
		}}
	want := []rpc.Resolution{
		{Type: resAnchor, Outcome: outAbandoned, OutPoint: op(0), Amount: 330},
		{Type: resCommit, Outcome: outClaimed, OutPoint: op(1), Amount: 70_000, SweepTxID: sweep},
		{Type: resOutgoing, Outcome: outFirstStage, OutPoint: op(2), Amount: 5_000, SweepTxID: htlcTx},
		{Type: resOutgoing, Outcome: outUnclaimed, OutPoint: op(3), Amount: 6_000},
		{Type: resIncoming, Outcome: outFirstStage, OutPoint: op(5), Amount: 8_000,
			SweepTxID: chainhash.Hash{4}},
		{Type: resIncoming, Outcome: outClaimed, OutPoint: wire.OutPoint{Hash: chainhash.Hash{4}},
			Amount: 8_000, SweepTxID: sweep},
		{Type: resOutgoing, Outcome: outTimeout, OutPoint: wire.OutPoint{Hash: htlcTx},
			Amount: 5_000, SweepTxID: sweep},
	}
	got := resolutions(rec)
	if len(got) != len(want) {
		t.Fatalf("%d resolutions, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("resolution %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	var c rpc.ClosedChannel
	forceDetails(&c, rec)
	if c.OpenInitiator != 1 || c.CloseInitiator != 1 || len(c.Resolutions) != len(want) {
		t.Fatalf("details %+v", c)
	}
}
