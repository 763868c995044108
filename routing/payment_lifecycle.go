package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// lifecycle drives one payment: it launches attempts while the payment
// needs them and a route exists, and records each result. Only its own
// goroutine touches it.
type lifecycle struct {
	r    *PaymentRouter
	hash [32]byte
	// req is nil for a payment resumed at start: it only waits for
	// the attempts it had in flight.
	req      *PaymentRequest
	deadline time.Time
	st       *retryState
	// create is the payment to store with the first attempt (nil once
	// it is stored, or for a resumed payment).
	create *channeldb.PaymentCreation

	results  chan attemptOutcome
	attempts map[uint64]*channeldb.HTLCAttempt
	pending  int
	// sentOver is what this payment has in flight on each of our
	// channels.
	sentOver map[lnwire.ShortChannelID]lnwire.MilliSatoshi
}

type attemptOutcome struct {
	id  uint64
	res AttemptResult
	err error
}

func (r *PaymentRouter) newLifecycle(hash [32]byte, req *PaymentRequest) *lifecycle {
	return &lifecycle{
		r: r, hash: hash, req: req,
		st:       newRetryState(),
		results:  make(chan attemptOutcome),
		attempts: make(map[uint64]*channeldb.HTLCAttempt),
		sentOver: make(map[lnwire.ShortChannelID]lnwire.MilliSatoshi),
	}
}

// redispatch re-hands a resumed attempt to the switch and waits for it.
func (l *lifecycle) redispatch(a *channeldb.HTLCAttempt) error {
	if err := l.r.redispatch(l.hash, a); err != nil {
		l.r.log.Error("Resumed attempt not dispatched", "attempt", a.AttemptID, "err", err)
		_, err := l.r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
			return channeldb.FailAttempt(tx, l.hash, a.AttemptID,
				&channeldb.HTLCFailure{Reason: channeldb.HTLCFailInternal, FailTime: l.r.cfg.Clock()})
		})
		return err
	}
	l.collect(a)
	return nil
}

// first makes the first attempt of a new payment and stores the payment
// with it, in one write; without a route the payment is stored failed.
// It returns an error only if the payment could not be stored.
func (l *lifecycle) first() error {
	info := l.create
	p := &channeldb.Payment{Info: *info}
	launched, why, err := l.launch(p)
	var ce *creationError
	switch {
	case errors.As(err, &ce):
		return ce.err
	case l.create == nil:
		// Stored with its attempt (which may have failed to leave,
		// and failed the payment).
		return nil
	case err != nil:
		l.r.log.Error("Payment attempt not made", "hash", fmt.Sprintf("%x", l.hash), "err", err)
		return l.r.createFailed(info, channeldb.FailureReasonError)
	case !launched:
		return l.r.createFailed(info, *why)
	}
	return nil
}

// collect waits for an attempt's result in a goroutine of its own.
func (l *lifecycle) collect(a *channeldb.HTLCAttempt) {
	l.attempts[a.AttemptID] = a
	l.pending++
	l.sentOver[a.Route.Hops[0].ChannelID] += a.Route.TotalAmount
	l.r.wg.Add(1)
	go func() {
		defer l.r.wg.Done()
		o := attemptOutcome{id: a.AttemptID}
		ch, err := l.r.cfg.Dispatcher.GetAttemptResult(a.AttemptID)
		if err != nil {
			o.err = err
		} else {
			select {
			case o.res = <-ch:
			case <-l.r.quit:
				return
			}
		}
		select {
		case l.results <- o:
		case <-l.r.quit:
		}
	}()
}

