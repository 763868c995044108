package contractcourt

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
)

// events records the court's closed and resolved calls, in order.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(what string) func(wire.OutPoint) {
	return func(wire.OutPoint) {
		e.mu.Lock()
		e.got = append(e.got, what)
		e.mu.Unlock()
	}
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

// courtEvents is newCourt with the close hooks recorded in ev.
func courtEvents(t *testing.T, n *node, f *fakeChain, ev *events) *Court {
	t.Helper()
	c := New(Config{DB: n.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
		BestHeight: func() (int32, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.height, nil
		},
		Broadcast: f.broadcast, Signer: n.signer, Secrets: n.secrets,
		SweepScript:     func() ([]byte, error) { return sweepScript, nil },
		ChannelClosed:   ev.add("closed"),
		ChannelResolved: ev.add("resolved"),
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

func (f *fakeChain) setRate(r chain.SatPerKWeight) {
	f.mu.Lock()
	f.rate = r
	f.mu.Unlock()
}

func outputOf(rec *channeldb.ContractRecord, kind channeldb.OutputKind) *channeldb.ContractOutput {
	for i := range rec.Outputs {
		if rec.Outputs[i].Kind == kind {
			return &rec.Outputs[i]
		}
	}
	return nil
}

func sameList(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAnchorSweptWithToRemote: the peer's commitment of an anchors
// channel confirms at a low fee rate; our anchor is worth more than its
// weight costs and only ours for 16 blocks, so it goes in the sweep of
// to_remote, and the contract resolves with it taken back.
func TestAnchorSweptWithToRemote(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 11)
	feeRound(t, a, b, 3000)
	f := newFakeChain(499)
	f.setRate(253)
	ev := &events{}
	courtEvents(t, b, f, ev)
	theirs, _ := a.ch.LocalCommitTx()
	op := theirs.TxIn[0].PreviousOutPoint
	f.spend(t, theirs, 500)
	sweep := f.next(t)
	checkSpends(t, sweep, theirs)
	rec := record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.SweepTx != nil })
	anchor := outputOf(rec, channeldb.OutputAnchor)
	if anchor == nil || anchor.Amount != 330 || len(sweep.TxIn) != 2 ||
		!spends(sweep, anchor.OutPoint) {
		t.Fatalf("sweep spends %d inputs, anchor %+v", len(sweep.TxIn), anchor)
	}
	var in btcutil.Amount
	for _, o := range rec.Outputs {
		in += o.Amount
	}
	if fee := in - outputSum(sweep); fee <= 0 || fee > 330 {
		t.Fatalf("sweep fee %v", fee)
	}
	f.spend(t, sweep, 501)
	rec = record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.Resolved })
	if a := outputOf(rec, channeldb.OutputAnchor); a.SpentBy != sweep.TxHash() || a.Abandoned {
		t.Fatalf("anchor %+v", a)
	}
	waitEvents(t, ev, "closed", "resolved")
}

func waitEvents(t *testing.T, ev *events, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !sameList(ev.list(), want...) {
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want %v", ev.list(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAnchorAbandoned: at a fee rate where our anchor costs more than it
// brings, the sweep of to_remote leaves it out; once that sweep confirms
// the anchor is all that is left, not worth a sweep of its own: it is
// abandoned, no longer watched, and the contract resolves, across a
// restart.
func TestAnchorAbandoned(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 12)
	feeRound(t, a, b, 3000)
	f := newFakeChain(499)
	f.setRate(5000)
	ev := &events{}
	c := courtEvents(t, b, f, ev)
	theirs, _ := a.ch.LocalCommitTx()
	op := theirs.TxIn[0].PreviousOutPoint
	f.spend(t, theirs, 500)
	sweep := f.next(t)
	rec := record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.SweepTx != nil })
	anchor := outputOf(rec, channeldb.OutputAnchor)
	if anchor == nil || len(sweep.TxIn) != 1 || spends(sweep, anchor.OutPoint) {
		t.Fatalf("sweep of %d inputs, anchor %+v", len(sweep.TxIn), anchor)
	}
	if !f.watched(anchor.OutPoint) {
		t.Fatal("anchor not watched while the contract is open")
	}
	waitEvents(t, ev, "closed")
	f.spend(t, sweep, 501)
	rec = record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.Resolved })
	if a := outputOf(rec, channeldb.OutputAnchor); !a.Abandoned || a.SpentBy != (chainhash.Hash{}) {
		t.Fatalf("anchor %+v", a)
	}
	if f.watched(anchor.OutPoint) {
		t.Fatal("abandoned anchor still watched")
	}
	if s := closed(t, b.db, op); s.IsPending {
		t.Fatal("channel still pending with only an abandoned anchor")
	}
	waitEvents(t, ev, "closed", "resolved")

	c.Stop()
	courtEvents(t, b, f, ev)
	f.block(502)
	f.quiet(t)
	rec = record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return true })
	if !rec.Resolved || !outputOf(rec, channeldb.OutputAnchor).Abandoned {
		t.Fatalf("after restart: %+v", rec)
	}
}

