package wallet

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"

	"lnd.xprv/chain"
)

// clockedWallet is a started wallet on a fake chain whose clock the test
// moves, funded with one confirmed 1,000,000 sat coin.
func clockedWallet(t *testing.T) (*Wallet, *fakeChain, *atomic.Int64, *wire.MsgTx) {
	t.Helper()
	c := newFakeChain()
	var clock atomic.Int64
	clock.Store(1_900_000_000)
	cfg := testConfig(t, c)
	cfg.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	w := mustCreate(t, cfg, CreateParams{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	addr, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	fund := payTo(t, addr, 1_000_000, 3)
	c.mine(fund)
	waitSynced(t, w, c.height())
	return w, c, &clock, fund
}

func send(t *testing.T, w *Wallet, amt btcutil.Amount) *wire.MsgTx {
	t.Helper()
	dest, _ := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), w.cfg.Net)
	msg, err := w.SendToAddress(context.Background(), dest.String(), amt,
		FeePreference{SatPerVByte: 2}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func mustTx(t *testing.T, w *Wallet, id chainhash.Hash) Transaction {
	t.Helper()
	tx, err := w.Transaction(id)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// conflictOf spends msg's first input elsewhere.
func conflictOf(msg *wire.MsgTx, value int64) *wire.MsgTx {
	c := wire.NewMsgTx(2)
	c.AddTxIn(wire.NewTxIn(&msg.TxIn[0].PreviousOutPoint, nil, nil))
	c.AddTxOut(wire.NewTxOut(value, []byte{0x51}))
	return c
}

// TestReplacedInMempool: a send replaced in the mempool by a conflicting
// spend of its coin (seen through the mempool watcher) fails at once: its
// change leaves the balance, the coin counts once, as spent by the
// replacement, and the history keeps it as failed by the replacement.
func TestReplacedInMempool(t *testing.T) {
	w, c, _, _ := clockedWallet(t)
	sent := send(t, w, 300_000)
	if b := balance(t, w); b.Unconfirmed == 0 {
		t.Fatalf("no change after send: %+v", b)
	}
	repl := conflictOf(sent, 990_000)
	c.evict(sent.TxHash())
	c.addToPool(repl)
	c.relevant <- repl
	waitFor(t, "send failed", func() bool { return mustTx(t, w, sent.TxHash()).Failed })
	tx := mustTx(t, w, sent.TxHash())
	if tx.FailedBy != repl.TxHash() {
		t.Fatalf("failed by %v, want %v", tx.FailedBy, repl.TxHash())
	}
	if b := balance(t, w); b.Total() != 0 {
		t.Fatalf("balance after the replacement: %+v", b)
	}
	if r := mustTx(t, w, repl.TxHash()); r.Amount != -1_000_000 || r.Failed {
		t.Fatalf("replacement record %+v", r)
	}
	// Mined: nothing changes, and the failed send is not rebroadcast.
	before := len(c.broadcasts())
	c.mine(repl)
	waitSynced(t, w, c.height())
	w.checkUnmined(context.Background())
	if n := len(c.broadcasts()); n != before {
		t.Fatalf("%d broadcasts after the send failed", n-before)
	}
	if b := balance(t, w); b.Total() != 0 {
		t.Fatalf("balance after the replacement confirmed: %+v", b)
	}
}

// TestIncomingDoubleSpentInBlock: an unconfirmed payment to the wallet
// whose sender spends the same coin elsewhere in a block (an input that
// is not the wallet's) fails when the block arrives.
func TestIncomingDoubleSpentInBlock(t *testing.T) {
	w, c, _, _ := clockedWallet(t)
	addr, _ := w.NewAddress(AddressP2TR, false)
	in := payTo(t, addr, 40_000, 77)
	c.relevant <- in
	waitFor(t, "incoming seen", func() bool { return balance(t, w).Unconfirmed == 40_000 })
	c.mine(conflictOf(in, 39_000))
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Unconfirmed != 0 || b.Confirmed != 1_000_000 {
		t.Fatalf("balance after the double spend: %+v", b)
	}
	if tx := mustTx(t, w, in.TxHash()); !tx.Failed {
		t.Fatalf("double-spent payment not failed: %+v", tx)
	}
}

// TestIncomingReplacedThenMined: two unconfirmed payments to the wallet
// spend the same coin that is not the wallet's (a sweep and its
// fee-bumped replacement, both seen in the mempool); when the
// replacement confirms, the replaced one fails instead of staying
// unconfirmed forever.
func TestIncomingReplacedThenMined(t *testing.T) {
	w, c, _, _ := clockedWallet(t)
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	first := payTo(t, addr, 40_000, 78)
	pkScript := first.TxOut[0].PkScript
	repl := conflictOf(first, 39_000)
	repl.TxOut[0].PkScript = pkScript
	c.relevant <- first
	waitFor(t, "first seen", func() bool { return balance(t, w).Unconfirmed == 40_000 })
	c.relevant <- repl
	waitFor(t, "replacement seen", func() bool {
		_, err := w.Transaction(repl.TxHash())
		return err == nil
	})
	c.mine(repl)
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Unconfirmed != 0 || b.Confirmed != 1_039_000 {
		t.Fatalf("balance after the replacement confirmed: %+v", b)
	}
	if tx := mustTx(t, w, first.TxHash()); !tx.Failed {
		t.Fatalf("replaced payment not failed: %+v", tx)
	}
}

// TestDroppedSend walks a send through the backend losing it: evicted and
// still valid, it is rebroadcast and lives; missing and refused while its
// coin is spent by another transaction the wallet never saw, it fails only
// after the grace period, and its coin is spendable again... until that
// transaction confirms.
func TestDroppedSend(t *testing.T) {
	w, c, clock, fund := clockedWallet(t)
	ctx := context.Background()
	sent := send(t, w, 300_000)

	c.evict(sent.TxHash())
	w.checkUnmined(ctx)
	if _, err := c.RawTx(ctx, sent.TxHash()); err != nil {
		t.Fatalf("evicted send not rebroadcast: %v", err)
	}

	// Dropped, and its coin spent by a transaction the wallet was not
	// told of.
	c.evict(sent.TxHash())
	c.addToPool(conflictOf(sent, 990_000))
	clock.Add(int64(DefaultMempoolGrace/time.Second) - 5)
	w.checkUnmined(ctx)
	if mustTx(t, w, sent.TxHash()).Failed {
		t.Fatal("failed within the grace period")
	}
	clock.Add(10)
	w.checkUnmined(ctx)
	if tx := mustTx(t, w, sent.TxHash()); !tx.Failed || tx.FailedBy != (chainhash.Hash{}) {
		t.Fatalf("double-spent send after the grace period: %+v", tx)
	}
	utxos, err := w.ListUnspent(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(utxos) != 1 || utxos[0].OutPoint.Hash != fund.TxHash() {
		t.Fatalf("unspent after the send failed: %+v", utxos)
	}
}

// TestDroppedValidSendGivenUp: a send the backend keeps refusing (a fee
// below its floor, say) while its coin stays unspent is kept until
// DropAfter, then failed with its coin released.
func TestDroppedValidSendGivenUp(t *testing.T) {
	w, c, clock, _ := clockedWallet(t)
	ctx := context.Background()
	sent := send(t, w, 300_000)
	c.evict(sent.TxHash())
	c.mu.Lock()
	c.broadcastFn = func(tx *wire.MsgTx) error {
		return &chain.RejectError{Txid: tx.TxHash(), Reason: "mempool min fee not met"}
	}
	c.mu.Unlock()
	clock.Add(int64(DefaultMempoolGrace/time.Second) + 1)
	w.checkUnmined(ctx)
	if mustTx(t, w, sent.TxHash()).Failed {
		t.Fatal("a valid send failed after the grace period")
	}
	clock.Add(int64(DefaultDropAfter / time.Second))
	w.checkUnmined(ctx)
	if !mustTx(t, w, sent.TxHash()).Failed {
		t.Fatal("send not given up after DropAfter")
	}
	if b := balance(t, w); b.Confirmed != 1_000_000 || b.Unconfirmed != 0 {
		t.Fatalf("balance after giving up: %+v", b)
	}
	// The network mines it after all: it comes back.
	c.mu.Lock()
	c.broadcastFn = nil
	c.mu.Unlock()
	c.mine(sent)
	waitSynced(t, w, c.height())
	if tx := mustTx(t, w, sent.TxHash()); tx.Failed || tx.Confirmations != 1 {
		t.Fatalf("mined send %+v", tx)
	}
	if b := balance(t, w); b.Total() != 1_000_000-300_000-mustTx(t, w, sent.TxHash()).Fee {
		t.Fatalf("balance after the send confirmed: %+v", b)
	}
}

// TestMigrateV1: a version 1 database (tx records without a version byte,
// no unmined index) opens after the migration with its history, and its
// unconfirmed send is followed as before.
func TestMigrateV1(t *testing.T) {
	w, _, _, _ := clockedWallet(t)
	sent := send(t, w, 300_000)
	want, err := w.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.cfg
	w.Stop()

	// Downgrade the file to version 1.
	db, closeDB, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx kvdb.RwTx) error {
		var recs []*txRec
		if err := tx.ReadWriteBucket(bucketTxs).ForEach(func(_, v []byte) error {
			r, err := decodeTx(v)
			recs = append(recs, r)
			return err
		}); err != nil {
			return err
		}
		for _, r := range recs {
			id := r.Tx.TxHash()
			if err := tx.ReadWriteBucket(bucketTxs).Put(id[:], encodeTxV1(t, r)); err != nil {
				return err
			}
		}
		if err := tx.DeleteTopLevelBucket(bucketUnmined); err != nil {
			return err
		}
		return tx.ReadWriteBucket(bucketMeta).Put(keyVersion, u32(1))
	})
	closeDB()
	if err != nil {
		t.Fatal(err)
	}

	w2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w2.Stop() })
	if err := w2.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	got, err := w2.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d transactions after migration, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Hash != want[i].Hash || got[i].Amount != want[i].Amount ||
			got[i].Label != want[i].Label || got[i].Own != want[i].Own {
			t.Fatalf("transaction %d after migration: %+v, want %+v", i, got[i], want[i])
		}
	}
	var unmined []*txRec
	if err := w2.db.View(func(tx kvdb.RTx) error {
		unmined, err = unminedTxs(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(unmined) != 1 || unmined[0].Tx.TxHash() != sent.TxHash() {
		t.Fatalf("unmined index after migration: %d entries", len(unmined))
	}
}

// TestAbandonTx: abandoning an unconfirmed send fails it and its child
// (a send spending its change), releasing the original coin; a confirmed
// or unknown transaction is refused.
func TestAbandonTx(t *testing.T) {
	w, _, _, fund := clockedWallet(t)
	parent := send(t, w, 300_000)
	child, err := w.SendToAddress(context.Background(), mustExt(t, w), 100_000,
		FeePreference{SatPerVByte: 2}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if child.TxIn[0].PreviousOutPoint.Hash != parent.TxHash() {
		t.Fatalf("child spends %v, not the parent's change", child.TxIn[0].PreviousOutPoint)
	}
	if err := w.AbandonTx(parent.TxHash()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []chainhash.Hash{parent.TxHash(), child.TxHash()} {
		if !mustTx(t, w, id).Failed {
			t.Fatalf("%v not failed", id)
		}
	}
	if b := balance(t, w); b.Confirmed != 1_000_000 || b.Unconfirmed != 0 {
		t.Fatalf("balance after abandoning: %+v", b)
	}
	if err := w.AbandonTx(fund.TxHash()); !errors.Is(err, ErrTxConfirmed) {
		t.Fatalf("abandon a confirmed tx: %v", err)
	}
	if err := w.AbandonTx(chainhash.Hash{9}); !errors.Is(err, ErrUnknownTx) {
		t.Fatalf("abandon an unknown tx: %v", err)
	}
}

func mustExt(t *testing.T, w *Wallet) string {
	t.Helper()
	a, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), w.cfg.Net)
	if err != nil {
		t.Fatal(err)
	}
	return a.String()
}
