package htlcswitch

import "sync"

// keepQueueCap is the most slots a drained queue keeps for its next
// events: enough for the messages of a commitment round without
// allocating, little enough that a thousand idle links cost nothing.
const keepQueueCap = 16

// eventQueue is a link's bounded FIFO of events from its peer's
// connection. Its slots are allocated as events arrive and released when
// a burst has drained: a buffered channel of DefaultQueueSize events
// would hold 112 KiB for every channel from the start, whether its peer
// is online or not.
type eventQueue struct {
	max int

	mu   sync.Mutex
	buf  []event // the events are buf[head:]
	head int

	// ready holds a token while events are queued: the consumer waits on
	// it. room holds a token once a slot was freed: a producer waiting
	// for room wakes on it.
	ready chan struct{}
	room  chan struct{}
}

func newEventQueue(max int) *eventQueue {
	return &eventQueue{max: max, ready: make(chan struct{}, 1),
		room: make(chan struct{}, 1)}
}

// push queues ev, waiting while the queue holds max events; it gives up
// with ErrLinkStopped once quit is closed.
func (q *eventQueue) push(ev event, quit <-chan struct{}) error {
	for {
		select {
		case <-quit:
			return ErrLinkStopped
		default:
		}
		q.mu.Lock()
		n := len(q.buf) - q.head
		if n < q.max {
			q.append(ev)
			q.mu.Unlock()
			signal(q.ready)
			if n+1 < q.max {
				// Pass on a wake-up this producer may have
				// taken from another one waiting.
				signal(q.room)
			}
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-quit:
			return ErrLinkStopped
		}
	}
}

// append adds ev at the tail, first moving the events to the front of
// buf when half of it is spent. Callers hold mu.
func (q *eventQueue) append(ev event) {
	if q.head > 0 && len(q.buf) == cap(q.buf) && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, ev)
}

// pop takes the oldest event, if any. While events remain the queue stays
// ready, so that the consumer handles one event per wake-up and others
// (the mailbox, timers) get their turn in between.
func (q *eventQueue) pop() (event, bool) {
	q.mu.Lock()
	if q.head == len(q.buf) {
		q.mu.Unlock()
		return event{}, false
	}
	ev := q.buf[q.head]
	q.buf[q.head] = event{} // drop its references
	q.head++
	more := q.head < len(q.buf)
	if !more {
		if cap(q.buf) > keepQueueCap {
			q.buf = nil
		} else {
			q.buf = q.buf[:0]
		}
		q.head = 0
	}
	q.mu.Unlock()
	if more {
		signal(q.ready)
	}
	signal(q.room)
	return ev, true
}

// signal leaves a token in c unless one is there.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
