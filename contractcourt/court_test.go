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
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
)

// fakeChain is the chain as the court's unit tests drive it: spends,
// reorgs and blocks are delivered when the test says so.
type fakeChain struct {
	mu      sync.Mutex
	spends  map[wire.OutPoint]*fakeSpend
	epochs  chan chain.BlockEvent
	height  int32
	sent    chan *wire.MsgTx
	rate    chain.SatPerKWeight
	scripts int

	// finalDepth is the courts' FinalDepth: 1 (final at once) unless
	// a test follows reorgs.
	finalDepth uint32
}

// fakeSpend is one spend registration.
type fakeSpend struct {
	spend   chan *chain.SpendDetail
	reorged chan struct{}
}

func newFakeChain(height int32) *fakeChain {
	return &fakeChain{spends: map[wire.OutPoint]*fakeSpend{},
		epochs: make(chan chain.BlockEvent, 1000), height: height,
		sent: make(chan *wire.MsgTx, 100), rate: 2500, finalDepth: 1}
}

func (f *fakeChain) RegisterBlockEpochs() (*chain.BlockEpochs, error) {
	return &chain.BlockEpochs{Events: f.epochs, Cancel: func() {}}, nil
}

func (f *fakeChain) RegisterConfirmations(chainhash.Hash, []byte, uint32,
	int32) (*chain.ConfirmationEvent, error) {

	return nil, errors.New("not used")
}

func (f *fakeChain) RegisterSpend(op wire.OutPoint, _ []byte, _ int32) (*chain.SpendEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := &fakeSpend{spend: make(chan *chain.SpendDetail, 4),
		reorged: make(chan struct{}, 4)}
	f.spends[op] = ch
	var once sync.Once
	return &chain.SpendEvent{Spend: ch.spend, Reorged: ch.reorged, Cancel: func() {
		once.Do(func() {
			f.mu.Lock()
			if f.spends[op] == ch {
				delete(f.spends, op)
			}
			f.mu.Unlock()
		})
	}}, nil
}

func (f *fakeChain) watched(op wire.OutPoint) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.spends[op] != nil
}

// spend delivers the spend of every input of tx that is watched.
func (f *fakeChain) spend(t *testing.T, tx *wire.MsgTx, height int32) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for i, in := range tx.TxIn {
		if ch := f.spends[in.PreviousOutPoint]; ch != nil {
			ch.spend <- &chain.SpendDetail{SpentOutPoint: in.PreviousOutPoint,
				SpenderTxHash: tx.TxHash(), SpendingTx: tx,
				SpenderInputIndex: uint32(i), SpendingHeight: height}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no watched input in %v", tx.TxHash())
	}
}

// reorg tells the watchers of tx's inputs that its block left the
// chain.
func (f *fakeChain) reorg(t *testing.T, tx *wire.MsgTx) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, in := range tx.TxIn {
		if ch := f.spends[in.PreviousOutPoint]; ch != nil {
			ch.reorged <- struct{}{}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no watched input in %v", tx.TxHash())
	}
}

// disconnect reports the tip at h disconnected.
func (f *fakeChain) disconnect(h int32) {
	f.mu.Lock()
	f.height = h - 1
	f.mu.Unlock()
	f.epochs <- chain.BlockEvent{Height: h, Disconnected: true}
}

func (f *fakeChain) block(h int32) {
	f.mu.Lock()
	f.height = h
	f.mu.Unlock()
	f.epochs <- chain.BlockEvent{Height: h}
}

func (f *fakeChain) EstimateFeePerKW(context.Context, uint32) (chain.SatPerKWeight, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rate, nil
}

func (f *fakeChain) RelayFeePerKW() chain.SatPerKWeight { return 253 }

func (f *fakeChain) broadcast(_ context.Context, tx *wire.MsgTx) error {
	f.sent <- tx
	return nil
}

