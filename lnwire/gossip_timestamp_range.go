package lnwire

import (
	"bytes"
	"io"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// GossipTimestampRange (gossip_timestamp_filter) asks the peer to send the
// gossip whose timestamps fall in a range, replacing any earlier filter
// (BOLT 7).
type GossipTimestampRange struct {
	ChainHash      chainhash.Hash
	FirstTimestamp uint32
	TimestampRange uint32

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgGossipTimestampRange.
func (m *GossipTimestampRange) MsgType() MessageType { return MsgGossipTimestampRange }

// Encode writes the payload.
func (m *GossipTimestampRange) Encode(w *bytes.Buffer) error {
	w.Write(m.ChainHash[:])
	putU32(w, m.FirstTimestamp)
	putU32(w, m.TimestampRange)
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *GossipTimestampRange) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *GossipTimestampRange) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := GossipTimestampRange{
		ChainHash:      d.hash("chain_hash"),
		FirstTimestamp: d.u32("first_timestamp"),
		TimestampRange: d.u32("timestamp_range"),
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
