package htlcswitch

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// TestReplayLog: an onion is a replay only for another HTLC, and is
// forgotten once its HTLC's expiry has passed.
func TestReplayLog(t *testing.T) {
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"))
	mustOK(t, err)
	t.Cleanup(func() { _ = db.Close() })
	k := func(id uint64) channeldb.CircuitKey {
		return channeldb.CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(5), HtlcID: id}
	}
	check := func(hashes []sphinx.Hash256, cltvs []uint32, keys []channeldb.CircuitKey) []bool {
		var out []bool
		mustOK(t, db.Update(func(tx kvdb.RwTx) error {
			var err error
			out, err = replayCheck(tx, hashes, cltvs, keys)
			return err
		}))
		return out
	}
	h1, h2 := sha256.Sum256([]byte{1}), sha256.Sum256([]byte{2})
	if got := check([]sphinx.Hash256{h1, h2}, []uint32{100, 200}, []channeldb.CircuitKey{k(1), k(2)}); got[0] || got[1] {
		t.Fatalf("fresh onions seen as replays: %v", got)
	}
	// The same HTLC again (a restart) is no replay; another HTLC is.
	if got := check([]sphinx.Hash256{h1, h1}, []uint32{100, 100}, []channeldb.CircuitKey{k(1), k(3)}); got[0] || !got[1] {
		t.Fatalf("replays %v, want [false true]", got)
	}
	var n int
	mustOK(t, db.Update(func(tx kvdb.RwTx) error {
		var err error
		n, err = pruneReplays(tx, 150)
		return err
	}))
	if n != 1 {
		t.Fatalf("pruned %d entries, want 1", n)
	}
	if got := check([]sphinx.Hash256{h1, h2}, []uint32{100, 200}, []channeldb.CircuitKey{k(4), k(5)}); got[0] || !got[1] {
		t.Fatalf("after pruning: %v, want [false true]", got)
	}
}

// TestReplayedOnionFails: the same onion in a second HTLC is refused
// with temporary_channel_failure, seen at the origin.
func TestReplayedOnionFails(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	const amt = lnwire.MilliSatoshi(1_000_000)
	inv := addInvoice(t, b, amt)
	blob, circ := routeOnion(t, inv.PaymentHash, []hopSpec{
		{b.idKey.PubKey(), finalHop(inv, amt, testHeight+100)}})
	add := &lnwire.UpdateAddHTLC{Amount: amt, PaymentHash: inv.PaymentHash,
		Expiry: testHeight + 100, OnionBlob: blob}
	mustOK(t, a.sw.SendHTLC(a.scid, 1, add))
	if res := waitResult(t, a, 1); !res.Settled {
		t.Fatalf("first HTLC: %+v", res)
	}
	mustOK(t, a.sw.SendHTLC(a.scid, 2, add))
	res := waitResult(t, a, 2)
	if res.Settled || len(res.Reason) == 0 {
		t.Fatalf("replayed HTLC: %+v", res)
	}
	df, err := circ.DecryptFailure(res.Reason, nil)
	mustOK(t, err)
	if df.Failure.Code() != sphinx.CodeTemporaryChannelFailure {
		t.Fatalf("replay failed with %v", df.Failure)
	}
}

// TestHeldHTLCExpires: an HTLC held for a hold invoice is failed back
// HoldExpiryDelta blocks before its expiry, so the channel never goes on
// chain for it.
func TestHeldHTLCExpires(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	const amt = lnwire.MilliSatoshi(1_000_000)
	var preimage [32]byte
	preimage[0] = 9
	hash := sha256.Sum256(preimage[:])
	inv, err := b.reg.AddHoldInvoice(context.Background(), hash,
		invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	expiry := uint32(testHeight + 100)
	blob, circ := routeOnion(t, hash, []hopSpec{
		{b.idKey.PubKey(), finalHop(inv, amt, expiry)}})
	mustOK(t, a.sw.SendHTLC(a.scid, 1, &lnwire.UpdateAddHTLC{Amount: amt,
		PaymentHash: hash, Expiry: expiry, OnionBlob: blob}))
	eventually(t, "held", func() bool {
		got, err := b.reg.LookupInvoice(context.Background(), hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	// expire runs the check on bob's link and reports how many HTLCs
	// are still held.
	expire := func() int {
		held := make(chan int, 1)
		b.link.mbox.push(func() {
			b.link.expireHeld()
			n := 0
			for _, h := range b.link.ops.inflight {
				if h.held {
					n++
				}
			}
			held <- n
		})
		return <-held
	}
	b.height.Store(expiry - HoldExpiryDelta - 1)
	if n := expire(); n != 1 {
		t.Fatalf("%d HTLCs held %d blocks before expiry, want 1", n, HoldExpiryDelta+1)
	}
	b.height.Store(expiry - HoldExpiryDelta)
	if n := expire(); n != 0 {
		t.Fatalf("%d HTLCs still held %d blocks before expiry", n, HoldExpiryDelta)
	}
	res := waitResult(t, a, 1)
	df, err := circ.DecryptFailure(res.Reason, nil)
	mustOK(t, err)
	if df.Failure.Code() != sphinx.CodeIncorrectOrUnknownPaymentDetails {
		t.Fatalf("held HTLC failed with %v", df.Failure)
	}
	// The invoice shows it, as lnd's: canceled, its HTLC canceled.
	got, err := b.reg.LookupInvoice(context.Background(), hash)
	mustOK(t, err)
	if got.State != channeldb.InvoiceCanceled || len(got.HTLCs) != 1 ||
		got.HTLCs[0].State != channeldb.HTLCCanceled || got.AmtPaid != 0 {

		t.Fatalf("invoice after the expiry: %v, HTLCs %+v", got.State, got.HTLCs)
	}
}

// TestDustExposureFails: an HTLC that takes the receiver's dust exposure
// past its bound is failed back once locked in (BOLT 2), the one before
// it settles.
func TestDustExposureFails(t *testing.T) {
	a, b := newChannel(t)
	b.maxDust = 500_000 // msat: one 300 sat dust HTLC fits, two do not
	a.startLink()
	b.startLink()
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	const amt = lnwire.MilliSatoshi(300_000)
	var circs []*sphinx.Circuit
	for id := uint64(1); id <= 2; id++ {
		inv := addInvoice(t, b, amt)
		blob, circ := routeOnion(t, inv.PaymentHash, []hopSpec{
			{b.idKey.PubKey(), finalHop(inv, amt, testHeight+100)}})
		circs = append(circs, circ)
		mustOK(t, a.sw.SendHTLC(a.scid, id, &lnwire.UpdateAddHTLC{Amount: amt,
			PaymentHash: inv.PaymentHash, Expiry: testHeight + 100, OnionBlob: blob}))
	}
	if res := waitResult(t, a, 1); !res.Settled {
		t.Fatalf("first dust HTLC: %+v", res)
	}
	res := waitResult(t, a, 2)
	if res.Settled {
		t.Fatal("second dust HTLC settled past the exposure bound")
	}
	df, err := circs[1].DecryptFailure(res.Reason, nil)
	mustOK(t, err)
	if df.Failure.Code() != sphinx.CodeTemporaryChannelFailure {
		t.Fatalf("failed with %v", df.Failure)
	}
}
