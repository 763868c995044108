package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// Forwarding policy of every node (lnd's defaults, which xlnd's are).
const (
	fwdBaseMsat = 1000
	fwdPPM      = 1
	fwdDelta    = 80
	// finalDelta is the delta a route gives the final hop: xlnd's
	// invoices ask for 80 blocks, plus lnd's 3 blocks of padding.
	finalDelta = 83
)

// line is alice -> bob -> carol: alice's channel to bob public, bob's to
// carol private, both funded by the opener.
type line struct {
	nw                *harness.Network
	alice, bob, carol *harness.Node
	ab, bc            *lnrpc.Channel
}

func newLine(t *testing.T, carolArgs ...string) *line {
	nw := harness.New(t)
	l := &line{nw: nw,
		alice: startNode(t, nw, "alice"),
		bob:   startNode(t, nw, "bob"),
		carol: startNode(t, nw, "carol", carolArgs...),
	}
	check(t, nw.Fund(l.alice, 5_000_000))
	check(t, nw.Fund(l.bob, 5_000_000))
	check(t, nw.ConnectNodes(l.alice, l.bob, true))
	check(t, nw.ConnectNodes(l.bob, l.carol, true))
	l.ab = openPayChannel(t, nw, l.alice, l.bob, chanOpts{})
	l.bc = openPayChannel(t, nw, l.bob, l.carol, chanOpts{private: true})
	return l
}

// route is the two-hop route alice -> bob -> carol delivering amt msat,
// bob charging his fee and delta, with mpp (may be nil) at carol.
func (l *line) route(t *testing.T, amt int64, mpp *lnrpc.MPPRecord) *lnrpc.Route {
	t.Helper()
	height, err := l.nw.TipHeight()
	check(t, err)
	fee := int64(fwdBaseMsat) + amt*fwdPPM/1_000_000
	exp := uint32(height) + finalDelta
	return &lnrpc.Route{TotalAmtMsat: amt + fee, TotalFeesMsat: fee, TotalTimeLock: exp + fwdDelta,
		Hops: []*lnrpc.Hop{
			{ChanId: l.ab.ChanId, PubKey: l.bob.PubKey(), AmtToForwardMsat: amt, FeeMsat: fee, Expiry: exp},
			{ChanId: l.bc.ChanId, PubKey: l.carol.PubKey(), AmtToForwardMsat: amt, Expiry: exp, MppRecord: mpp},
		}}
}

// hint is bob's policy for the private channel to carol, as a route hint.
func (l *line) hint() []*lnrpc.RouteHint {
	return []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{NodeId: l.bob.PubKey(), ChanId: l.bc.ChanId,
		FeeBaseMsat: fwdBaseMsat, FeeProportionalMillionths: fwdPPM, CltvExpiryDelta: fwdDelta}}}}
}

// sendToRoute sends over rt for hash and returns the attempt.
func sendToRoute(t *testing.T, n *harness.Node, hash []byte, rt *lnrpc.Route) *lnrpc.HTLCAttempt {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	a, err := router(t, n).SendToRouteV2(ctx, &routerrpc.SendToRouteRequest{PaymentHash: hash, Route: rt})
	check(t, err)
	return a
}

func wantAttemptFailure(t *testing.T, what string, a *lnrpc.HTLCAttempt, idx uint32, codes ...lnrpc.Failure_FailureCode) {
	t.Helper()
	if a.Status != lnrpc.HTLCAttempt_FAILED || a.Failure == nil || a.Failure.FailureSourceIndex != idx {
		t.Fatalf("%s: attempt %v, want a failure from index %d", what, a, idx)
	}
	for _, c := range codes {
		if a.Failure.Code == c {
			return
		}
	}
	t.Fatalf("%s: failed with %v, want %v", what, a.Failure.Code, codes)
}

// addr32 reads an invoice's payment address.
func invoiceAddr(t *testing.T, n *harness.Node, payReq string) []byte {
	t.Helper()
	dec, err := n.RPC.DecodePayReq(t.Context(), &lnrpc.PayReqString{PayReq: payReq})
	check(t, err)
	return dec.PaymentAddr
}

