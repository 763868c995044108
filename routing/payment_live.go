package routing

import (
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

// livePayment is the last stored state of a payment a lifecycle drives.
// Every write to the payments store passes through the router (update,
// or the deletes, which drop it), so the state a write returned is what
// a read of the store would give: the lifecycle and its subscribers take
// it from here instead of reading the payment back after each write.
type livePayment struct {
	// p is nil until a write or a read fills it, and again after a
	// delete.
	p *channeldb.Payment
	// refs counts the lifecycles of the hash.
	refs int
	// gen changes on each delete, so that a read that raced one does
	// not put back what was deleted.
	gen uint64
}

// track keeps the state of hash in memory while a lifecycle drives it;
// p, if not nil, is its state as just read. Each track is paired with
// an untrack.
func (r *PaymentRouter) track(hash [32]byte, p *channeldb.Payment) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.live[hash]
	if e == nil {
		e = &livePayment{}
		r.live[hash] = e
	}
	e.refs++
	e.keep(p)
}

func (r *PaymentRouter) untrack(hash [32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.live[hash]; e != nil {
		if e.refs--; e.refs <= 0 {
			delete(r.live, hash)
		}
	}
}

// keep replaces the state with p unless p is older: writes of one
// payment may return in a different order than they committed.
func (e *livePayment) keep(p *channeldb.Payment) {
	if p == nil || (e.p != nil && progressOf(p).before(progressOf(e.p))) {
		return
	}
	e.p = p
}

// stored records p, a state just committed, for the lifecycles of its
// hash. The caller holds r.mu.
func (r *PaymentRouter) stored(p *channeldb.Payment) {
	if e := r.live[p.Info.PaymentHash]; e != nil {
		e.keep(p)
	}
}

// forget drops the states in memory after a delete (of hash, or with
// nil of any payment): the next read goes to the store.
func (r *PaymentRouter) forget(hash *[32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h, e := range r.live {
		if hash == nil || *hash == h {
			e.p = nil
			e.gen++
		}
	}
}

// cached returns the state of hash in memory, if a lifecycle drives it
// and it is known. The caller holds r.mu.
func (r *PaymentRouter) cached(hash [32]byte) *channeldb.Payment {
	if e := r.live[hash]; e != nil {
		return e.p
	}
	return nil
}

// FetchPayment returns the stored payment for hash: from memory while a
// lifecycle drives it, else read from the store. The payment may be
// shared (with the lifecycle and subscribers): it is not to be changed.
func (r *PaymentRouter) FetchPayment(hash [32]byte) (*channeldb.Payment, error) {
	r.mu.Lock()
	p := r.cached(hash)
	var gen uint64
	e := r.live[hash]
	if e != nil {
		gen = e.gen
	}
	r.mu.Unlock()
	if p != nil {
		return p, nil
	}
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		p, err = channeldb.FetchPayment(tx, hash)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e != nil {
		r.mu.Lock()
		if r.live[hash] == e && e.gen == gen {
			e.keep(p)
		}
		r.mu.Unlock()
	}
	return p, nil
}
