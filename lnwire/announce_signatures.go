package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// AnnounceSignatures gives the peer the sender's two signatures for the
// channel_announcement of a channel both want public (BOLT 7).
type AnnounceSignatures struct {
	ChannelID        ChannelID
	ShortChannelID   ShortChannelID
	NodeSignature    Sig
	BitcoinSignature Sig

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgAnnounceSignatures.
func (m *AnnounceSignatures) MsgType() MessageType { return MsgAnnounceSignatures }

// Encode writes the payload.
func (m *AnnounceSignatures) Encode(w *bytes.Buffer) error {
	w.Write(m.ChannelID[:])
	putU64(w, m.ShortChannelID.ToUint64())
	w.Write(m.NodeSignature[:])
	w.Write(m.BitcoinSignature[:])
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *AnnounceSignatures) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *AnnounceSignatures) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := AnnounceSignatures{
		ChannelID:        d.chanID("channel_id"),
		ShortChannelID:   d.scid("short_channel_id"),
		NodeSignature:    d.sig("node_signature"),
		BitcoinSignature: d.sig("bitcoin_signature"),
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
