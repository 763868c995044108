package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// PaymentRouter sends payments: it finds routes, persists each attempt
// before its HTLC leaves, learns from what comes back and retries until
// the payment succeeds, no route is left or its time is up. At start it
// resumes every payment left in flight.
type PaymentRouter struct {
	cfg    PaymentRouterConfig
	finder *Finder
	log    *slog.Logger
	// hops holds the comb tables of the node keys onions go to most,
	// our peers first.
	hops *sphinx.HopTables

	mu sync.Mutex
	// subs follow every payment, hashSubs one payment each: a write
	// visits only the subscriptions that follow it.
	subs     map[uint64]*PaymentSubscription
	hashSubs map[[32]byte][]*PaymentSubscription
	next     uint64
	// live holds the payments lifecycles drive, by hash.
	live map[[32]byte]*livePayment

	start, stop sync.Once
	quit        chan struct{}
	wg          sync.WaitGroup
}

// NewPaymentRouter builds a router from cfg.
func NewPaymentRouter(cfg PaymentRouterConfig) *PaymentRouter {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.SessionKey == nil {
		cfg.SessionKey = newSessionKey
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &PaymentRouter{
		cfg:      cfg,
		finder:   NewFinder(cfg.Graph, cfg.PathFinding),
		log:      cfg.Log,
		hops:     sphinx.NewHopTables(),
		subs:     make(map[uint64]*PaymentSubscription),
		hashSubs: make(map[[32]byte][]*PaymentSubscription),
		live:     make(map[[32]byte]*livePayment),
		quit:     make(chan struct{}),
	}
}

// Start resumes every payment that is not final: each attempt in flight
// is re-handed to the switch (which refuses it if it left before, and
// sends it if the crash came first) and its result awaited; no new
// attempt is made for a resumed payment. Stored results of finished
// attempts are then cleaned.
func (r *PaymentRouter) Start() error {
	var err error
	r.start.Do(func() { err = r.resume() })
	return err
}

func (r *PaymentRouter) resume() error {
	var inflight []*channeldb.Payment
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		inflight, err = channeldb.FetchInFlightPayments(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("routing: load payments in flight: %w", err)
	}
	keep := make(map[uint64]struct{})
	for _, p := range inflight {
		for i := range p.Attempts {
			if p.Attempts[i].InFlight() {
				keep[p.Attempts[i].AttemptID] = struct{}{}
			}
		}
	}
	if r.cfg.Dispatcher.CleanAttemptResults != nil {
		if err := r.cfg.Dispatcher.CleanAttemptResults(keep); err != nil {
			return fmt.Errorf("routing: clean attempt results: %w", err)
		}
	}
	for _, p := range inflight {
		l := r.newLifecycle(p.Info.PaymentHash, nil)
		r.track(l.hash, p)
		for i := range p.Attempts {
			if a := &p.Attempts[i]; a.InFlight() {
				if err := l.redispatch(a); err != nil {
					r.untrack(l.hash)
					return err
				}
			}
		}
		r.log.Info("Payment resumed", "hash", fmt.Sprintf("%x", p.Info.PaymentHash),
			"attempts_in_flight", l.pending)
		r.wg.Add(1)
		go l.run()
	}
	return nil
}

// Stop stops every payment's goroutine; payments in flight stay so and
// resume at the next Start.
func (r *PaymentRouter) Stop() error {
	r.stop.Do(func() {
		close(r.quit)
		r.wg.Wait()
	})
	return nil
}

// SendPayment starts paying req and returns once the payment is stored:
// ErrAlreadyPaid, ErrPaymentInFlight or ErrPaymentExists (channeldb's)
// for a hash paid or being paid. Follow it with Subscribe.
//
// The payment is stored with its first attempt, in one write, before
// that attempt's HTLC leaves; a payment that gets no attempt (no route)
// is stored failed, in one write too.
func (r *PaymentRouter) SendPayment(req *PaymentRequest) error {
	if err := req.validate(); err != nil {
		return err
	}
	select {
	case <-r.quit:
		return ErrRouterStopped
	default:
	}
	info := &channeldb.PaymentCreation{
		PaymentHash:    req.PaymentHash,
		Value:          req.Amount,
		CreationTime:   r.cfg.Clock(),
		PaymentRequest: req.PayReq,
	}
	l := r.newLifecycle(req.PaymentHash, req)
	l.create = info
	if req.Timeout > 0 {
		l.deadline = info.CreationTime.Add(req.Timeout)
	}
	r.track(l.hash, nil)
	if err := l.first(); err != nil {
		r.untrack(l.hash)
		return err
	}
	r.wg.Add(1)
	go l.run()
	return nil
}

// createFailed stores a new payment that got no attempt, failed for why.
func (r *PaymentRouter) createFailed(info *channeldb.PaymentCreation, why channeldb.FailureReason) error {
	_, err := r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
		if _, err := channeldb.InitPayment(tx, info); err != nil {
			return nil, err
		}
		return channeldb.FailPayment(tx, info.PaymentHash, why)
	})
	return err
}

