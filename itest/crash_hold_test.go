//go:build crashpoint

package itest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// holdCrashScenarios: carol holds alice's HTLC for a hold invoice until
// its expiry comes near and dies once the invoice's cancellation is
// persisted, before her link fails the HTLC back.
var holdCrashScenarios = []payCrashScenario{
	{crashpoint.InvoiceHeldExpired, "carol"},
}

// runHoldCrash: after the restart the replayed HTLC is failed back (not
// held again), alice's payment fails, the invoice shows CANCELED with its
// HTLC CANCELED, no HTLC is left, no channel closed, and no one's total
// moved.
func runHoldCrash(t *testing.T, l *payLine, sc payCrashScenario) {
	before := map[*harness.Node]int64{}
	for _, n := range l.nodes() {
		before[n] = nodeTotal(t, n)
	}
	victim := l.node(sc.victim)
	victim.SetEnv(crashpoint.EnvVar + "=" + string(sc.point))
	check(t, victim.Restart())
	waitAllActive(t, l)

	pre := sha256.Sum256([]byte("held until the crash " + string(sc.point)))
	hash := sha256.Sum256(pre[:])
	hold, err := invoicesClient(t, l.carol).AddHoldInvoice(t.Context(),
		&invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: payCrashAmt, CltvExpiry: 20})
	check(t, err)
	hint := []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{NodeId: l.bob.PubKey(),
		ChanId: l.bc.ChanId, FeeBaseMsat: 1000, FeeProportionalMillionths: 1,
		CltvExpiryDelta: 80}}}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendOnce(l.alice, hold.PaymentRequest, hint)
	}()
	defer wg.Wait()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)
	inv, err := l.carol.RPC.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: hash[:]})
	check(t, err)
	if len(inv.Htlcs) != 1 {
		t.Fatalf("accepted with HTLCs %v", inv.Htlcs)
	}
	tip, err := l.nw.TipHeight()
	check(t, err)
	if n := int(inv.Htlcs[0].ExpiryHeight) - holdExpiryDelta - int(tip); n > 0 {
		_, err = l.nw.Mine(n)
		check(t, err)
	}
	waitCrashed(t, victim, sc.point)
	victim.SetEnv()
	check(t, victim.Start())
	waitAllActive(t, l)

	p := finalPayment(t, l.alice, hash[:])
	if p == nil || p.Status != lnrpc.Payment_FAILED {
		t.Fatalf("payment of the expired hold invoice: %v", p)
	}
	check(t, harness.WaitFor(func() error {
		inv, err := l.carol.RPC.LookupInvoice(context.Background(), &lnrpc.PaymentHash{RHash: hash[:]})
		if err != nil {
			return err
		}
		if inv.State != lnrpc.Invoice_CANCELED || len(inv.Htlcs) != 1 ||
			inv.Htlcs[0].State != lnrpc.InvoiceHTLCState_CANCELED {
			return fmt.Errorf("invoice %v, HTLCs %v", inv.State, inv.Htlcs)
		}
		return nil
	}, harness.SyncTimeout))
	for _, n := range l.nodes() {
		waitNoHTLCs(t, n)
	}
	checkSettled(t, l.nw, l.nodes()...)
	checkTotals(t, before)
}
