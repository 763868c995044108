package server

import "sync"

// PeerEventSubscription delivers PeerEvents to one client. Its queue is
// unbounded, so a slow client never holds up the server.
type PeerEventSubscription struct {
	id   uint64
	s    *Server
	q    *eventQueue
	once sync.Once
}

func newSubscription(id uint64, s *Server) *PeerEventSubscription {
	return &PeerEventSubscription{id: id, s: s, q: newEventQueue()}
}

// Events delivers the events in order; closed after Cancel or at shutdown.
func (sub *PeerEventSubscription) Events() <-chan PeerEvent { return sub.q.out }

// Cancel ends the subscription.
func (sub *PeerEventSubscription) Cancel() {
	sub.once.Do(func() {
		if !sub.s.send(&unsubscribeReq{id: sub.id}) {
			// The loop is gone and closed every queue itself.
			return
		}
	})
}

// eventQueue is an unbounded FIFO feeding a channel.
type eventQueue struct {
	in   chan PeerEvent
	out  chan PeerEvent
	done chan struct{}
	once sync.Once
}

func newEventQueue() *eventQueue {
	q := &eventQueue{
		in:   make(chan PeerEvent),
		out:  make(chan PeerEvent),
		done: make(chan struct{}),
	}
	return q
}

func (q *eventQueue) push(ev PeerEvent) {
	select {
	case q.in <- ev:
	case <-q.done:
	}
}

func (q *eventQueue) close() { q.once.Do(func() { close(q.done) }) }

func (q *eventQueue) run() {
	defer close(q.out)
	var pending []PeerEvent
	for {
		var (
			out  chan PeerEvent
			next PeerEvent
		)
		if len(pending) > 0 {
			out, next = q.out, pending[0]
		}
		select {
		case ev := <-q.in:
			pending = append(pending, ev)
		case out <- next:
			pending = pending[1:]
		case <-q.done:
			return
		}
	}
}
