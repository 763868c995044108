package contractcourt

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
)

// at waits until c has handled the block at h (and what came before).
func at(t *testing.T, c *Court, h int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Height() != h {
		if time.Now().After(deadline) {
			t.Fatalf("court at %d, want %d", c.Height(), h)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// noSummary checks op has no closed-channel summary.
func noSummary(t *testing.T, db *channeldb.DB, op wire.OutPoint) {
	t.Helper()
	err := db.View(func(tx kvdb.RTx) error {
		_, err := channeldb.FetchClosedChannel(tx, op)
		return err
	})
	if !errors.Is(err, channeldb.ErrClosedChannelNotFound) {
		t.Fatalf("closed summary of %v: %v", op, err)
	}
}

// TestReorgLocalCommitment: our force close confirms, then its block
// leaves the chain: the contract waits for the funding spend again and
// our commitment is sent again. The peer's commitment confirms instead:
// it is resolved as theirs, final only FinalDepth blocks after its last
// sweep, the funding output watched until then.
func TestReorgLocalCommitment(t *testing.T) {
	for _, typ := range types() {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPair(t, typ, 11)
			feeRound(t, a, b, 3000)
			st := a.stored(t)
			op := st.FundingOutpoint
			ours, _ := a.ch.LocalCommitTx()
			theirs, _ := b.ch.LocalCommitTx()
			f := newFakeChain(299)
			f.finalDepth = 10
			c := newCourt(t, a, f)
			if _, err := c.ForceClose(t.Context(), st, ours); err != nil {
				t.Fatal(err)
			}
			f.next(t)
			f.spend(t, ours, 300)
			record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 300 })
			if s := closed(t, a.db, op); !s.IsPending || s.ClosingTxID != ours.TxHash() {
				t.Fatalf("summary %+v", s)
			}

			f.disconnect(300)
			f.reorg(t, ours)
			rec := record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 0 })
			if rec.Kind != channeldb.ContractLocalCommit || len(rec.Outputs) != 0 || rec.SweepTx != nil {
				t.Fatalf("after the reorg: %v, %d outputs", rec.Kind, len(rec.Outputs))
			}
			noSummary(t, a.db, op)
			if got := f.next(t); got.TxHash() != ours.TxHash() {
				t.Fatalf("sent %v, want our commitment again", got.TxHash())
			}
			if !f.watched(op) {
				t.Fatal("funding output no longer watched")
			}

			// Sent again each block until one confirms; the peer's
			// commitment wins the race in the new branch.
			f.block(300)
			if got := f.next(t); got.TxHash() != ours.TxHash() {
				t.Fatalf("sent %v at the next block, want our commitment", got.TxHash())
			}
			f.spend(t, theirs, 301)
			rec = record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 301 })
			if rec.Kind != channeldb.ContractRemoteCommit {
				t.Fatalf("re-classified as %v", rec.Kind)
			}
			var sweep *wire.MsgTx
			if typ.HasAnchors() {
				// to_remote waits one block.
				f.block(301)
			}
			sweep = f.next(t)
			checkSpends(t, sweep, theirs)
			settled(t, a, f, op, sweep, 302)
			if s := closed(t, a.db, op); !s.IsPending || s.ClosingTxID != theirs.TxHash() ||
				s.CloseType != channeldb.RemoteForceClose {
				t.Fatalf("summary %+v", s)
			}

			// Final at 302+10-1: not a block before.
			f.block(310)
			at(t, c, 310)
			if rec := record(t, a.db, op, func(*channeldb.ContractRecord) bool { return true }); rec.Resolved {
				t.Fatal("resolved before its final depth")
			}
			if !f.watched(op) || !f.watched(sweep.TxIn[0].PreviousOutPoint) {
				t.Fatal("watches dropped before the final depth")
			}
			f.block(311)
			record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.Resolved })
			if s := closed(t, a.db, op); s.IsPending {
				t.Fatal("summary still pending once final")
			}
			if f.watched(op) || f.watched(sweep.TxIn[0].PreviousOutPoint) {
				t.Fatal("still watched once final")
			}
		})
	}
}

