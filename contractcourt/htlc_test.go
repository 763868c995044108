package contractcourt

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
)

// preimages knows the preimages of the test HTLCs numbered in it.
func preimages(ns ...byte) PreimageFunc {
	m := map[[32]byte][32]byte{}
	for _, n := range ns {
		pre := [32]byte{n}
		m[sha256.Sum256(pre[:])] = pre
	}
	return func(h [32]byte) ([32]byte, bool) {
		p, ok := m[h]
		return p, ok
	}
}

func hashOf(n byte) [32]byte {
	pre := [32]byte{n}
	return sha256.Sum256(pre[:])
}

func courtWith(t *testing.T, n *node, f *fakeChain, pre PreimageFunc,
	onPre func(op wire.OutPoint, h, p [32]byte) error) *Court {

	t.Helper()
	c := New(Config{DB: n.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
		BestHeight: func() (int32, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.height, nil
		},
		Broadcast: f.broadcast, Signer: n.signer, Secrets: n.secrets,
		SweepScript: func() ([]byte, error) { return sweepScript, nil },
		Preimage:    pre, OnPreimage: onPre,
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// settled delivers the spends of tx at height and waits until the court
// recorded them.
func settled(t *testing.T, n *node, f *fakeChain, op wire.OutPoint, tx *wire.MsgTx, height int32) {
	t.Helper()
	f.spend(t, tx, height)
	record(t, n.db, op, func(r *channeldb.ContractRecord) bool {
		for _, in := range tx.TxIn {
			for _, o := range r.Outputs {
				if o.OutPoint == in.PreviousOutPoint && !o.Resolved() {
					return false
				}
			}
		}
		return true
	})
}

// TestRemoteCloseHTLCs: the peer's commitment confirms with an HTLC each
// way. The one offered to us is claimed with its preimage at once, with
// to_remote; the one we offered is timed out once it expires, straight
// from the commitment.
func TestRemoteCloseHTLCs(t *testing.T) {
	for _, typ := range types() {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPair(t, typ, 5)
			addHTLC(t, a, b, 50_000, 1) // expires at 501
			addHTLC(t, b, a, 20_000, 2) // expires at 502
			theirs, err := b.ch.LocalCommitTx()
			if err != nil {
				t.Fatal(err)
			}
			f := newFakeChain(399)
			courtWith(t, a, f, preimages(2), nil)
			f.spend(t, theirs, 400)
			sweep := f.next(t)
			checkSpends(t, sweep, theirs)
			if len(sweep.TxIn) != 2 {
				t.Fatalf("first sweep spends %d outputs, want to_remote and the HTLC claimed", len(sweep.TxIn))
			}
			rec := record(t, a.db, theirs.TxIn[0].PreviousOutPoint, func(*channeldb.ContractRecord) bool { return true })
			kinds := map[channeldb.OutputKind]int{}
			for _, o := range rec.Outputs {
				kinds[o.Kind]++
			}
			if kinds[channeldb.OutputToRemote] != 1 || kinds[channeldb.OutputHTLCTimeout] != 1 ||
				kinds[channeldb.OutputHTLCSuccess] != 1 {
				t.Fatalf("outputs %v", kinds)
			}
			settled(t, a, f, rec.ChanPoint, sweep, 401)
			f.block(500)
			f.quiet(t)
			f.block(501)
			timeout := f.next(t)
			checkSpends(t, timeout, theirs)
			if len(timeout.TxIn) != 1 || timeout.LockTime < 501 {
				t.Fatalf("timeout sweep: %d inputs, locktime %d", len(timeout.TxIn), timeout.LockTime)
			}
			f.spend(t, timeout, 502)
			record(t, a.db, rec.ChanPoint, func(r *channeldb.ContractRecord) bool { return r.Resolved })
		})
	}
}

// TestPreimageFromChain: we offered an HTLC, the peer goes to chain and
// claims it with its HTLC-success transaction; the preimage is taken
// from its witness and handed upstream.
func TestPreimageFromChain(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 6)
	addHTLC(t, a, b, 50_000, 1)
	bst := b.stored(t)
	theirs, err := b.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
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
	checkSpends(t, success, theirs)

	var (
		mu  sync.Mutex
		got [][2][32]byte
	)
	f := newFakeChain(399)
	courtWith(t, a, f, preimages(), func(op wire.OutPoint, h, p [32]byte) error {
		if op != bst.FundingOutpoint {
			t.Errorf("preimage handed on for %v, want %v", op, bst.FundingOutpoint)
		}
		mu.Lock()
		got = append(got, [2][32]byte{h, p})
		mu.Unlock()
		return nil
	})
	f.spend(t, theirs, 400)
	f.next(t) // to_remote
	f.spend(t, success, 401)
	record(t, a.db, bst.FundingOutpoint, func(r *channeldb.ContractRecord) bool {
		for _, o := range r.Outputs {
			if o.Kind == channeldb.OutputHTLCTimeout {
				return o.Resolved()
			}
		}
		return false
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0][0] != hashOf(1) || got[0][1] != ([32]byte{1}) {
		t.Fatalf("preimages handed upstream: %x", got)
	}
}

// TestLocalCloseHTLCs: our commitment confirms with an HTLC each way
// (static remote key: the HTLC transactions carry their fee). The
// HTLC-success transaction goes out at once with the preimage, the
// HTLC-timeout once the HTLC expired; each one's output is swept after
// the CSV delay counted from its own confirmation.
func TestLocalCloseHTLCs(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 7)
	addHTLC(t, a, b, 50_000, 1) // ours, expires at 501
	addHTLC(t, b, a, 20_000, 2) // theirs, expires at 502
	st := a.stored(t)
	ours, err := a.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeChain(399)
	c := courtWith(t, a, f, preimages(2), nil)
	if _, err := c.ForceClose(t.Context(), st, ours); err != nil {
		t.Fatal(err)
	}
	f.next(t) // the commitment
	f.spend(t, ours, 400)
	success := f.next(t)
	checkSpends(t, success, ours)
	if success.LockTime != 0 || len(success.TxIn[0].Witness) != 5 {
		t.Fatalf("HTLC-success: locktime %d", success.LockTime)
	}
	settled(t, a, f, st.FundingOutpoint, success, 401)
	f.block(500)
	f.quiet(t)
	f.block(501)
	timeout := f.next(t)
	checkSpends(t, timeout, ours)
	if timeout.LockTime != 501 {
		t.Fatalf("HTLC-timeout locktime %d", timeout.LockTime)
	}
	settled(t, a, f, st.FundingOutpoint, timeout, 502)
	rec := record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool {
		n := 0
		for _, o := range r.Outputs {
			if o.Kind == channeldb.OutputSecondLevel {
				n++
			}
		}
		return n == 2
	})
	for _, o := range rec.Outputs {
		if o.Kind == channeldb.OutputSecondLevel && o.CSV != 144 {
			t.Fatalf("second-level output %+v", o)
		}
	}
	// to_local matures at 400+144, the HTLC-success output at 401+144,
	// the HTLC-timeout output at 502+144.
	f.block(543)
	toLocal := f.next(t)
	checkSpends(t, toLocal, ours)
	settled(t, a, f, st.FundingOutpoint, toLocal, 544)
	f.block(544)
	s1 := f.next(t)
	checkSpends(t, s1, success)
	settled(t, a, f, st.FundingOutpoint, s1, 545)
	f.block(645)
	s2 := f.next(t)
	checkSpends(t, s2, timeout)
	f.spend(t, s2, 646)
	record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.Resolved })
}

