package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// ChannelAnnouncement proves a channel exists on chain and is controlled by
// its two nodes (BOLT 7). Keys are kept as raw 33-byte values; the gossip
// validator parses them when checking the four signatures.
type ChannelAnnouncement struct {
	NodeSig1    Sig
	NodeSig2    Sig
	BitcoinSig1 Sig
	BitcoinSig2 Sig

	Features       *RawFeatureVector
	ChainHash      chainhash.Hash
	ShortChannelID ShortChannelID
	NodeID1        [33]byte
	NodeID2        [33]byte
	BitcoinKey1    [33]byte
	BitcoinKey2    [33]byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged; the
	// signatures cover them.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgChannelAnnouncement.
func (m *ChannelAnnouncement) MsgType() MessageType { return MsgChannelAnnouncement }

// Encode writes the payload.
func (m *ChannelAnnouncement) Encode(w *bytes.Buffer) error {
	w.Write(m.NodeSig1[:])
	w.Write(m.NodeSig2[:])
	w.Write(m.BitcoinSig1[:])
	w.Write(m.BitcoinSig2[:])
	return m.encodeSigned(w)
}

// encodeSigned writes the part the signatures cover.
func (m *ChannelAnnouncement) encodeSigned(w *bytes.Buffer) error {
	if err := m.Features.Encode(w); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	w.Write(m.ChainHash[:])
	putU64(w, m.ShortChannelID.ToUint64())
	w.Write(m.NodeID1[:])
	w.Write(m.NodeID2[:])
	w.Write(m.BitcoinKey1[:])
	w.Write(m.BitcoinKey2[:])
	return encodeExtension(w, nil, m.ExtraTLV)
}

// DataToSign returns the bytes the four signatures sign (after double
// SHA-256): the message from the features length to the end.
func (m *ChannelAnnouncement) DataToSign() ([]byte, error) {
	var w bytes.Buffer
	if err := m.encodeSigned(&w); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// Decode reads the payload from r.
func (m *ChannelAnnouncement) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ChannelAnnouncement) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ChannelAnnouncement{
		NodeSig1:    d.sig("node_signature_1"),
		NodeSig2:    d.sig("node_signature_2"),
		BitcoinSig1: d.sig("bitcoin_signature_1"),
		BitcoinSig2: d.sig("bitcoin_signature_2"),
	}
	features := d.varBytes("features")
	out.ChainHash = d.hash("chain_hash")
	out.ShortChannelID = d.scid("short_channel_id")
	out.NodeID1 = d.rawPoint("node_id_1")
	out.NodeID2 = d.rawPoint("node_id_2")
	out.BitcoinKey1 = d.rawPoint("bitcoin_key_1")
	out.BitcoinKey2 = d.rawPoint("bitcoin_key_2")
	if d.err != nil {
		return d.err
	}
	var err error
	if out.Features, err = NewRawFeatureVectorFromBytes(features); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if _, out.ExtraTLV, err = decodeExtension(d.rest(), noKnownTLV); err != nil {
		return err
	}
	*m = out
	return nil
}
