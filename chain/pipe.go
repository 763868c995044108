package chain

import "sync"

// pipe is an unbounded queue feeding one channel, so that the producer
// (the notifier) never waits on the consumer. Items are delivered in push
// order. stop closes the channel; items not yet delivered are dropped.
//
// A goroutine delivers the items while any are queued and exits once
// they are taken: a node holds several registrations per channel, most
// of them waiting for months for an event that may never come, and a
// goroutine each would cost thousands of idle stacks.
type pipe[T any] struct {
	out chan T

	mu      sync.Mutex
	buf     []T
	running bool // a delivering goroutine owns the head of buf
	stopped bool

	quit     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

func newPipe[T any]() *pipe[T] {
	return &pipe[T]{out: make(chan T), quit: make(chan struct{})}
}

// push queues v; it never blocks. After stop it does nothing.
func (p *pipe[T]) push(v T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.buf = append(p.buf, v)
	if !p.running {
		// stop sets stopped under mu before it waits, so this Add
		// comes before its Wait.
		p.running = true
		p.wg.Add(1)
		go p.deliver()
	}
}

// deliver sends the queued items until none is left or stop. One runs
// at a time: a new one starts only after this one has delivered its last
// item and found the queue empty, so the order holds.
func (p *pipe[T]) deliver() {
	defer p.wg.Done()
	var zero T
	for {
		p.mu.Lock()
		if len(p.buf) == 0 {
			p.buf = nil // let a grown backing array go
			p.running = false
			p.mu.Unlock()
			return
		}
		v := p.buf[0]
		p.buf[0] = zero
		p.buf = p.buf[1:]
		p.mu.Unlock()

		select {
		case p.out <- v:
		case <-p.quit:
			return
		}
	}
}

// stop ends delivery and closes the channel, after any delivering
// goroutine has exited. Safe to call more than once.
func (p *pipe[T]) stop() {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.stopped = true
		p.buf = nil
		p.mu.Unlock()
		close(p.quit)
		p.wg.Wait()
		close(p.out)
	})
}