// TestReorgCSV: our commitment is reorged out and confirms again five
// blocks later: to_local's CSV delay counts from the new height.
func TestReorgCSV(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 12)
	feeRound(t, a, b, 3000)
	st := a.stored(t)
	ours, _ := a.ch.LocalCommitTx()
	f := newFakeChain(299)
	f.finalDepth = 10
	c := newCourt(t, a, f)
	if _, err := c.ForceClose(t.Context(), st, ours); err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.spend(t, ours, 300)
	record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 300 })
	f.reorg(t, ours)
	record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 0 })
	f.next(t) // sent again
	f.spend(t, ours, 305)
	rec := record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 305 })
	if m := Maturity(rec, &rec.Outputs[0]); m != 305+144 {
		t.Fatalf("to_local matures at %d", m)
	}
	// Matured at 300+144 in the old branch: not in this one.
	f.block(443)
	f.quiet(t)
	f.block(447)
	f.quiet(t)
	f.block(448)
	sweep := f.next(t)
	checkSpends(t, sweep, ours)
}

// TestReorgSweepRestart: our sweep confirms, then leaves the chain: the
// output is unspent again and the same sweep is sent again; restarts in
// between resume from the record, and the contract is final only
// FinalDepth blocks after the sweep's new block.
func TestReorgSweepRestart(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 13)
	feeRound(t, a, b, 3000)
	theirs, _ := a.ch.LocalCommitTx()
	op := theirs.TxIn[0].PreviousOutPoint
	f := newFakeChain(499)
	f.finalDepth = 10
	c := newCourt(t, b, f)
	f.spend(t, theirs, 500)
	sweep := f.next(t)
	settled(t, b, f, op, sweep, 501)

	f.reorg(t, sweep)
	rec := record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return !r.Outputs[0].Resolved() })
	if got := f.next(t); got.TxHash() != sweep.TxHash() {
		t.Fatalf("sent %v, want the sweep again", got.TxHash())
	}
	if rec.SweepTx == nil || rec.SweepTx.TxHash() != sweep.TxHash() || len(rec.Sweeps) != 1 {
		t.Fatalf("record's sweep %v, %d sweeps", rec.SweepTx, len(rec.Sweeps))
	}

	// A restart sends it again.
	c.Stop()
	c = newCourt(t, b, f)
	if got := f.next(t); got.TxHash() != sweep.TxHash() {
		t.Fatalf("sent %v after a restart, want the sweep", got.TxHash())
	}
	f.spend(t, sweep, 503)
	record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.Outputs[0].SpentHeight == 503 })

	// Restart with the sweep confirmed, not final: the notifier hands
	// the same spend again, which changes nothing.
	c.Stop()
	c = newCourt(t, b, f)
	f.quiet(t)
	f.spend(t, sweep, 503)
	f.block(511)
	at(t, c, 511)
	rec = record(t, b.db, op, func(*channeldb.ContractRecord) bool { return true })
	if rec.Resolved || rec.Outputs[0].SpentBy != sweep.TxHash() || len(rec.Sweeps) != 1 {
		t.Fatalf("record %+v", rec)
	}
	f.block(512)
	record(t, b.db, op, func(r *channeldb.ContractRecord) bool { return r.Resolved })
	if closed(t, b.db, op).IsPending {
		t.Fatal("summary still pending")
	}
}

