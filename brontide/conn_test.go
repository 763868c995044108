package brontide

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// messageStream deterministically produces the messages of one direction:
// sizes in 1..65535, contents cut at random offsets from a seeded random
// pool and stamped with the message index so that a lost, repeated or
// reordered message cannot go unnoticed. Sender and receiver each build
// their own copy from the same seed.
type messageStream struct {
	rng   *rand.Rand
	pool  []byte
	index uint64
}

func newMessageStream(seed uint64) *messageStream {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	pool := make([]byte, 2*MaxMessageSize)
	_, _ = rand.NewChaCha8(s).Read(pool)
	return &messageStream{
		rng:  rand.New(rand.NewPCG(seed, 0x62726f6e74696465)),
		pool: pool,
	}
}

// next fills buf (reused) with the next message and returns it.
func (s *messageStream) next(buf []byte) []byte {
	n := 1 + s.rng.IntN(MaxMessageSize)
	off := s.rng.IntN(MaxMessageSize + 1)
	buf = append(buf[:0], s.pool[off:off+n]...)
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], s.index)
	copy(buf, idx[:])
	s.index++
	return buf
}

// TestConnBulkExchange sends 10,000 messages of random sizes each way over
// loopback TCP at the same time and checks every byte.
func TestConnBulkExchange(t *testing.T) {
	const count = 10000
	client, server := connPair(t)

	send := func(c *Conn, seed uint64) error {
		s := newMessageStream(seed)
		buf := make([]byte, MaxMessageSize)
		for i := range count {
			if err := c.WriteMessage(s.next(buf)); err != nil {
				return fmt.Errorf("write %d: %w", i, err)
			}
		}
		return nil
	}
	recv := func(c *Conn, seed uint64) error {
		s := newMessageStream(seed)
		buf := make([]byte, MaxMessageSize)
		for i := range count {
			got, err := c.ReadMessage()
			if err != nil {
				return fmt.Errorf("read %d: %w", i, err)
			}
			want := s.next(buf)
			if !bytes.Equal(got, want) {
				return fmt.Errorf("message %d: got %d bytes, want %d "+
					"(or contents differ)", i, len(got), len(want))
			}
		}
		return nil
	}

	errs := make(chan error, 4)
	go func() { errs <- send(client, 1) }()
	go func() { errs <- send(server, 2) }()
	go func() { errs <- recv(server, 1) }()
	go func() { errs <- recv(client, 2) }()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if !client.RemotePub().IsEqual(server.LocalPub()) ||
		!server.RemotePub().IsEqual(client.LocalPub()) {
		t.Fatal("static keys not exchanged")
	}
}

