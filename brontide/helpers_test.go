package brontide

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
)

// newTestKey returns a fresh random static key.
func newTestKey(t testing.TB) *PrivKeyECDH {
	t.Helper()
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatalf("new key: %v", err)
	}
	return &PrivKeyECDH{PrivKey: priv}
}

// machinePair returns an initiator and a responder Machine with completed
// handshakes and random keys.
func machinePair(t testing.TB) (ini, resp *Machine) {
	t.Helper()
	a, b := newTestKey(t), newTestKey(t)
	ini, err := NewMachine(true, a, b.PubKey())
	if err != nil {
		t.Fatalf("NewMachine: %v", err)
	}
	resp, err = NewMachine(false, b, nil)
	if err != nil {
		t.Fatalf("NewMachine: %v", err)
	}
	completeHandshake(t, ini, resp)
	return ini, resp
}

// startListener listens on loopback and closes the Listener at cleanup.
func startListener(t testing.TB, key ECDH, opts ...ListenerOption) *Listener {
	t.Helper()
	l, err := Listen(key, "tcp", "127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// acceptResult is what a background Accept produced.
type acceptResult struct {
	conn *Conn
	err  error
}

// acceptAsync runs one Accept in the background.
func acceptAsync(l *Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := l.AcceptConn()
		ch <- acceptResult{c, err}
	}()
	return ch
}

// waitAccept waits for a background Accept, failing after a generous
// deadline instead of hanging the test binary.
func waitAccept(t testing.TB, ch <-chan acceptResult) *Conn {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { r.conn.Close() })
		return r.conn
	case <-time.After(20 * time.Second):
		t.Fatal("Accept did not return")
		return nil
	}
}

// connPair returns two Conns joined over a loopback TCP socket through a
// Listener and Dial.
func connPair(t testing.TB) (client, server *Conn) {
	t.Helper()
	serverKey, clientKey := newTestKey(t), newTestKey(t)
	l := startListener(t, serverKey)
	accepted := acceptAsync(l)

	client, err := Dial(clientKey, &NetAddress{
		IdentityKey: serverKey.PubKey(),
		Address:     l.Addr(),
	}, 10*time.Second, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	server = waitAccept(t, accepted)
	return client, server
}

// pipeConn returns a receiving Conn over one end of a net.Pipe and the
// sending Machine plus the raw other end, so tests can put arbitrary bytes
// on the wire.
func pipeConn(t testing.TB) (recv *Conn, send *Machine, wire net.Conn) {
	t.Helper()
	ini, resp := machinePair(t)
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return newConn(a, resp), ini, b
}

// waitGoroutines waits until the goroutine count drops to at most want,
// failing with a stack dump if it does not within the deadline.
func waitGoroutines(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want <= %d:\n%s", n, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
