package lnwire

import (
	"encoding/hex"

	"github.com/btcsuite/btcd/wire"
)

// ChannelID identifies a channel in BOLT 2 messages once the funding output
// is known (before that, a random temporary ID of the same form is used).
type ChannelID [32]byte

// NewChanIDFromOutPoint derives the channel ID of a funding outpoint (BOLT 2
// "Definition of channel_id"): the funding txid, in the byte order it has in
// a serialized transaction, XOR the 2-byte big-endian output index into the
// last two bytes. BOLT 2 limits funding output indexes to 16 bits; higher
// bits are ignored.
func NewChanIDFromOutPoint(op wire.OutPoint) ChannelID {
	cid := ChannelID(op.Hash)
	cid[30] ^= byte(op.Index >> 8)
	cid[31] ^= byte(op.Index)
	return cid
}

// IsChanPoint reports whether the channel ID was derived from op.
func (c ChannelID) IsChanPoint(op wire.OutPoint) bool {
	return op.Index <= 0xffff && NewChanIDFromOutPoint(op) == c
}

// IsZero reports whether the ID is all zeros, which in error and warning
// messages refers to every channel with the peer.
func (c ChannelID) IsZero() bool { return c == ChannelID{} }

// String returns the hex form.
func (c ChannelID) String() string { return hex.EncodeToString(c[:]) }
