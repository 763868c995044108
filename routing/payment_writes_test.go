package routing

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// countingBackend counts the writes (Update and Batch calls) and the
// reads (View calls) made to a backend.
type countingBackend struct {
	kvdb.Backend
	n, reads *atomic.Int64
}

func (b countingBackend) View(f func(tx kvdb.RTx) error) error {
	b.reads.Add(1)
	return b.Backend.View(f)
}

func (b countingBackend) Update(f func(tx kvdb.RwTx) error) error {
	b.n.Add(1)
	return b.Backend.Update(f)
}

func (b countingBackend) Batch(f func(tx kvdb.RwTx) error) error {
	b.n.Add(1)
	return b.Backend.Batch(f)
}

// countedRouter is a router over a store that counts its writes.
func countedRouter(pt *payTest, disp Dispatcher) (*PaymentRouter, *atomic.Int64) {
	r, writes, _ := countedRouterRW(pt, disp)
	return r, writes
}

// countedRouterRW is countedRouter also counting the reads.
func countedRouterRW(pt *payTest, disp Dispatcher) (*PaymentRouter, *atomic.Int64, *atomic.Int64) {
	t := pt.t
	backend, err := kvdb.OpenBolt(filepath.Join(t.TempDir(), "counted.db"), kvdb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	writes, reads := new(atomic.Int64), new(atomic.Int64)
	db, err := channeldb.OpenBackend(countingBackend{backend, writes, reads})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := NewPaymentRouter(PaymentRouterConfig{
		DB: db, Self: pt.self.v, Graph: pt.g,
		PathFinding: DefaultPathFindingConfig(),
		Dispatcher:  disp,
		BestHeight:  func() (uint32, error) { return testHeight, nil },
	})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	writes.Store(0)
	reads.Store(0)
	return r, writes, reads
}

// TestSendPaymentOneWriteBeforeHTLC: a new payment and its first attempt
// are stored in one write, which is on disk when the HTLC leaves; its
// result is one write more.
func TestSendPaymentOneWriteBeforeHTLC(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	disp := pt.net.dispatcher()
	var (
		mu     sync.Mutex
		atSend []int64
		r      *PaymentRouter
		writes *atomic.Int64
	)
	send := disp.SendHTLC
	disp.SendHTLC = func(first lnwire.ShortChannelID, id uint64, htlc *lnwire.UpdateAddHTLC) error {
		// Read from the store itself, not the router's memory.
		var p *channeldb.Payment
		err := r.cfg.DB.View(func(tx kvdb.RTx) error {
			var err error
			p, err = channeldb.FetchPayment(tx, htlc.PaymentHash)
			return err
		})
		if err != nil || attemptOf(p, id) == nil {
			t.Errorf("attempt %d leaves before it is stored (payment %v)", id, err)
		}
		mu.Lock()
		atSend = append(atSend, writes.Load())
		mu.Unlock()
		return send(first, id, htlc)
	}
	r, writes = countedRouter(pt, disp)
	req := pt.invoice(1, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 1 {
		t.Fatalf("status %v with %d attempts", p.Status(), len(p.Attempts))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(atSend) != 1 || atSend[0] != 1 {
		t.Errorf("writes before each HTLC left: %v, want [1]", atSend)
	}
	if n := writes.Load(); n != 2 {
		t.Errorf("%d writes for a payment of one attempt, want 2", n)
	}
}

// TestSendPaymentNoRouteOneWrite: a payment with no route is stored
// failed, in one write, and SendPayment reports no error (as when it
// fails later).
func TestSendPaymentNoRouteOneWrite(t *testing.T) {
	pt := newPayTest(t)
	r, writes := countedRouter(pt, pt.net.dispatcher())
	req := pt.invoice(1, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	if p.Status() != channeldb.StatusFailed || p.FailureReason == nil ||
		*p.FailureReason != channeldb.FailureReasonNoRoute || len(p.Attempts) != 0 {
		t.Fatalf("status %v, reason %v, %d attempts", p.Status(), p.FailureReason, len(p.Attempts))
	}
	if n := writes.Load(); n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
	// A failed payment's hash may be paid again.
	if err := r.SendPayment(req); err != nil {
		t.Errorf("second payment of a failed hash: %v", err)
	}
}

// TestSendToRouteOneWriteBeforeHTLC: SendToRoute too stores the payment
// with its attempt in one write, and a second part of an MPP payment
// joins it in its own one write: two parts, each attempt and result,
// are four writes.
func TestSendToRouteOneWriteBeforeHTLC(t *testing.T) {
	pt := newPayTest(t)
	pt.net.addChannel(pt.g, 10, pt.self, pt.c, 600_000_000, 600_000_000, Policy{CLTVDelta: 40})
	pt.net.addChannel(pt.g, 11, pt.self, pt.c, 600_000_000, 600_000_000, Policy{CLTVDelta: 40})
	r, writes := countedRouter(pt, pt.net.dispatcher())
	req := pt.invoice(10, 1_000_000_000)
	final := FinalHop{MPP: &channeldb.MPPRecord{PaymentAddr: *req.PaymentAddr, TotalMsat: req.Amount}}
	var wg sync.WaitGroup
	for _, scid := range []uint64{10, 11} {
		rt := &Route{SourcePubKey: pt.self.v, TotalAmount: req.Amount / 2, TotalTimeLock: testHeight + 40,
			Hops: []Hop{{PubKey: pt.c.v, ChannelID: lnwire.NewShortChanIDFromInt(scid),
				AmtToForward: req.Amount / 2, OutgoingTimeLock: testHeight + 40}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := r.SendToRoute(context.Background(), req.PaymentHash, rt, final, false)
			if err != nil || a.Settle == nil {
				t.Errorf("part over %d: %v %+v", scid, err, a)
			}
		}()
	}
	wg.Wait()
	p, err := r.FetchPayment(req.PaymentHash)
	if err != nil || p.Status() != channeldb.StatusSucceeded || len(p.Attempts) != 2 {
		t.Fatalf("payment %v %v", p, err)
	}
	if n := writes.Load(); n != 4 {
		t.Errorf("%d writes for two parts, want 4", n)
	}
}

// TestSendPaymentNoReadBack: the lifecycle and a subscriber take the
// payment's states from the writes that made them, never reading the
// store back, and those states are what the store holds.
func TestSendPaymentNoReadBack(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	disp, release := heldDispatcher(pt)
	r, writes, reads := countedRouterRW(pt, disp)
	req := pt.invoice(1, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	sub, err := r.Subscribe(req.PaymentHash)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first, err := sub.Next(ctx)
	if err != nil || first.Status() != channeldb.StatusInFlight || len(first.Attempts) != 1 {
		t.Fatalf("first state %+v, %v", first, err)
	}
	close(release)
	var last *channeldb.Payment
	for last == nil || !final(last) {
		if last, err = sub.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Stop waits for the lifecycle, which read the payment after its
	// last write.
	r.Stop()
	if n := reads.Load(); n != 0 {
		t.Errorf("%d reads of the store, want 0", n)
	}
	if n := writes.Load(); n != 2 {
		t.Errorf("%d writes, want 2", n)
	}
	var stored *channeldb.Payment
	err = r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		stored, err = channeldb.FetchPayment(tx, req.PaymentHash)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(last, stored) {
		t.Errorf("last state streamed\n%+v\nstored\n%+v", last, stored)
	}
	if len(r.live) != 0 {
		t.Errorf("%d payments still held in memory", len(r.live))
	}
}

// TestDeleteForgetsLivePayment: a payment deleted while held in memory
// is not served from there.
func TestDeleteForgetsLivePayment(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	r, _ := countedRouter(pt, pt.net.dispatcher())
	req := pt.invoice(1, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	p := until(t, r, req.PaymentHash, final)
	r.track(req.PaymentHash, p)
	defer r.untrack(req.PaymentHash)
	if got, err := r.FetchPayment(req.PaymentHash); err != nil || got != p {
		t.Fatalf("held payment %p %v, want %p", got, err, p)
	}
	if err := r.DeletePayment(req.PaymentHash, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.FetchPayment(req.PaymentHash); !errors.Is(err, channeldb.ErrPaymentNotInitiated) {
		t.Errorf("deleted payment: %v, want ErrPaymentNotInitiated", err)
	}
}

// TestSubscriptionsFollowTheirPayment: a write reaches the subscriptions
// of its payment and those of every payment, not a closed one.
func TestSubscriptionsFollowTheirPayment(t *testing.T) {
	pt := newPayTest(t)
	pt.twoRoutes()
	disp, release := heldDispatcher(pt)
	r, _ := countedRouter(pt, disp)
	all := r.SubscribeAll()
	defer all.Close()
	req := pt.invoice(1, 100_000_000)
	if err := r.SendPayment(req); err != nil {
		t.Fatal(err)
	}
	s1, err := r.Subscribe(req.PaymentHash)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := r.Subscribe(req.PaymentHash)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s2.Close()
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range []*PaymentSubscription{s1, all} {
		var p *channeldb.Payment
		for p == nil || !final(p) {
			if p, err = s.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if p.Info.PaymentHash != req.PaymentHash || p.Status() != channeldb.StatusSucceeded {
			t.Errorf("final state %x %v", p.Info.PaymentHash[:4], p.Status())
		}
	}
	s2.mu.Lock()
	for _, p := range s2.queue {
		if final(p) {
			t.Errorf("closed subscription got the final state")
		}
	}
	s2.mu.Unlock()
	s1.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.hashSubs) != 0 || len(r.subs) != 1 {
		t.Errorf("after close: %d payments followed, %d subscriptions to all", len(r.hashSubs), len(r.subs))
	}
}

// heldDispatcher is pt's dispatcher with every attempt's result held
// until release is closed.
func heldDispatcher(pt *payTest) (Dispatcher, chan struct{}) {
	disp := pt.net.dispatcher()
	release := make(chan struct{})
	get := disp.GetAttemptResult
	disp.GetAttemptResult = func(id uint64) (<-chan AttemptResult, error) {
		<-release
		return get(id)
	}
	return disp, release
}