// TestConnStreamView checks the plain Read/Write view: a write larger than
// one message is split and read back whole through small reads.
func TestConnStreamView(t *testing.T) {
	client, server := connPair(t)
	data := make([]byte, 3*MaxMessageSize+1234)
	rand.NewChaCha8([32]byte{7}).Read(data)

	done := make(chan error, 1)
	go func() {
		n, err := client.Write(data)
		if err == nil && n != len(data) {
			err = fmt.Errorf("wrote %d of %d", n, len(data))
		}
		done <- err
	}()

	got := make([]byte, 0, len(data))
	buf := make([]byte, 1000)
	for len(got) < len(data) {
		n, err := server.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("stream contents differ")
	}
	// Write split the data into maximal messages.
	go func() { _, err := client.Write(data[:MaxMessageSize+1]); done <- err }()
	for _, want := range []int{MaxMessageSize, 1} {
		msg, err := server.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if len(msg) != want {
			t.Fatalf("message of %d bytes, want %d", len(msg), want)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// TestConnMessageSizes covers the edges of the message size range.
func TestConnMessageSizes(t *testing.T) {
	client, server := connPair(t)
	if err := client.WriteMessage(make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversized message: got %v", err)
	}
	for _, size := range []int{0, 1, 2, MaxMessageSize} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		errc := make(chan error, 1)
		go func() { errc <- client.WriteMessage(msg) }()
		got, err := server.ReadMessage()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("size %d: contents differ", size)
		}
		if err := <-errc; err != nil {
			t.Fatalf("size %d: write: %v", size, err)
		}
	}
}

// TestConnBadInput puts corrupted, truncated and garbage packets on the
// wire and expects errors that stay.
func TestConnBadInput(t *testing.T) {
	tests := []struct {
		name string
		// wire returns the bytes to send, given a valid packet.
		wire    func(pkt []byte) []byte
		wantErr error
	}{
		{
			name:    "flipped header",
			wire:    func(p []byte) []byte { p[0] ^= 1; return p },
			wantErr: ErrMACMismatch,
		},
		{
			name:    "flipped header tag",
			wire:    func(p []byte) []byte { p[LengthHeaderSize-1] ^= 1; return p },
			wantErr: ErrMACMismatch,
		},
		{
			name:    "flipped body",
			wire:    func(p []byte) []byte { p[LengthHeaderSize] ^= 0x80; return p },
			wantErr: ErrMACMismatch,
		},
		{
			name:    "flipped body tag",
			wire:    func(p []byte) []byte { p[len(p)-1] ^= 1; return p },
			wantErr: ErrMACMismatch,
		},
		{
			name:    "garbage",
			wire:    func(p []byte) []byte { return bytes.Repeat([]byte{0xa5}, len(p)) },
			wantErr: ErrMACMismatch,
		},
		{
			name:    "truncated header",
			wire:    func(p []byte) []byte { return p[:LengthHeaderSize-1] },
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "truncated body",
			wire:    func(p []byte) []byte { return p[:len(p)-1] },
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "nothing",
			wire:    func(p []byte) []byte { return nil },
			wantErr: io.EOF,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recv, send, wire := pipeConn(t)
			pkt, err := send.EncryptMessage(nil, []byte("hello lightning"))
			if err != nil {
				t.Fatal(err)
			}
			out := tc.wire(pkt)
			go func() {
				wire.Write(out)
				wire.Close()
			}()
			if _, err := recv.ReadMessage(); !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			// The error sticks: the stream is out of step.
			if _, err := recv.ReadMessage(); !errors.Is(err, tc.wantErr) {
				t.Fatalf("second read: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestConnReadResumesAfterTimeout checks that a read deadline expiring in
// the middle of a packet does not lose bytes.
func TestConnReadResumesAfterTimeout(t *testing.T) {
	recv, send, wire := pipeConn(t)
	msg := bytes.Repeat([]byte("x"), 1000)
	pkt, err := send.EncryptMessage(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside the header, then inside the body.
	for _, part := range [][]byte{pkt[:5], pkt[5 : LengthHeaderSize+10]} {
		if err := recv.SetReadDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		readErr := make(chan error, 1)
		go func() {
			_, err := recv.ReadMessage()
			readErr <- err
		}()
		// A net.Pipe write returns once the reader has taken every
		// byte, so the partial packet is now inside the Conn.
		if _, err := wire.Write(part); err != nil {
			t.Fatal(err)
		}
		if err := recv.SetReadDeadline(time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := <-readErr; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("want deadline error, got %v", err)
		}
	}
	if err := recv.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	go wire.Write(pkt[LengthHeaderSize+10:])
	got, err := recv.ReadMessage()
	if err != nil {
		t.Fatalf("resumed read: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("resumed message differs")
	}
}

// prefixConn serves prefix before reading from the embedded Conn.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// TestConnWriteResumesAfterTimeout checks that a write deadline expiring
// mid-packet keeps the rest of the packet for Flush, and that the stream
// carries on intact.
func TestConnWriteResumesAfterTimeout(t *testing.T) {
	ini, resp := machinePair(t)
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	sender := newConn(a, ini)

	// Take only the first 100 bytes off the pipe, then let the write
	// deadline expire.
	head := make([]byte, 100)
	partial := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(b, head)
		if err == nil {
			err = sender.SetWriteDeadline(time.Now())
		}
		partial <- err
	}()
	msg := bytes.Repeat([]byte{0x42}, 5000)
	if err := sender.WriteMessage(msg); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want deadline error, got %v", err)
	}
	if err := <-partial; err != nil {
		t.Fatal(err)
	}
	if err := sender.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}

	receiver := newConn(&prefixConn{Conn: b, prefix: head}, resp)
	second := []byte("second message")
	errc := make(chan error, 1)
	go func() {
		err := sender.Flush()
		if err == nil {
			err = sender.WriteMessage(second)
		}
		errc <- err
	}()
	for _, want := range [][]byte{msg, second} {
		got, err := receiver.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got %d bytes, want %d", len(got), len(want))
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("Flush/WriteMessage: %v", err)
	}
}
