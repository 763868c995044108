package tlv

import (
	"bytes"
	"testing"
)

// benchStream is a typical onion hop payload: amount, cltv, short channel
// ID, and a 32-byte payment secret record.
func benchStream() Stream {
	var s Stream
	s.Set(2, EncodeTU64(150_000_000))
	s.Set(4, EncodeTU32(800_144))
	s.Set(6, []byte{0, 0x0c, 0x35, 0x00, 0x00, 0x04, 0x00, 0x01})
	s.Set(8, bytes.Repeat([]byte{0x42}, 40))
	return s
}

func BenchmarkDecodeStream(b *testing.B) {
	raw := benchStream().Encode()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeStream(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeStream(b *testing.B) {
	s := benchStream()
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(s.EncodedLen()))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = s.AppendTo(buf[:0])
	}
}

func BenchmarkReadBigSize(b *testing.B) {
	raw := AppendBigSize(nil, 1<<40)
	r := bytes.NewReader(raw)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Reset(raw)
		if _, err := ReadBigSize(r); err != nil {
			b.Fatal(err)
		}
	}
}