// creationError is the refusal to store a new payment (its hash paid or
// being paid), from the write of its first attempt.
type creationError struct{ err error }

func (e *creationError) Error() string { return e.err.Error() }
func (e *creationError) Unwrap() error { return e.err }

// update runs f in a transaction shared with other payments' writes
// (kvdb's Batch: f may run more than once, and sets nothing but p) and
// tells subscribers what the payment became.
func (r *PaymentRouter) update(f func(tx kvdb.RwTx) (*channeldb.Payment, error)) (*channeldb.Payment, error) {
	var p *channeldb.Payment
	err := r.cfg.DB.Batch(func(tx kvdb.RwTx) error {
		var err error
		p, err = f(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.notify(p)
	return p, nil
}

// localBandwidth is the live bandwidth of our channel less what this
// payment sent over it and has no result for yet (the link may not count
// it yet). A channel with no active link carries nothing.
func (r *PaymentRouter) localBandwidth(pending map[lnwire.ShortChannelID]lnwire.MilliSatoshi) func(
	lnwire.ShortChannelID, lnwire.MilliSatoshi) (lnwire.MilliSatoshi, bool) {

	if r.cfg.Dispatcher.Bandwidth == nil {
		return nil
	}
	return func(id lnwire.ShortChannelID, _ lnwire.MilliSatoshi) (lnwire.MilliSatoshi, bool) {
		bw, ok := r.cfg.Dispatcher.Bandwidth(id)
		if !ok {
			return 0, true
		}
		if p := pending[id]; p < bw {
			return bw - p, true
		}
		return 0, true
	}
}

// dispatch hands an attempt's HTLC, with the onion register built, to
// the switch. ErrDuplicateAttempt means it left before: its result is
// what to wait for.
func (r *PaymentRouter) dispatch(hash [32]byte, a *channeldb.HTLCAttempt, onion *[lnwire.OnionPacketSize]byte) error {
	htlc := &lnwire.UpdateAddHTLC{
		Amount:      a.Route.TotalAmount,
		PaymentHash: hash,
		Expiry:      a.Route.TotalTimeLock,
		OnionBlob:   *onion,
	}
	err := r.cfg.Dispatcher.SendHTLC(a.Route.Hops[0].ChannelID, a.AttemptID, htlc)
	if errors.Is(err, ErrDuplicateAttempt) {
		return nil
	}
	return err
}

// redispatch hands a resumed attempt to the switch again, with its onion
// rebuilt from the stored route and session key (the same bytes: the
// session key fixes every byte of the onion).
func (r *PaymentRouter) redispatch(hash [32]byte, a *channeldb.HTLCAttempt) error {
	onion, err := buildOnion(&a.Route, hash, sessionKey(a), r.hops)
	if err != nil {
		return err
	}
	return r.dispatch(hash, a, onion)
}

// register stores a new attempt over rt, with a fresh id and session key,
// before anything is sent. It returns the attempt's onion for dispatch.
func (r *PaymentRouter) register(hash [32]byte, rt *Route, final FinalHop) (*channeldb.HTLCAttempt,
	*[lnwire.OnionPacketSize]byte, error) {

	return r.registerWith(hash, rt, final, nil, false)
}

// registerWith is register, creating the payment from create in the
// same write when it is not nil (a *creationError if it cannot be). With
// join, a payment that exists and takes attempts (in flight, or stored
// with none yet) is joined instead: a further part of an MPP payment.
func (r *PaymentRouter) registerWith(hash [32]byte, rt *Route, final FinalHop,
	create *channeldb.PaymentCreation, join bool) (*channeldb.HTLCAttempt,
	*[lnwire.OnionPacketSize]byte, error) {

	key, err := r.cfg.SessionKey()
	if err != nil {
		return nil, nil, err
	}
	a := &channeldb.HTLCAttempt{
		SessionKey:  [32]byte(key.Key.Bytes()),
		Route:       dbRoute(rt, final),
		AttemptTime: r.cfg.Clock(),
	}
	// The onion must build before the attempt is stored: a stored
	// attempt is one that may have left.
	onion, err := buildOnion(&a.Route, hash, key, r.hops)
	if err != nil {
		return nil, nil, fmt.Errorf("routing: onion: %w", err)
	}
	_, err = r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
		// The payment just created, not read again; nil when it
		// exists already.
		var p *channeldb.Payment
		if create != nil {
			// InitPayment refuses these before it writes anything.
			var err error
			p, err = channeldb.InitPaymentFetch(tx, create)
			joined := join && (errors.Is(err, channeldb.ErrPaymentInFlight) ||
				errors.Is(err, channeldb.ErrPaymentExists))
			if err != nil && !joined {
				return nil, &creationError{err}
			}
		}
		id, err := channeldb.NextAttemptID(tx)
		if err != nil {
			return nil, err
		}
		a.AttemptID = id
		if p != nil {
			return channeldb.RegisterAttemptOn(tx, p, a)
		}
		return channeldb.RegisterAttemptFetch(tx, hash, a)
	})
	if err != nil {
		return nil, nil, err
	}
	crashpoint.Hit(crashpoint.PaymentAttemptRegistered)
	return a, onion, nil
}

// resolve records an attempt's result: settled, or failed as
// interpretFailure reads it (failing the payment when that is
// terminal). It returns the payment and the failure's reading.
func (r *PaymentRouter) resolve(hash [32]byte, a *channeldb.HTLCAttempt, res *AttemptResult,
	st *retryState) (*channeldb.Payment, *failureOutcome, error) {

	crashpoint.Hit(crashpoint.PaymentResultKnown)
	p, out, err := r.record(hash, a, res, st)
	if err == nil {
		crashpoint.Hit(crashpoint.PaymentResultRecorded)
	}
	return p, out, err
}

// record writes an attempt's result (resolve's work).
func (r *PaymentRouter) record(hash [32]byte, a *channeldb.HTLCAttempt, res *AttemptResult,
	st *retryState) (*channeldb.Payment, *failureOutcome, error) {

	now := r.cfg.Clock()
	if res.Settled {
		if r.cfg.MissionControl != nil {
			if err := r.cfg.MissionControl.ReportSuccess(RouteFromDB(&a.Route)); err != nil {
				r.log.Warn("Mission control report failed", "err", err)
			}
		}
		p, err := r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
			return channeldb.SettleAttempt(tx, hash, a.AttemptID,
				&channeldb.HTLCSettle{Preimage: res.Preimage, SettleTime: now})
		})
		return p, nil, err
	}
	out := interpretFailure(a, res, st, r.cfg.MissionControl, now, r.log)
	p, err := r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
		p, err := channeldb.FailAttempt(tx, hash, a.AttemptID, out.record)
		if err != nil || out.terminal == nil || p.FailureReason != nil {
			return p, err
		}
		return channeldb.FailPayment(tx, hash, *out.terminal)
	})
	return p, &out, err
}