// totalLocal sums a node's local balances over its channels, in sat.
func totalLocal(t *testing.T, n *harness.Node) int64 {
	t.Helper()
	resp, err := n.RPC.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{})
	check(t, err)
	var sum int64
	for _, c := range resp.Channels {
		sum += c.LocalBalance
	}
	return sum
}

// TestPaymentsOverTwoHops runs the payment scenarios of a line of three
// nodes, carol's channel private: a payment routed by a hint, keysend,
// the BOLT 4 failures of the final hop seen at the sender, hold invoices
// settled and canceled, the next hop offline, and the forwarding node
// restarted with HTLCs in flight; the balances of the three add up, bob
// keeping exactly the fees alice paid, which his fwdinghistory shows.
func TestPaymentsOverTwoHops(t *testing.T) {
	t.Parallel()
	l := newLine(t, "--accept-keysend")
	ctx := t.Context()
	aliceStart, bobStart, carolStart := totalLocal(t, l.alice), totalLocal(t, l.bob), totalLocal(t, l.carol)
	// Amounts below 1,000 sat keep every fee at exactly bob's base fee
	// (1 sat), so channel balances in sat show every msat.
	var delivered int64 // sat carol received

	// A route built by hand: carol's invoice settles.
	inv, err := l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 500})
	check(t, err)
	addr := invoiceAddr(t, l.alice, inv.PaymentRequest)
	a := sendToRoute(t, l.alice, inv.RHash, l.route(t, 500_000, &lnrpc.MPPRecord{PaymentAddr: addr, TotalAmtMsat: 500_000}))
	if a.Status != lnrpc.HTLCAttempt_SUCCEEDED {
		t.Fatalf("two hops by route: %v", a)
	}
	waitSettled(t, l.carol, inv.RHash)
	delivered += 500

	// The invoice's hint routes SendPaymentV2 (the hint given here is
	// bob's policy, what carol's private invoice carries).
	inv, err = l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 600})
	check(t, err)
	p := mustPay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest, RouteHints: l.hint()})
	if p.FeeMsat != fwdBaseMsat || len(p.Htlcs) != 1 || len(p.Htlcs[0].Route.Hops) != 2 {
		t.Fatalf("hinted payment %v", p)
	}
	delivered += 600

	// Keysend to carol, over the hint.
	pre := sha256.Sum256([]byte("keysend to carol"))
	hash := sha256.Sum256(pre[:])
	cpub, err := hexPub(l.carol.PubKey())
	check(t, err)
	mustPay(t, l.alice, &routerrpc.SendPaymentRequest{Dest: cpub, Amt: 700, PaymentHash: hash[:],
		DestCustomRecords: map[uint64][]byte{5482373484: pre[:]}, RouteHints: l.hint()})
	waitSettled(t, l.carol, hash[:])
	delivered += 700

	// The final hop's failures, each seen by alice as BOLT 4 says:
	// incorrect_or_unknown_payment_details from carol (index 2).
	l.finalFailures(t)

	// Hold invoices: one settled, one canceled while alice waits.
	delivered += l.holdInvoices(t)

	// The next hop offline: bob fails the HTLC back.
	l.nextHopOffline(t)

	// bob restarts with an HTLC in flight through him; it resolves.
	delivered += l.restartForwarder(t)

	// alice restarts with her payment in flight; it resumes and
	// resolves.
	delivered += l.restartSender(t)

	// Balances: carol got what was delivered, bob exactly alice's fees.
	list, err := l.alice.RPC.ListPayments(ctx, &lnrpc.ListPaymentsRequest{IncludeIncomplete: true, MaxPayments: 100})
	check(t, err)
	var fees, sent int64
	for _, p := range list.Payments {
		if p.Status == lnrpc.Payment_SUCCEEDED {
			fees += p.FeeMsat
			sent += p.ValueMsat
		}
	}
	if sent != delivered*1000 {
		t.Fatalf("alice's payments sent %d msat, carol was to get %d sat", sent, delivered)
	}
	// bob's forwarding log holds exactly those fees.
	fwd, err := l.bob.RPC.ForwardingHistory(ctx, &lnrpc.ForwardingHistoryRequest{NumMaxEvents: 1000})
	check(t, err)
	var logged int64
	for _, ev := range fwd.ForwardingEvents {
		logged += int64(ev.FeeMsat)
	}
	if logged != fees {
		t.Fatalf("bob's fwdinghistory shows %d msat of fees, alice paid %d", logged, fees)
	}
	err = harness.WaitFor(func() error {
		da := aliceStart - totalLocal(t, l.alice)
		db := totalLocal(t, l.bob) - bobStart
		dc := totalLocal(t, l.carol) - carolStart
		if da*1000 != sent+fees || db*1000 != fees || dc*1000 != sent {
			return fmt.Errorf("alice -%d sat, bob +%d sat, carol +%d sat; sent %d msat, fees %d msat",
				da, db, dc, sent, fees)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
}

// finalFailures: underpaid, expired, wrong payment secret and unknown
// hash, each refused by carol with incorrect_or_unknown_payment_details.
func (l *line) finalFailures(t *testing.T) {
	ctx := t.Context()
	inv, err := l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 800})
	check(t, err)
	addr := invoiceAddr(t, l.alice, inv.PaymentRequest)
	details := lnrpc.Failure_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS

	a := sendToRoute(t, l.alice, inv.RHash, l.route(t, 700_000, &lnrpc.MPPRecord{PaymentAddr: addr, TotalAmtMsat: 700_000}))
	wantAttemptFailure(t, "underpaid", a, 2, details)

	wrong := bytes.Repeat([]byte{0x5e}, 32)
	inv2, err := l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 800})
	check(t, err)
	a = sendToRoute(t, l.alice, inv2.RHash, l.route(t, 800_000, &lnrpc.MPPRecord{PaymentAddr: wrong, TotalAmtMsat: 800_000}))
	wantAttemptFailure(t, "wrong payment secret", a, 2, details)

	unknown := sha256.Sum256([]byte("nobody's hash"))
	a = sendToRoute(t, l.alice, unknown[:], l.route(t, 800_000, &lnrpc.MPPRecord{PaymentAddr: wrong, TotalAmtMsat: 800_000}))
	wantAttemptFailure(t, "unknown hash", a, 2, details)

	inv3, err := l.carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 800, Expiry: 1})
	check(t, err)
	addr3 := invoiceAddr(t, l.alice, inv3.PaymentRequest)
	time.Sleep(2 * time.Second) // the invoice's one-second expiry passes
	a = sendToRoute(t, l.alice, inv3.RHash, l.route(t, 800_000, &lnrpc.MPPRecord{PaymentAddr: addr3, TotalAmtMsat: 800_000}))
	wantAttemptFailure(t, "expired", a, 2, details)
	// SendPaymentV2 refuses the expired invoice before sending.
	_, err = pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: inv3.PaymentRequest, RouteHints: l.hint()})
	if err == nil {
		t.Fatal("an expired invoice was paid")
	}
}

