package brontide

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// DefaultHandshakeTimeout bounds a handshake when the caller gives no
// timeout of its own.
const DefaultHandshakeTimeout = 15 * time.Second

// DialFunc opens the raw connection Dial runs the handshake over. It has
// the shape of net.DialTimeout; a SOCKS (Tor) dialer fits as well.
type DialFunc func(network, addr string, timeout time.Duration) (net.Conn, error)

// Dial connects to remote with dial (net.DialTimeout if nil), runs the
// initiator side of the handshake and returns the established Conn. The
// dial and the handshake together are bounded by timeout
// (DefaultHandshakeTimeout if not positive).
func Dial(local ECDH, remote *NetAddress, timeout time.Duration,
	dial DialFunc) (*Conn, error) {

	return DialContext(context.Background(), local, remote, timeout, dial)
}

// DialContext is Dial with a context: cancelling ctx aborts the handshake,
// and a deadline on ctx earlier than timeout bounds both dial and
// handshake.
func DialContext(ctx context.Context, local ECDH, remote *NetAddress,
	timeout time.Duration, dial DialFunc) (*Conn, error) {

	if remote == nil || remote.IdentityKey == nil || remote.Address == nil {
		return nil, fmt.Errorf("brontide: dial: %w", ErrNoRemoteKey)
	}
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	if dial == nil {
		dial = net.DialTimeout
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
		timeout = max(time.Until(d), time.Millisecond)
	}

	m, err := NewMachine(true, local, remote.IdentityKey)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	network := remote.Address.Network()
	if network == "" {
		network = "tcp"
	}
	raw, err := dial(network, remote.Address.String(), timeout)
	if err != nil {
		return nil, fmt.Errorf("brontide: dial %v: %w", remote, err)
	}
	conn, err := handshake(ctx, raw, m, deadline)
	if err != nil {
		return nil, fmt.Errorf("brontide: handshake with %v: %w", remote, err)
	}
	return conn, nil
}

// handshake runs m's role over raw, bounded by deadline and ctx. On error
// raw is closed.
func handshake(ctx context.Context, raw net.Conn, m *Machine,
	deadline time.Time) (*Conn, error) {

	if err := raw.SetDeadline(deadline); err != nil {
		raw.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() {
		// A deadline in the past unblocks any read or write in
		// progress.
		_ = raw.SetDeadline(time.Unix(1, 0))
	})

	var err error
	if m.initiator {
		err = initiatorHandshake(raw, m)
	} else {
		err = responderHandshake(raw, m)
	}
	if !stop() && err == nil {
		// ctx fired; the deadline has been clobbered.
		err = ctx.Err()
	}
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		raw.Close()
		return nil, err
	}
	return newConn(raw, m), nil
}

func initiatorHandshake(raw net.Conn, m *Machine) error {
	act1, err := m.GenActOne()
	if err != nil {
		return err
	}
	if _, err := raw.Write(act1[:]); err != nil {
		return fmt.Errorf("write act one: %w", err)
	}
	var act2 [ActTwoSize]byte
	if _, err := io.ReadFull(raw, act2[:]); err != nil {
		return fmt.Errorf("read act two: %w", err)
	}
	if err := m.RecvActTwo(act2[:]); err != nil {
		return err
	}
	act3, err := m.GenActThree()
	if err != nil {
		return err
	}
	if _, err := raw.Write(act3[:]); err != nil {
		return fmt.Errorf("write act three: %w", err)
	}
	return nil
}

func responderHandshake(raw net.Conn, m *Machine) error {
	var act1 [ActOneSize]byte
	if _, err := io.ReadFull(raw, act1[:]); err != nil {
		return fmt.Errorf("read act one: %w", err)
	}
	if err := m.RecvActOne(act1[:]); err != nil {
		return err
	}
	act2, err := m.GenActTwo()
	if err != nil {
		return err
	}
	if _, err := raw.Write(act2[:]); err != nil {
		return fmt.Errorf("write act two: %w", err)
	}
	var act3 [ActThreeSize]byte
	if _, err := io.ReadFull(raw, act3[:]); err != nil {
		return fmt.Errorf("read act three: %w", err)
	}
	return m.RecvActThree(act3[:])
}
