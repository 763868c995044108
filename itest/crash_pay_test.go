//go:build crashpoint

package itest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// The payment half of the crash test: alice -> bob -> carol, both
// channels private (invoices carry route hints), a push on each so that
// payments flow both ways through bob. In each scenario one node is told
// to die at a point; alice pays carol and carol pays alice at once;
// the victim dies, restarts, and then every payment ends exactly once,
// each invoice is settled exactly when its payment succeeded, no HTLC is
// left on any channel, no channel closed, and every node's total moved
// by exactly the payments it made or received and the fees it paid or
// earned.

const (
	payCrashCap  = 1_000_000
	payCrashPush = 400_000
	// Amounts below 1,000 sat keep bob's fee at his base fee, 1 sat.
	payCrashAmt = 700
	payCrashFee = 1
)

type payCrashScenario struct {
	point  crashpoint.Point
	victim string // alice, bob or carol
}

var payCrashScenarios = []payCrashScenario{
	{crashpoint.CommitSigned, "alice"},
	{crashpoint.CommitSigned, "bob"},
	{crashpoint.CommitReceived, "bob"},
	{crashpoint.CommitRevoked, "bob"},
	{crashpoint.CommitRevocationReceived, "bob"},
	{crashpoint.SwitchResolutionReceived, "bob"},
	{crashpoint.SwitchResultStored, "alice"},
	{crashpoint.InvoiceSettled, "carol"},
	{crashpoint.PaymentAttemptRegistered, "alice"},
	{crashpoint.PaymentResultKnown, "alice"},
	{crashpoint.PaymentResultRecorded, "alice"},
}

type payLine struct {
	nw                *harness.Network
	alice, bob, carol *harness.Node
	ab, bc            *lnrpc.Channel
}

func (l *payLine) node(name string) *harness.Node {
	return map[string]*harness.Node{"alice": l.alice, "bob": l.bob, "carol": l.carol}[name]
}

func (l *payLine) nodes() []*harness.Node {
	return []*harness.Node{l.alice, l.bob, l.carol}
}

// runPaymentCrashes runs the payment scenarios on a network of its own,
// marks the points they reached and returns how many ran.
func runPaymentCrashes(t *testing.T, reached map[crashpoint.Point]bool) int {
	nw := harness.New(t)
	l := &payLine{nw: nw, alice: startNode(t, nw, "alice"),
		bob: startNode(t, nw, "bob"), carol: startNode(t, nw, "carol")}
	check(t, nw.Fund(l.alice, 3_000_000))
	check(t, nw.Fund(l.bob, 3_000_000))
	check(t, nw.ConnectNodes(l.alice, l.bob, true))
	check(t, nw.ConnectNodes(l.bob, l.carol, true))
	l.ab = openPrivate(t, nw, l.alice, l.bob)
	l.bc = openPrivate(t, nw, l.bob, l.carol)

	ran := 0
	run := func(name string, sc payCrashScenario, f func(*testing.T, *payLine, payCrashScenario)) {
		ok := t.Run(name, func(t *testing.T) {
			start := time.Now()
			f(t, l, sc)
			reached[sc.point] = true
			ran++
			t.Logf("passed in %v", time.Since(start).Round(time.Millisecond))
		})
		if !ok {
			t.FailNow()
		}
	}
	for _, sc := range payCrashScenarios {
		run(sc.victim+"/"+string(sc.point), sc, runPayCrash)
	}
	for _, sc := range holdCrashScenarios {
		run("hold/"+sc.victim+"/"+string(sc.point), sc, runHoldCrash)
	}
	return ran
}

