package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// UpdateFulfillHTLC settles an HTLC with its preimage (BOLT 2).
type UpdateFulfillHTLC struct {
	ChanID          ChannelID
	ID              uint64
	PaymentPreimage [32]byte

	// AttributionData is the attribution_data record, nil if absent.
	AttributionData *AttributionData

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgUpdateFulfillHTLC.
func (m *UpdateFulfillHTLC) MsgType() MessageType { return MsgUpdateFulfillHTLC }

// Encode writes the payload.
func (m *UpdateFulfillHTLC) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	putU64(w, m.ID)
	w.Write(m.PaymentPreimage[:])
	return encodeExtension(w, attributionTLVs(m.AttributionData), m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *UpdateFulfillHTLC) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *UpdateFulfillHTLC) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := UpdateFulfillHTLC{
		ChanID:          d.chanID("channel_id"),
		ID:              d.u64("id"),
		PaymentPreimage: d.bytes32("payment_preimage"),
	}
	if d.err != nil {
		return d.err
	}
	var err error
	out.AttributionData, out.ExtraTLV, err = decodeAttributionExtension(d.rest())
	if err != nil {
		return err
	}
	*m = out
	return nil
}
