package invoices

import (
	"errors"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

func exitHTLC(in htlc, later resolved) ExitHTLC {
	return ExitHTLC{Hash: in.hash, Amt: in.amt, Expiry: in.expiry,
		Circuit: circuit(in.id), Payload: in.payload,
		Resolve: func(r *Resolution) { later <- r }}
}

// TestExitDecisionsInCallersTx: decisions made in a caller's
// transaction are durable with it, and forgotten with it when it rolls
// back; the registry stays usable either way.
func TestExitDecisionsInCallersTx(t *testing.T) {
	h := newHarness(t, nil)
	inv := h.add(NewInvoice{Value: 100_000})
	later := make(resolved, 4)
	pay := payment(inv, 1, 100_000, 100_000)

	// Rolled back: nothing written, and the registry's lock released.
	errRollback := errors.New("caller's write failed")
	d := h.reg.NewExitDecisions(testHeight, []ExitHTLC{exitHTLC(pay, later)})
	err := h.db.Update(func(tx kvdb.RwTx) error {
		if err := d.Decide(tx); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("update: %v", err)
	}
	d.Abort()
	if got := h.lookup(inv.PaymentHash); got.State != channeldb.InvoiceOpen || len(got.HTLCs) != 0 {
		t.Fatalf("after a rolled back decision: %+v", got)
	}

	// Committed: settled, and the same decision when the link replays
	// the HTLC.
	d = h.reg.NewExitDecisions(testHeight, []ExitHTLC{exitHTLC(pay, later)})
	if err := h.db.Update(d.Decide); err != nil {
		t.Fatal(err)
	}
	res := d.Committed()
	wantSettle(t, res[0], *inv.Preimage)
	if got := h.lookup(inv.PaymentHash); got.State != channeldb.InvoiceSettled || got.AmtPaid != 100_000 {
		t.Fatalf("after a committed decision: %+v", got)
	}
	wantSettle(t, h.notify(pay, later), *inv.Preimage)
}

// TestExitDecisionsBusy: Decide does not wait for the registry (its
// caller holds the database's write lock, which the registry's own calls
// take after the registry's lock).
func TestExitDecisionsBusy(t *testing.T) {
	h := newHarness(t, nil)
	inv := h.add(NewInvoice{Value: 100_000})
	later := make(resolved, 4)
	d := h.reg.NewExitDecisions(testHeight,
		[]ExitHTLC{exitHTLC(payment(inv, 1, 100_000, 100_000), later)})
	h.reg.mu.Lock()
	err := h.db.Update(d.Decide)
	h.reg.mu.Unlock()
	if !errors.Is(err, ErrRegistryBusy) {
		t.Fatalf("decide with the registry busy: %v", err)
	}
	d.Abort()
	if got := h.lookup(inv.PaymentHash); got.State != channeldb.InvoiceOpen {
		t.Fatalf("after a busy registry: %+v", got)
	}
	wantSettle(t, h.notify(payment(inv, 1, 100_000, 100_000), later), *inv.Preimage)
}
