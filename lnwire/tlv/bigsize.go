package tlv

import (
	"encoding/binary"
	"errors"
	"io"
)

// ErrNonCanonical is returned when an integer (a BigSize, or a truncated
// tu16/tu32/tu64) is not minimally encoded.
var ErrNonCanonical = errors.New("tlv: integer is not minimally encoded")

// BigSizeLen returns the number of bytes BigSize uses to encode v: 1, 3, 5
// or 9.
func BigSizeLen(v uint64) int {
	switch {
	case v < 0xfd:
		return 1
	case v <= 0xffff:
		return 3
	case v <= 0xffffffff:
		return 5
	default:
		return 9
	}
}

// AppendBigSize appends the BigSize encoding of v to b and returns the
// extended slice.
func AppendBigSize(b []byte, v uint64) []byte {
	switch {
	case v < 0xfd:
		return append(b, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xfd), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xfe), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xff), v)
	}
}

// WriteBigSize writes the BigSize encoding of v to w.
func WriteBigSize(w io.Writer, v uint64) error {
	var buf [9]byte
	_, err := w.Write(AppendBigSize(buf[:0], v))
	return err
}

// ReadBigSize reads one BigSize integer from r. It returns io.EOF if r is
// empty, io.ErrUnexpectedEOF if the encoding is cut short, and
// ErrNonCanonical if the value could have been encoded in fewer bytes.
func ReadBigSize(r io.Reader) (uint64, error) {
	var buf [9]byte
	if _, err := io.ReadFull(r, buf[:1]); err != nil {
		return 0, err
	}
	n := bigSizeWidth(buf[0])
	if n == 1 {
		return uint64(buf[0]), nil
	}
	if _, err := io.ReadFull(r, buf[1:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	v, _, err := ParseBigSize(buf[:n])
	return v, err
}

// bigSizeWidth returns the full encoded width implied by a BigSize prefix.
func bigSizeWidth(prefix byte) int {
	switch prefix {
	case 0xfd:
		return 3
	case 0xfe:
		return 5
	case 0xff:
		return 9
	default:
		return 1
	}
}

// ParseBigSize decodes a BigSize integer from the front of b and returns it
// with the number of bytes it used. Errors are as for ReadBigSize.
func ParseBigSize(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, io.EOF
	}
	n = bigSizeWidth(b[0])
	if len(b) < n {
		return 0, 0, io.ErrUnexpectedEOF
	}
	var min uint64
	switch n {
	case 1:
		return uint64(b[0]), 1, nil
	case 3:
		v, min = uint64(binary.BigEndian.Uint16(b[1:3])), 0xfd
	case 5:
		v, min = uint64(binary.BigEndian.Uint32(b[1:5])), 0x10000
	default:
		v, min = binary.BigEndian.Uint64(b[1:9]), 0x100000000
	}
	if v < min {
		return 0, 0, ErrNonCanonical
	}
	return v, n, nil
}
