package itest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// The two tests below resolve on chain an HTLC bob forwarded from alice to
// carol while alice is away (her process stopped), and bring alice back
// without restarting bob: the resolution bob learnt on chain must reach
// alice's HTLC off chain, with no force close of alice's channel.

// TestChainTimeoutUpstreamAway: carol holds the HTLC, bob force-closes
// his channel to her and times the HTLC out on chain while alice is
// stopped. When alice returns her payment ends FAILED and her channel to
// bob is open with no HTLC.
func TestChainTimeoutUpstreamAway(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	const amt = 60_000
	hash := sha256.Sum256([]byte("timed out while alice was away"))
	heldThenAliceStops(t, l, hash, amt)

	commit, _ := forceClose(t, l.nw, l.bob, l.bc.ChannelPoint)
	htlcOut := commitOutput(t, commit, amt)
	_, err := l.nw.Mine(1)
	check(t, err)
	fc := waitForceClosing(t, l.bob, l.bc.ChannelPoint)
	if len(fc.PendingHtlcs) != 1 || fc.PendingHtlcs[0].Incoming {
		t.Fatalf("bob's pending HTLCs: %v", fc.PendingHtlcs)
	}
	// Bob's HTLC-timeout transaction at the expiry, then confirmed.
	mineTo(t, l.nw, int32(fc.PendingHtlcs[0].MaturityHeight))
	waitSpender(t, l.nw, htlcOut)
	_, err = l.nw.Mine(1)
	check(t, err)
	_, err = l.bob.WaitLogLine(harness.SyncTimeout, "HTLC timeout on chain handed to the switch",
		"htlcs=1")
	check(t, err)
	// A few more blocks while alice is away, short of her HTLC's
	// deadline.
	_, err = l.nw.Mine(3)
	check(t, err)

	aliceReturns(t, l)
	waitPaymentStatus(t, l.alice, hash, lnrpc.Payment_FAILED)
	noHTLCLeft(t, l)
}

// TestChainPreimageUpstreamAway: as above, but carol settles: her claim
// on chain reveals the preimage while alice is stopped, and alice's
// payment succeeds when she returns.
func TestChainPreimageUpstreamAway(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	const amt = 60_000
	pre := sha256.Sum256([]byte("revealed while alice was away"))
	hash := sha256.Sum256(pre[:])
	heldThenAliceStops(t, l, hash, amt)

	commit, _ := forceClose(t, l.nw, l.bob, l.bc.ChannelPoint)
	htlcOut := commitOutput(t, commit, amt)
	_, err := l.nw.Mine(1)
	check(t, err)
	waitForceClosing(t, l.carol, l.bc.ChannelPoint)
	_, err = invoicesClient(t, l.carol).SettleInvoice(t.Context(),
		&invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	_, err = l.nw.Mine(1)
	check(t, err)
	waitSpender(t, l.nw, htlcOut)
	_, err = l.nw.Mine(1)
	check(t, err)
	_, err = l.bob.WaitLogLine(harness.SyncTimeout, "Preimage from the chain handed to the switch",
		"htlcs=1")
	check(t, err)

	aliceReturns(t, l)
	p := waitPaymentStatus(t, l.alice, hash, lnrpc.Payment_SUCCEEDED)
	if p.PaymentPreimage != hex.EncodeToString(pre[:]) {
		t.Fatalf("alice's payment has preimage %s", p.PaymentPreimage)
	}
	noHTLCLeft(t, l)
	fwd, err := l.bob.RPC.ForwardingHistory(t.Context(), &lnrpc.ForwardingHistoryRequest{})
	check(t, err)
	if len(fwd.ForwardingEvents) != 1 || fwd.ForwardingEvents[0].AmtOut != amt {
		t.Fatalf("bob's forwarding history %v, want one forward of %d", fwd.ForwardingEvents, amt)
	}
}

// heldThenAliceStops has alice pay a hold invoice of carol's for hash
// through bob, and stops alice once carol holds the HTLC.
func heldThenAliceStops(t *testing.T, l *line, hash [32]byte, amt int64) {
	t.Helper()
	hold, err := invoicesClient(t, l.carol).AddHoldInvoice(t.Context(),
		&invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: amt})
	check(t, err)
	go func() {
		// The stream breaks as alice stops; the payment's end is
		// read from her store after her restart.
		_, _ = pay(t, l.alice, &routerrpc.SendPaymentRequest{
			PaymentRequest: hold.PaymentRequest, RouteHints: l.hint()})
	}()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)
	check(t, l.alice.Stop())
	check(t, l.bob.WaitNoPeer(l.alice.PubKey()))
}