// TestReorgJustice: the justice transaction is reorged out and sent
// again; then the revoked commitment itself is reorged out: a revoked
// commitment is the cheater's to publish, our own commitment is sent
// instead each block. The revoked one confirms again, and a new justice
// transaction takes it.
func TestReorgJustice(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 14)
	addHTLC(t, a, b, 50_000, 1)
	old, _ := b.ch.LocalCommitTx()
	feeRound(t, a, b, 3000)
	op := a.ch.State().FundingOutpoint
	f := newFakeChain(199)
	f.finalDepth = 10
	c := newCourt(t, a, f)
	f.spend(t, old, 200)
	j1 := f.next(t)
	checkSpends(t, j1, old)
	settled(t, a, f, op, j1, 201)

	f.reorg(t, j1)
	if got := f.next(t); got.TxHash() != j1.TxHash() {
		t.Fatalf("sent %v, want the justice transaction again", got.TxHash())
	}
	ours, err := a.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f.reorg(t, old)
	rec := record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 0 })
	noSummary(t, a.db, op)
	if got := f.next(t); got.TxHash() != ours.TxHash() {
		t.Fatalf("sent %v, want our commitment", got.TxHash())
	}
	if rec.Kind != channeldb.ContractLocalCommit || rec.CloseTx.TxHash() != ours.TxHash() {
		t.Fatalf("waiting for %v %v", rec.Kind, rec.CloseTx.TxHash())
	}
	f.block(201)
	if got := f.next(t); got.TxHash() != ours.TxHash() {
		t.Fatalf("sent %v at the next block, want our commitment", got.TxHash())
	}
	f.spend(t, old, 202)
	j2 := f.next(t)
	checkSpends(t, j2, old)
	settled(t, a, f, op, j2, 203)
	rec = record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return true })
	if rec.Kind != channeldb.ContractBreach || rec.CloseHeight != 202 || len(rec.Sweeps) < 2 ||
		rec.Sweeps[0] != j1.TxHash() {
		t.Fatalf("record %v at %d, sweeps %v", rec.Kind, rec.CloseHeight, rec.Sweeps)
	}
	if s := closed(t, a.db, op); s.CloseType != channeldb.BreachClose || !s.IsPending {
		t.Fatalf("summary %+v", s)
	}
	f.block(212)
	at(t, c, 212)
	record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.Resolved })
}

// TestReorgSecondLevel: our HTLC-success transaction confirms, then is
// reorged out: its output is dropped, the HTLC output is unspent again
// and the transaction sent again at the next block; confirmed again,
// its output's CSV delay counts from the new height.
func TestReorgSecondLevel(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 15)
	addHTLC(t, b, a, 20_000, 2)
	st := a.stored(t)
	op := st.FundingOutpoint
	ours, _ := a.ch.LocalCommitTx()
	f := newFakeChain(399)
	f.finalDepth = 10
	c := courtWith(t, a, f, preimages(2), nil)
	if _, err := c.ForceClose(t.Context(), st, ours); err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.spend(t, ours, 400)
	success := f.next(t)
	settled(t, a, f, op, success, 401)
	second := func(r *channeldb.ContractRecord) *channeldb.ContractOutput {
		for i := range r.Outputs {
			if r.Outputs[i].Kind == channeldb.OutputSecondLevel {
				return &r.Outputs[i]
			}
		}
		return nil
	}
	rec := record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return second(r) != nil })
	out := second(rec).OutPoint
	if !f.watched(out) {
		t.Fatal("HTLC transaction output not watched")
	}

	f.reorg(t, success)
	record(t, a.db, op, func(r *channeldb.ContractRecord) bool {
		for _, o := range r.Outputs {
			if o.Kind == channeldb.OutputLocalHTLCSuccess && !o.Resolved() {
				return second(r) == nil
			}
		}
		return false
	})
	if f.watched(out) {
		t.Fatal("output of the reorged HTLC transaction still watched")
	}
	f.block(402)
	if got := f.next(t); got.TxHash() != success.TxHash() {
		t.Fatalf("sent %v, want the HTLC-success transaction again", got.TxHash())
	}
	settled(t, a, f, op, success, 405)
	rec = record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return second(r) != nil })
	if o := second(rec); o.ConfHeight != 405 || Maturity(rec, o) != 405+144 {
		t.Fatalf("second-level output %+v", o)
	}
}

