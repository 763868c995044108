package invoices

import (
	"context"
	"fmt"
	"sync"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

// Subscription streams invoice updates. Updates is closed when the
// context given to Subscribe* ends, Cancel is called, or the registry
// stops. Updates are queued without bound, so a slow reader never holds
// up the registry.
type Subscription struct {
	Updates <-chan *channeldb.Invoice
	cancel  func()
}

// Cancel ends the subscription.
func (s *Subscription) Cancel() { s.cancel() }

// subscriber is one subscription's state; its goroutine moves queued
// updates to the reader.
type subscriber struct {
	id uint64
	// hash is set for a single-invoice subscription.
	hash *[32]byte
	// addIndex and settleIndex are the highest indices delivered.
	addIndex, settleIndex uint64

	mu     sync.Mutex
	queue  []*channeldb.Invoice
	signal chan struct{}
}

func (s *subscriber) push(inv *channeldb.Invoice) {
	s.mu.Lock()
	s.queue = append(s.queue, inv.Copy())
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// SubscribeInvoices streams invoices as they are added (OPEN) and
// settled (SETTLED). As lnd's: a non-zero addIndex first replays every
// invoice added after it, a non-zero settleIndex every invoice settled
// after it; zero replays nothing.
func (r *Registry) SubscribeInvoices(ctx context.Context, addIndex, settleIndex uint64) (*Subscription, error) {
	s := &subscriber{addIndex: addIndex, settleIndex: settleIndex}
	return r.subscribe(ctx, s, func(tx kvdb.RTx) ([]*channeldb.Invoice, error) {
		var backlog []*channeldb.Invoice
		if addIndex > 0 {
			added, err := channeldb.InvoicesAddedSince(tx, addIndex)
			if err != nil {
				return nil, err
			}
			for _, inv := range added {
				// Replayed as an add, whatever its state now.
				backlog = append(backlog, inv)
				s.addIndex = inv.AddIndex
			}
		}
		if settleIndex > 0 {
			settled, err := channeldb.InvoicesSettledSince(tx, settleIndex)
			if err != nil {
				return nil, err
			}
			for _, inv := range settled {
				backlog = append(backlog, inv)
				s.settleIndex = inv.SettleIndex
			}
		}
		return backlog, nil
	})
}

// SubscribeSingleInvoice streams one invoice's states: its current state
// first, then each change.
func (r *Registry) SubscribeSingleInvoice(ctx context.Context, hash [32]byte) (*Subscription, error) {
	s := &subscriber{hash: &hash}
	return r.subscribe(ctx, s, func(tx kvdb.RTx) ([]*channeldb.Invoice, error) {
		inv, err := channeldb.FetchInvoice(tx, hash)
		if err != nil {
			return nil, err
		}
		return []*channeldb.Invoice{inv}, nil
	})
}

// subscribe registers s and queues its backlog under the registry's
// lock, so no update falls between the backlog and the live stream.
func (r *Registry) subscribe(ctx context.Context, s *subscriber,
	backlog func(kvdb.RTx) ([]*channeldb.Invoice, error)) (*Subscription, error) {

	s.signal = make(chan struct{}, 1)
	r.mu.Lock()
	select {
	case <-r.quit:
		r.mu.Unlock()
		return nil, ErrShuttingDown
	default:
	}
	var first []*channeldb.Invoice
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		first, err = backlog(tx)
		return err
	})
	if err != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	r.nextID++
	s.id = r.nextID
	r.subs[s.id] = s
	for _, inv := range first {
		s.push(inv)
	}
	r.wg.Add(1)
	r.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	out := make(chan *channeldb.Invoice)
	go func() {
		defer r.wg.Done()
		defer close(out)
		defer func() {
			r.mu.Lock()
			delete(r.subs, s.id)
			r.mu.Unlock()
		}()
		for {
			s.mu.Lock()
			q := s.queue
			s.queue = nil
			s.mu.Unlock()
			for _, inv := range q {
				select {
				case out <- inv:
				case <-ctx.Done():
					return
				case <-r.quit:
					return
				}
			}
			select {
			case <-s.signal:
			case <-ctx.Done():
				return
			case <-r.quit:
				return
			}
		}
	}()
	return &Subscription{Updates: out, cancel: cancel}, nil
}

// notifyLocked hands a committed invoice change to the subscribers that
// want it.
func (r *Registry) notifyLocked(inv *channeldb.Invoice) {
	for _, s := range r.subs {
		switch {
		case s.hash != nil:
			if *s.hash == inv.PaymentHash {
				s.push(inv)
			}
		case inv.State == channeldb.InvoiceOpen && inv.AddIndex > s.addIndex:
			s.addIndex = inv.AddIndex
			s.push(inv)
		case inv.State == channeldb.InvoiceSettled && inv.SettleIndex > s.settleIndex:
			s.settleIndex = inv.SettleIndex
			s.push(inv)
		}
	}
}
