package routing

import (
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

const testHeight = 1000

type payTest struct {
	t   *testing.T
	net *fakeNet
	g   *Graph
	db  *channeldb.DB
	mc  *MissionControl

	self, a, b, c *fakeNode
}

// newPayTest builds two routes from us to c: over a (cheaper) and over b.
//
//	self --1-- a --3-- c
//	self --2-- b --4-- c
func newPayTest(t *testing.T) *payTest {
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	net := newFakeNet(t)
	pt := &payTest{t: t, net: net, g: NewGraph(), db: db,
		self: net.self, a: net.node(2), b: net.node(3), c: net.node(4)}
	pt.mc, err = NewMissionControl(MissionControlConfig{Self: pt.self.v,
		Apriori: DefaultAprioriConfig(), Store: NewDBStore(db, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

func (pt *payTest) twoRoutes() {
	const bal = 5_000_000_000
	pt.net.addChannel(pt.g, 1, pt.self, pt.a, bal, bal, Policy{FeeBaseMsat: 1000, CLTVDelta: 40})
	pt.net.addChannel(pt.g, 2, pt.self, pt.b, bal, bal, Policy{FeeBaseMsat: 1000, CLTVDelta: 40})
	pt.net.addChannel(pt.g, 3, pt.a, pt.c, bal, bal, Policy{FeeBaseMsat: 1000, CLTVDelta: 40})
	pt.net.addChannel(pt.g, 4, pt.b, pt.c, bal, bal, Policy{FeeBaseMsat: 2000, CLTVDelta: 40})
}

func (pt *payTest) router() *PaymentRouter {
	r := NewPaymentRouter(PaymentRouterConfig{
		DB: pt.db, Self: pt.self.v, Graph: pt.g,
		PathFinding:    DefaultPathFindingConfig(),
		MissionControl: pt.mc,
		Dispatcher:     pt.net.dispatcher(),
		BestHeight:     func() (uint32, error) { return testHeight, nil },
	})
	if err := r.Start(); err != nil {
		pt.t.Fatal(err)
	}
	pt.t.Cleanup(func() { r.Stop() })
	return r
}

func (pt *payTest) invoice(b byte, amt lnwire.MilliSatoshi) *PaymentRequest {
	hash := pt.net.addInvoice([32]byte{b}, amt)
	addr := pt.net.invoices[hash].addr
	return &PaymentRequest{Target: pt.c.v, Amount: amt, PaymentHash: hash, PaymentAddr: &addr,
		FinalCLTVDelta: 40, FeeLimit: amt / 10, MaxParts: DefaultMaxParts}
}

// until follows the payment until cond holds for a state, and returns
// that state.
func until(t *testing.T, r *PaymentRouter, hash [32]byte, cond func(*channeldb.Payment) bool) *channeldb.Payment {
	t.Helper()
	sub, err := r.Subscribe(hash)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		p, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for payment %x: %v", hash[:4], err)
		}
		if cond(p) {
			return p
		}
	}
}

func final(p *channeldb.Payment) bool {
	s := p.Status()
	return s == channeldb.StatusSucceeded || s == channeldb.StatusFailed
}

func failCode(t *testing.T, a *channeldb.HTLCAttempt) sphinx.FailCode {
	t.Helper()
	if a.Failure == nil {
		t.Fatalf("attempt %d did not fail", a.AttemptID)
	}
	msg, err := sphinx.DecodeFailureMessage(a.Failure.Message)
	if err != nil {
		t.Fatalf("attempt %d failure: %v", a.AttemptID, err)
	}
	return msg.Code()
}

func TestPaymentSucceeds(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	r := pt.router()
	req := pt.invoice(1, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 1 {
		t.Fatalf("status %v with %d attempts", p.Status(), len(p.Attempts))
	}
	pre, _ := p.Preimage()
	if sha256.Sum256(pre[:]) != req.PaymentHash {
		t.Fatal("preimage does not match the hash")
	}
	a := p.Attempts[0]
	if a.Route.Hops[0].PubKey != pt.a.v || a.Route.ReceiverAmt() != req.Amount ||
		a.Route.TotalAmount != req.Amount+1000 {
		t.Fatalf("route %+v", a.Route)
	}
	if mpp := a.Route.Hops[1].MPP; mpp == nil || mpp.TotalMsat != req.Amount || mpp.PaymentAddr != *req.PaymentAddr {
		t.Fatalf("final hop's payment_data %+v", mpp)
	}
	// Balances moved by the amount plus a's fee.
	if got := pt.net.chans[lnwire.NewShortChanIDFromInt(3)].bal[pt.c.v]; got != 5_000_000_000+req.Amount {
		t.Fatalf("c's balance %v", got)
	}

	// No hash is paid twice.
	if err := r.SendPayment(req); !errors.Is(err, channeldb.ErrAlreadyPaid) {
		t.Fatalf("second payment: %v", err)
	}
}

func TestPaymentRetriesAroundFailedPair(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	// a has nothing to send on to c.
	ac := pt.net.chans[lnwire.NewShortChanIDFromInt(3)]
	ac.bal[pt.a.v] = 0
	r := pt.router()
	req := pt.invoice(2, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 2 {
		t.Fatalf("status %v with %d attempts", p.Status(), len(p.Attempts))
	}
	first, second := &p.Attempts[0], &p.Attempts[1]
	if code := failCode(t, first); code != sphinx.CodeTemporaryChannelFailure || first.Failure.SourceIndex != 1 {
		t.Fatalf("first attempt failed with %v from %d", code, first.Failure.SourceIndex)
	}
	if second.Route.Hops[0].PubKey != pt.b.v {
		t.Fatalf("retry went through %v", second.Route.Hops[0].PubKey)
	}
	// Mission control blames a's pair to c, not ours to a.
	if prob := pt.mc.Probability(pt.a.v, pt.c.v, req.Amount); prob > 0.01 {
		t.Fatalf("a->c probability %v after its failure", prob)
	}
	if prob := pt.mc.Probability(pt.self.v, pt.a.v, req.Amount); prob < 0.5 {
		t.Fatalf("self->a probability %v", prob)
	}
}

func TestPaymentTerminalFailure(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	r := pt.router()
	req := pt.invoice(3, 100_000_000)
	delete(pt.net.invoices, req.PaymentHash) // c does not know it
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusFailed || *p.FailureReason != channeldb.FailureReasonPaymentDetails {
		t.Fatalf("status %v reason %v", p.Status(), p.FailureReason)
	}
	if len(p.Attempts) != 1 {
		t.Fatalf("%d attempts after a final failure", len(p.Attempts))
	}
	a := &p.Attempts[0]
	if code := failCode(t, a); code != sphinx.CodeIncorrectOrUnknownPaymentDetails || a.Failure.SourceIndex != 2 {
		t.Fatalf("failed with %v from %d", code, a.Failure.SourceIndex)
	}
	// A failed payment may be tried again.
	pt.net.addInvoice([32]byte{3}, req.Amount)
	if err := r.SendPayment(req); err != nil {
		t.Fatalf("retrying a failed payment: %v", err)
	}
	if p := until(t, r, req.PaymentHash, final); p.Status() != channeldb.StatusSucceeded {
		t.Fatalf("retry: %v", p.Status())
	}
}

func TestPaymentUsesFailureUpdate(t *testing.T) {
	pt := newPayTest(t)
	const bal = 5_000_000_000
	pt.net.addChannel(pt.g, 1, pt.self, pt.a, bal, bal, Policy{FeeBaseMsat: 1000, CLTVDelta: 40})
	ac := pt.net.addChannel(pt.g, 3, pt.a, pt.c, bal, bal, Policy{FeeBaseMsat: 1000, CLTVDelta: 40})
	// a charges more than its announced fee.
	ac.policy[pt.a.v] = Policy{FeeBaseMsat: 7000, CLTVDelta: 40}
	r := pt.router()
	req := pt.invoice(4, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 2 {
		t.Fatalf("status %v with %d attempts", p.Status(), len(p.Attempts))
	}
	if code := failCode(t, &p.Attempts[0]); code != sphinx.CodeFeeInsufficient {
		t.Fatalf("first attempt: %v", code)
	}
	if fee := p.Attempts[1].Route.TotalAmount - req.Amount; fee != 7000 {
		t.Fatalf("retry paid %v in fees", fee)
	}
	// The update served this payment only: the graph keeps the
	// announced policy, and a's pair is not penalised.
	_, pols, err := pt.g.Channel(ac.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range pols {
		if pol.FeeBaseMsat != 1000 {
			t.Fatalf("graph policy changed: %+v", pol)
		}
	}
	if prob := pt.mc.Probability(pt.a.v, pt.c.v, req.Amount); prob < 0.5 {
		t.Fatalf("a->c penalised: %v", prob)
	}
}

// TestPaymentFeeLimit: no route within the fee limit or the CLTV limit
// fails the payment with no attempt.
func TestPaymentFeeLimit(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	r := pt.router()
	req := pt.invoice(5, 100_000_000)
	req.FeeLimit = 999 // the cheapest route costs 1000
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusFailed || *p.FailureReason != channeldb.FailureReasonNoRoute || len(p.Attempts) != 0 {
		t.Fatalf("status %v reason %v attempts %d", p.Status(), p.FailureReason, len(p.Attempts))
	}

	// The CLTV limit: every route locks 40 + 40 blocks.
	req = pt.invoice(14, 100_000_000)
	req.CLTVLimit = 79
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	if p := until(t, r, req.PaymentHash, final); *p.FailureReason != channeldb.FailureReasonNoRoute || len(p.Attempts) != 0 {
		t.Fatalf("under a CLTV limit of 79: %v with %d attempts", p.FailureReason, len(p.Attempts))
	}
	req = pt.invoice(15, 100_000_000)
	req.CLTVLimit = 80
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	if p := until(t, r, req.PaymentHash, final); p.Status() != channeldb.StatusSucceeded ||
		p.Attempts[0].Route.TotalTimeLock != testHeight+80 {
		t.Fatalf("under a CLTV limit of 80: %v", p.Status())
	}
}

func TestPaymentTimeout(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	pt.net.chans[lnwire.NewShortChanIDFromInt(3)].bal[pt.a.v] = 0
	pt.net.hold = true // the first attempt's failure is stuck downstream
	r := pt.router()
	req := pt.invoice(6, 100_000_000)
	req.Timeout = 50 * time.Millisecond
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, func(p *channeldb.Payment) bool { return p.FailureReason != nil })
	if *p.FailureReason != channeldb.FailureReasonTimeout || p.Status() != channeldb.StatusInFlight {
		t.Fatalf("timed out as %v %v", p.FailureReason, p.Status())
	}
	pt.net.release()
	p = until(t, r, req.PaymentHash, final)
	// The attempt failed after the timeout: no retry, though a route
	// exists.
	if p.Status() != channeldb.StatusFailed || len(p.Attempts) != 1 || *p.FailureReason != channeldb.FailureReasonTimeout {
		t.Fatalf("status %v attempts %d reason %v", p.Status(), len(p.Attempts), p.FailureReason)
	}
}

func TestPaymentSplitsMPP(t *testing.T) {
	pt := newPayTest(t)
	// Two direct channels to c, neither able to carry the whole.
	pt.net.addChannel(pt.g, 10, pt.self, pt.c, 600_000_000, 600_000_000, Policy{CLTVDelta: 40})
	pt.net.addChannel(pt.g, 11, pt.self, pt.c, 600_000_000, 600_000_000, Policy{CLTVDelta: 40})
	r := pt.router()
	req := pt.invoice(7, 1_000_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 2 {
		t.Fatalf("status %v with %d attempts", p.Status(), len(p.Attempts))
	}
	chans := map[lnwire.ShortChannelID]bool{}
	var sum lnwire.MilliSatoshi
	for _, a := range p.Attempts {
		if a.Settle == nil || a.Route.Hops[0].MPP.TotalMsat != req.Amount {
			t.Fatalf("part %+v", a)
		}
		chans[a.Route.Hops[0].ChannelID] = true
		sum += a.Route.ReceiverAmt()
	}
	if sum != req.Amount || len(chans) != 2 {
		t.Fatalf("parts of %v over %d channels", sum, len(chans))
	}

	// Without a payment address (keysend) the payment cannot split.
	pre := [32]byte{77}
	ks := &PaymentRequest{Target: pt.c.v, Amount: 1_000_000_000, PaymentHash: sha256.Sum256(pre[:]),
		FeeLimit: 1000, MaxParts: 16, DestCustomRecords: map[uint64][]byte{sphinx.KeysendPreimageType: pre[:]}}
	if err := r.SendPayment(ks); err != nil {
		t.Fatal(err)
	}
	if p := until(t, r, ks.PaymentHash, final); *p.FailureReason != channeldb.FailureReasonNoRoute {
		t.Fatalf("keysend too large for one channel: %v", p.FailureReason)
	}
	ks.Amount, ks.PaymentHash = 100_000_000, sha256.Sum256([]byte("other"))
	pre2 := sha256.Sum256([]byte("k"))
	ks.PaymentHash = sha256.Sum256(pre2[:])
	ks.DestCustomRecords = map[uint64][]byte{sphinx.KeysendPreimageType: pre2[:]}
	if err := r.SendPayment(ks); err != nil {
		t.Fatal(err)
	}
	if p := until(t, r, ks.PaymentHash, final); p.Status() != channeldb.StatusSucceeded {
		t.Fatalf("keysend: %v", p.Status())
	}
}

func TestPaymentResumesAfterRestart(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	pt.net.hold = true
	r := pt.router()
	req := pt.invoice(8, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, func(p *channeldb.Payment) bool { return len(p.Attempts) == 1 })
	id := p.Attempts[0].AttemptID
	if err := r.SendPayment(req); !errors.Is(err, channeldb.ErrPaymentInFlight) {
		t.Fatalf("paying a hash in flight: %v", err)
	}
	r.Stop()

	// A second attempt stored but never handed over: the crash came
	// between the two.
	req2 := pt.invoice(9, 100_000_000)
	r2 := NewPaymentRouter(PaymentRouterConfig{DB: pt.db, Self: pt.self.v, Graph: pt.g})
	if _, err := r2.update(initTx(req2)); err != nil {
		t.Fatal(err)
	}
	rt := &Route{SourcePubKey: pt.self.v, TotalAmount: req2.Amount + 1000, TotalTimeLock: testHeight + 80,
		Hops: []Hop{
			{PubKey: pt.a.v, ChannelID: lnwire.NewShortChanIDFromInt(1), AmtToForward: req2.Amount, OutgoingTimeLock: testHeight + 40},
			{PubKey: pt.c.v, ChannelID: lnwire.NewShortChanIDFromInt(3), AmtToForward: req2.Amount, OutgoingTimeLock: testHeight + 40},
		}}
	lost, _, err := r2.register(req2.PaymentHash, rt, FinalHop{MPP: &channeldb.MPPRecord{
		PaymentAddr: *req2.PaymentAddr, TotalMsat: req2.Amount}})
	if err != nil {
		t.Fatal(err)
	}

	r3 := pt.router()
	keep := pt.net.cleaned[len(pt.net.cleaned)-1]
	if _, ok := keep[id]; !ok || len(keep) != 2 {
		t.Fatalf("results kept %v, want attempts %d and %d", keep, id, lost.AttemptID)
	}
	pt.net.release()
	for _, h := range [][32]byte{req.PaymentHash, req2.PaymentHash} {
		if p := until(t, r3, h, final); p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 1 {
			t.Fatalf("resumed payment: %v with %d attempts", p.Status(), len(p.Attempts))
		}
	}
	// Each HTLC left exactly once.
	if pt.net.sent[id] != 1 || pt.net.sent[lost.AttemptID] != 1 {
		t.Fatalf("sent %d and %d times", pt.net.sent[id], pt.net.sent[lost.AttemptID])
	}
}

func initTx(req *PaymentRequest) func(tx kvdb.RwTx) (*channeldb.Payment, error) {
	return func(tx kvdb.RwTx) (*channeldb.Payment, error) {
		if _, err := channeldb.InitPayment(tx, &channeldb.PaymentCreation{PaymentHash: req.PaymentHash,
			Value: req.Amount, CreationTime: time.Now()}); err != nil {
			return nil, err
		}
		return channeldb.FetchPayment(tx, req.PaymentHash)
	}
}

func TestSendToRouteMPP(t *testing.T) {
	pt := newPayTest(t)
	pt.net.addChannel(pt.g, 10, pt.self, pt.c, 600_000_000, 600_000_000, Policy{CLTVDelta: 40})
	pt.net.addChannel(pt.g, 11, pt.self, pt.c, 600_000_000, 600_000_000, Policy{CLTVDelta: 40})
	r := pt.router()
	req := pt.invoice(10, 1_000_000_000)
	final := FinalHop{MPP: &channeldb.MPPRecord{PaymentAddr: *req.PaymentAddr, TotalMsat: req.Amount}}
	var wg sync.WaitGroup
	got := make([]*channeldb.HTLCAttempt, 2)
	errs := make([]error, 2)
	for i, scid := range []uint64{10, 11} {
		rt := &Route{SourcePubKey: pt.self.v, TotalAmount: req.Amount / 2, TotalTimeLock: testHeight + 40,
			Hops: []Hop{{PubKey: pt.c.v, ChannelID: lnwire.NewShortChanIDFromInt(scid),
				AmtToForward: req.Amount / 2, OutgoingTimeLock: testHeight + 40}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = r.SendToRoute(context.Background(), req.PaymentHash, rt, final, false)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].Settle == nil {
			t.Fatalf("part %d: %v %+v", i, errs[i], got[i])
		}
	}
	p, err := r.FetchPayment(req.PaymentHash)
	if err != nil || p.Status() != channeldb.StatusSucceeded || p.Info.Value != req.Amount {
		t.Fatalf("payment %v %v", p, err)
	}
	// A route to an unknown hash fails the payment at once.
	rt := &Route{SourcePubKey: pt.self.v, TotalAmount: 1000, TotalTimeLock: testHeight + 40,
		Hops: []Hop{{PubKey: pt.c.v, ChannelID: lnwire.NewShortChanIDFromInt(10), AmtToForward: 1000, OutgoingTimeLock: testHeight + 40}}}
	a, err := r.SendToRoute(context.Background(), [32]byte{0xee}, rt, FinalHop{}, false)
	if err != nil || failCode(t, a) != sphinx.CodeIncorrectOrUnknownPaymentDetails {
		t.Fatalf("unknown hash: %v %+v", err, a)
	}
	if p, _ := r.FetchPayment([32]byte{0xee}); p.Status() != channeldb.StatusFailed {
		t.Fatalf("status %v", p.Status())
	}
}

// TestPaymentOverPrivateChannels pays with no graph at all: our channel
// to a, unannounced, and the invoice's hint for a's private channel to c
// (alice -> bob -> carol, carol's channel private).
func TestPaymentOverPrivateChannels(t *testing.T) {
	pt := newPayTest(t)
	const bal = 5_000_000_000
	scratch := NewGraph() // the fake network's channels, kept out of pt.g
	pt.net.addChannel(scratch, 1, pt.self, pt.a, bal, bal, Policy{})
	pt.net.addChannel(scratch, 3, pt.a, pt.c, bal, bal, Policy{FeeBaseMsat: 1000, FeeRatePPM: 10, CLTVDelta: 40})
	r := NewPaymentRouter(PaymentRouterConfig{
		DB: pt.db, Self: pt.self.v, Graph: pt.g, PathFinding: DefaultPathFindingConfig(),
		MissionControl: pt.mc, Dispatcher: pt.net.dispatcher(),
		BestHeight: func() (uint32, error) { return testHeight, nil },
		LocalChannels: func() []ExtraEdge {
			return []ExtraEdge{{From: pt.self.v, To: pt.a.v, ChannelID: lnwire.NewShortChanIDFromInt(1), Capacity: 10_000_000}}
		},
	})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	req := pt.invoice(11, 100_000_000)
	req.RouteHints = []ExtraEdge{{From: pt.a.v, To: pt.c.v, ChannelID: lnwire.NewShortChanIDFromInt(3),
		Policy: Policy{FeeBaseMsat: 1000, FeeRatePPM: 10, CLTVDelta: 40}}}
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 1 {
		t.Fatalf("status %v with %d attempts", p.Status(), len(p.Attempts))
	}
	if fee := p.Attempts[0].Route.TotalAmount - req.Amount; fee != 2000 {
		t.Fatalf("fee %v, want 1000 + 10 ppm of 100,000 sat", fee)
	}
	// Our channel's live balance counts: with too little, no route, for
	// want of balance.
	pt.net.chans[lnwire.NewShortChanIDFromInt(1)].bal[pt.self.v] = 1000
	req2 := pt.invoice(12, 100_000_000)
	req2.RouteHints = req.RouteHints
	if err := r.SendPayment(req2); err != nil {
		t.Fatal(err)
	}
	if p := until(t, r, req2.PaymentHash, final); *p.FailureReason != channeldb.FailureReasonInsufficientBalance || len(p.Attempts) != 0 {
		t.Fatalf("over a drained channel: %v with %d attempts", p.FailureReason, len(p.Attempts))
	}
}

// TestBuildRoute builds a route through given nodes and pays over it.
func TestBuildRoute(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	r := pt.router()
	req := pt.invoice(13, 100_000_000)
	rt, err := r.BuildRoute(req.Amount, 40, nil, []Vertex{pt.b.v, pt.c.v})
	if err != nil {
		t.Fatal(err)
	}
	q := DefaultQuery(pt.self.v, pt.c.v, req.Amount, testHeight)
	q.FinalCLTVDelta = 40
	q.OutgoingChannels = []lnwire.ShortChannelID{lnwire.NewShortChanIDFromInt(2)}
	want, err := NewFinder(pt.g, DefaultPathFindingConfig()).FindRoute(&q)
	if err != nil {
		t.Fatal(err)
	}
	if rt.TotalAmount != want.TotalAmount || rt.TotalTimeLock != want.TotalTimeLock || len(rt.Hops) != 2 ||
		rt.Hops[0] != want.Hops[0] || rt.Hops[1] != want.Hops[1] {
		t.Fatalf("built %+v, path finder %+v", rt, want)
	}
	a, err := r.SendToRoute(context.Background(), req.PaymentHash, rt,
		FinalHop{MPP: &channeldb.MPPRecord{PaymentAddr: *req.PaymentAddr, TotalMsat: req.Amount}}, false)
	if err != nil || a.Settle == nil {
		t.Fatalf("paying the built route: %v %+v", err, a)
	}
	if _, err := r.BuildRoute(req.Amount, 40, nil, []Vertex{pt.c.v}); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("no channel to c: %v", err)
	}
}
