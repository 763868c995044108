package lnwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
)

// FeatureBit is the index of a feature flag (BOLT 9), counted from the least
// significant bit of a feature field. Even bits are required ("compulsory"),
// odd bits optional.
type FeatureBit uint16

// IsRequired reports whether the bit is the even (required) one of its pair.
func (b FeatureBit) IsRequired() bool { return b%2 == 0 }

// Required returns the even bit of b's pair.
func (b FeatureBit) Required() FeatureBit { return b &^ 1 }

// Optional returns the odd bit of b's pair.
func (b FeatureBit) Optional() FeatureBit { return b | 1 }

// String returns the feature's BOLT 9 name and the bit, e.g.
// "option_anchors(22)", or "unknown(100)".
func (b FeatureBit) String() string {
	return fmt.Sprintf("%s(%d)", b.Name(), uint16(b))
}

// Name returns the feature's BOLT 9 name, or "unknown".
func (b FeatureBit) Name() string {
	if d, ok := lookupFeature(b); ok {
		return d.name
	}
	return "unknown"
}

// MaxFeatureBit is the highest bit a RawFeatureVector can hold.
const MaxFeatureBit = math.MaxUint16

// ErrFeatureBitTooHigh is returned when decoding a feature field with a set
// bit above MaxFeatureBit.
var ErrFeatureBitTooHigh = errors.New("lnwire: feature bit above 65535")

// RawFeatureVector is a set of feature bits as carried in init,
// node_announcement, channel_announcement, channel_type and invoices. The
// zero value is an empty vector.
//
// Encoding is big-endian: the last byte holds bits 0-7. A vector built in
// memory encodes in the minimum number of bytes. A decoded vector remembers
// its wire length, so that re-encoding reproduces leading zero bytes a
// peer may have sent (node_announcement signatures cover them).
type RawFeatureVector struct {
	// le holds bit i in le[i/8] & (1 << (i%8)).
	le []byte

	// wireLen is the encoded length seen when decoding, zero otherwise.
	wireLen int
}

// NewRawFeatureVector returns a vector with the given bits set.
func NewRawFeatureVector(bits ...FeatureBit) *RawFeatureVector {
	fv := &RawFeatureVector{}
	for _, b := range bits {
		fv.Set(b)
	}
	return fv
}

// Set sets bit b.
func (fv *RawFeatureVector) Set(b FeatureBit) {
	i := int(b / 8)
	if i >= len(fv.le) {
		fv.le = append(fv.le, make([]byte, i+1-len(fv.le))...)
	}
	fv.le[i] |= 1 << (b % 8)
}

// Unset clears bit b.
func (fv *RawFeatureVector) Unset(b FeatureBit) {
	if i := int(b / 8); i < len(fv.le) {
		fv.le[i] &^= 1 << (b % 8)
	}
}

// IsSet reports whether bit b is set. A nil vector has no bits.
func (fv *RawFeatureVector) IsSet(b FeatureBit) bool {
	if fv == nil {
		return false
	}
	i := int(b / 8)
	return i < len(fv.le) && fv.le[i]&(1<<(b%8)) != 0
}

// IsEmpty reports whether no bit is set.
func (fv *RawFeatureVector) IsEmpty() bool {
	return fv.minLen() == 0
}

// Bits returns the set bits in increasing order.
func (fv *RawFeatureVector) Bits() []FeatureBit {
	if fv == nil {
		return nil
	}
	var out []FeatureBit
	for i, c := range fv.le {
		for c != 0 {
			j := bits.TrailingZeros8(c)
			out = append(out, FeatureBit(i*8+j))
			c &^= 1 << j
		}
	}
	return out
}

// Clone returns an independent copy.
func (fv *RawFeatureVector) Clone() *RawFeatureVector {
	if fv == nil {
		return NewRawFeatureVector()
	}
	return &RawFeatureVector{le: slices.Clone(fv.le), wireLen: fv.wireLen}
}

// Equals reports whether both vectors have the same bits set (wire padding
// is ignored).
func (fv *RawFeatureVector) Equals(o *RawFeatureVector) bool {
	a, b := fv.trimmed(), o.trimmed()
	return bytes.Equal(a, b)
}

func (fv *RawFeatureVector) trimmed() []byte {
	if fv == nil {
		return nil
	}
	return fv.le[:fv.minLen()]
}

// minLen is the minimal encoded length.
func (fv *RawFeatureVector) minLen() int {
	if fv == nil {
		return 0
	}
	n := len(fv.le)
	for n > 0 && fv.le[n-1] == 0 {
		n--
	}
	return n
}

