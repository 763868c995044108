package lnwire

import (
	"bytes"
	"io"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// ReplyShortChanIDsEnd ends the replies to a query_short_channel_ids
// (BOLT 7).
type ReplyShortChanIDsEnd struct {
	ChainHash chainhash.Hash

	// Complete is full_information: 0 if the sender lacks up-to-date
	// information for the chain. Kept as the raw byte.
	Complete uint8

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgReplyShortChanIDsEnd.
func (m *ReplyShortChanIDsEnd) MsgType() MessageType { return MsgReplyShortChanIDsEnd }

// Encode writes the payload.
func (m *ReplyShortChanIDsEnd) Encode(w *bytes.Buffer) error {
	w.Write(m.ChainHash[:])
	putU8(w, m.Complete)
	return encodeExtension(w, nil, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *ReplyShortChanIDsEnd) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ReplyShortChanIDsEnd) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ReplyShortChanIDsEnd{ChainHash: d.hash("chain_hash"),
		Complete: d.u8("full_information")}
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
