package brontide

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
)

// Conn is an established BOLT 8 session over a net.Conn. WriteMessage and
// ReadMessage move whole Lightning messages; Read and Write give a
// byte-stream view on top of them.
//
// One goroutine may read while another writes. Several concurrent readers
// (or writers) are serialised, which keeps the stream intact but interleaves
// their messages arbitrarily.
type Conn struct {
	conn  net.Conn
	noise *Machine

	readMu  sync.Mutex
	readErr error // sticky: once set, every read returns it
	hdr     [LengthHeaderSize]byte
	hdrN    int    // header bytes read so far
	body    []byte // encrypted body being read, nil between packets
	bodyN   int    // body bytes read so far
	pending []byte // decrypted bytes not yet returned by Read

	writeMu  sync.Mutex
	writeErr error  // sticky: once set, every write returns it
	wbuf     []byte // packet buffer, reused; grows to the largest packet sent
	unsent   []byte // tail of a packet interrupted by a timeout
}

// Compile-time check.
var _ net.Conn = (*Conn)(nil)

// newConn wraps a raw connection whose handshake machine is complete.
func newConn(c net.Conn, m *Machine) *Conn {
	return &Conn{conn: c, noise: m}
}

// isTimeout reports whether err is a deadline expiry, after which the
// interrupted operation may be resumed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// WriteMessage encrypts msg (at most MaxMessageSize bytes) and sends it as
// one packet.
//
// If a write deadline interrupts the send, the returned error is a timeout
// and the message is already committed: its remaining bytes go out first
// on the next Flush or WriteMessage, and msg must not be sent again. Any
// other error leaves the Conn unusable for writing.
func (c *Conn) WriteMessage(msg []byte) error {
	if len(msg) > MaxMessageSize {
		return ErrMessageTooLarge
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.writeMessageLocked(msg)
	return err
}

// writeMessageLocked sends msg and reports whether it was committed, that
// is encrypted and queued, even if the send was then interrupted.
func (c *Conn) writeMessageLocked(msg []byte) (bool, error) {
	if err := c.flushLocked(); err != nil {
		return false, err
	}
	pkt, err := c.noise.EncryptMessage(c.wbuf[:0], msg)
	if err != nil {
		return false, err
	}
	c.wbuf = pkt
	c.unsent = pkt
	return true, c.flushLocked()
}

// Flush sends what remains of a packet whose WriteMessage was interrupted
// by a write deadline. It is a no-op otherwise.
func (c *Conn) Flush() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	for len(c.unsent) > 0 {
		n, err := c.conn.Write(c.unsent)
		c.unsent = c.unsent[n:]
		if err != nil {
			if !isTimeout(err) {
				c.writeErr = err
				c.unsent = nil
			}
			return err
		}
	}
	c.unsent = nil
	return nil
}

// ReadMessage reads and decrypts the next Lightning message. The returned
// slice belongs to the caller. If a plain Read left part of a message
// unread, that remainder is returned first.
//
// If a read deadline expires mid-packet, the returned error is a timeout
// and the partial packet is kept: the next ReadMessage resumes it. A MAC
// failure or any other error leaves the Conn unusable for reading.
func (c *Conn) ReadMessage() ([]byte, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if len(c.pending) > 0 {
		// A plain Read left part of a message behind; hand it out
		// whole rather than splice it into the message stream.
		msg := c.pending
		c.pending = nil
		return msg, nil
	}
	return c.readMessageLocked()
}

func (c *Conn) readMessageLocked() ([]byte, error) {
	if c.readErr != nil {
		return nil, c.readErr
	}
	if c.body == nil {
		for c.hdrN < LengthHeaderSize {
			n, err := c.conn.Read(c.hdr[c.hdrN:])
			c.hdrN += n
			if c.hdrN == LengthHeaderSize {
				break
			}
			if err != nil {
				return nil, c.readFailed(err, c.hdrN > 0)
			}
		}
		length, err := c.noise.DecryptHeader(c.hdr[:])
		if err != nil {
			c.readErr = err
			return nil, err
		}
		c.hdrN = 0
		c.body = make([]byte, length+macSize)
		c.bodyN = 0
	}
	for c.bodyN < len(c.body) {
		n, err := c.conn.Read(c.body[c.bodyN:])
		c.bodyN += n
		if c.bodyN == len(c.body) {
			break
		}
		if err != nil {
			return nil, c.readFailed(err, true)
		}
	}
	body := c.body
	c.body = nil
	msg, err := c.noise.DecryptBody(body[:0], body)
	if err != nil {
		c.readErr = err
		return nil, err
	}
	return msg, nil
}

// readFailed classifies a read error. A timeout keeps the partial packet
// for the next call; anything else is final. EOF inside a packet is
// reported as io.ErrUnexpectedEOF.
func (c *Conn) readFailed(err error, midPacket bool) error {
	if isTimeout(err) {
		return err
	}
	if err == io.EOF && midPacket {
		err = io.ErrUnexpectedEOF
	}
	c.readErr = err
	return err
}

// Read implements net.Conn: it returns decrypted bytes, reading the next
// message when none are buffered. Message boundaries are not preserved.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for len(c.pending) == 0 {
		msg, err := c.readMessageLocked()
		if err != nil {
			return 0, err
		}
		c.pending = msg
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil
	}
	return n, nil
}

// Write implements net.Conn: b is sent as one or more messages of at most
// MaxMessageSize bytes. On error, n counts the bytes of b whose messages
// were committed (see WriteMessage on timeouts).
func (c *Conn) Write(b []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	var n int
	for len(b) > 0 {
		chunk := b[:min(len(b), MaxMessageSize)]
		committed, err := c.writeMessageLocked(chunk)
		if committed {
			n += len(chunk)
		}
		if err != nil {
			return n, err
		}
		b = b[len(chunk):]
	}
	return n, nil
}

// RemotePub returns the remote node's static key.
func (c *Conn) RemotePub() *btcec.PublicKey {
	return c.noise.RemotePub()
}

// LocalPub returns our static key.
func (c *Conn) LocalPub() *btcec.PublicKey {
	return c.noise.LocalPub()
}

// Close closes the underlying connection.
func (c *Conn) Close() error {
	return c.conn.Close()
}

// LocalAddr returns the underlying connection's local address.
func (c *Conn) LocalAddr() net.Addr {
	return c.conn.LocalAddr()
}

// RemoteAddr returns the underlying connection's remote address.
func (c *Conn) RemoteAddr() net.Addr {
	return c.conn.RemoteAddr()
}

// SetDeadline sets the underlying connection's read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	return c.conn.SetDeadline(t)
}

// SetReadDeadline sets the underlying connection's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the underlying connection's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.conn.SetWriteDeadline(t)
}
