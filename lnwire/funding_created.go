package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire/tlv"
)

// FundingCreated gives the funding outpoint and the funder's signature for
// the fundee's first commitment (BOLT 2).
type FundingCreated struct {
	PendingChannelID [32]byte

	// FundingPoint is the funding output; its index is sent as a u16.
	FundingPoint wire.OutPoint
	CommitSig    Sig

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgFundingCreated.
func (m *FundingCreated) MsgType() MessageType { return MsgFundingCreated }

// Encode writes the payload.
func (m *FundingCreated) Encode(w *bytes.Buffer) error {
	if m.FundingPoint.Index > 0xffff {
		return fmt.Errorf("funding_output_index %d above 65535",
			m.FundingPoint.Index)
	}
	w.Write(m.PendingChannelID[:])
	w.Write(m.FundingPoint.Hash[:])
	putU16(w, uint16(m.FundingPoint.Index))
	w.Write(m.CommitSig[:])
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *FundingCreated) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *FundingCreated) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := FundingCreated{PendingChannelID: d.bytes32("temporary_channel_id")}
	out.FundingPoint.Hash = d.hash("funding_txid")
	out.FundingPoint.Index = uint32(d.u16("funding_output_index"))
	out.CommitSig = d.sig("signature")
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
