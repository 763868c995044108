package itest

import (
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestPayAcrossGraph: five nodes, alice → bob, then bob → carol → erin
// and bob → dave → erin, every channel public. Routes come from gossip
// only (no hint): alice pays erin across three channels. Then the middle
// node that payment went through stops; bob's channel to it still looks
// usable in alice's graph (its disable is 20 minutes away), so alice's
// first attempt fails at bob and the retry routes around the pair.
func TestPayAcrossGraph(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	nodes, points := buildTopology(t, nw, []string{"alice", "bob", "carol", "dave", "erin"},
		[]edge{{"alice", "bob"}, {"bob", "carol"}, {"bob", "dave"}, {"carol", "erin"}, {"dave", "erin"}})
	waitFullGraph(t, nodes, points)
	alice, erin := nodes[0], nodes[4]
	byPub := map[string]*harness.Node{}
	for _, n := range nodes {
		byPub[n.PubKey()] = n
	}

	invoice := func() string {
		t.Helper()
		inv, err := erin.RPC.AddInvoice(t.Context(), &lnrpc.Invoice{Value: 10_000})
		check(t, err)
		if len(inv.PaymentRequest) == 0 {
			t.Fatal("erin's invoice has no payment request")
		}
		return inv.PaymentRequest
	}
	hopsOf := func(a *lnrpc.HTLCAttempt) []string {
		var names []string
		for _, h := range a.Route.Hops {
			names = append(names, byPub[h.PubKey].Name())
		}
		return names
	}

	first := mustPay(t, alice, &routerrpc.SendPaymentRequest{PaymentRequest: invoice()})
	last := first.Htlcs[len(first.Htlcs)-1]
	hops := hopsOf(last)
	if len(hops) != 3 || hops[0] != "bob" || hops[2] != "erin" {
		t.Fatalf("first payment went %v, want bob, carol or dave, erin", hops)
	}
	if first.FeeSat == 0 {
		t.Fatalf("three channels and no fee: %v", first)
	}
	middle := hops[1]
	other := map[string]string{"carol": "dave", "dave": "carol"}[middle]

	// The middle node that carried the first payment goes away.
	for _, n := range nodes {
		if n.Name() == middle {
			check(t, n.Stop())
		}
	}
	second := mustPay(t, alice, &routerrpc.SendPaymentRequest{PaymentRequest: invoice()})
	if len(second.Htlcs) < 2 {
		t.Fatalf("second payment made %d attempt(s); the first should have failed at bob: %v",
			len(second.Htlcs), second)
	}
	failed := second.Htlcs[0]
	if failed.Status != lnrpc.HTLCAttempt_FAILED || failed.Failure == nil ||
		failed.Failure.FailureSourceIndex != 1 || hopsOf(failed)[1] != middle {
		t.Fatalf("first attempt %v, want a failure from bob (index 1) on the way to %s", failed, middle)
	}
	won := second.Htlcs[len(second.Htlcs)-1]
	if won.Status != lnrpc.HTLCAttempt_SUCCEEDED || hopsOf(won)[1] != other {
		t.Fatalf("last attempt %v, want success through %s", won, other)
	}
	t.Logf("bob failed the first attempt with %v; the retry went through %s",
		failed.Failure.Code, other)
}
