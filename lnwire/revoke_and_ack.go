package lnwire

import (
	"bytes"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/lnwire/tlv"
)

// RevokeAndAck revokes the sender's previous commitment by revealing its
// per-commitment secret, and gives the point for the one after next
// (BOLT 2).
type RevokeAndAck struct {
	ChanID            ChannelID
	Revocation        [32]byte
	NextRevocationKey *btcec.PublicKey

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgRevokeAndAck.
func (m *RevokeAndAck) MsgType() MessageType { return MsgRevokeAndAck }

// Encode writes the payload.
func (m *RevokeAndAck) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	w.Write(m.Revocation[:])
	if err := putPoint(w, m.NextRevocationKey,
		"next_per_commitment_point"); err != nil {
		return err
	}
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *RevokeAndAck) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *RevokeAndAck) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := RevokeAndAck{
		ChanID:     d.chanID("channel_id"),
		Revocation: d.bytes32("per_commitment_secret"),
	}
	out.NextRevocationKey = d.point("next_per_commitment_point")
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
