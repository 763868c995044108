package htlcswitch

import "sync"

// mailbox is a link's unbounded queue of work from the switch and the
// invoice registry: offers, removals and exit-hop resolutions. It never
// blocks the sender, so two links forwarding to each other cannot
// deadlock on full queues.
type mailbox struct {
	mu     sync.Mutex
	items  []any
	notify chan struct{}
}

func newMailbox() *mailbox {
	return &mailbox{notify: make(chan struct{}, 1)}
}

func (m *mailbox) push(it any) {
	m.mu.Lock()
	m.items = append(m.items, it)
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// take empties the mailbox.
func (m *mailbox) take() []any {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.items
	m.items = nil
	return out
}
