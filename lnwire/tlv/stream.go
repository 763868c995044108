package tlv

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

var (
	// ErrNotIncreasing is returned when a stream's types are not in
	// strictly increasing order.
	ErrNotIncreasing = errors.New("tlv: types not strictly increasing")

	// ErrDuplicateType is returned when a stream holds the same type twice.
	// It is a special case of a non-increasing stream and wraps
	// ErrNotIncreasing.
	ErrDuplicateType = fmt.Errorf("%w: duplicate type", ErrNotIncreasing)

	// ErrUnknownEvenType is returned by CheckUnknownEven when the stream
	// holds an even type the caller does not understand.
	ErrUnknownEvenType = errors.New("tlv: unknown even type")

	// ErrRecordTooLong is returned when a record's length runs past the end
	// of the stream.
	ErrRecordTooLong = errors.New("tlv: record length exceeds remaining bytes")
)

// Record is one type-length-value record. Its length is len(Value).
type Record struct {
	Type  uint64
	Value []byte
}

// Stream is a list of records in strictly increasing type order.
type Stream []Record

// DecodeStream parses b as a complete TLV stream. It fails on a truncated or
// non-minimal type or length, a length past the end of b, and on types that
// are not strictly increasing (out of order or duplicated). The returned
// records' values alias b.
//
// DecodeStream knows nothing about the meaning of any type; see
// CheckUnknownEven.
func DecodeStream(b []byte) (Stream, error) {
	if len(b) == 0 {
		return nil, nil
	}
	// Each record is at least two bytes; this bounds the allocation.
	s := make(Stream, 0, min(len(b)/2, 4))
	for len(b) > 0 {
		typ, n, err := ParseBigSize(b)
		if err != nil {
			return nil, fmt.Errorf("tlv: type: %w", unexpected(err))
		}
		b = b[n:]
		if k := len(s); k > 0 && typ <= s[k-1].Type {
			if typ == s[k-1].Type {
				return nil, fmt.Errorf("%w: %d", ErrDuplicateType, typ)
			}
			return nil, fmt.Errorf("%w: %d after %d", ErrNotIncreasing,
				typ, s[k-1].Type)
		}
		l, n, err := ParseBigSize(b)
		if err != nil {
			return nil, fmt.Errorf("tlv: type %d: length: %w", typ,
				unexpected(err))
		}
		b = b[n:]
		if l > uint64(len(b)) {
			return nil, fmt.Errorf("%w: type %d length %d, %d left",
				ErrRecordTooLong, typ, l, len(b))
		}
		s = append(s, Record{Type: typ, Value: b[:l:l]})
		b = b[l:]
	}
	return s, nil
}

// unexpected turns io.EOF (nothing left where something must follow) into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// EncodedLen returns the number of bytes Encode produces.
func (s Stream) EncodedLen() int {
	n := 0
	for _, r := range s {
		n += BigSizeLen(r.Type) + BigSizeLen(uint64(len(r.Value))) +
			len(r.Value)
	}
	return n
}

// Encode serialises the stream in its current order. A stream built with
// Set, or returned by DecodeStream, is canonical.
func (s Stream) Encode() []byte {
	if len(s) == 0 {
		return nil
	}
	return s.AppendTo(make([]byte, 0, s.EncodedLen()))
}

// AppendTo appends the encoded stream to b.
func (s Stream) AppendTo(b []byte) []byte {
	for _, r := range s {
		b = AppendBigSize(b, r.Type)
		b = AppendBigSize(b, uint64(len(r.Value)))
		b = append(b, r.Value...)
	}
	return b
}

// find returns the index of typ in s, or where it would be inserted.
func (s Stream) find(typ uint64) (int, bool) {
	return slices.BinarySearchFunc(s, typ, func(r Record, t uint64) int {
		switch {
		case r.Type < t:
			return -1
		case r.Type > t:
			return 1
		}
		return 0
	})
}

// Get returns the value of record typ and whether it is present.
func (s Stream) Get(typ uint64) ([]byte, bool) {
	i, ok := s.find(typ)
	if !ok {
		return nil, false
	}
	return s[i].Value, true
}

// Set stores value under typ, replacing any record of that type and keeping
// the stream in increasing order.
func (s *Stream) Set(typ uint64, value []byte) {
	i, ok := s.find(typ)
	if ok {
		(*s)[i].Value = value
		return
	}
	*s = slices.Insert(*s, i, Record{Type: typ, Value: value})
}

// Delete removes the record of type typ, if present.
func (s *Stream) Delete(typ uint64) {
	if i, ok := s.find(typ); ok {
		*s = slices.Delete(*s, i, i+1)
	}
}

// CheckUnknownEven returns an error wrapping ErrUnknownEvenType, naming the
// type, for the first even type in s for which known returns false. A nil
// known treats every type as unknown.
func (s Stream) CheckUnknownEven(known func(typ uint64) bool) error {
	for _, r := range s {
		if r.Type%2 != 0 {
			continue
		}
		if known == nil || !known(r.Type) {
			return fmt.Errorf("%w: %d", ErrUnknownEvenType, r.Type)
		}
	}
	return nil
}

// Validate checks that s is in strictly increasing type order, as Encode
// requires for a canonical stream.
func (s Stream) Validate() error {
	for i := 1; i < len(s); i++ {
		if s[i].Type <= s[i-1].Type {
			return fmt.Errorf("%w: %d after %d", ErrNotIncreasing,
				s[i].Type, s[i-1].Type)
		}
	}
	return nil
}