// TestLocalCloseHTLCsAnchors: with option_anchors the HTLC transactions
// carry no fee: each gets a wallet input and change before our
// SIGHASH_ALL signature, the peer's SINGLE|ANYONECANPAY one still
// valid, and is sent once (a later block sends the same transaction).
func TestLocalCloseHTLCsAnchors(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 8)
	addHTLC(t, a, b, 50_000, 1) // ours, expires at 501
	addHTLC(t, b, a, 20_000, 2) // theirs, expires at 502
	st := a.stored(t)
	ours, err := a.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	// The wallet: coins of one key, one per HTLC transaction.
	feeKey, _ := btcec.NewPrivateKey()
	coinScript := lnwallet.WitnessPubKeyHash(feeKey.PubKey())
	coins := wire.NewMsgTx(2)
	coins.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 7}})
	for range 2 {
		coins.AddTxOut(wire.NewTxOut(100_000, coinScript))
	}
	f := newFakeChain(399)
	used := 0
	c := New(Config{DB: a.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
		BestHeight: func() (int32, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.height, nil
		},
		Broadcast: f.broadcast, Signer: a.signer, Secrets: a.secrets,
		SweepScript: func() ([]byte, error) { return sweepScript, nil },
		Preimage:    preimages(2),
		AttachFee: func(_ context.Context, tx *wire.MsgTx, prev *wire.TxOut,
			fee btcutil.Amount, rate chain.SatPerKWeight) (func(*wire.MsgTx) error, error) {

			coin := wire.OutPoint{Hash: coins.TxHash(), Index: uint32(used)}
			used++
			idx := len(tx.TxIn)
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: coin, Sequence: wire.MaxTxInSequenceNum})
			// The coin and change cost about 500 sat at this rate.
			tx.AddTxOut(wire.NewTxOut(100_000-int64(fee)-500, coinScript))
			htlcIn := tx.TxIn[0].PreviousOutPoint
			return func(final *wire.MsgTx) error {
				prevs := txscript.NewMultiPrevOutFetcher(map[wire.OutPoint]*wire.TxOut{
					htlcIn: prev, coin: coins.TxOut[coin.Index]})
				wit, err := txscript.WitnessSignature(final, txscript.NewTxSigHashes(final, prevs),
					idx, 100_000, coinScript, txscript.SigHashAll, feeKey, true)
				if err != nil {
					return err
				}
				final.TxIn[idx].Witness = wit
				return f.broadcast(context.Background(), final)
			}, nil
		},
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if _, err := c.ForceClose(t.Context(), st, ours); err != nil {
		t.Fatal(err)
	}
	f.next(t) // the commitment
	f.spend(t, ours, 400)
	success := f.next(t)
	checkSpends(t, success, ours, coins)
	if len(success.TxIn) != 2 || len(success.TxOut) != 2 {
		t.Fatalf("HTLC-success with %d inputs, %d outputs", len(success.TxIn), len(success.TxOut))
	}
	f.block(401)
	if again := f.next(t); again.TxHash() != success.TxHash() {
		t.Fatal("a later block funded the HTLC-success transaction again")
	}
	settled(t, a, f, st.FundingOutpoint, success, 402)
	f.block(501)
	timeout := f.next(t)
	checkSpends(t, timeout, ours, coins)
	if timeout.LockTime != 501 || timeout.TxIn[1].PreviousOutPoint.Index != 1 {
		t.Fatalf("HTLC-timeout: locktime %d, fee input %v", timeout.LockTime,
			timeout.TxIn[1].PreviousOutPoint)
	}
	settled(t, a, f, st.FundingOutpoint, timeout, 502)
	rec := record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool {
		n := 0
		for _, o := range r.Outputs {
			if o.Kind == channeldb.OutputSecondLevel {
				n++
			}
		}
		return n == 2
	})
	for _, o := range rec.Outputs {
		if o.Kind == channeldb.OutputSecondLevel && o.OutPoint.Index != 0 {
			t.Fatalf("second-level output %v: not the HTLC's", o.OutPoint)
		}
	}
}