// SerializeSize is the length of Bytes.
func (fv *RawFeatureVector) SerializeSize() int {
	if fv == nil {
		return 0
	}
	return max(fv.minLen(), fv.wireLen)
}

// Bytes returns the big-endian feature field without a length prefix.
func (fv *RawFeatureVector) Bytes() []byte {
	n := fv.SerializeSize()
	out := make([]byte, n)
	if fv != nil {
		for i := 0; i < n && i < len(fv.le); i++ {
			out[n-1-i] = fv.le[i]
		}
	}
	return out
}

// Encode writes the field with a u16 length prefix, as in init and the
// announcements.
func (fv *RawFeatureVector) Encode(w io.Writer) error {
	b := fv.Bytes()
	if len(b) > math.MaxUint16 {
		return ErrFieldTooLong
	}
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(b)))
	if _, err := w.Write(l[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// Decode reads a u16 length-prefixed feature field.
func (fv *RawFeatureVector) Decode(r io.Reader) error {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return unexpectedEOF(err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return unexpectedEOF(err)
	}
	return fv.SetBytes(b)
}

// SetBytes replaces the vector with the big-endian field b (no length
// prefix), remembering len(b) as its wire length.
func (fv *RawFeatureVector) SetBytes(b []byte) error {
	// Bits above MaxFeatureBit live in bytes before the last 8192.
	const maxBytes = (MaxFeatureBit + 1) / 8
	if len(b) > maxBytes {
		for _, c := range b[:len(b)-maxBytes] {
			if c != 0 {
				return ErrFeatureBitTooHigh
			}
		}
	}
	le := make([]byte, min(len(b), maxBytes))
	for i := range le {
		le[i] = b[len(b)-1-i]
	}
	fv.le = le
	fv.wireLen = len(b)
	return nil
}

// NewRawFeatureVectorFromBytes decodes a big-endian field without length
// prefix.
func NewRawFeatureVectorFromBytes(b []byte) (*RawFeatureVector, error) {
	fv := &RawFeatureVector{}
	if err := fv.SetBytes(b); err != nil {
		return nil, err
	}
	return fv, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Merge returns the bitwise OR of the vectors (as BOLT 1 asks for init's
// globalfeatures and features).
func Merge(vs ...*RawFeatureVector) *RawFeatureVector {
	out := NewRawFeatureVector()
	for _, v := range vs {
		for _, b := range v.Bits() {
			out.Set(b)
		}
	}
	return out
}

// FeatureVector is a RawFeatureVector read with the BOLT 9 meanings of its
// bits.
type FeatureVector struct {
	*RawFeatureVector
}

// NewFeatureVector wraps raw (nil means empty).
func NewFeatureVector(raw *RawFeatureVector) *FeatureVector {
	if raw == nil {
		raw = NewRawFeatureVector()
	}
	return &FeatureVector{RawFeatureVector: raw}
}

// HasFeature reports whether either bit of b's pair is set: the feature is
// offered, optionally or as required.
func (fv *FeatureVector) HasFeature(b FeatureBit) bool {
	return fv.IsSet(b.Required()) || fv.IsSet(b.Optional())
}

// RequiresFeature reports whether the even bit of b's pair is set.
func (fv *FeatureVector) RequiresFeature(b FeatureBit) bool {
	return fv.IsSet(b.Required())
}

// Name returns the BOLT 9 name of b, or "unknown".
func (fv *FeatureVector) Name(b FeatureBit) string { return b.Name() }

// UnknownRequiredFeatures returns the set even bits that BOLT 9 does not
// define. A peer requiring one of them must be refused (BOLT 1 init).
func (fv *FeatureVector) UnknownRequiredFeatures() []FeatureBit {
	var out []FeatureBit
	for _, b := range fv.Bits() {
		if _, ok := lookupFeature(b); !ok && b.IsRequired() {
			out = append(out, b)
		}
	}
	return out
}

// UnknownFeatures returns every set bit that BOLT 9 does not define.
func (fv *FeatureVector) UnknownFeatures() []FeatureBit {
	var out []FeatureBit
	for _, b := range fv.Bits() {
		if _, ok := lookupFeature(b); !ok {
			out = append(out, b)
		}
	}
	return out
}

// Clone returns an independent copy.
func (fv *FeatureVector) Clone() *FeatureVector {
	return NewFeatureVector(fv.RawFeatureVector.Clone())
}
