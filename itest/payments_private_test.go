package itest

import (
	"fmt"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestPayPrivateInvoice: carol's channel from bob is private; her invoice
// with private=true carries a route hint built from bob's channel_update
// for that channel (which bob sends her, BOLT 7), naming the channel by
// the SCID alias bob gave her in channel_ready (BOLT 2), and alice pays
// it across bob, who knows the channel by that alias, with no other
// knowledge of carol.
func TestPayPrivateInvoice(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	ctx := t.Context()
	var inv *lnrpc.AddInvoiceResponse
	var dec *lnrpc.PayReq
	// bob's update reaches carol once the channel is up.
	err := harness.WaitFor(func() error {
		var err error
		inv, err = l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 5000, Private: true})
		if err != nil {
			return err
		}
		dec, err = l.carol.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: inv.PaymentRequest})
		if err != nil {
			return err
		}
		if len(dec.RouteHints) == 0 {
			return fmt.Errorf("carol's private invoice has no route hint")
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	if len(dec.RouteHints) != 1 || len(dec.RouteHints[0].HopHints) != 1 {
		t.Fatalf("hints %v", dec.RouteHints)
	}
	var alias uint64
	chans, err := l.carol.RPC.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
	check(t, err)
	for _, c := range chans.Channels {
		if c.ChannelPoint == l.bc.ChannelPoint {
			alias = c.PeerScidAlias
		}
	}
	if alias == 0 || alias == l.bc.ChanId {
		t.Fatalf("carol holds no alias from bob for channel %d (got %d)", l.bc.ChanId, alias)
	}
	h := dec.RouteHints[0].HopHints[0]
	if h.NodeId != l.bob.PubKey() || h.ChanId != alias || h.FeeBaseMsat != fwdBaseMsat ||
		h.FeeProportionalMillionths != fwdPPM || h.CltvExpiryDelta != fwdDelta {
		t.Fatalf("hint %v, want bob's policy for channel %d under his alias %d", h, l.bc.ChanId, alias)
	}
	p := mustPay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest})
	if len(p.Htlcs) != 1 || len(p.Htlcs[0].Route.Hops) != 2 || p.FeeMsat != fwdBaseMsat+5 {
		t.Fatalf("payment %v", p)
	}
	waitSettled(t, l.carol, inv.RHash)
	// A public invoice (private unset) names no private channel.
	pub, err := l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 5000})
	check(t, err)
	dec, err = l.carol.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: pub.PaymentRequest})
	check(t, err)
	if len(dec.RouteHints) != 0 {
		t.Fatalf("public invoice with hints %v", dec.RouteHints)
	}
}
