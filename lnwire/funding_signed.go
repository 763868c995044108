package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// FundingSigned gives the funder the fundee's signature for the funder's
// first commitment (BOLT 2). ChanID is derived from the funding outpoint.
type FundingSigned struct {
	ChanID    ChannelID
	CommitSig Sig

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgFundingSigned.
func (m *FundingSigned) MsgType() MessageType { return MsgFundingSigned }

// Encode writes the payload.
func (m *FundingSigned) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	w.Write(m.CommitSig[:])
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *FundingSigned) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *FundingSigned) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := FundingSigned{ChanID: d.chanID("channel_id"), CommitSig: d.sig("signature")}
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
