package contractcourt

import (
	"context"
	"testing"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
)

// burst delivers the epochs of blocks from..to after the chain's tip is
// already to, as when the court catches up with a backend that is
// ahead of it (a restart, a reconnection, blocks found in a row).
func (f *fakeChain) burst(from, to int32) {
	f.mu.Lock()
	f.height = to
	f.mu.Unlock()
	for h := from; h <= to; h++ {
		f.epochs <- chain.BlockEvent{Height: h}
	}
}

// TestSweepNotBumpedByOldBlocks: blocks the chain had mined before a
// sweep was broadcast cannot have confirmed it, so catching up with
// them replaces nothing. (The crash test found a to_local sweep
// replaced 25 times in a row, paying 90% of the output in fees, as a
// restarted node caught up with 60 blocks.) A block mined after the
// broadcast still counts toward the bump.
func TestSweepNotBumpedByOldBlocks(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 5)
	feeRound(t, a, b, 3000)
	st := a.stored(t)
	commit, err := a.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeChain(299)
	c := newCourt(t, a, f)
	if _, err := c.ForceClose(context.Background(), st, commit); err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.spend(t, commit, 300)
	record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool {
		return r.CloseHeight == 300
	})

	// The to_local matures at 444 (CSV 144); the court learns of
	// blocks 301..500 only once the chain is at 500.
	f.burst(301, 500)
	sweep := f.next(t)
	checkSpends(t, sweep, commit)
	f.quiet(t)
	rec := record(t, a.db, st.FundingOutpoint, func(*channeldb.ContractRecord) bool { return true })
	if len(rec.Sweeps) != 1 {
		t.Fatalf("%d sweeps while catching up, want 1", len(rec.Sweeps))
	}

	// Two new blocks without it: replaced.
	f.block(501)
	f.quiet(t)
	f.block(502)
	bumped := f.next(t)
	checkSpends(t, bumped, commit)
	if outputSum(bumped) >= outputSum(sweep) {
		t.Fatal("replacement pays no more fee")
	}
}
