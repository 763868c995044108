package zbase32

import (
	"errors"
	"fmt"
)

// alphabet maps a 5-bit value to its character.
const alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"

// ErrInvalid is returned (wrapped) for a string that is not canonical
// z-base-32.
var ErrInvalid = errors.New("invalid z-base-32")

// decodeMap maps a character to its value plus one; zero means not in the
// alphabet.
var decodeMap = func() [256]byte {
	var m [256]byte
	for i := 0; i < len(alphabet); i++ {
		m[alphabet[i]] = byte(i) + 1
	}
	return m
}()

// EncodeToString returns the z-base-32 encoding of b.
func EncodeToString(b []byte) string {
	out := make([]byte, 0, (len(b)*8+4)/5)
	var acc uint
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, alphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		out = append(out, alphabet[(acc<<(5-bits))&31])
	}
	return string(out)
}

// DecodeString returns the bytes s encodes.
func DecodeString(s string) ([]byte, error) {
	// Characters beyond the last whole byte carry padding only; a
	// canonical encoding has fewer than five such bits.
	if rem := len(s) * 5 % 8; rem >= 5 {
		return nil, fmt.Errorf("%w: length %d is no encoding's", ErrInvalid, len(s))
	}
	out := make([]byte, 0, len(s)*5/8)
	var acc uint
	bits := 0
	for i := 0; i < len(s); i++ {
		v := decodeMap[s[i]]
		if v == 0 {
			return nil, fmt.Errorf("%w: character %q at %d", ErrInvalid, s[i], i)
		}
		acc = acc<<5 | uint(v-1)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if acc&(1<<bits-1) != 0 {
		return nil, fmt.Errorf("%w: non-zero padding bits", ErrInvalid)
	}
	return out, nil
}
