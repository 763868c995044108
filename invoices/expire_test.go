package invoices

import (
	"context"
	"crypto/sha256"
	"math"
	"testing"
	"time"

	"lnd.xprv/channeldb"
)

// TestExpireHeld: a link failing a held HTLC back near its expiry has
// the registry record it first, as lnd's registry cancels hold invoices
// HoldExpiryDelta blocks before expiry: an accepted hold invoice is
// canceled with every HTLC (the other parts failed back through their
// links, the caller's not), subscribers see it, an HTLC of an
// incomplete set is canceled alone, and a settled invoice is reported so
// the link keeps its HTLC for the fulfilment on its way.
func TestExpireHeld(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	pre := [32]byte{4, 2}
	hash := sha256.Sum256(pre[:])
	inv, err := h.reg.AddHoldInvoice(ctx, hash, NewInvoice{Value: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	single, err := h.reg.SubscribeSingleInvoice(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(t, single); got.State != channeldb.InvoiceOpen {
		t.Fatalf("first state %v", got.State)
	}
	later := make(resolved, 4)
	for id := uint64(1); id <= 2; id++ {
		if res := h.notify(payment(inv, id, 50_000, 100_000), later); res != nil {
			t.Fatalf("part %d resolved at once: %+v", id, res)
		}
	}
	if got := next(t, single); got.State != channeldb.InvoiceOpen {
		t.Fatalf("after one part %v", got.State)
	}
	if got := next(t, single); got.State != channeldb.InvoiceAccepted {
		t.Fatalf("after both parts %v", got.State)
	}
	settled, err := h.reg.ExpireHeld(hash, circuit(1), testHeight+60)
	if err != nil || settled {
		t.Fatalf("expire: %v %v", settled, err)
	}
	// Part 2 is failed back through its link; part 1 is the caller's.
	wantUnknown(t, later.next(t), 50_000, testHeight+60)
	select {
	case r := <-later:
		t.Fatalf("the caller's HTLC was resolved too: %+v", r)
	default:
	}
	got := next(t, single)
	if got.State != channeldb.InvoiceCanceled || got.AmtPaid != 0 ||
		got.HTLCs[0].State != channeldb.HTLCCanceled || got.HTLCs[1].State != channeldb.HTLCCanceled {
		t.Fatalf("announced after the expiry: %v %+v", got.State, got.HTLCs)
	}
	if got := h.lookup(hash); got.State != channeldb.InvoiceCanceled {
		t.Fatalf("stored after the expiry: %v", got.State)
	}
	// Again (the next tick, or a restart): nothing changes.
	if settled, err := h.reg.ExpireHeld(hash, circuit(1), testHeight+61); err != nil || settled {
		t.Fatalf("expire twice: %v %v", settled, err)
	}
	// Stopped before the link failed it: the replay after the restart
	// is failed, not held again.
	h.restart()
	res := h.notify(payment(inv, 1, 50_000, 100_000), later)
	if res == nil || res.Settled() {
		t.Fatalf("replayed expired HTLC: %+v", res)
	}
	if got := h.lookup(hash); got.State != channeldb.InvoiceCanceled {
		t.Fatalf("after the replay: %v", got.State)
	}

	// One part of an incomplete set: that HTLC alone.
	inv2 := h.add(NewInvoice{Value: 100_000})
	if res := h.notify(payment(inv2, 5, 40_000, 100_000), later); res != nil {
		t.Fatalf("part resolved at once: %+v", res)
	}
	if _, err := h.reg.ExpireHeld(inv2.PaymentHash, circuit(5), testHeight+60); err != nil {
		t.Fatal(err)
	}
	if got := h.lookup(inv2.PaymentHash); got.State != channeldb.InvoiceOpen || got.AmtPaid != 0 ||
		got.HTLCs[0].State != channeldb.HTLCCanceled {
		t.Fatalf("incomplete set after the expiry: %v %+v", got.State, got.HTLCs)
	}

	// Settled meanwhile: reported, nothing changes.
	pre3 := [32]byte{4, 3}
	hash3 := sha256.Sum256(pre3[:])
	inv3, err := h.reg.AddHoldInvoice(ctx, hash3, NewInvoice{Value: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if res := h.notify(payment(inv3, 9, 10_000, 10_000), later); res != nil {
		t.Fatalf("held HTLC resolved at once: %+v", res)
	}
	if err := h.reg.SettleInvoice(ctx, pre3); err != nil {
		t.Fatal(err)
	}
	wantSettle(t, later.next(t), pre3)
	if settled, err := h.reg.ExpireHeld(hash3, circuit(9), testHeight+60); err != nil || !settled {
		t.Fatalf("expire a settled invoice: %v %v", settled, err)
	}
	if got := h.lookup(hash3); got.State != channeldb.InvoiceSettled {
		t.Fatalf("settled invoice became %v", got.State)
	}
}

// TestTimerUnixNano: timer moments saturate instead of wrapping, so an
// absurd stored date sorts last (or first), never among today's.
func TestTimerUnixNano(t *testing.T) {
	now := time.Unix(1_700_000_000, 5)
	if got := unixNano(now); got != now.UnixNano() {
		t.Fatalf("now: %d", got)
	}
	if got := unixNano(time.Unix(1<<40, 0)); got != math.MaxInt64 {
		t.Fatalf("far future: %d", got)
	}
	if got := unixNano(time.Unix(-(1 << 40), 0)); got != math.MinInt64 {
		t.Fatalf("far past: %d", got)
	}
}

// TestTimersSwept: the expiry timers of settled invoices are swept from
// the heap as they accumulate, and an open invoice's stays.
func TestTimersSwept(t *testing.T) {
	h := newHarness(t, nil)
	const sweep = 16
	h.reg.mu.Lock()
	h.reg.minSweep = sweep
	h.reg.mu.Unlock()
	const n = 3*sweep + 10
	later := make(resolved, 1)
	var open *channeldb.Invoice
	for i := range n {
		inv := h.add(NewInvoice{Value: 1000})
		if i == n/2 {
			open = inv
			continue
		}
		if res := h.notify(payment(inv, uint64(i), 1000, 1000), later); res == nil || !res.Settled() {
			t.Fatalf("invoice %d: %+v", i, res)
		}
	}
	h.reg.mu.Lock()
	defer h.reg.mu.Unlock()
	if got := len(h.reg.timers); got > 2*sweep {
		t.Fatalf("%d timers left for 1 open invoice of %d", got, n)
	}
	found := false
	for i, tm := range h.reg.timers {
		found = found || tm.hash == open.PaymentHash
		if i > 0 && h.reg.timers[(i-1)/2].at > tm.at {
			t.Fatalf("timer %d earlier than its parent", i)
		}
	}
	if !found {
		t.Fatal("the open invoice's expiry was swept")
	}
}
