package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// holdExpiryDelta is how many blocks before its expiry a held HTLC is
// failed back (lnd's --invoices.holdexpirydelta default, xlnd's).
const holdExpiryDelta = 12

// chanByPoint is n's channel at point, as ListChannels shows it.
func chanByPoint(t *testing.T, n *harness.Node, point string) *lnrpc.Channel {
	t.Helper()
	resp, err := n.RPC.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{})
	check(t, err)
	for _, c := range resp.Channels {
		if c.ChannelPoint == point {
			return c
		}
	}
	t.Fatalf("%s lists no channel %s", n.Name(), point)
	return nil
}

// wantHTLC checks a channel's one pending HTLC field by field, and the
// unsettled balance it makes.
func wantHTLC(t *testing.T, who string, c *lnrpc.Channel, want *lnrpc.HTLC) {
	t.Helper()
	if len(c.PendingHtlcs) != 1 {
		t.Fatalf("%s: %d pending HTLCs, want 1", who, len(c.PendingHtlcs))
	}
	h := c.PendingHtlcs[0]
	if h.Incoming != want.Incoming || h.Amount != want.Amount || !bytes.Equal(h.HashLock, want.HashLock) ||
		h.ExpirationHeight != want.ExpirationHeight || h.HtlcIndex != want.HtlcIndex ||
		h.ForwardingChannel != want.ForwardingChannel ||
		h.ForwardingHtlcIndex != want.ForwardingHtlcIndex || h.LockedIn != want.LockedIn {

		t.Errorf("%s: HTLC %v, want %v", who, h, want)
	}
	if c.UnsettledBalance != want.Amount {
		t.Errorf("%s: unsettled_balance %d, want %d", who, c.UnsettledBalance, want.Amount)
	}
	if c.Lifetime <= 0 || c.Uptime <= 0 || c.Uptime > c.Lifetime {
		t.Errorf("%s: lifetime %d uptime %d", who, c.Lifetime, c.Uptime)
	}
}

