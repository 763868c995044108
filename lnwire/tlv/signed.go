package tlv

import (
	"encoding/binary"
	"fmt"
)

// AppendInt appends v as big-endian two's complement in the smallest of the
// BOLT 1 signed widths (s8, s16, s32, s64) that holds it.
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= -1<<7 && v < 1<<7:
		return append(b, byte(v))
	case v >= -1<<15 && v < 1<<15:
		return binary.BigEndian.AppendUint16(b, uint16(v))
	case v >= -1<<31 && v < 1<<31:
		return binary.BigEndian.AppendUint32(b, uint32(v))
	default:
		return binary.BigEndian.AppendUint64(b, uint64(v))
	}
}

// DecodeInt decodes an s8, s16, s32 or s64 according to len(b).
func DecodeInt(b []byte) (int64, error) {
	switch len(b) {
	case 1:
		return int64(int8(b[0])), nil
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("tlv: signed integer of %d bytes", len(b))
}
