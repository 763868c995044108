package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// FailCodeBadOnion is the BADONION bit every failure_code of
// update_fail_malformed_htlc must carry (BOLT 2, BOLT 4).
const FailCodeBadOnion uint16 = 0x8000

// UpdateFailMalformedHTLC fails an HTLC whose onion the receiver could not
// parse (BOLT 2).
type UpdateFailMalformedHTLC struct {
	ChanID       ChannelID
	ID           uint64
	ShaOnionBlob [32]byte
	FailureCode  uint16

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgUpdateFailMalformedHTLC.
func (m *UpdateFailMalformedHTLC) MsgType() MessageType {
	return MsgUpdateFailMalformedHTLC
}

// Encode writes the payload.
func (m *UpdateFailMalformedHTLC) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	putU64(w, m.ID)
	w.Write(m.ShaOnionBlob[:])
	putU16(w, m.FailureCode)
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *UpdateFailMalformedHTLC) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *UpdateFailMalformedHTLC) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := UpdateFailMalformedHTLC{
		ChanID:       d.chanID("channel_id"),
		ID:           d.u64("id"),
		ShaOnionBlob: d.bytes32("sha256_of_onion"),
		FailureCode:  d.u16("failure_code"),
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