func (l *lifecycle) run() {
	defer l.r.wg.Done()
	defer l.r.untrack(l.hash)
	var timeout <-chan time.Time
	if !l.deadline.IsZero() {
		t := time.NewTimer(l.deadline.Sub(l.r.cfg.Clock()))
		defer t.Stop()
		timeout = t.C
	}
	for {
		p, err := l.r.FetchPayment(l.hash)
		if err != nil {
			l.r.log.Error("Payment lost", "hash", fmt.Sprintf("%x", l.hash), "err", err)
			return
		}
		switch p.Status() {
		case channeldb.StatusSucceeded, channeldb.StatusFailed:
			return
		}
		if l.canLaunch(p) {
			if !l.deadline.IsZero() && !l.r.cfg.Clock().Before(l.deadline) {
				if !l.fail(channeldb.FailureReasonTimeout) {
					return
				}
				continue
			}
			launched, why, err := l.launch(p)
			switch {
			case err != nil:
				l.r.log.Error("Payment attempt not made", "hash", fmt.Sprintf("%x", l.hash), "err", err)
				if !l.fail(channeldb.FailureReasonError) {
					return
				}
				continue
			case launched:
				continue
			case l.pending == 0:
				if !l.fail(*why) {
					return
				}
				continue
			}
		} else if l.pending == 0 {
			// Nothing in flight and nothing more to send: a resumed
			// payment whose attempts all failed.
			if !l.fail(channeldb.FailureReasonNoRoute) {
				return
			}
			continue
		}

		select {
		case o := <-l.results:
			if !l.handle(o) {
				return
			}
		case <-timeout:
			timeout = nil
			if _, settled := p.Preimage(); !settled && !l.fail(channeldb.FailureReasonTimeout) {
				return
			}
		case <-l.r.quit:
			return
		}
	}
}

// fail gives the payment up; false when that cannot be recorded (the
// lifecycle then stops, leaving the payment to the next start).
func (l *lifecycle) fail(why channeldb.FailureReason) bool {
	p, err := l.r.failPayment(l.hash, why)
	if err != nil {
		l.r.log.Error("Payment not failed", "hash", fmt.Sprintf("%x", l.hash), "err", err)
		return false
	}
	// A payment with a reason and attempts in flight we do not wait
	// for would never finish here.
	return l.pending > 0 || p.Status() != channeldb.StatusInFlight
}

// canLaunch says whether p may take another attempt.
func (l *lifecycle) canLaunch(p *channeldb.Payment) bool {
	if l.req == nil || p.FailureReason != nil {
		return false
	}
	if _, settled := p.Preimage(); settled {
		return false
	}
	sent, _ := p.Sent()
	return sent < p.Info.Value
}

// handle records an attempt's result; false if the lifecycle must stop.
func (l *lifecycle) handle(o attemptOutcome) bool {
	a := l.attempts[o.id]
	if a == nil {
		l.r.log.Error("Attempt result", "err", errNoAttempt, "attempt", o.id)
		return false
	}
	delete(l.attempts, o.id)
	l.pending--
	l.sentOver[a.Route.Hops[0].ChannelID] -= a.Route.TotalAmount
	if o.err != nil {
		// The attempt may still be out: leave it in flight, for the
		// next start to resume.
		l.r.log.Error("Attempt result unavailable", "attempt", o.id, "err", o.err)
		return false
	}
	if _, _, err := l.r.resolve(l.hash, a, &o.res, l.st); err != nil {
		l.r.log.Error("Attempt result not recorded", "attempt", o.id, "err", err)
		return false
	}
	return true
}

// launch finds a route for what is left of the payment (or a shard of
// it, halving while no route carries it and parts remain) and sends an
// attempt over it. Without a route it returns the reason to fail with.
func (l *lifecycle) launch(p *channeldb.Payment) (bool, *channeldb.FailureReason, error) {
	req := l.req
	sent, fees := p.Sent()
	remaining := p.Info.Value - sent
	var budget lnwire.MilliSatoshi
	if fees < req.FeeLimit {
		budget = req.FeeLimit - fees
	}
	parts := uint32(0)
	for i := range p.Attempts {
		if p.Attempts[i].Failure == nil {
			parts++
		}
	}
	maxParts := max(req.MaxParts, 1)
	split := req.PaymentAddr != nil && maxParts > 1
	amt := remaining
	if req.MaxShardAmt > 0 && amt > req.MaxShardAmt {
		amt = req.MaxShardAmt
	}
	var rt *Route
	for {
		if amt < remaining && (!split || parts+2 > maxParts) {
			return false, l.noRoute(remaining), nil
		}
		var err error
		rt, err = l.findRoute(amt, budget)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoPath) {
			return false, nil, err
		}
		if !split || amt/2 < MinShardAmount {
			return false, l.noRoute(remaining), nil
		}
		amt /= 2
	}
	final := FinalHop{CustomRecords: req.DestCustomRecords}
	if req.PaymentAddr != nil {
		final.MPP = &channeldb.MPPRecord{PaymentAddr: *req.PaymentAddr, TotalMsat: req.Amount}
	}
	a, onion, err := l.r.registerWith(l.hash, rt, final, l.create, false)
	if err != nil {
		return false, nil, err
	}
	l.create = nil
	if err := l.r.dispatch(l.hash, a, onion); err != nil {
		return false, nil, l.r.dispatchFailed(l.hash, a, err)
	}
	// Guarded: the arguments (the hash formatted) would be built for
	// every attempt with debug off.
	if l.r.log.Enabled(context.Background(), slog.LevelDebug) {
		l.r.log.Debug("Payment attempt sent", "hash", fmt.Sprintf("%x", l.hash),
			"attempt", a.AttemptID, "amt", amt, "hops", len(rt.Hops))
	}
	l.collect(a)
	return true, nil, nil
}

