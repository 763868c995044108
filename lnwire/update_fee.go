package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// UpdateFee changes the commitment fee rate (BOLT 2); only the channel
// opener sends it.
type UpdateFee struct {
	ChanID   ChannelID
	FeePerKw uint32

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgUpdateFee.
func (m *UpdateFee) MsgType() MessageType { return MsgUpdateFee }

// Encode writes the payload.
func (m *UpdateFee) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	putU32(w, m.FeePerKw)
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *UpdateFee) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *UpdateFee) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := UpdateFee{ChanID: d.chanID("channel_id"), FeePerKw: d.u32("feerate_per_kw")}
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
