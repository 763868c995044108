package bolt11

import (
	"strings"
)

// BOLT 11 carries its data in bech32 (BIP 173) but lifts the 90-character
// limit, so the codec lives here rather than in btcutil/bech32: we need no
// length cap, exactly the BIP 173 checksum constant (an invoice with a bech32m
// checksum is not an invoice), and errors callers can tell apart.

const (
	charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

	// checksumLen is the number of 5-bit groups in the checksum.
	checksumLen = 6

	// bech32Const is the value a valid BIP 173 checksum leaves in the
	// polymod; bech32mConst is BIP 350's, used for segwit v1+ addresses.
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

// charValue maps an ASCII byte to its 5-bit value, or -1.
var charValue = func() [128]int8 {
	var t [128]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(charset); i++ {
		c := charset[i]
		t[c] = int8(i)
		if c >= 'a' && c <= 'z' {
			t[c-'a'+'A'] = int8(i)
		}
	}
	return t
}()

// polymodGen holds, for each value of the five bits shifted out of the
// checksum state, the XOR of the BIP 173 generator constants those bits
// select: one look-up per step instead of five tests.
var polymodGen = func() [32]uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	var t [32]uint32
	for b := range t {
		for i, g := range gen {
			if b>>i&1 != 0 {
				t[b] ^= g
			}
		}
	}
	return t
}()

// polymodStep feeds one 5-bit value into the checksum state, which stays
// below 2^30.
func polymodStep(chk uint32, v byte) uint32 {
	return (chk&0x1ffffff)<<5 ^ uint32(v) ^ polymodGen[chk>>25&31]
}

// hrpPolymod folds the expanded human-readable part into the checksum state.
// hrp must already be lower case.
func hrpPolymod(hrp string) uint32 {
	chk := uint32(1)
	for i := 0; i < len(hrp); i++ {
		chk = polymodStep(chk, hrp[i]>>5)
	}
	chk = polymodStep(chk, 0)
	for i := 0; i < len(hrp); i++ {
		chk = polymodStep(chk, hrp[i]&31)
	}
	return chk
}

// bech32Checksum returns the six checksum groups for hrp and data (5-bit
// values) under the given constant.
func bech32Checksum(hrp string, data []byte, constant uint32) [checksumLen]byte {
	chk := hrpPolymod(hrp)
	for _, v := range data {
		chk = polymodStep(chk, v)
	}
	for range checksumLen {
		chk = polymodStep(chk, 0)
	}
	chk ^= constant
	var out [checksumLen]byte
	for i := range out {
		out[i] = byte(chk>>(5*(5-i))) & 31
	}
	return out
}

// bech32Encode writes hrp, the separator, data and the BIP 173 checksum as a
// lower-case string. data holds 5-bit values.
func bech32Encode(hrp string, data []byte, constant uint32) string {
	var sb strings.Builder
	sb.Grow(len(hrp) + 1 + len(data) + checksumLen)
	sb.WriteString(hrp)
	sb.WriteByte('1')
	for _, v := range data {
		sb.WriteByte(charset[v])
	}
	sum := bech32Checksum(hrp, data, constant)
	for _, v := range sum {
		sb.WriteByte(charset[v])
	}
	return sb.String()
}

// bech32Decode splits s into its lower-cased human-readable part and its
// data (5-bit values, checksum removed), verifying the BIP 173 checksum. It
// has no length limit.
func bech32Decode(s string) (string, []byte, error) {
	var hasLower, hasUpper bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			return "", nil, ErrInvalidCharacter
		}
		hasLower = hasLower || (c >= 'a' && c <= 'z')
		hasUpper = hasUpper || (c >= 'A' && c <= 'Z')
	}
	if hasLower && hasUpper {
		return "", nil, ErrMixedCase
	}

	one := strings.LastIndexByte(s, '1')
	if one < 0 {
		return "", nil, ErrMissingSeparator
	}
	if one == 0 {
		return "", nil, ErrMissingPrefix
	}
	if len(s)-one-1 < checksumLen {
		return "", nil, ErrTooShort
	}

	hrp := s[:one]
	if hasUpper {
		hrp = strings.ToLower(hrp)
	}

	rest := s[one+1:]
	data := make([]byte, len(rest))
	chk := hrpPolymod(hrp)
	for i := 0; i < len(rest); i++ {
		v := charValue[rest[i]]
		if v < 0 {
			return "", nil, ErrInvalidCharacter
		}
		data[i] = byte(v)
		chk = polymodStep(chk, byte(v))
	}
	if chk != bech32Const {
		return "", nil, ErrBadChecksum
	}

	return hrp, data[:len(data)-checksumLen], nil
}

// appendBits8to5 appends the bytes in b as 5-bit groups, padding the final
// group with zero bits.
func appendBits8to5(dst, b []byte) []byte {
	var acc uint32
	var bits uint
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			dst = append(dst, byte(acc>>bits)&31)
		}
	}
	if bits > 0 {
		dst = append(dst, byte(acc<<(5-bits))&31)
	}
	return dst
}

// bits5to8 regroups 5-bit values into bytes. Trailing bits that do not fill a
// byte must be fewer than five and all zero, so that every byte string has
// exactly one encoding and a decoded field re-encodes to the same groups.
func bits5to8(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data)*5/8)
	var acc uint32
	var bits uint
	for _, v := range data {
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if bits >= 5 || acc&(1<<bits-1) != 0 {
		return nil, ErrInvalidPadding
	}
	return out, nil
}

// bits5to8Padded regroups 5-bit values into bytes for hashing, padding the
// final byte with zero bits as BOLT 11 prescribes for the signed data.
func bits5to8Padded(dst, data []byte) []byte {
	var acc uint32
	var bits uint
	for _, v := range data {
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			dst = append(dst, byte(acc>>bits))
		}
	}
	if bits > 0 {
		dst = append(dst, byte(acc<<(8-bits)))
	}
	return dst
}

// uintFrom5 reads data as a big-endian number of 5-bit groups.
func uintFrom5(data []byte) (uint64, error) {
	// 13 groups hold 65 bits; the top one must be clear.
	if len(data) > 13 || (len(data) == 13 && data[0] >= 16) {
		return 0, ErrOverflow
	}
	var v uint64
	for _, d := range data {
		v = v<<5 | uint64(d)
	}
	return v, nil
}

// appendUint5 appends v as the minimal number of big-endian 5-bit groups
// (none for zero).
func appendUint5(dst []byte, v uint64) []byte {
	n := 0
	for t := v; t > 0; t >>= 5 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(5*uint(i)))&31)
	}
	return dst
}