// holdInvoices: a hold invoice settled once alice's HTLC is held, and one
// canceled; it returns the sat delivered.
func (l *line) holdInvoices(t *testing.T) int64 {
	ctx := t.Context()
	inv := invoicesClient(t, l.carol)
	pre := sha256.Sum256([]byte("hold preimage"))
	hash := sha256.Sum256(pre[:])
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: 900})
	check(t, err)
	done := make(chan *lnrpc.Payment, 1)
	go func() {
		p, _ := pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: hold.PaymentRequest, RouteHints: l.hint()})
		done <- p
	}()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)
	_, err = inv.SettleInvoice(ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	if p := <-done; p == nil || p.Status != lnrpc.Payment_SUCCEEDED || p.PaymentPreimage != hex.EncodeToString(pre[:]) {
		t.Fatalf("hold invoice settled: %v", p)
	}

	hash2 := sha256.Sum256([]byte("hold, then cancel"))
	hold2, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: hash2[:], Value: 900})
	check(t, err)
	go func() {
		p, _ := pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: hold2.PaymentRequest, RouteHints: l.hint()})
		done <- p
	}()
	waitInvoiceState(t, l.carol, hash2[:], lnrpc.Invoice_ACCEPTED)
	_, err = inv.CancelInvoice(ctx, &invoicesrpc.CancelInvoiceMsg{PaymentHash: hash2[:]})
	check(t, err)
	p := <-done
	if p == nil || p.Status != lnrpc.Payment_FAILED ||
		p.FailureReason != lnrpc.PaymentFailureReason_FAILURE_REASON_INCORRECT_PAYMENT_DETAILS {
		t.Fatalf("hold invoice canceled: %v", p)
	}
	return 900
}