// aliceReturns starts alice again and reconnects her to bob, whose
// process ran throughout.
func aliceReturns(t *testing.T, l *line) {
	t.Helper()
	bobPID := l.bob.PID()
	check(t, l.alice.Start())
	reconnect(t, l.nw, l.alice, l.bob)
	if l.bob.PID() != bobPID {
		t.Fatalf("bob restarted")
	}
}

// noHTLCLeft checks that alice's channel to bob is active on both sides
// with no HTLC, and that neither side closed it.
func noHTLCLeft(t *testing.T, l *line) {
	t.Helper()
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
	for _, n := range []*harness.Node{l.alice, l.bob} {
		resp := pending(t, n)
		for _, c := range resp.PendingForceClosingChannels {
			if c.Channel.ChannelPoint == l.ab.ChannelPoint {
				t.Fatalf("%s force-closed alice's channel to bob", n.Name())
			}
		}
		for _, c := range resp.WaitingCloseChannels {
			if c.Channel.ChannelPoint == l.ab.ChannelPoint {
				t.Fatalf("%s is closing alice's channel to bob", n.Name())
			}
		}
	}
}

// TestChainDustUpstream: bob forwards alice's HTLC to carol below the
// dust limit (no output of its own on the commitments) and force-closes
// his channel to carol while carol holds it. Once the commitment
// confirms carol can never claim it: bob fails alice's HTLC back then,
// rather than leave it until alice goes to chain at its expiry.
func TestChainDustUpstream(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	const amt = 200
	hash := sha256.Sum256([]byte("dust forwarded to carol"))
	hold, err := invoicesClient(t, l.carol).AddHoldInvoice(t.Context(),
		&invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: amt})
	check(t, err)
	go func() {
		_, _ = pay(t, l.alice, &routerrpc.SendPaymentRequest{
			PaymentRequest: hold.PaymentRequest, RouteHints: l.hint()})
	}()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)
	commit, _ := forceClose(t, l.nw, l.bob, l.bc.ChannelPoint)
	for _, o := range commit.Tx.TxOut {
		if o.Value == amt {
			t.Fatalf("the commitment pays the dust HTLC an output")
		}
	}
	_, err = l.nw.Mine(1)
	check(t, err)
	waitPaymentStatus(t, l.alice, hash, lnrpc.Payment_FAILED)
	noHTLCLeft(t, l)
}

// TestChainPreimageUpstreamNeverBack: as TestChainPreimageUpstreamAway,
// but alice stays away. Bob, who holds the preimage, goes to chain for
// alice's HTLC as its expiry nears (10 blocks before it) rather than
// lose it, and not before.
func TestChainPreimageUpstreamNeverBack(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	const amt = 60_000
	pre := sha256.Sum256([]byte("alice never came back"))
	hash := sha256.Sum256(pre[:])
	heldThenAliceStops(t, l, hash, amt)

	commit, _ := forceClose(t, l.nw, l.bob, l.bc.ChannelPoint)
	htlcOut := commitOutput(t, commit, amt)
	_, err := l.nw.Mine(1)
	check(t, err)
	fc := waitForceClosing(t, l.bob, l.bc.ChannelPoint)
	if len(fc.PendingHtlcs) != 1 {
		t.Fatalf("bob's pending HTLCs: %v", fc.PendingHtlcs)
	}
	// Alice's HTLC expires bob's delta after his to carol.
	aliceExpiry := int32(fc.PendingHtlcs[0].MaturityHeight) + fwdDelta
	waitForceClosing(t, l.carol, l.bc.ChannelPoint)
	_, err = invoicesClient(t, l.carol).SettleInvoice(t.Context(),
		&invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	_, err = l.nw.Mine(1)
	check(t, err)
	waitSpender(t, l.nw, htlcOut)
	_, err = l.nw.Mine(1)
	check(t, err)
	_, err = l.bob.WaitLogLine(harness.SyncTimeout, "Preimage from the chain handed to the switch",
		"htlcs=1")
	check(t, err)

	const incomingDelta = 10 // contractcourt.DefaultIncomingDelta
	mineTo(t, l.nw, aliceExpiry-incomingDelta-1)
	check(t, l.bob.WaitHeight(aliceExpiry-incomingDelta-1))
	for _, c := range pending(t, l.bob).WaitingCloseChannels {
		if c.Channel.ChannelPoint == l.ab.ChannelPoint {
			t.Fatalf("bob went to chain %d blocks before alice's HTLC expires", incomingDelta+1)
		}
	}
	mineTo(t, l.nw, aliceExpiry-incomingDelta)
	waitSpender(t, l.nw, parseOutPoint(t, l.ab.ChannelPoint))
	_, err = l.bob.WaitLogLine(harness.SyncTimeout, "HTLC at its deadline: going to chain")
	check(t, err)
}
