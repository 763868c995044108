package tlv

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrIntTooLong is returned when a truncated integer has more bytes than
// its type allows.
var ErrIntTooLong = errors.New("tlv: truncated integer too long")

// EncodeTU64 returns the minimal big-endian encoding of v with leading zero
// bytes removed (zero encodes as no bytes at all).
func EncodeTU64(v uint64) []byte {
	return AppendTU64(nil, v)
}

// AppendTU64 appends the truncated encoding of v to b.
func AppendTU64(b []byte, v uint64) []byte {
	n := (bits.Len64(v) + 7) / 8
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// TULen returns the length of the truncated encoding of v.
func TULen(v uint64) int {
	return (bits.Len64(v) + 7) / 8
}

// decodeTU decodes a truncated integer of at most max bytes.
func decodeTU(b []byte, max int) (uint64, error) {
	if len(b) > max {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrIntTooLong,
			len(b), max)
	}
	if len(b) > 0 && b[0] == 0 {
		return 0, ErrNonCanonical
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// DecodeTU64 decodes a tu64: at most 8 bytes, no leading zero byte.
func DecodeTU64(b []byte) (uint64, error) {
	return decodeTU(b, 8)
}

// EncodeTU32 returns the truncated encoding of a tu32.
func EncodeTU32(v uint32) []byte {
	return AppendTU64(nil, uint64(v))
}

// DecodeTU32 decodes a tu32: at most 4 bytes, no leading zero byte.
func DecodeTU32(b []byte) (uint32, error) {
	v, err := decodeTU(b, 4)
	return uint32(v), err
}

// EncodeTU16 returns the truncated encoding of a tu16.
func EncodeTU16(v uint16) []byte {
	return AppendTU64(nil, uint64(v))
}

// DecodeTU16 decodes a tu16: at most 2 bytes, no leading zero byte.
func DecodeTU16(b []byte) (uint16, error) {
	v, err := decodeTU(b, 2)
	return uint16(v), err
}
