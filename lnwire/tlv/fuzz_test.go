package tlv

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzTLVStream: arbitrary bytes never panic; a stream that decodes
// re-encodes to exactly its input, and every error is one of ours.
func FuzzTLVStream(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x01, 0x00, 0xfd, 0x00, 0xfe, 0x02, 0x02, 0x26})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStream(data)
		if err != nil {
			if !errors.Is(err, ErrNonCanonical) &&
				!errors.Is(err, io.ErrUnexpectedEOF) &&
				!errors.Is(err, ErrNotIncreasing) &&
				!errors.Is(err, ErrRecordTooLong) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		enc := s.Encode()
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encode differs: in %x, out %x", data, enc)
		}
		if len(enc) != s.EncodedLen() {
			t.Fatal("EncodedLen mismatch")
		}
		// Rebuilding the stream with Set yields the same bytes.
		var r Stream
		for i := len(s) - 1; i >= 0; i-- {
			r.Set(s[i].Type, s[i].Value)
		}
		if !bytes.Equal(r.Encode(), data) {
			t.Fatal("Set-built stream differs")
		}
		for _, rec := range s {
			if v, ok := s.Get(rec.Type); !ok || !bytes.Equal(v, rec.Value) {
				t.Fatalf("Get(%d) mismatch", rec.Type)
			}
		}
	})
}

// FuzzBigSize: ReadBigSize and ParseBigSize agree, and what they accept
// re-encodes to the bytes consumed.
func FuzzBigSize(f *testing.F) {
	f.Add([]byte{0xfd, 0x00, 0xfd})
	f.Add([]byte{0xff, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		v1, err1 := ReadBigSize(bytes.NewReader(data))
		v2, n, err2 := ParseBigSize(data)
		if (err1 == nil) != (err2 == nil) || v1 != v2 {
			t.Fatalf("disagree: %d %v / %d %v", v1, err1, v2, err2)
		}
		if err1 != nil {
			return
		}
		if enc := AppendBigSize(nil, v1); !bytes.Equal(enc, data[:n]) {
			t.Fatalf("re-encode %d: %x vs %x", v1, enc, data[:n])
		}
	})
}

// FuzzTU64 checks the truncated integer codec against its encoder.
func FuzzTU64(f *testing.F) {
	f.Add([]byte{0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeTU64(data)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeTU64(v), data) {
			t.Fatalf("tu64 %x decoded to %d, re-encodes differently", data, v)
		}
	})
}
