package itest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestPreimageFromChainSettlesUpstream: alice pays a hold invoice of
// carol's through bob; with the HTLC held, bob force-closes his channel
// to carol. Carol, once she settles the invoice, can only claim the HTLC
// on chain, with its preimage, from bob's commitment. Bob takes the
// preimage from her witness and settles alice's HTLC off chain: alice's
// payment succeeds with that preimage and her channel to bob keeps no
// HTLC.
func TestPreimageFromChainSettlesUpstream(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	ctx := t.Context()
	const amt = 50_000
	pre := sha256.Sum256([]byte("taken from the chain"))
	hash := sha256.Sum256(pre[:])
	inv := invoicesClient(t, l.carol)
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{
		Hash: hash[:], Value: amt})
	check(t, err)
	done := make(chan *lnrpc.Payment, 1)
	go func() {
		p, _ := pay(t, l.alice, &routerrpc.SendPaymentRequest{
			PaymentRequest: hold.PaymentRequest, RouteHints: l.hint()})
		done <- p
	}()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)

	// Bob goes to chain with his HTLC to carol in flight.
	commit, _ := forceClose(t, l.nw, l.bob, l.bc.ChannelPoint)
	htlcOut := commitOutput(t, commit, amt)
	_, err = l.nw.Mine(1)
	check(t, err)
	waitForceClosing(t, l.carol, l.bc.ChannelPoint)
	waitForceClosing(t, l.bob, l.bc.ChannelPoint)

	// Carol learns the preimage only now: her claim goes on chain.
	_, err = inv.SettleInvoice(ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	_, err = l.nw.Mine(1)
	check(t, err)
	claim := waitSpender(t, l.nw, htlcOut)
	revealed := false
	for _, in := range claim.Tx.TxIn {
		if in.PreviousOutPoint != htlcOut {
			continue
		}
		for _, w := range in.Witness {
			revealed = revealed || bytes.Equal(w, pre[:])
		}
	}
	if !revealed {
		t.Fatalf("carol's claim %v does not reveal the preimage", claim.Tx.TxHash())
	}
	_, err = l.nw.Mine(1)
	check(t, err)

	p := <-done
	if p == nil || p.Status != lnrpc.Payment_SUCCEEDED ||
		p.PaymentPreimage != hex.EncodeToString(pre[:]) {
		t.Fatalf("alice's payment: %v", p)
	}
	check(t, harness.WaitFor(func() error {
		for _, n := range []*harness.Node{l.alice, l.bob} {
			c := waitActive(t, n, l.ab.ChannelPoint)
			if c.UnsettledBalance != 0 {
				return fmt.Errorf("%s still has %d sat unsettled with the other",
					n.Name(), c.UnsettledBalance)
			}
		}
		return nil
	}, harness.SyncTimeout))
	fwd, err := l.bob.RPC.ForwardingHistory(ctx, &lnrpc.ForwardingHistoryRequest{})
	check(t, err)
	if len(fwd.ForwardingEvents) != 1 || fwd.ForwardingEvents[0].AmtOut != amt {
		t.Fatalf("bob's forwarding history %v, want one forward of %d", fwd.ForwardingEvents, amt)
	}
}
