package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// Channels of the demo: alice -> bob public, bob -> carol private.
const (
	demoChanAmt = 10_000_000
	demoPayAmt  = 1_000
)

// payment is what the demo leaves for the operator: an invoice of carol's
// still to pay and the route hint that reaches her.
type payment struct {
	carolInvoice string
}

// openChannels opens alice -> bob and bob -> carol (private), mines them
// and waits until all four ends are active.
func openChannels(ctx context.Context, nw *harness.Network, alice, bob, carol *harness.Node,
	logf func(string, ...any)) (ab, bc *lnrpc.Channel, err error) {

	open := func(a, b *harness.Node, private bool) (string, error) {
		pub, err := hex.DecodeString(b.PubKey())
		if err != nil {
			return "", err
		}
		resp, err := a.RPC.OpenChannelSync(ctx, &lnrpc.OpenChannelRequest{NodePubkey: pub,
			LocalFundingAmount: demoChanAmt, Private: private})
		if err != nil {
			return "", fmt.Errorf("%s opens to %s: %w", a.Name(), b.Name(), err)
		}
		txid, err := chainhash.NewHash(resp.GetFundingTxidBytes())
		if err != nil {
			return "", err
		}
		if _, err := nw.WaitTx(txid.String()); err != nil {
			return "", err
		}
		return fmt.Sprintf("%v:%d", txid, resp.OutputIndex), nil
	}
	abPoint, err := open(alice, bob, false)
	if err != nil {
		return nil, nil, err
	}
	bcPoint, err := open(bob, carol, true)
	if err != nil {
		return nil, nil, err
	}
	if _, err := nw.Mine(6); err != nil {
		return nil, nil, err
	}
	active := func(n *harness.Node, point string) (*lnrpc.Channel, error) {
		var found *lnrpc.Channel
		err := harness.WaitFor(func() error {
			resp, err := n.RPC.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
			if err != nil {
				return err
			}
			for _, c := range resp.Channels {
				if c.ChannelPoint == point && c.Active {
					found = c
					return nil
				}
			}
			return fmt.Errorf("%s: channel %s not active yet", n.Name(), point)
		}, harness.SyncTimeout)
		return found, err
	}
	for _, w := range []struct {
		n     *harness.Node
		point string
	}{{alice, abPoint}, {bob, abPoint}, {bob, bcPoint}, {carol, bcPoint}} {
		c, err := active(w.n, w.point)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case w.n == alice:
			ab = c
		case w.n == carol:
			bc = c
		}
	}
	logf("demo: channels open: alice -> bob %s, bob -> carol %s (private)", abPoint, bcPoint)
	return ab, bc, nil
}

// carolHint is bob's side of his private channel to carol, as a route
// hint in carol's invoices (bob's forwarding policy: xlnd's defaults).
func carolHint(bob *harness.Node, bc *lnrpc.Channel) []*lnrpc.RouteHint {
	return []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{NodeId: bob.PubKey(), ChanId: bc.ChanId,
		FeeBaseMsat: 1000, FeeProportionalMillionths: 1, CltvExpiryDelta: 80}}}}
}

// payCarol has alice pay an invoice of carol's across bob, prints the
// payment, and returns a second invoice of carol's for the operator.
func payCarol(ctx context.Context, alice, bob, carol *harness.Node, bc *lnrpc.Channel,
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
		PaymentRequest: inv.PaymentRequest, TimeoutSeconds: 60, FeeLimitSat: 10})
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