// findRoute asks the path finder for a route carrying amt within budget,
// with what this payment learned: policies from failures, our channels
// that refused, pairs that garbled a failure.
func (l *lifecycle) findRoute(amt, budget lnwire.MilliSatoshi) (*Route, error) {
	req, st := l.req, l.st
	height, err := l.r.cfg.BestHeight()
	if err != nil {
		return nil, err
	}
	q := Query{
		Source:           l.r.cfg.Self,
		Target:           req.Target,
		Amount:           amt,
		CurrentHeight:    height,
		FinalCLTVDelta:   req.FinalCLTVDelta,
		FeeLimit:         budget,
		CLTVLimit:        req.CLTVLimit,
		OutgoingChannels: req.OutgoingChannels,
		LastHop:          req.LastHop,
		TimePref:         req.TimePref,
		LocalBandwidth:   l.r.localBandwidth(l.sentOver),
	}
	if q.FinalCLTVDelta == 0 {
		q.FinalCLTVDelta = DefaultFinalCLTVDelta
	}
	if q.CLTVLimit == 0 {
		q.CLTVLimit = DefaultCLTVLimit
	}
	if mc := l.r.cfg.MissionControl; mc != nil {
		q.Estimator = mc.Snapshot()
	}
	for pr := range st.ignoredPairs {
		q.IgnoredPairs = append(q.IgnoredPairs, pr)
	}
	for id := range st.ignoredChans {
		q.IgnoredChannels = append(q.IgnoredChannels, id)
	}
	if l.r.cfg.LocalChannels != nil {
		q.ExtraEdges = append(q.ExtraEdges, l.r.cfg.LocalChannels()...)
	}
	used := make(map[lnwire.ShortChannelID]bool)
	for _, e := range req.RouteHints {
		if o, ok := st.overrides[e.ChannelID]; ok {
			e.Policy = o.Policy
			used[e.ChannelID] = true
		}
		q.ExtraEdges = append(q.ExtraEdges, e)
	}
	for id, o := range st.overrides {
		if !used[id] {
			if info, _, err := l.r.cfg.Graph.Channel(id); err == nil && o.Capacity == 0 {
				o.Capacity = info.Capacity
			}
			q.IgnoredChannels = append(q.IgnoredChannels, id)
			q.ExtraEdges = append(q.ExtraEdges, o)
		}
	}
	return l.r.finder.FindRoute(&q)
}

// noRoute is why no route carries remaining: our channels together
// cannot send it (INSUFFICIENT_BALANCE, as lnd says), or no path can.
func (l *lifecycle) noRoute(remaining lnwire.MilliSatoshi) *channeldb.FailureReason {
	cfg := l.r.cfg
	if cfg.LocalChannels == nil || cfg.Dispatcher.Bandwidth == nil {
		return reason(channeldb.FailureReasonNoRoute)
	}
	bw := l.r.localBandwidth(l.sentOver)
	var total lnwire.MilliSatoshi
	for _, e := range cfg.LocalChannels() {
		b, _ := bw(e.ChannelID, remaining)
		total += b
	}
	if total < remaining {
		return reason(channeldb.FailureReasonInsufficientBalance)
	}
	return reason(channeldb.FailureReasonNoRoute)
}