// openPrivate opens a private channel from a to b with a push, mines it
// and waits until both list it active.
func openPrivate(t *testing.T, nw *harness.Network, a, b *harness.Node) *lnrpc.Channel {
	t.Helper()
	pub, err := hexPub(b.PubKey())
	check(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cp, err := a.RPC.OpenChannelSync(ctx, &lnrpc.OpenChannelRequest{NodePubkey: pub,
		LocalFundingAmount: payCrashCap, PushSat: payCrashPush, Private: true})
	check(t, err)
	txid, err := chainTxid(cp)
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	_, err = nw.Mine(6)
	check(t, err)
	point := fmt.Sprintf("%s:%d", txid, cp.OutputIndex)
	waitActive(t, b, point)
	return waitActive(t, a, point)
}

func runPayCrash(t *testing.T, l *payLine, sc payCrashScenario) {
	before := map[*harness.Node]int64{}
	for _, n := range l.nodes() {
		before[n] = nodeTotal(t, n)
	}
	// A payment an earlier crash failed left its mark in mission
	// control: forget it, so that both directions are tried again.
	for _, n := range []*harness.Node{l.alice, l.carol} {
		_, err := router(t, n).ResetMissionControl(t.Context(),
			&routerrpc.ResetMissionControlRequest{})
		check(t, err)
	}
	victim := l.node(sc.victim)
	victim.SetEnv(crashpoint.EnvVar + "=" + string(sc.point))
	check(t, victim.Restart())
	waitAllActive(t, l)

	// One payment each way, at once, both through bob.
	toCarol := invoiceWithHint(t, l.carol, l.bob, l.bc)
	toAlice := invoiceWithHint(t, l.alice, l.bob, l.ab)
	var wg sync.WaitGroup
	for _, p := range []struct {
		payer *harness.Node
		inv   *lnrpc.AddInvoiceResponse
		hint  []*lnrpc.RouteHint
	}{{l.alice, toCarol.inv, toCarol.hint}, {l.carol, toAlice.inv, toAlice.hint}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The stream ends with the payer's death if it is the
			// victim; the outcome is read after the restart.
			sendOnce(p.payer, p.inv.PaymentRequest, p.hint)
		}()
	}
	// The payers' streams end once their payments do, after the
	// victim is back.
	defer wg.Wait()
	waitCrashed(t, victim, sc.point)
	victim.SetEnv()
	check(t, victim.Start())
	waitAllActive(t, l)

	// Every payment ends exactly once; its invoice is settled exactly
	// when it succeeded.
	paid := map[*harness.Node]int64{}
	for _, c := range []struct {
		payer, payee *harness.Node
		inv          *lnrpc.AddInvoiceResponse
	}{{l.alice, l.carol, toCarol.inv}, {l.carol, l.alice, toAlice.inv}} {
		p := finalPayment(t, c.payer, c.inv.RHash)
		inv, err := c.payee.RPC.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: c.inv.RHash})
		check(t, err)
		if p != nil {
			t.Logf("%s -> %s: %v after %d attempts; invoice %v", c.payer.Name(),
				c.payee.Name(), p.Status, len(p.Htlcs), inv.State)
		} else {
			t.Logf("%s -> %s: no payment recorded; invoice %v", c.payer.Name(),
				c.payee.Name(), inv.State)
		}
		switch {
		case p == nil:
			// The payer died before it recorded the payment: it
			// never left, so the invoice must be open.
			if inv.State != lnrpc.Invoice_OPEN {
				t.Fatalf("%s: no payment recorded, invoice %v", c.payer.Name(), inv.State)
			}
		case p.Status == lnrpc.Payment_SUCCEEDED:
			if inv.State != lnrpc.Invoice_SETTLED || inv.AmtPaidSat != payCrashAmt {
				t.Fatalf("payment succeeded, invoice %v paid %d", inv.State, inv.AmtPaidSat)
			}
			settled := 0
			for _, h := range p.Htlcs {
				if h.Status == lnrpc.HTLCAttempt_SUCCEEDED {
					settled++
				}
			}
			if settled != 1 {
				t.Fatalf("payment succeeded with %d settled attempts", settled)
			}
			paid[c.payer] -= payCrashAmt + payCrashFee
			paid[l.bob] += payCrashFee
			paid[c.payee] += payCrashAmt
		default:
			if inv.State == lnrpc.Invoice_SETTLED {
				t.Fatalf("payment %v, yet the invoice is settled", p.Status)
			}
		}
	}
	for _, n := range l.nodes() {
		waitNoHTLCs(t, n)
	}
	checkSettled(t, l.nw, l.nodes()...)
	want := map[*harness.Node]int64{}
	for _, n := range l.nodes() {
		want[n] = before[n] + paid[n]
	}
	checkTotals(t, want)
}