func waitInvoiceState(t *testing.T, n *harness.Node, hash []byte, want lnrpc.Invoice_InvoiceState) {
	t.Helper()
	err := harness.WaitFor(func() error {
		inv, err := n.RPC.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: hash})
		if err != nil {
			return err
		}
		if inv.State != want {
			return fmt.Errorf("invoice %x is %v, want %v", hash, inv.State, want)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
}

// nextHopOffline: carol stops; bob fails alice's HTLC back.
func (l *line) nextHopOffline(t *testing.T) {
	check(t, l.carol.Stop())
	check(t, l.bob.WaitNoPeer(l.carol.PubKey()))
	hash := sha256.Sum256([]byte("carol is away"))
	a := sendToRoute(t, l.alice, hash[:], l.route(t, 100_000, nil))
	wantAttemptFailure(t, "next hop offline", a, 1,
		lnrpc.Failure_CHANNEL_DISABLED, lnrpc.Failure_TEMPORARY_CHANNEL_FAILURE, lnrpc.Failure_UNKNOWN_NEXT_PEER)
	// Mission control now holds bob -> carol failed for any larger
	// amount: alice would find no route for a while. Forget it.
	_, err := router(t, l.alice).ResetMissionControl(t.Context(), &routerrpc.ResetMissionControlRequest{})
	check(t, err)
	check(t, l.carol.Start())
	waitActive(t, l.bob, l.bc.ChannelPoint)
	waitActive(t, l.carol, l.bc.ChannelPoint)
}

// restartForwarder: two HTLCs held at carol (hold invoices) cross bob;
// bob restarts; one is settled and one canceled, and both payments
// resolve at alice. It returns the sat delivered.
func (l *line) restartForwarder(t *testing.T) int64 {
	ctx := t.Context()
	inv := invoicesClient(t, l.carol)
	pre := sha256.Sum256([]byte("through a restart"))
	hashes := [][32]byte{sha256.Sum256(pre[:]), sha256.Sum256([]byte("canceled through a restart"))}
	results := make([]*lnrpc.Payment, 2)
	var wg sync.WaitGroup
	for i, h := range hashes {
		hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: h[:], Value: 400})
		check(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: hold.PaymentRequest,
				RouteHints: l.hint()})
		}()
		waitInvoiceState(t, l.carol, h[:], lnrpc.Invoice_ACCEPTED)
	}
	check(t, l.bob.Stop())
	check(t, l.bob.Start())
	waitActive(t, l.bob, l.ab.ChannelPoint)
	waitActive(t, l.bob, l.bc.ChannelPoint)
	inv = invoicesClient(t, l.carol)
	_, err := inv.SettleInvoice(ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	_, err = inv.CancelInvoice(ctx, &invoicesrpc.CancelInvoiceMsg{PaymentHash: hashes[1][:]})
	check(t, err)
	wg.Wait()
	if results[0] == nil || results[0].Status != lnrpc.Payment_SUCCEEDED {
		t.Fatalf("settled across bob's restart: %v", results[0])
	}
	if results[1] == nil || results[1].Status != lnrpc.Payment_FAILED {
		t.Fatalf("canceled across bob's restart: %v", results[1])
	}
	return 400
}