// next waits for the next broadcast.
func (f *fakeChain) next(t *testing.T) *wire.MsgTx {
	t.Helper()
	select {
	case tx := <-f.sent:
		return tx
	case <-time.After(10 * time.Second):
		t.Fatal("nothing broadcast")
		return nil
	}
}

// quiet checks nothing is broadcast for a moment.
func (f *fakeChain) quiet(t *testing.T) {
	t.Helper()
	select {
	case tx := <-f.sent:
		t.Fatalf("unexpected broadcast %v", tx.TxHash())
	case <-time.After(100 * time.Millisecond):
	}
}

// sweepScript is the test wallet's address: a P2WPKH script.
var sweepScript = append([]byte{0, 20}, make([]byte, 20)...)

func newCourt(t *testing.T, n *node, f *fakeChain, opts ...func(*Config)) *Court {
	t.Helper()
	cfg := Config{DB: n.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
		BestHeight: func() (int32, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.height, nil
		},
		Broadcast: f.broadcast, Signer: n.signer, Secrets: n.secrets,
		SweepScript: func() ([]byte, error) {
			f.mu.Lock()
			f.scripts++
			f.mu.Unlock()
			return sweepScript, nil
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	c := New(cfg)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// record waits until the court's record of op satisfies ok.
func record(t *testing.T, db *channeldb.DB, op wire.OutPoint,
	ok func(*channeldb.ContractRecord) bool) *channeldb.ContractRecord {

	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rec *channeldb.ContractRecord
		_ = db.View(func(tx kvdb.RTx) error {
			rec, _ = channeldb.FetchContract(tx, op)
			return nil
		})
		if rec != nil && ok(rec) {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("record of %v: %+v", op, rec)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closed(t *testing.T, db *channeldb.DB, op wire.OutPoint) *channeldb.ChannelCloseSummary {
	t.Helper()
	var s *channeldb.ChannelCloseSummary
	err := db.View(func(tx kvdb.RTx) error {
		var err error
		s, err = channeldb.FetchClosedChannel(tx, op)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outputSum(tx *wire.MsgTx) (s btcutil.Amount) {
	for _, o := range tx.TxOut {
		s += btcutil.Amount(o.Value)
	}
	return s
}

func types() []lnwallet.ChannelType {
	return []lnwallet.ChannelType{lnwallet.ChannelTypeStaticRemoteKey,
		lnwallet.ChannelTypeAnchors}
}

// anchorCount is the number of anchors of ours a commitment of typ has.
func anchorCount(typ lnwallet.ChannelType) int {
	if typ.HasAnchors() {
		return 1
	}
	return 0
}

func TestClassify(t *testing.T) {
	for _, typ := range types() {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPair(t, typ, 1)
			addHTLC(t, a, b, 50_000, 1)
			addHTLC(t, b, a, 20_000, 2)
			old, err := b.ch.LocalCommitTx()
			if err != nil {
				t.Fatal(err)
			}
			feeRound(t, a, b, 3000)
			st := a.stored(t)
			key := channeldb.ChannelKey(st.FundingOutpoint)
			lookup := func(n uint64) (*channeldb.RevocationLogEntry, error) {
				var e *channeldb.RevocationLogEntry
				err := a.db.View(func(tx kvdb.RTx) error {
					var err error
					e, err = channeldb.FetchRevocationLog(tx, key, n)
					return err
				})
				return e, err
			}
			ours, _ := a.ch.LocalCommitTx()
			theirs, _ := b.ch.LocalCommitTx()
			forged := old.Copy()
			forged.TxOut[0].Value--
			coop := wire.NewMsgTx(2)
			coop.AddTxIn(&wire.TxIn{PreviousOutPoint: st.FundingOutpoint,
				Sequence: wire.MaxTxInSequenceNum})
			for _, c := range []struct {
				tx   *wire.MsgTx
				want SpendKind
			}{
				{ours, SpendLocal}, {theirs, SpendRemote}, {old, SpendBreach},
				{forged, SpendUnknown}, {coop, SpendCooperative},
			} {
				got, err := Classify(st, c.tx, lookup)
				if err != nil {
					t.Fatal(err)
				}
				if got.Kind != c.want {
					t.Errorf("%v classified as %v", c.want, got.Kind)
				}
				if c.want == SpendBreach && (got.Revoked == nil ||
					len(got.Revoked.HTLCs) != 2) {

					t.Errorf("breach entry %+v", got.Revoked)
				}
			}
		})
	}
}

func TestBreachJustice(t *testing.T) {
	for _, typ := range types() {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPair(t, typ, 2)
			addHTLC(t, a, b, 50_000, 1)
			addHTLC(t, b, a, 20_000, 2)
			old, err := b.ch.LocalCommitTx()
			if err != nil {
				t.Fatal(err)
			}
			feeRound(t, a, b, 3000)
			op := a.ch.State().FundingOutpoint

			f := newFakeChain(199)
			newCourt(t, a, f)
			f.spend(t, old, 200)
			rec := record(t, a.db, op, func(r *channeldb.ContractRecord) bool {
				return r.SweepTx != nil
			})
			want := 4
			if typ.HasAnchors() {
				want = 5 // and our anchor, not worth its fee at this rate
			}
			if rec.Kind != channeldb.ContractBreach || len(rec.Outputs) != want {
				t.Fatalf("breach record: %v with %d outputs", rec.Kind, len(rec.Outputs))
			}
			justice := f.next(t)
			if len(justice.TxIn) != 4 || len(justice.TxOut) != 1 {
				t.Fatalf("justice tx spends %d outputs", len(justice.TxIn))
			}
			checkSpends(t, justice, old)
			var in btcutil.Amount
			for _, o := range rec.Outputs {
				in += o.Amount
			}
			// Everything but the anchors and the commitment fee.
			if fee := in - outputSum(justice); fee <= 0 || fee > 10_000 {
				t.Fatalf("justice tx fee %v", fee)
			}
			if _, err := a.db.FetchOpenChannel(op); !errors.Is(err, channeldb.ErrChannelNotFound) {
				t.Fatalf("channel still open: %v", err)
			}
			if s := closed(t, a.db, op); s.CloseType != channeldb.BreachClose || !s.IsPending {
				t.Fatalf("summary %+v", s)
			}

			f.spend(t, justice, 201)
			record(t, a.db, op, func(r *channeldb.ContractRecord) bool { return r.Resolved })
			if s := closed(t, a.db, op); s.IsPending {
				t.Fatal("channel still pending after the justice tx confirmed")
			}
			for _, o := range rec.Outputs {
				if f.watched(o.OutPoint) {
					t.Errorf("%v still watched", o.OutPoint)
				}
			}
		})
	}
}

func TestLocalForceCloseRestart(t *testing.T) {
	for _, typ := range types() {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPair(t, typ, 3)
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
			if got := f.next(t); got.TxHash() != commit.TxHash() {
				t.Fatalf("broadcast %v, want the commitment", got.TxHash())
			}
			if _, err := c.ForceClose(context.Background(), st, commit); !errors.Is(err, ErrAlreadyClosing) {
				t.Fatalf("second force close: %v", err)
			}

			// A restart before the commitment confirms sends it again.
			c.Stop()
			c = newCourt(t, a, f)
			if got := f.next(t); got.TxHash() != commit.TxHash() {
				t.Fatalf("rebroadcast %v, want the commitment", got.TxHash())
			}
			f.spend(t, commit, 300)
			rec := record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool {
				return r.CloseHeight == 300
			})
			if len(rec.Outputs) != 1+anchorCount(typ) || rec.Outputs[0].Kind != channeldb.OutputToLocal ||
				rec.Outputs[0].CSV != 144 {
				t.Fatalf("outputs %+v", rec.Outputs)
			}
			if s := closed(t, a.db, st.FundingOutpoint); s.CloseType != channeldb.LocalForceClose ||
				s.TimeLockedBalance != rec.Outputs[0].Amount {
				t.Fatalf("summary %+v", s)
			}

			// Not before the CSV delay.
			f.block(442)
			f.quiet(t)
			f.block(443)
			sweep := f.next(t)
			checkSpends(t, sweep, commit)
			if sweep.TxIn[0].Sequence != 144 {
				t.Fatalf("sweep sequence %d", sweep.TxIn[0].Sequence)
			}

			// Restart: the sweep goes out again; unconfirmed for
			// two blocks, it is replaced at a higher fee.
			c.Stop()
			c = newCourt(t, a, f)
			if got := f.next(t); got.TxHash() != sweep.TxHash() {
				t.Fatal("sweep not rebroadcast after restart")
			}
			f.block(444)
			f.quiet(t)
			f.block(445)
			bumped := f.next(t)
			checkSpends(t, bumped, commit)
			if outputSum(bumped) >= outputSum(sweep) {
				t.Fatalf("bump pays %v, first sweep %v", outputSum(sweep)-outputSum(bumped), 0)
			}
			if f.scripts != 1 {
				t.Fatalf("%d sweep addresses used", f.scripts)
			}

			// BumpFee replaces it at once, at the rate asked.
			if err := c.BumpFee(rec.Outputs[0].OutPoint, SweepRequest{StartRate: 20_000, Immediate: true}); err != nil {
				t.Fatal(err)
			}
			manual := f.next(t)
			rec = record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return true })
			if rec.SweepFeeRate < 20_000 || len(rec.Sweeps) != 3 {
				t.Fatalf("after BumpFee: rate %d, %d sweeps", rec.SweepFeeRate, len(rec.Sweeps))
			}
			f.spend(t, manual, 446)
			record(t, a.db, st.FundingOutpoint, func(r *channeldb.ContractRecord) bool { return r.Resolved })
			if err := c.BumpFee(rec.Outputs[0].OutPoint, SweepRequest{StartRate: 30_000}); !errors.Is(err, ErrNoSweep) {
				t.Fatalf("bump of a resolved output: %v", err)
			}
		})
	}
}