type hinted struct {
	inv  *lnrpc.AddInvoiceResponse
	hint []*lnrpc.RouteHint
}

// invoiceWithHint is payee's invoice and the hint through hop's channel
// ch to it (hop's policy: xlnd's defaults).
func invoiceWithHint(t *testing.T, payee, hop *harness.Node, ch *lnrpc.Channel) hinted {
	t.Helper()
	inv, err := payee.RPC.AddInvoice(t.Context(), &lnrpc.Invoice{Value: payCrashAmt})
	check(t, err)
	return hinted{inv: inv, hint: []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{
		NodeId: hop.PubKey(), ChanId: ch.ChanId, FeeBaseMsat: 1000,
		FeeProportionalMillionths: 1, CltvExpiryDelta: 80}}}}}
}

// sendOnce starts a payment and reads its stream until it ends.
func sendOnce(n *harness.Node, payReq string, hint []*lnrpc.RouteHint) {
	conn, err := n.Conn(n.AdminMacaroonPath())
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stream, err := routerrpc.NewRouterClient(conn).SendPaymentV2(ctx,
		&routerrpc.SendPaymentRequest{PaymentRequest: payReq, RouteHints: hint,
			TimeoutSeconds: 60, FeeLimitSat: 10})
	if err != nil {
		return
	}
	for {
		if _, err := stream.Recv(); err != nil {
			return
		}
	}
}

// finalPayment waits until n's payment of hash is final and returns it,
// nil if n has no such payment.
func finalPayment(t *testing.T, n *harness.Node, hash []byte) *lnrpc.Payment {
	t.Helper()
	var found *lnrpc.Payment
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.ListPayments(t.Context(), &lnrpc.ListPaymentsRequest{IncludeIncomplete: true})
		if err != nil {
			return err
		}
		found = nil
		for _, p := range resp.Payments {
			if p.PaymentHash == fmt.Sprintf("%x", hash) {
				if found != nil {
					return errors.New("payment listed twice")
				}
				found = p
			}
		}
		if found != nil && found.Status != lnrpc.Payment_SUCCEEDED &&
			found.Status != lnrpc.Payment_FAILED {

			return fmt.Errorf("%s: payment %x %v", n.Name(), hash, found.Status)
		}
		return nil
	}, 2*harness.SyncTimeout)
	check(t, err)
	return found
}

// waitNoHTLCs waits until none of n's channels carries an HTLC: nothing
// unsettled, and the balances, the commitment fee and the anchors add up
// to the capacity.
func waitNoHTLCs(t *testing.T, n *harness.Node) {
	t.Helper()
	err := harness.WaitFor(func() error {
		for _, c := range listChannels(t, n) {
			sum := c.LocalBalance + c.RemoteBalance + c.CommitFee + anchorOutputs
			if c.UnsettledBalance != 0 || sum != c.Capacity {
				return fmt.Errorf("%s: %s has %d sat unsettled, outputs %d of %d",
					n.Name(), c.ChannelPoint, c.UnsettledBalance, sum, c.Capacity)
			}
		}
		return nil
	}, 2*harness.SyncTimeout)
	check(t, err)
}

// waitAllActive reconnects the nodes where they are not (a peer's
// reconnection backs off further at each of the victim's deaths) and
// waits until every channel is active on both sides.
func waitAllActive(t *testing.T, l *payLine) {
	t.Helper()
	ensureConnected(t, l.nw, l.alice, l.bob)
	ensureConnected(t, l.nw, l.bob, l.carol)
	waitActive(t, l.alice, l.ab.ChannelPoint)
	waitActive(t, l.bob, l.ab.ChannelPoint)
	waitActive(t, l.bob, l.bc.ChannelPoint)
	waitActive(t, l.carol, l.bc.ChannelPoint)
}

// chainTxid is the funding txid of a ChannelPoint, as btcd prints it.
func chainTxid(cp *lnrpc.ChannelPoint) (string, error) {
	b := cp.GetFundingTxidBytes()
	if len(b) != 32 {
		return cp.GetFundingTxidStr(), nil
	}
	h, err := chainhash.NewHash(b)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}