// TestPayMPPBySendToRoute: alice splits a payment to bob over their two
// channels with SendToRouteV2, each part carrying the total; bob settles
// when both have arrived.
func TestPayMPPBySendToRoute(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, true))
	ch1 := openPayChannel(t, nw, alice, bob, chanOpts{})
	ch2 := openPayChannel(t, nw, alice, bob, chanOpts{})
	ctx := t.Context()
	inv, err := bob.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 200_000})
	check(t, err)
	addr := invoiceAddr(t, alice, inv.PaymentRequest)
	r := router(t, alice)
	bpub, err := hexPub(bob.PubKey())
	check(t, err)
	var wg sync.WaitGroup
	attempts := make([]*lnrpc.HTLCAttempt, 2)
	for i, ch := range []*lnrpc.Channel{ch1, ch2} {
		built, err := r.BuildRoute(ctx, &routerrpc.BuildRouteRequest{AmtMsat: 100_000_000,
			OutgoingChanId: ch.ChanId, HopPubkeys: [][]byte{bpub}, PaymentAddr: addr, FinalCltvDelta: finalDelta})
		check(t, err)
		rt := built.Route
		if rt.Hops[0].ChanId != ch.ChanId || rt.Hops[0].MppRecord == nil {
			t.Fatalf("built %v", rt)
		}
		rt.Hops[0].MppRecord.TotalAmtMsat = 200_000_000
		wg.Add(1)
		go func() {
			defer wg.Done()
			attempts[i] = sendToRoute(t, alice, inv.RHash, rt)
		}()
	}
	wg.Wait()
	for i, a := range attempts {
		if a.Status != lnrpc.HTLCAttempt_SUCCEEDED {
			t.Fatalf("part %d: %v", i, a)
		}
	}
	settled := waitSettled(t, bob, inv.RHash)
	if settled.AmtPaidSat != 200_000 || len(settled.Htlcs) != 2 {
		t.Fatalf("invoice %v", settled)
	}
	list, err := alice.RPC.ListPayments(ctx, &lnrpc.ListPaymentsRequest{})
	check(t, err)
	if len(list.Payments) != 1 || list.Payments[0].Status != lnrpc.Payment_SUCCEEDED ||
		len(list.Payments[0].Htlcs) != 2 || list.Payments[0].ValueSat != 200_000 {
		t.Fatalf("payments %v", list)
	}
	for _, ch := range []*lnrpc.Channel{ch1, ch2} {
		_, remote := localBalance(t, alice, ch.ChannelPoint)
		if remote != 100_000 {
			t.Fatalf("channel %s: bob holds %d sat", ch.ChannelPoint, remote)
		}
	}
}

// restartSender: alice's HTLC is held at carol when alice restarts; her
// payment resumes from the store, and settles when carol settles. It
// returns the sat delivered.
func (l *line) restartSender(t *testing.T) int64 {
	ctx := t.Context()
	inv := invoicesClient(t, l.carol)
	pre := sha256.Sum256([]byte("sender restarts"))
	hash := sha256.Sum256(pre[:])
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: 300})
	check(t, err)
	sctx, cancel := context.WithCancel(ctx)
	stream, err := router(t, l.alice).SendPaymentV2(sctx, &routerrpc.SendPaymentRequest{
		PaymentRequest: hold.PaymentRequest, RouteHints: l.hint(), TimeoutSeconds: 60, FeeLimitSat: 10})
	check(t, err)
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)
	cancel()
	_ = stream
	check(t, l.alice.Stop())
	check(t, l.alice.Start())
	track, err := router(t, l.alice).TrackPaymentV2(ctx, &routerrpc.TrackPaymentRequest{PaymentHash: hash[:]})
	check(t, err)
	first, err := track.Recv()
	check(t, err)
	if first.Status != lnrpc.Payment_IN_FLIGHT || len(first.Htlcs) != 1 {
		t.Fatalf("after alice's restart: %v", first)
	}
	// alice cannot pay the hash again while it is in flight.
	_, err = pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: hold.PaymentRequest, RouteHints: l.hint()})
	if err == nil || !strings.Contains(err.Error(), "payment is in transition") {
		t.Fatalf("paying a hash in flight: %v", err)
	}
	waitActive(t, l.alice, l.ab.ChannelPoint)
	_, err = inv.SettleInvoice(ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	var last *lnrpc.Payment
	for {
		p, err := track.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		check(t, err)
		last = p
	}
	if last == nil || last.Status != lnrpc.Payment_SUCCEEDED || last.PaymentPreimage != hex.EncodeToString(pre[:]) ||
		len(last.Htlcs) != 1 {
		t.Fatalf("resumed payment: %v", last)
	}
	return 300
}
