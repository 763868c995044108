package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// Shutdown starts a cooperative close and names the script the sender wants
// its funds paid to (BOLT 2).
type Shutdown struct {
	ChanID ChannelID

	// Address is the scriptpubkey.
	Address []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgShutdown.
func (m *Shutdown) MsgType() MessageType { return MsgShutdown }

// Encode writes the payload.
func (m *Shutdown) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	if err := putVarBytes(w, m.Address, "scriptpubkey"); err != nil {
		return err
	}
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Shutdown) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Shutdown) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := Shutdown{ChanID: d.chanID("channel_id"), Address: d.varBytes("scriptpubkey")}
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
