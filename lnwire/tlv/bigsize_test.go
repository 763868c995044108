package tlv

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

type bigSizeVector struct {
	Name   string `json:"name"`
	Value  uint64 `json:"value"`
	Bytes  string `json:"bytes"`
	ExpErr string `json:"exp_error"`
}

// loadVectors reads testdata/name, a JSON object whose "vectors" field is
// decoded into v.
func loadVectors(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Source  string          `json:"source"`
		Vectors json.RawMessage `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if file.Source == "" {
		t.Fatalf("%s: no source named", name)
	}
	if err := json.Unmarshal(file.Vectors, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// bigSizeErr maps the error strings of BOLT 1 Appendix A to our errors.
var bigSizeErr = map[string]error{
	"decoded bigsize is not canonical": ErrNonCanonical,
	"unexpected EOF":                   io.ErrUnexpectedEOF,
	"EOF":                              io.EOF,
}

func TestBigSizeDecodingVectors(t *testing.T) {
	var vecs []bigSizeVector
	loadVectors(t, "bigsize_decoding.json", &vecs)
	if len(vecs) != 18 {
		t.Fatalf("want 18 decoding vectors, have %d", len(vecs))
	}
	for _, v := range vecs {
		t.Run(v.Name, func(t *testing.T) {
			in := mustHex(t, v.Bytes)
			got, err := ReadBigSize(bytes.NewReader(in))
			got2, n, err2 := ParseBigSize(in)
			if v.ExpErr != "" {
				want, ok := bigSizeErr[v.ExpErr]
				if !ok {
					t.Fatalf("unmapped error %q", v.ExpErr)
				}
				if !errors.Is(err, want) || err != want {
					t.Fatalf("ReadBigSize: want %v, got %v", want, err)
				}
				if !errors.Is(err2, want) {
					t.Fatalf("ParseBigSize: want %v, got %v", want, err2)
				}
				return
			}
			if err != nil || err2 != nil {
				t.Fatalf("unexpected errors %v, %v", err, err2)
			}
			if got != v.Value || got2 != v.Value || n != len(in) {
				t.Fatalf("want %d, got %d / %d (n=%d)", v.Value, got,
					got2, n)
			}
		})
	}
}

func TestBigSizeEncodingVectors(t *testing.T) {
	var vecs []bigSizeVector
	loadVectors(t, "bigsize_encoding.json", &vecs)
	if len(vecs) != 8 {
		t.Fatalf("want 8 encoding vectors, have %d", len(vecs))
	}
	for _, v := range vecs {
		t.Run(v.Name, func(t *testing.T) {
			want := mustHex(t, v.Bytes)
			var w bytes.Buffer
			if err := WriteBigSize(&w, v.Value); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.Bytes(), want) {
				t.Fatalf("WriteBigSize: want %x, got %x", want, w.Bytes())
			}
			if got := AppendBigSize([]byte{0xaa}, v.Value); !bytes.Equal(got[1:], want) || got[0] != 0xaa {
				t.Fatalf("AppendBigSize: want aa%x, got %x", want, got)
			}
			if BigSizeLen(v.Value) != len(want) {
				t.Fatalf("BigSizeLen: want %d, got %d", len(want),
					BigSizeLen(v.Value))
			}
		})
	}
}

// TestBigSizeRoundTrip checks every encoding width boundary.
func TestBigSizeRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 0xfc, 0xfd, 0xfe, 0xff, 0x100, 0xffff,
		0x10000, 0xffffffff, 0x100000000, 1<<63 + 5, ^uint64(0)} {
		b := AppendBigSize(nil, v)
		got, err := ReadBigSize(bytes.NewReader(b))
		if err != nil || got != v {
			t.Fatalf("%d: got %d, %v", v, got, err)
		}
		// Every strictly longer encoding of the same value is rejected.
		for _, p := range []struct {
			prefix byte
			width  int
		}{{0xfd, 2}, {0xfe, 4}, {0xff, 8}} {
			if 1+p.width <= len(b) || (p.width == 2 && v > 0xffff) ||
				(p.width == 4 && v > 0xffffffff) {
				continue
			}
			long := make([]byte, 1+p.width)
			long[0] = p.prefix
			for i := 0; i < p.width; i++ {
				long[len(long)-1-i] = byte(v >> (8 * i))
			}
			if _, err := ReadBigSize(bytes.NewReader(long)); err != ErrNonCanonical {
				t.Fatalf("%d as %x: want ErrNonCanonical, got %v", v,
					long, err)
			}
		}
	}
}

type signedVector struct {
	Value int64  `json:"value"`
	Bytes string `json:"bytes"`
}

func TestSignedIntegerVectors(t *testing.T) {
	var vecs []signedVector
	loadVectors(t, "signed_integers.json", &vecs)
	if len(vecs) != 23 {
		t.Fatalf("want 23 vectors, have %d", len(vecs))
	}
	for _, v := range vecs {
		want := mustHex(t, v.Bytes)
		if got := AppendInt(nil, v.Value); !bytes.Equal(got, want) {
			t.Errorf("encode %d: want %x, got %x", v.Value, want, got)
		}
		got, err := DecodeInt(want)
		if err != nil || got != v.Value {
			t.Errorf("decode %x: want %d, got %d (%v)", want, v.Value,
				got, err)
		}
	}
	if _, err := DecodeInt([]byte{1, 2, 3}); err == nil {
		t.Fatal("3-byte signed integer accepted")
	}
}

func TestTruncatedInts(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, ""}, {1, "01"}, {0xff, "ff"}, {0x100, "0100"},
		{0xffffffff, "ffffffff"}, {1 << 56, "0100000000000000"},
		{^uint64(0), "ffffffffffffffff"},
	}
	for _, tc := range tests {
		b := EncodeTU64(tc.v)
		if hex.EncodeToString(b) != tc.want {
			t.Fatalf("EncodeTU64(%d) = %x, want %s", tc.v, b, tc.want)
		}
		if TULen(tc.v) != len(b) {
			t.Fatalf("TULen(%d) = %d", tc.v, TULen(tc.v))
		}
		got, err := DecodeTU64(b)
		if err != nil || got != tc.v {
			t.Fatalf("DecodeTU64(%x) = %d, %v", b, got, err)
		}
		if tc.v <= 0xffffffff {
			b32 := EncodeTU32(uint32(tc.v))
			g32, err := DecodeTU32(b32)
			if err != nil || uint64(g32) != tc.v || !bytes.Equal(b32, b) {
				t.Fatalf("tu32 %d: %x %d %v", tc.v, b32, g32, err)
			}
		}
		if tc.v <= 0xffff {
			b16 := EncodeTU16(uint16(tc.v))
			g16, err := DecodeTU16(b16)
			if err != nil || uint64(g16) != tc.v || !bytes.Equal(b16, b) {
				t.Fatalf("tu16 %d: %x %d %v", tc.v, b16, g16, err)
			}
		}
	}

	bad := []struct {
		name string
		dec  func([]byte) error
		in   string
		want error
	}{
		{"tu64 leading zero", tu64Err, "00", ErrNonCanonical},
		{"tu64 leading zero long", tu64Err, "0001", ErrNonCanonical},
		{"tu64 nine bytes", tu64Err, "010000000000000000", ErrIntTooLong},
		{"tu32 five bytes", tu32Err, "0100000000", ErrIntTooLong},
		{"tu32 leading zero", tu32Err, "00ff", ErrNonCanonical},
		{"tu16 three bytes", tu16Err, "010000", ErrIntTooLong},
		{"tu16 leading zero", tu16Err, "0001", ErrNonCanonical},
	}
	for _, tc := range bad {
		if err := tc.dec(mustHex(t, tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: want %v, got %v", tc.name, tc.want, err)
		}
	}
}

func tu64Err(b []byte) error { _, err := DecodeTU64(b); return err }
func tu32Err(b []byte) error { _, err := DecodeTU32(b); return err }
func tu16Err(b []byte) error { _, err := DecodeTU16(b); return err }
