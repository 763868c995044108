package htlcswitch

import (
	"sync"
	"testing"
	"time"

	"lnd.xprv/lnwire"
)

// popWait takes the next event, waiting for the queue to be ready.
func popWait(t *testing.T, q *eventQueue) event {
	t.Helper()
	for {
		select {
		case <-q.ready:
			if ev, ok := q.pop(); ok {
				return ev
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event became ready")
		}
	}
}

// TestEventQueueLazy: a queue holds no slots until events arrive, keeps
// them in order, and lets a burst's slots go once it drained.
func TestEventQueueLazy(t *testing.T) {
	quit := make(chan struct{})
	q := newEventQueue(DefaultQueueSize)
	if cap(q.buf) != 0 {
		t.Fatalf("new queue holds %d slots, want none", cap(q.buf))
	}
	const burst = 500
	for i := range burst {
		mustOK(t, q.push(event{kind: evMessage, msg: &lnwire.UpdateFee{FeePerKw: uint32(i)}}, quit))
	}
	for i := range burst {
		ev := popWait(t, q)
		if got := ev.msg.(*lnwire.UpdateFee).FeePerKw; got != uint32(i) {
			t.Fatalf("event %d is %d: out of order", i, got)
		}
	}
	if _, ok := q.pop(); ok {
		t.Fatal("an event left after the burst")
	}
	if cap(q.buf) > keepQueueCap {
		t.Fatalf("drained queue keeps %d slots, want at most %d", cap(q.buf), keepQueueCap)
	}
	// A steady trickle reuses the kept slots.
	mustOK(t, q.push(event{kind: evFlush}, quit))
	if ev := popWait(t, q); ev.kind != evFlush {
		t.Fatalf("got event kind %d, want evFlush", ev.kind)
	}
}

// TestEventQueueBound: a full queue makes the producer wait until the
// consumer takes an event, or until quit.
func TestEventQueueBound(t *testing.T) {
	quit := make(chan struct{})
	q := newEventQueue(2)
	mustOK(t, q.push(event{kind: evFlush}, quit))
	mustOK(t, q.push(event{kind: evFlush}, quit))
	pushed := make(chan error, 1)
	go func() { pushed <- q.push(event{kind: evCall}, quit) }()
	select {
	case err := <-pushed:
		t.Fatalf("push into a full queue returned %v without waiting", err)
	case <-time.After(50 * time.Millisecond):
	}
	popWait(t, q)
	mustOK(t, <-pushed)
	popWait(t, q)
	if ev := popWait(t, q); ev.kind != evCall {
		t.Fatalf("third event kind %d, want evCall", ev.kind)
	}

	mustOK(t, q.push(event{kind: evFlush}, quit))
	mustOK(t, q.push(event{kind: evFlush}, quit))
	go func() { pushed <- q.push(event{kind: evFlush}, quit) }()
	close(quit)
	if err := <-pushed; err != ErrLinkStopped {
		t.Fatalf("waiting push after quit returned %v, want ErrLinkStopped", err)
	}
}

// TestEventQueueConcurrent: producers racing on a small queue lose no
// event and keep each one's order.
func TestEventQueueConcurrent(t *testing.T) {
	const producers, each = 8, 500
	quit := make(chan struct{})
	q := newEventQueue(4)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// FeePerKw carries producer and sequence.
				ev := event{kind: evMessage, msg: &lnwire.UpdateFee{FeePerKw: uint32(p<<16 | i)}}
				if err := q.push(ev, quit); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]int, producers)
	for range producers * each {
		v := popWait(t, q).msg.(*lnwire.UpdateFee).FeePerKw
		p, i := int(v>>16), int(v&0xffff)
		if i != next[p] {
			t.Fatalf("producer %d: event %d after %d", p, i, next[p]-1)
		}
		next[p]++
	}
	wg.Wait()
	if _, ok := q.pop(); ok {
		t.Fatal("more events than were pushed")
	}
}
