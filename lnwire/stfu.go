package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// Stfu asks the peer to quiesce the channel (BOLT 2 option_quiesce).
type Stfu struct {
	ChanID    ChannelID
	Initiator bool

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgStfu.
func (m *Stfu) MsgType() MessageType { return MsgStfu }

// Encode writes the payload.
func (m *Stfu) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	var init uint8
	if m.Initiator {
		init = 1
	}
	putU8(w, init)
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Stfu) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Stfu) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := Stfu{ChanID: d.chanID("channel_id")}
	init := d.u8("initiator")
	if d.err != nil {
		return d.err
	}
	if init > 1 {
		return fmt.Errorf("initiator %d is neither 0 nor 1", init)
	}
	out.Initiator = init == 1
	var err error
	if _, out.ExtraTLV, err = decodeExtension(d.rest(), noKnownTLV); err != nil {
		return err
	}
	*m = out
	return nil
}