// TestReorgPreimage: the peer's HTLC-success transaction, whose witness
// gave us a preimage, is reorged out: nothing is taken back upstream
// (the preimage stays valid), and when it confirms again the preimage is
// handed on again, which the switch takes as a no-op.
func TestReorgPreimage(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 16)
	addHTLC(t, a, b, 50_000, 1)
	bst := b.stored(t)
	theirs, _ := b.ch.LocalCommitTx()
	secret, _ := shachain.NewProducer(b.seed).ForCommitment(bst.LocalCommit.Number)
	commit, err := lnwallet.CommitmentOf(bst, lnwallet.Local, &bst.LocalCommit,
		lnwallet.CommitPoint(secret))
	if err != nil {
		t.Fatal(err)
	}
	p := lnwallet.ParamsOf(bst)
	local, err := lnwallet.SignHTLC(b.signer, &p, commit, 0)
	if err != nil {
		t.Fatal(err)
	}
	remote, _ := bst.LocalCommit.HtlcSigs[0].ToSignature()
	success, err := lnwallet.SignedHTLCTx(&p, commit, 0, remote, local, [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got int
	)
	f := newFakeChain(399)
	f.finalDepth = 10
	courtWith(t, a, f, preimages(), func(_ wire.OutPoint, h, p [32]byte) error {
		mu.Lock()
		defer mu.Unlock()
		if h != hashOf(1) || p != ([32]byte{1}) {
			t.Errorf("preimage %x for %x", p, h)
		}
		got++
		return nil
	})
	f.spend(t, theirs, 400)
	f.next(t) // to_remote
	htlc := func(r *channeldb.ContractRecord) *channeldb.ContractOutput {
		for i := range r.Outputs {
			if r.Outputs[i].Kind == channeldb.OutputHTLCTimeout {
				return &r.Outputs[i]
			}
		}
		return nil
	}
	f.spend(t, success, 401)
	record(t, a.db, bst.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return htlc(r).Resolved() })
	f.reorg(t, success)
	record(t, a.db, bst.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return !htlc(r).Resolved() })
	f.spend(t, success, 402)
	record(t, a.db, bst.FundingOutpoint, func(r *channeldb.ContractRecord) bool {
		return htlc(r).SpentHeight == 402
	})
	mu.Lock()
	defer mu.Unlock()
	if got != 2 {
		t.Fatalf("preimage handed on %d times", got)
	}
}

// TestReorgCooperative: a cooperative close is seen, then reorged out,
// and a commitment confirms instead: it is resolved as one. A
// cooperative close that stays is watched until its final depth only.
func TestReorgCooperative(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 17)
	feeRound(t, a, b, 3000)
	st := a.stored(t)
	op := st.FundingOutpoint
	theirs, _ := b.ch.LocalCommitTx()
	coop := wire.NewMsgTx(2)
	coop.AddTxIn(&wire.TxIn{PreviousOutPoint: op, Sequence: wire.MaxTxInSequenceNum})
	coop.AddTxOut(wire.NewTxOut(1000, sweepScript))

	f := newFakeChain(299)
	f.finalDepth = 10
	var (
		mu    sync.Mutex
		coops int
	)
	c := New(Config{DB: a.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
		BestHeight: func() (int32, error) { return 299, nil },
		Broadcast:  f.broadcast, Signer: a.signer, Secrets: a.secrets,
		SweepScript: func() ([]byte, error) { return sweepScript, nil },
		CooperativeClose: func(wire.OutPoint, *chain.SpendDetail) {
			mu.Lock()
			coops++
			mu.Unlock()
		},
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	f.spend(t, coop, 300)
	f.block(300)
	at(t, c, 300)
	if !f.watched(op) {
		t.Fatal("funding output not watched after a cooperative close")
	}
	f.reorg(t, coop)
	f.spend(t, theirs, 301)
	rec := record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.CloseHeight == 301 })
	if rec.Kind != channeldb.ContractRemoteCommit {
		t.Fatalf("classified as %v", rec.Kind)
	}
	mu.Lock()
	if coops != 1 {
		t.Fatalf("cooperative close handed on %d times", coops)
	}
	mu.Unlock()
}