// TestBreachSecondLevel: the cheater's HTLC-success transaction, from
// the revoked commitment, confirms before our justice transaction; its
// output is taken with the revocation key in a new justice transaction.
func TestBreachSecondLevel(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 9)
	addHTLC(t, a, b, 50_000, 1) // offered to b, the cheater
	old := b.stored(t)
	oldTx, err := b.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	feeRound(t, a, b, 3000)

	// The cheater's HTLC-success transaction of the revoked state.
	secret, _ := shachain.NewProducer(b.seed).ForCommitment(old.LocalCommit.Number)
	commit, err := lnwallet.CommitmentOf(old, lnwallet.Local, &old.LocalCommit,
		lnwallet.CommitPoint(secret))
	if err != nil {
		t.Fatal(err)
	}
	p := lnwallet.ParamsOf(old)
	local, err := lnwallet.SignHTLC(b.signer, &p, commit, 0)
	if err != nil {
		t.Fatal(err)
	}
	remote, _ := old.LocalCommit.HtlcSigs[0].ToSignature()
	success, err := lnwallet.SignedHTLCTx(&p, commit, 0, remote, local, [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}

	f := newFakeChain(199)
	newCourt(t, a, f)
	f.spend(t, oldTx, 200)
	justice := f.next(t)
	checkSpends(t, justice, oldTx)
	if len(justice.TxIn) != 3 {
		t.Fatalf("justice spends %d outputs", len(justice.TxIn))
	}
	// The cheater's transaction wins the HTLC output.
	settled(t, a, f, old.FundingOutpoint, success, 201)
	second := f.next(t)
	checkSpends(t, second, oldTx, success)
	var fromSuccess bool
	for _, in := range second.TxIn {
		if in.PreviousOutPoint.Hash == success.TxHash() {
			fromSuccess = true
		}
		if in.PreviousOutPoint == success.TxIn[0].PreviousOutPoint {
			t.Fatal("new justice transaction spends the HTLC output the cheater took")
		}
	}
	if !fromSuccess || len(second.TxIn) != 3 {
		t.Fatalf("new justice transaction spends %d outputs, the HTLC transaction's: %v",
			len(second.TxIn), fromSuccess)
	}
	settled(t, a, f, old.FundingOutpoint, second, 202)
	record(t, a.db, old.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.Resolved })
}

