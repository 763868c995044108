package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// MaxPongBytes is the largest pong a ping may ask for: 65535 less the pong's
// type and length fields. A ping asking for more (65532 or above) must be
// ignored, which lets a sender ping without wanting a reply (BOLT 1).
const MaxPongBytes = 65531

// Ping keeps a connection alive and asks for a pong of NumPongBytes ignored
// bytes (BOLT 1).
type Ping struct {
	NumPongBytes uint16
	Padding      []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// NewPing returns a ping asking for numPongBytes, with paddingLen zero
// bytes of padding.
func NewPing(numPongBytes uint16, paddingLen int) *Ping {
	return &Ping{NumPongBytes: numPongBytes, Padding: make([]byte, paddingLen)}
}

// MsgType returns MsgPing.
func (m *Ping) MsgType() MessageType { return MsgPing }

// WantsPong reports whether BOLT 1 requires answering: NumPongBytes below
// 65532.
func (m *Ping) WantsPong() bool { return m.NumPongBytes <= MaxPongBytes }

// Encode writes the payload.
func (m *Ping) Encode(w *bytes.Buffer) error {
	putU16(w, m.NumPongBytes)
	if err := putVarBytes(w, m.Padding, "ignored"); err != nil {
		return err
	}
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Ping) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Ping) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := Ping{
		NumPongBytes: d.u16("num_pong_bytes"),
		Padding:      d.varBytes("ignored"),
	}
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