// TestReorgWhileDown: reorgs while the node was down, that no
// notification reports, are found at start from the chain's unspent
// outputs: a sweep's spend, then the commitment itself.
func TestReorgWhileDown(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 18)
	feeRound(t, a, b, 3000)
	theirs, _ := a.ch.LocalCommitTx()
	op := theirs.TxIn[0].PreviousOutPoint
	f := newFakeChain(499)
	f.finalDepth = 10
	c := newCourt(t, b, f)
	f.spend(t, theirs, 500)
	sweep := f.next(t)
	settled(t, b, f, op, sweep, 501)
	c.Stop()

	var mu sync.Mutex
	unspent := map[wire.OutPoint]bool{sweep.TxIn[0].PreviousOutPoint: true}
	withUnspent := func(cfg *Config) {
		cfg.Unspent = func(_ context.Context, o wire.OutPoint) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return unspent[o], nil
		}
	}
	c = newCourt(t, b, f, withUnspent)
	if got := f.next(t); got.TxHash() != sweep.TxHash() {
		t.Fatalf("sent %v, want the sweep again", got.TxHash())
	}
	rec := record(t, b.db, op, func(*channeldb.ContractRecord) bool { return true })
	if rec.Outputs[0].Resolved() || rec.CloseHeight != 500 {
		t.Fatalf("record %+v", rec)
	}
	c.Stop()

	mu.Lock()
	unspent[op] = true
	mu.Unlock()
	newCourt(t, b, f, withUnspent)
	if got := f.next(t); got.TxHash() != theirs.TxHash() {
		t.Fatalf("sent %v, want the peer's commitment again", got.TxHash())
	}
	rec = record(t, b.db, op, func(*channeldb.ContractRecord) bool { return true })
	if rec.CloseHeight != 0 || len(rec.Outputs) != 0 {
		t.Fatalf("record %+v", rec)
	}
	noSummary(t, b.db, op)
	if !f.watched(op) {
		t.Fatal("funding output not watched")
	}
}

// TestMovedWhileDown: our commitment and our HTLC transaction, seen
// again after a restart in other blocks (a reorg while the node was down
// moved them), have their heights and so their CSV maturities moved.
func TestMovedWhileDown(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 19)
	addHTLC(t, b, a, 20_000, 2)
	st := a.stored(t)
	op := st.FundingOutpoint
	ours, _ := a.ch.LocalCommitTx()
	f := newFakeChain(399)
	f.finalDepth = 10
	c := courtWith(t, a, f, preimages(2), nil)
	if _, err := c.ForceClose(t.Context(), st, ours); err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.spend(t, ours, 400)
	success := f.next(t)
	settled(t, a, f, op, success, 401)
	c.Stop()

	courtWith(t, a, f, preimages(2), nil)
	f.spend(t, ours, 403)
	f.spend(t, success, 404)
	rec := record(t, a.db, op, func(r *channeldb.ContractRecord) bool {
		for _, o := range r.Outputs {
			if o.Kind == channeldb.OutputSecondLevel {
				return r.CloseHeight == 403 && o.ConfHeight == 404
			}
		}
		return false
	})
	for _, o := range rec.Outputs {
		if o.Kind == channeldb.OutputToLocal && Maturity(rec, &o) != 403+144 {
			t.Fatalf("to_local matures at %d", Maturity(rec, &o))
		}
	}
	if s := closed(t, a.db, op); s.CloseHeight != 403 {
		t.Fatalf("summary at %d", s.CloseHeight)
	}
}

// TestAbandonedAnchorNotReorged: an anchor left on chain (abandoned) is
// unspent by design; the start-up check for spends that left the chain
// must pass over it, not take it for a lost spend again and again.
func TestAbandonedAnchorNotReorged(t *testing.T) {
	calls := 0
	c := New(Config{Unspent: func(_ context.Context, op wire.OutPoint) (bool, error) {
		calls++
		if calls > 100 {
			t.Fatalf("asked %d times: the check loops", calls)
		}
		return op.Index != 0 || op.Hash != (chainhash.Hash{1}), nil
	}})
	rec := &channeldb.ContractRecord{
		ChanPoint:   wire.OutPoint{Hash: chainhash.Hash{1}},
		CloseHeight: 500,
		Outputs: []channeldb.ContractOutput{{
			OutPoint:  wire.OutPoint{Hash: chainhash.Hash{2}},
			Kind:      channeldb.OutputAnchor,
			Abandoned: true,
		}},
	}
	if c.reorgedWhileDown(rec) {
		t.Fatal("closing transaction taken for reorged out")
	}
	if !rec.Outputs[0].Abandoned || calls != 1 {
		t.Fatalf("anchor %+v after %d calls", rec.Outputs[0], calls)
	}
}
