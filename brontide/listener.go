package brontide

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// ListenerOption configures a Listener.
type ListenerOption func(*Listener)

// WithHandshakeTimeout bounds each inbound handshake (default
// DefaultHandshakeTimeout). A client that has not completed act three by
// then is dropped.
func WithHandshakeTimeout(d time.Duration) ListenerOption {
	return func(l *Listener) {
		if d > 0 {
			l.handshakeTimeout = d
		}
	}
}

// WithHandshakeErrorHandler installs a callback for failed inbound
// handshakes, for logging or banning. It runs on the handshake's own
// goroutine and must not block for long.
func WithHandshakeErrorHandler(f func(remote net.Addr, err error)) ListenerOption {
	return func(l *Listener) {
		l.onHandshakeErr = f
	}
}

// WithMaxPendingHandshakes caps the handshakes in progress at once. A
// connection arriving while the cap is reached is closed at once and
// reported with ErrTooManyHandshakes. Zero, the default, means no cap;
// each silent client is then bounded only by the handshake timeout.
func WithMaxPendingHandshakes(n int) ListenerOption {
	return func(l *Listener) {
		if n > 0 {
			l.maxPending = n
		}
	}
}

// Listener accepts inbound BOLT 8 sessions. Each raw connection's
// handshake runs in its own goroutine under a deadline; Accept only ever
// returns connections whose handshake completed.
type Listener struct {
	local            ECDH
	inner            net.Listener
	handshakeTimeout time.Duration
	onHandshakeErr   func(net.Addr, error)
	maxPending       int

	conns chan *Conn    // completed handshakes, unbuffered
	quit  chan struct{} // closed by Close
	done  chan struct{} // closed when the accept loop exits

	mu      sync.Mutex // guards closed, pending and wg.Add against Close
	closed  bool
	pending map[net.Conn]struct{} // raw conns mid-handshake
	wg      sync.WaitGroup
	closeMu sync.Once
}

// Compile-time check.
var _ net.Listener = (*Listener)(nil)

// Listen listens on the given network address and returns a Listener
// that authenticates inbound peers with local.
func Listen(local ECDH, network, addr string, opts ...ListenerOption) (*Listener, error) {
	if local == nil || local.PubKey() == nil {
		return nil, ErrNoLocalKey
	}
	inner, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	l, err := NewListener(local, inner, opts...)
	if err != nil {
		inner.Close()
		return nil, err
	}
	return l, nil
}

// NewListener wraps an existing net.Listener, which the Listener then owns
// and closes.
func NewListener(local ECDH, inner net.Listener, opts ...ListenerOption) (*Listener, error) {
	if local == nil || local.PubKey() == nil {
		return nil, ErrNoLocalKey
	}
	l := &Listener{
		local:            local,
		inner:            inner,
		handshakeTimeout: DefaultHandshakeTimeout,
		conns:            make(chan *Conn),
		quit:             make(chan struct{}),
		done:             make(chan struct{}),
		pending:          make(map[net.Conn]struct{}),
	}
	for _, opt := range opts {
		opt(l)
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// acceptLoop takes raw connections off the inner listener and hands each
// to its own handshake goroutine, so no client can hold up the next.
func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	defer close(l.done)

	var backoff time.Duration
	for {
		raw, err := l.inner.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient trouble such as running out of file
			// descriptors: back off and retry, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
				continue
			case <-l.quit:
				return
			}
		}
		backoff = 0

		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			raw.Close()
			return
		}
		if l.maxPending > 0 && len(l.pending) >= l.maxPending {
			l.mu.Unlock()
			raw.Close()
			l.reportErr(raw.RemoteAddr(), ErrTooManyHandshakes)
			continue
		}
		l.pending[raw] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.handshake(raw)
	}
}

// handshake runs the responder side for one raw connection and delivers
// the result to Accept, or drops the connection on failure or Close.
func (l *Listener) handshake(raw net.Conn) {
	defer l.wg.Done()

	conn, err := l.respond(raw)
	l.forget(raw)
	if err != nil {
		// raw is closed by now.
		l.reportErr(raw.RemoteAddr(), err)
		return
	}
	l.deliver(conn)
}

// respond runs the responder handshake over raw, closing it on failure.
func (l *Listener) respond(raw net.Conn) (*Conn, error) {
	m, err := NewMachine(false, l.local, nil)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return handshake(context.Background(), raw, m,
		time.Now().Add(l.handshakeTimeout))
}

// forget drops raw from the set Close must abort.
func (l *Listener) forget(raw net.Conn) {
	l.mu.Lock()
	delete(l.pending, raw)
	l.mu.Unlock()
}

// deliver hands a completed connection to Accept, or closes it if the
// Listener is closing.
func (l *Listener) deliver(conn *Conn) {
	select {
	case l.conns <- conn:
	case <-l.quit:
		conn.Close()
	}
}

func (l *Listener) reportErr(remote net.Addr, err error) {
	if l.onHandshakeErr == nil {
		return
	}
	select {
	case <-l.quit:
		// Aborted by Close; not the peer's fault.
	default:
		l.onHandshakeErr(remote, err)
	}
}

// Accept waits for and returns the next connection whose handshake has
// completed. After Close, or if the inner listener fails for good, it
// returns net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.quit:
		return nil, net.ErrClosed
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// AcceptConn is Accept returning the concrete *Conn.
func (l *Listener) AcceptConn() (*Conn, error) {
	c, err := l.Accept()
	if err != nil {
		return nil, err
	}
	return c.(*Conn), nil
}

// Close stops accepting, aborts handshakes in progress and waits until
// every goroutine of the Listener has returned. Established Conns already
// returned by Accept are not affected.
func (l *Listener) Close() error {
	var err error
	l.closeMu.Do(func() {
		l.mu.Lock()
		l.closed = true
		pending := l.pending
		l.pending = nil
		l.mu.Unlock()

		close(l.quit)
		err = l.inner.Close()
		// Closing a raw conn unblocks its handshake at once.
		for raw := range pending {
			raw.Close()
		}
		l.wg.Wait()
	})
	return err
}

// Addr returns the inner listener's address.
func (l *Listener) Addr() net.Addr {
	return l.inner.Addr()
}
