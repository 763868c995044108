package invoices

import (
	"container/heap"
	"context"
	"math"
	"slices"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/crashpoint"
)

// timer is a moment the registry must act on an invoice: fail the parts
// of an incomplete multi-part payment, or cancel an expired invoice.
type timer struct {
	// at is the moment in Unix nanoseconds: with no pointer (a
	// time.Time's location) the heap, which holds every open
	// invoice's expiry, is not scanned by the collector.
	at   int64
	hash [32]byte
}

// timerHeap orders timers by time. An entry is looked at again when it
// fires, so a stale one (the invoice moved on) costs only a look-up.
type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// minSweep is the fewest final invoices that make the timers worth
// sweeping (Registry.minSweep, which tests lower).
const minSweep = 1024

// forgetTimersLocked notes that inv is final, so that its timers (an
// expiry a day out, which would fire only to find nothing to do) can be
// swept: once the invoices noted since the last sweep are as many as
// half the timers, the timers of those invoices are dropped and the
// heap is rebuilt, so that it holds about the open invoices' timers and
// not every invoice's of the last day. Dropping timers only makes the
// earliest later, so the timer goroutine, waiting for the earliest
// before, at worst wakes once for nothing.
func (r *Registry) forgetTimersLocked(inv *channeldb.Invoice) {
	if !inv.State.IsFinal() {
		return
	}
	if r.final == nil {
		r.final = make(map[[32]byte]struct{})
	}
	r.final[inv.PaymentHash] = struct{}{}
	if len(r.final) < r.minSweep || len(r.final) < len(r.timers)/2 {
		return
	}
	kept := r.timers[:0]
	for _, t := range r.timers {
		if _, ok := r.final[t.hash]; !ok {
			kept = append(kept, t)
		}
	}
	clear(r.timers[len(kept):])
	if cap(kept) > 2*len(kept)+r.minSweep {
		// Give back the room of a heap that was much larger.
		kept = slices.Clone(kept)
	}
	r.timers = kept
	heap.Init(&r.timers)
	clear(r.final)
}

// scheduleLocked sets the next timer of an open invoice: the hold
// deadline of its accepted parts, else its expiry.
func (r *Registry) scheduleLocked(inv *channeldb.Invoice) {
	if inv.State != channeldb.InvoiceOpen {
		return
	}
	at, ok := holdDeadline(inv, r.cfg.MPPTimeout)
	if !ok {
		at = inv.CreationDate.Add(inv.Expiry)
	}
	t := timer{at: unixNano(at), hash: inv.PaymentHash}
	heap.Push(&r.timers, t)
	// The timer goroutine waits for the earliest timer: it must look
	// again only if this one is now the earliest. Not waking it for the
	// others (an invoice's expiry, a day out, behind every earlier one)
	// saves a goroutine switch and a runtime timer per invoice added.
	if r.timers[0] != t {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// unixNano is t in Unix nanoseconds, saturated beyond what an int64
// holds (years before 1678 or after 2262: a stored date is untrusted).
func unixNano(t time.Time) int64 {
	switch sec := t.Unix(); {
	case sec >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case sec <= math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return t.UnixNano()
}

// holdDeadline is when the parts of an incomplete set are failed: the
// first part's accept time plus the timeout.
func holdDeadline(inv *channeldb.Invoice, timeout time.Duration) (time.Time, bool) {
	var first time.Time
	for _, h := range inv.HTLCs {
		if h.State == channeldb.HTLCAccepted && (first.IsZero() || h.AcceptTime.Before(first)) {
			first = h.AcceptTime
		}
	}
	return first.Add(timeout), !first.IsZero()
}

func (r *Registry) timerLoop() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		now := r.cfg.Clock.Now()
		var due [][32]byte
		for len(r.timers) > 0 && r.timers[0].at <= now.UnixNano() {
			due = append(due, heap.Pop(&r.timers).(timer).hash)
		}
		var wait <-chan time.Time
		if len(r.timers) > 0 {
			wait = r.cfg.Clock.After(time.Unix(0, r.timers[0].at).Sub(now))
		}
		r.mu.Unlock()
		for _, hash := range due {
			r.onTimer(hash)
		}
		if len(due) > 0 {
			continue
		}
		select {
		case <-wait:
		case <-r.wake:
		case <-r.quit:
			return
		}
	}
}

// onTimer fails the parts of an incomplete set whose deadline passed
// (mpp_timeout), or cancels an invoice that expired unpaid.
func (r *Registry) onTimer(hash [32]byte) {
	changed := false
	err := r.update(hash, func(inv *channeldb.Invoice, now time.Time) ([]delivery, error) {
		changed = true
		if inv.State != channeldb.InvoiceOpen {
			changed = false
			return nil, errNoChange
		}
		if at, ok := holdDeadline(inv, r.cfg.MPPTimeout); ok {
			if now.Before(at) {
				changed = false
				return nil, errNoChange
			}
			return cancelHTLCs(inv, now, failMPPTimeout), nil
		}
		if now.Before(inv.CreationDate.Add(inv.Expiry)) {
			changed = false
			return nil, errNoChange
		}
		inv.State = channeldb.InvoiceCanceled
		return nil, nil
	})
	if err != nil {
		r.cfg.Log.Error("invoice timer", "hash", hash, "err", err)
	}
	// An invoice whose parts timed out stays open: watch its expiry.
	// (A stale timer changed nothing; the change that made it stale set
	// the next one.)
	if !changed || err != nil {
		return
	}
	if inv, err := r.LookupInvoice(context.Background(), hash); err == nil {
		r.mu.Lock()
		r.scheduleLocked(inv)
		r.mu.Unlock()
	}
}

// ExpireHeld records that a link fails back the held HTLC circuit of
// the invoice hash because its expiry comes near (the link's
// HoldExpiryDelta): as lnd's registry does HoldExpiryDelta blocks before
// a held HTLC expires, an accepted hold invoice is canceled with all its
// HTLCs (the others are failed back through their links); an HTLC of an
// incomplete set is canceled alone. The change is persisted and
// announced before it returns, so the link fails the HTLC after the
// invoice shows it. settled reports an invoice settled meanwhile: its
// fulfilment is on the way and the link must not fail the HTLC.
func (r *Registry) ExpireHeld(hash [32]byte, circuit channeldb.CircuitKey,
	height uint32) (settled bool, err error) {

	changed := false
	err = r.update(hash, func(inv *channeldb.Invoice, now time.Time) ([]delivery, error) {
		changed = false
		switch inv.State {
		case channeldb.InvoiceSettled:
			settled = true
			return nil, errNoChange
		case channeldb.InvoiceCanceled:
			return nil, errNoChange
		}
		// The caller fails this HTLC itself (r.mu is held here).
		delete(r.held, circuit)
		fail := failUnknown("held HTLC near its expiry", height)
		if inv.State == channeldb.InvoiceAccepted {
			inv.State, changed = channeldb.InvoiceCanceled, true
			return cancelHTLCs(inv, now, fail), nil
		}
		for i := range inv.HTLCs {
			hl := &inv.HTLCs[i]
			if hl.Circuit == circuit && hl.State == channeldb.HTLCAccepted {
				hl.State, hl.ResolveTime = channeldb.HTLCCanceled, time.Unix(now.Unix(), 0)
				inv.AmtPaid -= hl.Amount
				changed = true
				return nil, nil
			}
		}
		return nil, errNoChange
	})
	if err == nil && changed {
		crashpoint.Hit(crashpoint.InvoiceHeldExpired)
	}
	return settled, err
}
