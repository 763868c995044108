package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// Pong answers a ping with the number of ignored bytes it asked for
// (BOLT 1).
type Pong struct {
	Padding []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// NewPong returns the pong answering a ping that asked for n bytes.
func NewPong(n uint16) *Pong {
	return &Pong{Padding: make([]byte, n)}
}

// MsgType returns MsgPong.
func (m *Pong) MsgType() MessageType { return MsgPong }

// Encode writes the payload.
func (m *Pong) Encode(w *bytes.Buffer) error {
	if err := putVarBytes(w, m.Padding, "ignored"); err != nil {
		return err
	}
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Pong) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Pong) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := Pong{Padding: d.varBytes("ignored")}
	if d.err != nil {
		return d.err
	}
	var err error
	if _, out.ExtraTLV, err = decodeExtension(d.rest(), noKnownTLV); err != nil {
		return err
	}
	*m = out
	return nil
}
