package zbase32

import (
	"bytes"
	"errors"
	"testing"
)

// Vectors from the z-base-32 specification's examples (bit strings of
// whole bytes); "hello" worked by hand.
func TestVectors(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, ""},
		{[]byte{0x00}, "yy"},
		{[]byte{0xf0}, "6y"},
		{[]byte{0xd4, 0x7a, 0x04}, "4t7ye"},
		{[]byte{0xff, 0xff}, "999o"},
		{[]byte("hello"), "pb1sa5dx"},
	}
	for _, tc := range tests {
		if got := EncodeToString(tc.in); got != tc.want {
			t.Errorf("Encode(%x) = %q, want %q", tc.in, got, tc.want)
		}
		got, err := DecodeString(tc.want)
		if err != nil || !bytes.Equal(got, tc.in) {
			t.Errorf("Decode(%q) = %x, %v; want %x", tc.want, got, err, tc.in)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, s := range []string{
		"y",         // 5 bits: no whole byte, padding only
		"yyy",       // 15 bits: the third character is padding only
		"yl",        // 'l' is not in the alphabet
		"YY",        // upper case is not the alphabet
		"yb",        // padding bits set (0b00000 00001)
		"yy\x00",    // NUL
		"999a",      // padding bits set
		"pb1sa5dx ", // trailing space
	} {
		if _, err := DecodeString(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestRoundTripLengths(t *testing.T) {
	for n := 0; n < 70; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		s := EncodeToString(b)
		got, err := DecodeString(s)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("len %d: %q -> %x, %v", n, s, got, err)
		}
	}
}

// FuzzDecode: never a panic; whatever decodes re-encodes to the same
// string (one encoding per byte string); every byte string round-trips.
func FuzzDecode(f *testing.F) {
	// A signature lnd made (rpc/testdata/lnd_signed_messages.txt).
	f.Add("rbgfioj114mh48d8egqx8o9qxqw4fmhe8jbeeabdioxnjk8z3t1ma1hu1fiswpakgucwwzwo6ofycffbsqusqdimugbh41n1g698hr9t")
	f.Add("pb1sa5dx")
	f.Add("yyy")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeString(s)
		if err == nil {
			if again := EncodeToString(b); again != s {
				t.Fatalf("%q decodes to %x, which encodes to %q", s, b, again)
			}
		}
		raw := []byte(s)
		back, err := DecodeString(EncodeToString(raw))
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("%x does not round-trip: %x, %v", raw, back, err)
		}
	})
}