func TestRemoteClose(t *testing.T) {
	for _, typ := range types() {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPair(t, typ, 4)
			feeRound(t, a, b, 3000)
			f := newFakeChain(499)
			var closing []wire.OutPoint
			c := New(Config{DB: b.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
				BestHeight: func() (int32, error) { return 499, nil },
				Broadcast:  f.broadcast, Signer: b.signer, Secrets: b.secrets,
				SweepScript:    func() ([]byte, error) { return sweepScript, nil },
				ChannelClosing: func(op wire.OutPoint) { closing = append(closing, op) },
			})
			// b's court watches a's commitment: a force-closes.
			ours, _ := a.ch.LocalCommitTx()
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			defer c.Stop()
			f.spend(t, ours, 500)
			sweep := f.next(t)
			checkSpends(t, sweep, ours)
			rec := record(t, b.db, ours.TxIn[0].PreviousOutPoint, func(r *channeldb.ContractRecord) bool { return true })
			if rec.Kind != channeldb.ContractRemoteCommit || len(rec.Outputs) != 1+anchorCount(typ) ||
				rec.Outputs[0].Kind != channeldb.OutputToRemote {
				t.Fatalf("record %v %+v", rec.Kind, rec.Outputs)
			}
			if len(closing) != 1 {
				t.Fatalf("ChannelClosing called %d times", len(closing))
			}
			if s := closed(t, b.db, rec.ChanPoint); s.CloseType != channeldb.RemoteForceClose ||
				s.SettledBalance != rec.Outputs[0].Amount {
				t.Fatalf("summary %+v", s)
			}
		})
	}
}