// TestAnchorNotBatchedAfterCSV: on our own commitment, to_local matures
// after its 144-block delay, when anyone may spend our anchor: it stays
// out of the sweep even at a low rate (a third party's spend could
// otherwise hold the sweep back), and is abandoned once the sweep
// confirms.
func TestAnchorNotBatchedAfterCSV(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 13)
	feeRound(t, a, b, 3000)
	st := a.stored(t)
	commit, err := a.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeChain(299)
	f.setRate(253)
	c := newCourt(t, a, f)
	if _, err := c.ForceClose(context.Background(), st, commit); err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.spend(t, commit, 300)
	record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 300 })
	// Alone, the anchor waits for to_local.
	f.block(301)
	f.quiet(t)
	f.block(443)
	sweep := f.next(t)
	checkSpends(t, sweep, commit)
	if len(sweep.TxIn) != 1 {
		t.Fatalf("sweep spends %d inputs", len(sweep.TxIn))
	}
	f.spend(t, sweep, 444)
	rec := record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.Resolved })
	if !outputOf(rec, channeldb.OutputAnchor).Abandoned {
		t.Fatalf("anchor %+v", outputOf(rec, channeldb.OutputAnchor))
	}
}

// TestBumpFeeDeadline: BumpFee with a budget and a deadline replaces the
// sweep at the next block (not at once), then every block at a rate
// rising to spend the whole budget at the deadline, never more; the
// parameters survive a restart.
func TestBumpFeeDeadline(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 14)
	feeRound(t, a, b, 3000)
	f := newFakeChain(499)
	c := newCourt(t, b, f)
	theirs, _ := a.ch.LocalCommitTx()
	op := theirs.TxIn[0].PreviousOutPoint
	f.spend(t, theirs, 500)
	first := f.next(t)
	rec := record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.SweepTx != nil })
	out := rec.Outputs[0].OutPoint
	in := rec.Outputs[0].Amount

	if err := c.BumpFee(out, SweepRequest{DeadlineDelta: 4}); !errors.Is(err, ErrDeadlineNoBudget) {
		t.Fatalf("deadline without budget: %v", err)
	}
	const budget = 20_000
	if err := c.BumpFee(out, SweepRequest{Budget: budget, DeadlineDelta: 4}); err != nil {
		t.Fatal(err)
	}
	f.quiet(t)
	rec = record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return true })
	if p := rec.Outputs[0].Sweep; p.Budget != budget || p.DeadlineHeight != 504 || p.StartHeight != 500 {
		t.Fatalf("stored parameters %+v", p)
	}
	fee := in - outputSum(first)
	for h := int32(501); h <= 504; h++ {
		if h == 502 {
			// A restart keeps the parameters.
			c.Stop()
			c = newCourt(t, b, f)
			f.next(t) // the current sweep, sent again
		}
		f.block(h)
		tx := f.next(t)
		checkSpends(t, tx, theirs)
		got := in - outputSum(tx)
		if got <= fee || got > budget {
			t.Fatalf("height %d: fee %v after %v, budget %v", h, got, fee, btcutil.Amount(budget))
		}
		fee = got
	}
	if fee < budget*99/100 {
		t.Fatalf("fee at the deadline %v, budget %v", fee, btcutil.Amount(budget))
	}
	// The budget is spent: no replacement can pay more.
	f.block(505)
	f.quiet(t)

	// Immediate: at once, from a higher starting rate.
	if err := c.BumpFee(out, SweepRequest{Budget: 40_000, StartRate: 50_000, Immediate: true}); err != nil {
		t.Fatal(err)
	}
	tx := f.next(t)
	if got := in - outputSum(tx); got <= fee || got > 40_000 {
		t.Fatalf("immediate bump: fee %v after %v", got, fee)
	}
}

// TestBumpFeeSecondLevel: an HTLC output spent by our pre-signed HTLC
// transaction is not the sweeper's to bump.
func TestBumpFeeSecondLevel(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 15)
	addHTLC(t, a, b, 50_000, 1)
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
	rec := record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.CloseHeight != 0 })
	h := outputOf(rec, channeldb.OutputLocalHTLCTimeout)
	if h == nil {
		t.Fatalf("outputs %+v", rec.Outputs)
	}
	if err := c.BumpFee(h.OutPoint, SweepRequest{StartRate: 5000}); !errors.Is(err, ErrNotSweepable) {
		t.Fatalf("bump of an HTLC-timeout output: %v", err)
	}
}

func TestCurveRate(t *testing.T) {
	plan := feePlan{start: 1000, budget: 10_000, deadline: 110, deadlineFrom: 100}
	// 10,000 sat over 500 weight units: 20,000 sat/kw at the deadline.
	for _, c := range []struct {
		h    uint32
		want chain.SatPerKWeight
	}{
		{90, 1000}, {100, 1000}, {105, 10_500}, {109, 18_100}, {110, 20_000}, {200, 20_000},
	} {
		if got := curveRate(plan, 500, c.h); got != c.want {
			t.Errorf("height %d: %v, want %v", c.h, got, c.want)
		}
	}
	// A budget below the starting rate: the starting rate.
	plan.budget = 100
	if got := curveRate(plan, 500, 105); got != 1000 {
		t.Errorf("small budget: %v", got)
	}
}
