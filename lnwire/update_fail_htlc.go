package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// UpdateFailHTLC fails an HTLC with an encrypted failure reason for the
// payer (BOLT 2, BOLT 4).
type UpdateFailHTLC struct {
	ChanID ChannelID
	ID     uint64
	Reason []byte

	// AttributionData is the attribution_data record, nil if absent.
	AttributionData *AttributionData

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgUpdateFailHTLC.
func (m *UpdateFailHTLC) MsgType() MessageType { return MsgUpdateFailHTLC }

// Encode writes the payload.
func (m *UpdateFailHTLC) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	putU64(w, m.ID)
	if err := putVarBytes(w, m.Reason, "reason"); err != nil {
		return err
	}
	return encodeExtension(w, attributionTLVs(m.AttributionData), m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *UpdateFailHTLC) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *UpdateFailHTLC) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := UpdateFailHTLC{
		ChanID: d.chanID("channel_id"),
		ID:     d.u64("id"),
		Reason: d.varBytes("reason"),
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