// TestHeldHTLCExpiry: alice pays carol's hold invoice through bob; while
// carol holds the HTLC, ListChannels on each node shows it on both sides
// of each channel, field by field (bob's naming the other side of his
// forward). Blocks are mined to holdExpiryDelta before its expiry:
// carol fails it back, alice's payment fails, and carol's invoice shows
// CANCELED with its HTLC CANCELED in LookupInvoice, ListInvoices and
// its subscription (lnd's SubscribeInvoices sends no cancellation); no
// HTLC is left pending anywhere.
func TestHeldHTLCExpiry(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	ctx := t.Context()
	inv := invoicesClient(t, l.carol)
	pre := sha256.Sum256([]byte("held to expiry"))
	hash := sha256.Sum256(pre[:])
	const amt = 900
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:],
		Value: amt, CltvExpiry: 20})
	check(t, err)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	single, err := inv.SubscribeSingleInvoice(sctx, &invoicesrpc.SubscribeSingleInvoiceRequest{RHash: hash[:]})
	check(t, err)

	done := make(chan *lnrpc.Payment, 1)
	go func() {
		p, _ := pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: hold.PaymentRequest,
			RouteHints: l.hint()})
		done <- p
	}()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)
	carolInv, err := l.carol.RPC.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: hash[:]})
	check(t, err)
	if len(carolInv.Htlcs) != 1 || carolInv.Htlcs[0].State != lnrpc.InvoiceHTLCState_ACCEPTED {
		t.Fatalf("accepted invoice HTLCs %v", carolInv.Htlcs)
	}
	expiry := uint32(carolInv.Htlcs[0].ExpiryHeight)

	// The HTLC on both sides of both channels. Fee: bob's base 1000
	// msat plus 1 ppm of 900 sat, rounded down in whole satoshis.
	fee := int64(fwdBaseMsat+amt*1000*fwdPPM/1_000_000) / 1000
	var aliceSide, bobIn, bobOut, carolSide *lnrpc.Channel
	// Locked in once the peer's revocation is in; wait for both sides.
	err = harness.WaitFor(func() error {
		aliceSide = chanByPoint(t, l.alice, l.ab.ChannelPoint)
		bobIn = chanByPoint(t, l.bob, l.ab.ChannelPoint)
		bobOut = chanByPoint(t, l.bob, l.bc.ChannelPoint)
		carolSide = chanByPoint(t, l.carol, l.bc.ChannelPoint)
		for _, c := range []*lnrpc.Channel{aliceSide, bobIn, bobOut, carolSide} {
			if len(c.PendingHtlcs) != 1 || !c.PendingHtlcs[0].LockedIn {
				return fmt.Errorf("channel %s: HTLCs %v", c.ChannelPoint, c.PendingHtlcs)
			}
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	// Lifetime and uptime count whole seconds since the opening.
	check(t, harness.WaitFor(func() error {
		for _, n := range []*harness.Node{l.alice, l.bob, l.carol} {
			resp, err := n.RPC.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
			if err != nil {
				return err
			}
			for _, c := range resp.Channels {
				if c.Lifetime < 2 || c.Uptime < 1 {
					return fmt.Errorf("%s: lifetime %d uptime %d", n.Name(), c.Lifetime, c.Uptime)
				}
			}
		}
		return nil
	}, harness.SyncTimeout))
	aliceSide = chanByPoint(t, l.alice, l.ab.ChannelPoint)
	bobIn = chanByPoint(t, l.bob, l.ab.ChannelPoint)
	bobOut = chanByPoint(t, l.bob, l.bc.ChannelPoint)
	carolSide = chanByPoint(t, l.carol, l.bc.ChannelPoint)
	wantHTLC(t, "alice", aliceSide, &lnrpc.HTLC{Amount: amt + fee, HashLock: hash[:],
		ExpirationHeight: expiry + fwdDelta, LockedIn: true})
	wantHTLC(t, "bob from alice", bobIn, &lnrpc.HTLC{Incoming: true, Amount: amt + fee,
		HashLock: hash[:], ExpirationHeight: expiry + fwdDelta,
		ForwardingChannel: l.bc.ChanId, LockedIn: true})
	wantHTLC(t, "bob to carol", bobOut, &lnrpc.HTLC{Amount: amt, HashLock: hash[:],
		ExpirationHeight: expiry, ForwardingChannel: l.ab.ChanId, LockedIn: true})
	wantHTLC(t, "carol", carolSide, &lnrpc.HTLC{Incoming: true, Amount: amt, HashLock: hash[:],
		ExpirationHeight: expiry, LockedIn: true})

	// Mine to the auto-cancel height.
	height, err := l.nw.TipHeight()
	check(t, err)
	if n := int(expiry) - holdExpiryDelta - int(height); n > 0 {
		_, err = l.nw.Mine(n)
		check(t, err)
	}
	p := <-done
	if p == nil || p.Status != lnrpc.Payment_FAILED ||
		p.FailureReason != lnrpc.PaymentFailureReason_FAILURE_REASON_INCORRECT_PAYMENT_DETAILS {
		t.Fatalf("payment of an expired hold: %v", p)
	}
	wantCanceled := func(where string, i *lnrpc.Invoice) {
		t.Helper()
		if i.State != lnrpc.Invoice_CANCELED || len(i.Htlcs) != 1 ||
			i.Htlcs[0].State != lnrpc.InvoiceHTLCState_CANCELED || i.AmtPaidMsat != 0 {
			t.Errorf("%s: invoice %v, HTLCs %v", where, i.State, i.Htlcs)
		}
	}
	got, err := l.carol.RPC.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: hash[:]})
	check(t, err)
	wantCanceled("LookupInvoice", got)
	list, err := l.carol.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{})
	check(t, err)
	if len(list.Invoices) != 1 {
		t.Fatalf("%d invoices", len(list.Invoices))
	}
	wantCanceled("ListInvoices", list.Invoices[0])
	// The single stream: OPEN, ACCEPTED, CANCELED, then its end.
	var states []lnrpc.Invoice_InvoiceState
	for {
		u, err := single.Recv()
		if err != nil {
			break
		}
		states = append(states, u.State)
		if u.State == lnrpc.Invoice_CANCELED {
			wantCanceled("single subscription", u)
			break
		}
	}
	if len(states) < 3 || states[len(states)-1] != lnrpc.Invoice_CANCELED {
		t.Errorf("single subscription states %v", states)
	}
	// Nothing pending on any side.
	check(t, harness.WaitFor(func() error {
		for _, s := range []struct {
			n     *harness.Node
			point string
		}{{l.alice, l.ab.ChannelPoint}, {l.bob, l.ab.ChannelPoint},
			{l.bob, l.bc.ChannelPoint}, {l.carol, l.bc.ChannelPoint}} {

			c := chanByPoint(t, s.n, s.point)
			if len(c.PendingHtlcs) != 0 || c.UnsettledBalance != 0 {
				return fmt.Errorf("%s %s: HTLCs %v unsettled %d", s.n.Name(), s.point,
					c.PendingHtlcs, c.UnsettledBalance)
			}
		}
		return nil
	}, harness.SyncTimeout))

	// Peer aliases as lnd answers them: alice's from her node
	// announcement (her channel is public, announced now that the
	// blocks above confirmed it deep enough), lnd's text for carol, who
	// has only a private channel and so announces nothing.
	aliceInfo, err := l.alice.Info()
	check(t, err)
	check(t, harness.WaitFor(func() error {
		resp, err := l.bob.RPC.ListChannels(ctx, &lnrpc.ListChannelsRequest{PeerAliasLookup: true})
		if err != nil {
			return err
		}
		for _, c := range resp.Channels {
			want := aliceInfo.Alias
			if c.RemotePubkey == l.carol.PubKey() {
				want = "unable to lookup peer alias: alias for node not found"
			}
			if c.PeerAlias != want {
				return fmt.Errorf("bob's channel to %s: peer_alias %q, want %q",
					c.RemotePubkey, c.PeerAlias, want)
			}
		}
		return nil
	}, harness.SyncTimeout))
}