// failPayment gives the payment up, if it has no reason yet, and
// returns it.
func (r *PaymentRouter) failPayment(hash [32]byte, why channeldb.FailureReason) (*channeldb.Payment, error) {
	return r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
		p, err := channeldb.FetchPayment(tx, hash)
		if err != nil || p.FailureReason != nil {
			return p, err
		}
		return channeldb.FailPayment(tx, hash, why)
	})
}

// SendToRoute sends one HTLC over rt for hash and waits for its outcome,
// as lnd's SendToRouteV2: the payment is created for the MPP total (or
// rt's amount), or, for a further part of an MPP payment, joined. A
// failed attempt fails the payment unless skipTempErr and the failure
// is not terminal.
func (r *PaymentRouter) SendToRoute(ctx context.Context, hash [32]byte, rt *Route, final FinalHop,
	skipTempErr bool) (*channeldb.HTLCAttempt, error) {

	if len(rt.Hops) == 0 {
		return nil, fmt.Errorf("%w: empty route", ErrBadQuery)
	}
	value := rt.ReceiverAmt()
	if final.MPP != nil {
		value = final.MPP.TotalMsat
	}
	info := &channeldb.PaymentCreation{PaymentHash: hash, Value: value, CreationTime: r.cfg.Clock()}
	// Created, or joined by another part of the same MPP payment, in
	// the attempt's write.
	a, onion, err := r.registerWith(hash, rt, final, info, final.MPP != nil)
	var ce *creationError
	if errors.As(err, &ce) {
		return nil, ce.err
	}
	if err != nil {
		return nil, err
	}
	if err := r.dispatch(hash, a, onion); err != nil {
		return nil, r.dispatchFailed(hash, a, err)
	}
	ch, err := r.cfg.Dispatcher.GetAttemptResult(a.AttemptID)
	if err != nil {
		return nil, err
	}
	var res AttemptResult
	select {
	case res = <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.quit:
		return nil, ErrRouterStopped
	}
	p, out, err := r.resolve(hash, a, &res, newRetryState())
	if err != nil {
		return nil, err
	}
	done := attemptOf(p, a.AttemptID)
	if out != nil && (out.terminal != nil || !skipTempErr) {
		why := channeldb.FailureReasonError
		if out.terminal != nil {
			why = *out.terminal
		}
		if _, err := r.failPayment(hash, why); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// dispatchFailed records an attempt the switch would not take (it did
// not leave) and fails the payment.
func (r *PaymentRouter) dispatchFailed(hash [32]byte, a *channeldb.HTLCAttempt, cause error) error {
	r.log.Error("HTLC not dispatched", "attempt", a.AttemptID, "err", cause)
	_, err := r.update(func(tx kvdb.RwTx) (*channeldb.Payment, error) {
		p, err := channeldb.FailAttempt(tx, hash, a.AttemptID,
			&channeldb.HTLCFailure{Reason: channeldb.HTLCFailInternal, FailTime: r.cfg.Clock()})
		if err != nil || p.FailureReason != nil {
			return p, err
		}
		return channeldb.FailPayment(tx, hash, channeldb.FailureReasonError)
	})
	if err != nil {
		return err
	}
	return fmt.Errorf("routing: dispatch attempt %d: %w", a.AttemptID, cause)
}

func attemptOf(p *channeldb.Payment, id uint64) *channeldb.HTLCAttempt {
	for i := range p.Attempts {
		if p.Attempts[i].AttemptID == id {
			return &p.Attempts[i]
		}
	}
	return nil
}
