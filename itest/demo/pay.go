package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// demoPayAmt is what alice pays carol across bob, in sat.
const demoPayAmt = 1_000

// payment is what the demo leaves for the operator: an invoice of carol's
// still to pay.
type payment struct {
	carolInvoice string
}

// chanID is the short channel id of n's channel at point.
func chanID(ctx context.Context, n *harness.Node, point string) (uint64, error) {
	resp, err := n.RPC.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
	if err != nil {
		return 0, err
	}
	for _, c := range resp.Channels {
		if c.ChannelPoint == point {
			return c.ChanId, nil
		}
	}
	return 0, fmt.Errorf("%s has no channel %s", n.Name(), point)
}

// carolHint is bob's side of his channel to carol, as a route hint in
// carol's invoices (bob's forwarding policy: xlnd's defaults), for
// payers that do not know the channel from gossip.
func carolHint(bob *harness.Node, bc uint64) []*lnrpc.RouteHint {
	return []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{NodeId: bob.PubKey(), ChanId: bc,
		FeeBaseMsat: 1000, FeeProportionalMillionths: 1, CltvExpiryDelta: 80}}}}
}

// payCarol has alice pay an invoice of carol's across bob (over alice's
// channel ab, carol's own channel to alice left aside), prints the
// payment, and returns a second invoice of carol's for the operator.
func payCarol(ctx context.Context, alice, bob, carol *harness.Node, ab, bc uint64,
	out io.Writer, logf func(string, ...any)) (*payment, error) {

	inv, err := carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Memo: "demo", Value: demoPayAmt,
		RouteHints: carolHint(bob, bc)})
	if err != nil {
		return nil, err
	}
	conn, err := alice.Conn(alice.AdminMacaroonPath())
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	stream, err := routerrpc.NewRouterClient(conn).SendPaymentV2(pctx, &routerrpc.SendPaymentRequest{
		PaymentRequest: inv.PaymentRequest, TimeoutSeconds: 60, FeeLimitSat: 10,
		OutgoingChanIds: []uint64{ab}})
	if err != nil {
		return nil, err
	}
	var last *lnrpc.Payment
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		last = p
	}
	if last == nil || last.Status != lnrpc.Payment_SUCCEEDED {
		return nil, fmt.Errorf("alice's payment to carol: %v", last)
	}
	logf("demo: alice paid carol %d sat across bob", demoPayAmt)
	fmt.Fprintf(out, "\n=== payment alice -> bob -> carol ===\nstatus: %s\namount: %d sat\nfee: %d msat\npreimage: %s\n",
		last.Status, last.ValueSat, last.FeeMsat, last.PaymentPreimage)

	next, err := carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Memo: "demo, for you to pay", Value: demoPayAmt,
		RouteHints: carolHint(bob, bc)})
	if err != nil {
		return nil, err
	}
	return &payment{carolInvoice: next.PaymentRequest}, nil
}
