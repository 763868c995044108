package chain

import "sync"

// pipe is an unbounded queue feeding one channel from its own goroutine, so
// that the producer (the notifier) never waits on the consumer. Items are
// delivered in push order. stop closes the channel; items not yet delivered
// are dropped.
type pipe[T any] struct {
	out chan T

	mu     sync.Mutex
	buf    []T
	signal chan struct{} // capacity 1: "buf may be non-empty"

	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func newPipe[T any]() *pipe[T] {
	p := &pipe[T]{
		out:    make(chan T),
		signal: make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go p.run()
	return p
}

// push queues v; it never blocks. After stop it does nothing.
func (p *pipe[T]) push(v T) {
	select {
	case <-p.quit:
		return
	default:
	}
	p.mu.Lock()
	p.buf = append(p.buf, v)
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *pipe[T]) run() {
	defer close(p.done)
	defer close(p.out)
	var zero T
	for {
		p.mu.Lock()
		if len(p.buf) == 0 {
			p.buf = nil // let a grown backing array go
			p.mu.Unlock()
			select {
			case <-p.signal:
				continue
			case <-p.quit:
				return
			}
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

// stop ends the goroutine and closes the channel; it waits for both. Safe
// to call more than once.
func (p *pipe[T]) stop() {
	p.stopOnce.Do(func() { close(p.quit) })
	<-p.done
}
