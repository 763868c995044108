package brontide

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// pendingHandshakes reports how many raw connections are mid-handshake.
func (l *Listener) pendingHandshakes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// waitPending waits until the Listener holds n handshakes in progress.
func waitPending(t *testing.T, l *Listener, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.pendingHandshakes() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending handshakes, want %d", l.pendingHandshakes(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawDial opens a plain TCP connection that the test controls byte by
// byte.
func rawDial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectClosedByPeer waits for the server to close c: a read returns EOF
// or a reset, not a timeout.
func expectClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := io.ReadAll(c)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("server did not close the connection: %v", err)
	}
}

// TestListenerSilentClient: clients that connect and never finish act one
// neither block another client's handshake nor outlive Close.
func TestListenerSilentClient(t *testing.T) {
	baseline := runtime.NumGoroutine()

	serverKey := newTestKey(t)
	l, err := Listen(serverKey, "tcp", "127.0.0.1:0",
		WithHandshakeTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	silent := rawDial(t, l.Addr())
	half := rawDial(t, l.Addr())
	// Half of a valid act one, then nothing.
	m, err := NewMachine(true, newTestKey(t), serverKey.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	act1, err := m.GenActOne()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := half.Write(act1[:20]); err != nil {
		t.Fatal(err)
	}
	waitPending(t, l, 2)

	accepted := acceptAsync(l)
	clientKey := newTestKey(t)
	client, err := Dial(clientKey, &NetAddress{
		IdentityKey: serverKey.PubKey(), Address: l.Addr(),
	}, 10*time.Second, nil)
	if err != nil {
		t.Fatalf("Dial while silent clients wait: %v", err)
	}
	server := waitAccept(t, accepted)
	if !server.RemotePub().IsEqual(clientKey.PubKey()) {
		t.Fatal("accepted conn has the wrong remote key")
	}
	if l.pendingHandshakes() != 2 {
		t.Fatalf("silent clients no longer pending: %d", l.pendingHandshakes())
	}

	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close blocked by pending handshakes")
	}
	expectClosedByPeer(t, silent)
	expectClosedByPeer(t, half)
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}

	client.Close()
	server.Close()
	silent.Close()
	half.Close()
	waitGoroutines(t, baseline)
}

