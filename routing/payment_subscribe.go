package routing

import (
	"context"
	"slices"
	"sync"

	"lnd.xprv/channeldb"
)

// PaymentSubscription delivers the states of one payment, or of every
// payment, as they are stored. States of one payment coalesce: a reader
// that falls behind gets the latest, never an older one after a newer.
type PaymentSubscription struct {
	r    *PaymentRouter
	id   uint64
	hash *[32]byte // nil: every payment

	mu     sync.Mutex
	queue  []*channeldb.Payment
	seen   map[[32]byte]progress
	signal chan struct{}
}

// progress orders the states of one payment: each store change adds an
// attempt, resolves one or gives a reason; a payment tried again after
// failing has a higher sequence number.
type progress struct{ seq, steps uint64 }

func progressOf(p *channeldb.Payment) progress {
	steps := 2 * uint64(len(p.Attempts))
	for i := range p.Attempts {
		if !p.Attempts[i].InFlight() {
			steps++
		}
	}
	if p.FailureReason != nil {
		steps++
	}
	return progress{p.SequenceNum, steps}
}

func (a progress) before(b progress) bool {
	return a.seq < b.seq || (a.seq == b.seq && a.steps < b.steps)
}

// Subscribe follows the payment for hash: its stored state first, then
// each change. ErrPaymentNotInitiated (channeldb's) if there is none.
func (r *PaymentRouter) Subscribe(hash [32]byte) (*PaymentSubscription, error) {
	s := r.subscribe(&hash)
	p, err := r.FetchPayment(hash)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.push(p)
	return s, nil
}

// SubscribeAll follows every payment's changes from now on.
func (r *PaymentRouter) SubscribeAll() *PaymentSubscription {
	return r.subscribe(nil)
}

func (r *PaymentRouter) subscribe(hash *[32]byte) *PaymentSubscription {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	s := &PaymentSubscription{
		r: r, id: r.next, hash: hash,
		seen:   make(map[[32]byte]progress),
		signal: make(chan struct{}, 1),
	}
	if hash == nil {
		r.subs[s.id] = s
	} else {
		r.hashSubs[*hash] = append(r.hashSubs[*hash], s)
	}
	return s
}

// notify hands p, a state just stored, to the subscriptions that follow
// it and to its lifecycles.
func (r *PaymentRouter) notify(p *channeldb.Payment) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stored(p)
	for _, s := range r.hashSubs[p.Info.PaymentHash] {
		s.push(p)
	}
	for _, s := range r.subs {
		s.push(p)
	}
}

func (s *PaymentSubscription) push(p *channeldb.Payment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := p.Info.PaymentHash
	pr := progressOf(p)
	if last, ok := s.seen[h]; ok && pr.before(last) {
		return
	}
	s.seen[h] = pr
	replaced := false
	for i, q := range s.queue {
		if q.Info.PaymentHash == h {
			s.queue[i] = p
			replaced = true
		}
	}
	if !replaced {
		s.queue = append(s.queue, p)
	}
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// Next returns the next state, waiting for one; ctx's error if it ends
// first, ErrRouterStopped if the router stops.
func (s *PaymentSubscription) Next(ctx context.Context) (*channeldb.Payment, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			p := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return p, nil
		}
		s.mu.Unlock()
		select {
		case <-s.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.r.quit:
			return nil, ErrRouterStopped
		}
	}
}

// Close ends the subscription.
func (s *PaymentSubscription) Close() {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.hash == nil {
		delete(s.r.subs, s.id)
		return
	}
	subs := s.r.hashSubs[*s.hash]
	if i := slices.Index(subs, s); i >= 0 {
		subs = slices.Delete(subs, i, i+1)
	}
	if len(subs) == 0 {
		delete(s.r.hashSubs, *s.hash)
	} else {
		s.r.hashSubs[*s.hash] = subs
	}
}
