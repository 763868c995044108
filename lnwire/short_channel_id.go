package lnwire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadShortChanID is returned when parsing a malformed "BxTxO" string.
var ErrBadShortChanID = errors.New("lnwire: malformed short channel ID")

// ShortChannelID locates a channel's funding output on chain (BOLT 7): the
// block height (3 bytes), the transaction's index in the block (3 bytes) and
// the output index (2 bytes), packed big-endian into a u64.
type ShortChannelID struct {
	BlockHeight uint32
	TxIndex     uint32
	TxPosition  uint16
}

// NewShortChanIDFromInt unpacks the u64 wire form.
func NewShortChanIDFromInt(v uint64) ShortChannelID {
	return ShortChannelID{
		BlockHeight: uint32(v >> 40),
		TxIndex:     uint32(v>>16) & 0xffffff,
		TxPosition:  uint16(v),
	}
}

// ToUint64 packs the ID into its u64 wire form. Block height and tx index
// above 2^24-1 are truncated to 24 bits; Valid reports them.
func (s ShortChannelID) ToUint64() uint64 {
	return uint64(s.BlockHeight&0xffffff)<<40 |
		uint64(s.TxIndex&0xffffff)<<16 | uint64(s.TxPosition)
}

// Valid reports whether the height and tx index fit their 3 bytes.
func (s ShortChannelID) Valid() bool {
	return s.BlockHeight <= 0xffffff && s.TxIndex <= 0xffffff
}

// String returns the BOLT 7 human form "539268x845x1".
func (s ShortChannelID) String() string {
	return fmt.Sprintf("%dx%dx%d", s.BlockHeight, s.TxIndex, s.TxPosition)
}

// ParseShortChannelID parses the "BxTxO" form written by String.
func ParseShortChannelID(str string) (ShortChannelID, error) {
	parts := strings.Split(str, "x")
	if len(parts) != 3 {
		return ShortChannelID{}, fmt.Errorf("%w: %q", ErrBadShortChanID, str)
	}
	var v [3]uint64
	for i, bits := range []int{24, 24, 16} {
		p := parts[i]
		// Decimal digits only: no signs, no spaces, no hex.
		if p == "" || strings.TrimLeft(p, "0123456789") != "" {
			return ShortChannelID{}, fmt.Errorf("%w: %q", ErrBadShortChanID,
				str)
		}
		n, err := strconv.ParseUint(p, 10, bits)
		if err != nil {
			return ShortChannelID{}, fmt.Errorf("%w: %q: %v",
				ErrBadShortChanID, str, err)
		}
		v[i] = n
	}
	return ShortChannelID{
		BlockHeight: uint32(v[0]),
		TxIndex:     uint32(v[1]),
		TxPosition:  uint16(v[2]),
	}, nil
}
