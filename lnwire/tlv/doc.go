// Package tlv implements the BigSize integer encoding and the
// type-length-value streams of BOLT 1 ("Type-Length-Value Format"), together
// with the truncated integers (tu16, tu32, tu64) used inside TLV records.
//
// A Stream is a decoded list of records in strictly increasing type order.
// DecodeStream enforces every stream-level rule of BOLT 1: minimal BigSize
// type and length, strictly increasing types (so no duplicates), and lengths
// that fit in the remaining bytes. It does not know what any type means; a
// caller that understands some types decodes their values itself and calls
// CheckUnknownEven so that an unknown even ("it's ok to be odd") type fails
// the stream:
//
//	s, err := tlv.DecodeStream(b)
//	if err != nil {
//		return err
//	}
//	if err := s.CheckUnknownEven(isKnown); err != nil {
//		return err
//	}
//	if v, ok := s.Get(2); ok {
//		amt, err := tlv.DecodeTU64(v)
//		...
//	}
//
// Encoding a decoded Stream reproduces its input byte for byte, which matters
// because signatures in gossip messages cover unknown records too.
//
// The package has no dependencies beyond the standard library and holds no
// state.
package tlv
