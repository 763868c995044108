package bolt11

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

func TestBech32RoundTrip(t *testing.T) {
	data := []byte{0, 1, 2, 31, 30, 5, 7}
	s := bech32Encode("lnbc", data, bech32Const)
	hrp, got, err := bech32Decode(s)
	if err != nil || hrp != "lnbc" || !bytes.Equal(got, data) {
		t.Fatalf("%q: %q %v %v", s, hrp, got, err)
	}
}

func TestBech32Errors(t *testing.T) {
	good := bech32Encode("lnbc", []byte{1, 2, 3}, bech32Const)
	bech32m := bech32Encode("lnbc", []byte{1, 2, 3}, bech32mConst)
	tests := []struct {
		in  string
		err error
	}{
		{good[:len(good)-1] + flip(good[len(good)-1]), ErrBadChecksum},
		{bech32m, ErrBadChecksum},
		{"lnbc1qqqqqqqb", ErrInvalidCharacter},
		{"lnbc1 qqqqqq", ErrInvalidCharacter},
		{"lnbc1qqqqqq\x80", ErrInvalidCharacter},
		{"lnBC1qqqqqq", ErrMixedCase},
		{"qqqqqqqq", ErrMissingSeparator},
		{"1qqqqqqqq", ErrMissingPrefix},
		{"lnbc1qqqqq", ErrTooShort},
	}
	for _, tc := range tests {
		if _, _, err := bech32Decode(tc.in); !errors.Is(err, tc.err) {
			t.Errorf("%q: error %v, want %v", tc.in, err, tc.err)
		}
	}
}

func TestBits5to8Padding(t *testing.T) {
	// 52 groups hold 32 bytes and 4 padding bits.
	data := appendBits8to5(nil, bytes.Repeat([]byte{0xff}, 32))
	if len(data) != 52 {
		t.Fatalf("%d groups", len(data))
	}
	if _, err := bits5to8(data); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), data...)
	bad[51] |= 1
	if _, err := bits5to8(bad); !errors.Is(err, ErrInvalidPadding) {
		t.Errorf("non-zero padding: %v", err)
	}
	// A whole surplus group is not padding: 8 bytes fill 13 groups,
	// 14 groups leave 6 bits over.
	long := appendBits8to5(nil, make([]byte, 8))
	if _, err := bits5to8(append(long, 0)); !errors.Is(err,
		ErrInvalidPadding) {

		t.Errorf("surplus group: %v", err)
	}
}

func TestUintFrom5(t *testing.T) {
	max := appendUint5(nil, ^uint64(0))
	if len(max) != 13 {
		t.Fatalf("%d groups for 2^64-1", len(max))
	}
	v, err := uintFrom5(max)
	if err != nil || v != ^uint64(0) {
		t.Fatalf("%d %v", v, err)
	}
	over := append([]byte{16}, max[1:]...)
	if _, err := uintFrom5(over); !errors.Is(err, ErrOverflow) {
		t.Errorf("65-bit value: %v", err)
	}
	if _, err := uintFrom5(make([]byte, 14)); !errors.Is(err, ErrOverflow) {
		t.Errorf("14 groups: %v", err)
	}
	if got := appendUint5(nil, 0); len(got) != 0 {
		t.Errorf("zero encodes as %v", got)
	}
}

// TestWitnessAddress checks our bech32m addresses against BIP 350's valid
// address vectors.
func TestWitnessAddress(t *testing.T) {
	tests := []struct {
		version byte
		program string
		want    string
	}{
		{1, "751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d4" +
			"54941c45d1b3a323f1433bd6",
			"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3" +
				"zarvary0c5xw7kt5nd6y"},
		{16, "751e", "bc1sw50qgdz25j"},
		{2, "751e76e8199196d454941c45d1b3a323",
			"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"},
	}
	for _, tc := range tests {
		prog, _ := hex.DecodeString(tc.program)
		a, err := NewWitnessAddress(tc.version, prog,
			&chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.EncodeAddress(); got != tc.want {
			t.Errorf("v%d: %s, want %s", tc.version, got, tc.want)
		}
		if !a.IsForNet(&chaincfg.MainNetParams) ||
			a.IsForNet(&chaincfg.TestNet3Params) {

			t.Error("IsForNet")
		}
	}
	for _, n := range []int{1, 41} {
		_, err := NewWitnessAddress(1, make([]byte, n),
			&chaincfg.MainNetParams)
		if !errors.Is(err, ErrInvalidFallback) {
			t.Errorf("%d-byte program: %v", n, err)
		}
	}
	if _, err := NewWitnessAddress(17, make([]byte, 20),
		&chaincfg.MainNetParams); !errors.Is(err, ErrInvalidFallback) {

		t.Errorf("version 17: %v", err)
	}
}

// flip returns a bech32 character other than c.
func flip(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}
