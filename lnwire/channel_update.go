package lnwire

import (
	"bytes"
	"hash/crc32"
	"io"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// ChanUpdateMsgFlags is the message_flags byte of channel_update.
type ChanUpdateMsgFlags uint8

const (
	// MsgFlagMustBeOne is bit 0; it used to announce that
	// htlc_maximum_msat is present, which BOLT 7 now requires.
	MsgFlagMustBeOne ChanUpdateMsgFlags = 1 << 0

	// MsgFlagDontForward asks that the update not be relayed (private
	// channels).
	MsgFlagDontForward ChanUpdateMsgFlags = 1 << 1
)

// ChanUpdateChanFlags is the channel_flags byte of channel_update.
type ChanUpdateChanFlags uint8

const (
	// ChanFlagDirection is 0 when node_id_1 sent the update, 1 for
	// node_id_2.
	ChanFlagDirection ChanUpdateChanFlags = 1 << 0

	// ChanFlagDisabled marks the channel as unusable in that direction.
	ChanFlagDisabled ChanUpdateChanFlags = 1 << 1
)

// ChannelUpdate announces one direction's forwarding policy (BOLT 7).
//
// htlc_maximum_msat is present when MessageFlags has MsgFlagMustBeOne set,
// as BOLT 7 requires; an update from a node so old that the bit is clear is
// decoded without it (HtlcMaximumMsat zero), so that it re-encodes as
// received. Gossip validation rejects such updates.
type ChannelUpdate struct {
	Signature       Sig
	ChainHash       chainhash.Hash
	ShortChannelID  ShortChannelID
	Timestamp       uint32
	MessageFlags    ChanUpdateMsgFlags
	ChannelFlags    ChanUpdateChanFlags
	TimeLockDelta   uint16
	HtlcMinimumMsat MilliSatoshi
	BaseFee         uint32
	FeeRate         uint32
	HtlcMaximumMsat MilliSatoshi

	// ExtraTLV holds unknown odd records, re-encoded unchanged; the
	// signature covers them.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgChannelUpdate.
func (m *ChannelUpdate) MsgType() MessageType { return MsgChannelUpdate }

// Encode writes the payload.
func (m *ChannelUpdate) Encode(w *bytes.Buffer) error {
	w.Grow(64 + 32 + 8 + 4 + 2 + 2 + 8 + 4 + 4 + 8)
	w.Write(m.Signature[:])
	return m.encodeSigned(w, true)
}

// encodeSigned writes everything after the signature, or (for the checksum)
// also without the timestamp.
func (m *ChannelUpdate) encodeSigned(w *bytes.Buffer, timestamp bool) error {
	w.Write(m.ChainHash[:])
	putU64(w, m.ShortChannelID.ToUint64())
	if timestamp {
		putU32(w, m.Timestamp)
	}
	putU8(w, uint8(m.MessageFlags))
	putU8(w, uint8(m.ChannelFlags))
	putU16(w, m.TimeLockDelta)
	putU64(w, uint64(m.HtlcMinimumMsat))
	putU32(w, m.BaseFee)
	putU32(w, m.FeeRate)
	if m.MessageFlags&MsgFlagMustBeOne != 0 {
		putU64(w, uint64(m.HtlcMaximumMsat))
	}
	return encodeExtension(w, nil, m.ExtraTLV)
}

// DataToSign returns the bytes the signature signs (after double SHA-256):
// everything after the signature.
func (m *ChannelUpdate) DataToSign() ([]byte, error) {
	var w bytes.Buffer
	if err := m.encodeSigned(&w, true); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// Checksum returns the BOLT 7 checksum used by reply_channel_range: CRC32C
// of the update without its signature and timestamp.
func (m *ChannelUpdate) Checksum() (uint32, error) {
	var w bytes.Buffer
	if err := m.encodeSigned(&w, false); err != nil {
		return 0, err
	}
	return crc32.Checksum(w.Bytes(), crc32.MakeTable(crc32.Castagnoli)), nil
}

// IsDisabled reports whether the update disables its direction.
func (m *ChannelUpdate) IsDisabled() bool {
	return m.ChannelFlags&ChanFlagDisabled != 0
}

// Direction returns 0 if node_id_1 sent the update, 1 for node_id_2.
func (m *ChannelUpdate) Direction() int {
	return int(m.ChannelFlags & ChanFlagDirection)
}

// Decode reads the payload from r.
func (m *ChannelUpdate) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ChannelUpdate) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ChannelUpdate{
		Signature:       d.sig("signature"),
		ChainHash:       d.hash("chain_hash"),
		ShortChannelID:  d.scid("short_channel_id"),
		Timestamp:       d.u32("timestamp"),
		MessageFlags:    ChanUpdateMsgFlags(d.u8("message_flags")),
		ChannelFlags:    ChanUpdateChanFlags(d.u8("channel_flags")),
		TimeLockDelta:   d.u16("cltv_expiry_delta"),
		HtlcMinimumMsat: MilliSatoshi(d.u64("htlc_minimum_msat")),
		BaseFee:         d.u32("fee_base_msat"),
		FeeRate:         d.u32("fee_proportional_millionths"),
	}
	if out.MessageFlags&MsgFlagMustBeOne != 0 {
		out.HtlcMaximumMsat = MilliSatoshi(d.u64("htlc_maximum_msat"))
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