// TestListenerHandshakeTimeout: a silent client is dropped when its
// handshake deadline passes, and the failure is reported.
func TestListenerHandshakeTimeout(t *testing.T) {
	errs := make(chan error, 1)
	l := startListener(t, newTestKey(t),
		WithHandshakeTimeout(100*time.Millisecond),
		WithHandshakeErrorHandler(func(_ net.Addr, err error) { errs <- err }))
	silent := rawDial(t, l.Addr())
	expectClosedByPeer(t, silent)
	select {
	case err := <-errs:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("reported %v, want a deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("handshake failure not reported")
	}
	waitPending(t, l, 0)
}

// TestListenerBadClients: invalid act ones are rejected and reported; a
// dialer that expects another node's key fails on both sides.
func TestListenerBadClients(t *testing.T) {
	serverKey := newTestKey(t)
	errs := make(chan error, 10)
	l := startListener(t, serverKey,
		WithHandshakeErrorHandler(func(_ net.Addr, err error) { errs <- err }))

	m, err := NewMachine(true, newTestKey(t), serverKey.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.GenActOne()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		act  func() []byte
		want error
	}{
		{"bad version", func() []byte { a := good; a[0] = 1; return a[:] }, ErrBadVersion},
		{"bad key", func() []byte { a := good; a[1] = 4; return a[:] }, ErrBadPubKey},
		{"bad MAC", func() []byte { a := good; a[49] ^= 1; return a[:] }, ErrMACMismatch},
		{"garbage", func() []byte { return make([]byte, ActOneSize) }, ErrBadPubKey},
		{"short then EOF", func() []byte { return good[:10] }, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := rawDial(t, l.Addr())
			if _, err := c.Write(tc.act()); err != nil {
				t.Fatal(err)
			}
			if tc.want == io.ErrUnexpectedEOF {
				c.(*net.TCPConn).CloseWrite()
			}
			expectClosedByPeer(t, c)
			select {
			case err := <-errs:
				if !errors.Is(err, tc.want) {
					t.Fatalf("reported %v, want %v", err, tc.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("failure not reported")
			}
		})
	}

	t.Run("wrong identity", func(t *testing.T) {
		_, err := Dial(newTestKey(t), &NetAddress{
			IdentityKey: newTestKey(t).PubKey(), Address: l.Addr(),
		}, 10*time.Second, nil)
		if err == nil {
			t.Fatal("Dial with the wrong identity key succeeded")
		}
		select {
		case err := <-errs:
			if !errors.Is(err, ErrMACMismatch) {
				t.Fatalf("reported %v, want %v", err, ErrMACMismatch)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("failure not reported")
		}
	})
}

// TestListenerManyClients: concurrent dialers all get through.
func TestListenerManyClients(t *testing.T) {
	serverKey := newTestKey(t)
	l := startListener(t, serverKey)
	const n = 16

	var wg sync.WaitGroup
	dialErrs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(newTestKey(t), &NetAddress{
				IdentityKey: serverKey.PubKey(), Address: l.Addr(),
			}, 10*time.Second, nil)
			if err != nil {
				dialErrs <- err
				return
			}
			// Exchange one message so the server side is exercised.
			err = c.WriteMessage([]byte("ping"))
			if err == nil {
				var msg []byte
				msg, err = c.ReadMessage()
				if err == nil && string(msg) != "pong" {
					err = errors.New("bad reply " + string(msg))
				}
			}
			c.Close()
			dialErrs <- err
		}()
	}
	for range n {
		c := waitAccept(t, acceptAsync(l))
		go func() {
			msg, err := c.ReadMessage()
			if err == nil && string(msg) == "ping" {
				c.WriteMessage([]byte("pong"))
			}
		}()
	}
	wg.Wait()
	close(dialErrs)
	for err := range dialErrs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestListenerCloseUnblocksAccept: a blocked Accept returns on Close.
func TestListenerCloseUnblocksAccept(t *testing.T) {
	l := startListener(t, newTestKey(t))
	ch := acceptAsync(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Accept: %v", r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	// Close is idempotent.
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestDialTimeout: a listener that accepts TCP but never answers makes
// Dial fail with a deadline error once its timeout passes.
func TestDialTimeout(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := raw.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})

	remote := &NetAddress{IdentityKey: newTestKey(t).PubKey(), Address: raw.Addr()}
	done := make(chan error, 1)
	go func() {
		_, err := Dial(newTestKey(t), remote, 200*time.Millisecond, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Dial: %v, want a deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Dial did not give up")
	}
}

// TestDialContextCancel: cancelling the context aborts a handshake the
// remote never answers.
func TestDialContextCancel(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dialed := make(chan struct{})
	dial := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout(network, addr, timeout)
		close(dialed)
		return c, err
	}
	go func() {
		_, err := DialContext(ctx, newTestKey(t), &NetAddress{
			IdentityKey: newTestKey(t).PubKey(), Address: raw.Addr(),
		}, time.Hour, dial)
		done <- err
	}()
	<-dialed
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("DialContext: %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("DialContext ignored cancellation")
	}
}

// TestDialUsesDialFunc: the given DialFunc (as a SOCKS dialer would be) is
// what opens the connection, and its errors come back wrapped.
func TestDialUsesDialFunc(t *testing.T) {
	serverKey := newTestKey(t)
	l := startListener(t, serverKey)
	accepted := acceptAsync(l)

	var gotNetwork, gotAddr string
	dial := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		gotNetwork, gotAddr = network, addr
		return net.DialTimeout(network, addr, timeout)
	}
	remote := &NetAddress{IdentityKey: serverKey.PubKey(), Address: l.Addr()}
	c, err := Dial(newTestKey(t), remote, 10*time.Second, dial)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitAccept(t, accepted)
	if gotNetwork != "tcp" || gotAddr != l.Addr().String() {
		t.Fatalf("DialFunc called with %q %q", gotNetwork, gotAddr)
	}

	boom := errors.New("socks: general failure")
	failing := func(string, string, time.Duration) (net.Conn, error) { return nil, boom }
	if _, err := Dial(newTestKey(t), remote, time.Second, failing); !errors.Is(err, boom) {
		t.Fatalf("Dial: %v, want %v", err, boom)
	}
	if _, err := Dial(newTestKey(t), &NetAddress{Address: l.Addr()}, time.Second, nil); !errors.Is(err, ErrNoRemoteKey) {
		t.Fatalf("Dial without key: %v", err)
	}
}

// TestListenerMaxPending: with the cap reached, a new connection is
// dropped at once; when a slot frees up, handshakes complete again.
func TestListenerMaxPending(t *testing.T) {
	serverKey := newTestKey(t)
	errs := make(chan error, 10)
	l := startListener(t, serverKey, WithMaxPendingHandshakes(1),
		WithHandshakeErrorHandler(func(_ net.Addr, err error) { errs <- err }))

	silent := rawDial(t, l.Addr())
	waitPending(t, l, 1)

	extra := rawDial(t, l.Addr())
	expectClosedByPeer(t, extra)
	select {
	case err := <-errs:
		if !errors.Is(err, ErrTooManyHandshakes) {
			t.Fatalf("reported %v, want ErrTooManyHandshakes", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dropped connection not reported")
	}

	// The silent client leaves; its slot frees.
	silent.Close()
	waitPending(t, l, 0)
	accepted := acceptAsync(l)
	c, err := Dial(newTestKey(t), &NetAddress{
		IdentityKey: serverKey.PubKey(), Address: l.Addr(),
	}, 10*time.Second, nil)
	if err != nil {
		t.Fatalf("Dial after slot freed: %v", err)
	}
	c.Close()
	waitAccept(t, accepted)
}

// TestDialContextDeadline: a context deadline shorter than the timeout
// bounds the handshake.
func TestDialContextDeadline(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := DialContext(ctx, newTestKey(t), &NetAddress{
			IdentityKey: newTestKey(t).PubKey(), Address: raw.Addr(),
		}, time.Hour, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("DialContext: %v, want a deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("DialContext ignored the context deadline")
	}
}