// TestAnchorCPFP: our commitment waits in the mempool below the rate the
// estimator now asks; after BumpAfter blocks a child spending our anchor
// and a wallet coin brings the package to that rate. A commitment paying
// enough is left alone.
func TestAnchorCPFP(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeAnchors, 12)
	feeRound(t, a, b, 3000)
	st := a.stored(t)
	commit, err := a.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	feeKey, _ := btcec.NewPrivateKey()
	coinScript := lnwallet.WitnessPubKeyHash(feeKey.PubKey())
	coins := wire.NewMsgTx(2)
	coins.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 9}})
	coins.AddTxOut(wire.NewTxOut(1_000_000, coinScript))
	f := newFakeChain(299)
	// The fee each child paid, by its txid: written by the court's
	// goroutine whenever it broadcasts one (it may again, under load,
	// while the test reads), read by the test for the child it got.
	var (
		paidMu sync.Mutex
		paid   = map[chainhash.Hash]btcutil.Amount{}
	)
	c := New(Config{DB: a.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
		BestHeight: func() (int32, error) { return 299, nil },
		Broadcast:  f.broadcast, Signer: a.signer, Secrets: a.secrets,
		SweepScript: func() ([]byte, error) { return sweepScript, nil },
		AttachFee: func(_ context.Context, tx *wire.MsgTx, prev *wire.TxOut,
			fee btcutil.Amount, rate chain.SatPerKWeight) (func(*wire.MsgTx) error, error) {

			coin := wire.OutPoint{Hash: coins.TxHash()}
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: coin, Sequence: wire.MaxTxInSequenceNum})
			// The coin and change, priced at rate.
			own := rate.FeeForWeight(4*(41+31) + 110)
			tx.AddTxOut(wire.NewTxOut(1_000_000-int64(fee+own), coinScript))
			first := tx.TxIn[0].PreviousOutPoint
			return func(final *wire.MsgTx) error {
				prevs := txscript.NewMultiPrevOutFetcher(map[wire.OutPoint]*wire.TxOut{
					first: prev, coin: coins.TxOut[0]})
				wit, err := txscript.WitnessSignature(final, txscript.NewTxSigHashes(final, prevs),
					1, 1_000_000, coinScript, txscript.SigHashAll, feeKey, true)
				if err != nil {
					return err
				}
				final.TxIn[1].Witness = wit
				paidMu.Lock()
				paid[final.TxHash()] = fee + own
				paidMu.Unlock()
				return f.broadcast(context.Background(), final)
			}, nil
		},
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if _, err := c.ForceClose(t.Context(), st, commit); err != nil {
		t.Fatal(err)
	}
	f.next(t)
	// 3000 sat/kw is enough at first.
	f.mu.Lock()
	f.rate = 3000
	f.mu.Unlock()
	for h := int32(300); h <= 303; h++ {
		f.block(h)
	}
	f.quiet(t)
	// The estimate jumps.
	f.mu.Lock()
	f.rate = 20_000
	f.mu.Unlock()
	f.block(304)
	child := f.next(t)
	checkSpends(t, child, commit, coins)
	if child.TxIn[0].PreviousOutPoint.Hash != commit.TxHash() {
		t.Fatal("child does not spend the commitment")
	}
	var out btcutil.Amount
	for _, o := range commit.TxOut {
		out += btcutil.Amount(o.Value)
	}
	commitFee := st.Capacity - out
	anchor := btcutil.Amount(commit.TxOut[child.TxIn[0].PreviousOutPoint.Index].Value)
	paidMu.Lock()
	childFee, ok := paid[child.TxHash()]
	paidMu.Unlock()
	if !ok {
		t.Fatal("the child was not made by AttachFee")
	}
	pkgFee := commitFee + childFee + anchor
	pkgWeight := weight(commit) + weight(child)
	if rate := int64(pkgFee) * 1000 / pkgWeight; rate < 20_000*99/100 {
		t.Fatalf("package pays %d sat/kw (fee %v over %d wu)", rate, pkgFee, pkgWeight)
	}
}
