package vartime

import (
	"math/big"
	"math/bits"

	"github.com/btcsuite/btcd/btcec/v2"
)

// secp256k1 has an efficient endomorphism: λ·(x, y) = (β·x, y) for the
// cube roots of unity λ (mod n) and β (mod p) below. Writing a scalar as
// k ≡ k1 + k2·λ (mod n) with k1 and k2 of about 128 bits (GLV) halves
// the doublings of a multiplication. The decomposition constants are the
// short basis (a1, b1), (a2, b2) of the lattice {(x, y): x + y·λ ≡ 0},
// as in "Faster Point Multiplication on Elliptic Curves with Efficient
// Endomorphisms" (Gallant, Lambert, Vanstone) and libsecp256k1.

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("vartime: bad constant " + s)
	}
	return v
}

// scalarOf returns v mod n as a scalar.
func scalarOf(v *big.Int) btcec.ModNScalar {
	var b [32]byte
	new(big.Int).Mod(v, curveN).FillBytes(b[:])
	var s btcec.ModNScalar
	s.SetBytes(&b)
	return s
}

// limbsOf returns v, below 2^256, in four little-endian limbs.
func limbsOf(v *big.Int) [4]uint64 {
	var b [32]byte
	v.FillBytes(b[:])
	var f fe
	f.setBytes(&b)
	return f
}

var (
	curveN = btcec.S256().N
	glvB1  = hexInt("-e4437ed6010e88286f547fa90abfe4c3")
	glvB2  = hexInt("3086d221a7d46bcde86c90e49284eb15")
	// glvG1 and glvG2 are round(2^384·b2/n) and round(-2^384·b1/n):
	// c1 = round(b2·k/n) and c2 = round(-b1·k/n) are then the top
	// 128 bits of k·g, rounded (off by one at most, which leaves the
	// halves short all the same).
	glvG1 = limbsOf(divRound(new(big.Int).Lsh(glvB2, 384), curveN))
	glvG2 = limbsOf(divRound(new(big.Int).Lsh(new(big.Int).Neg(glvB1), 384), curveN))
	// The scalars -b1, -b2 and λ, for k2 = c1·(-b1) + c2·(-b2) and
	// k1 = k - k2·λ, both mod n.
	glvMinusB1 = scalarOf(new(big.Int).Neg(glvB1))
	glvMinusB2 = scalarOf(new(big.Int).Neg(glvB2))
	glvLambda  = scalarOf(hexInt("5363ad4cc05c30e0a5261c028812645a" +
		"122e22ea20816678df02967c1b23bd72"))
	glvBeta = func() fe {
		var b [32]byte
		hexInt("7ae96a2b657c07106e64479eac3434e9" +
			"9cf0497512f58995c1396c28719501ee").FillBytes(b[:])
		var f fe
		f.setBytes(&b)
		return f
	}()
)

// divRound returns round(a/b) for positive a and b.
func divRound(a, b *big.Int) *big.Int {
	q := new(big.Int).Add(a, new(big.Int).Rsh(b, 1))
	return q.Quo(q, b)
}

// mulShift384 returns round(k·g / 2^384), as lo + hi·2^64, for k and g
// below 2^256 (the product's top 128 bits are at most 2^128 - 2, so the
// rounding carry cannot overflow).
func mulShift384(k, g *[4]uint64) (lo, hi uint64) {
	var r [8]uint64
	for i := 0; i < 4; i++ {
		var c uint64
		for j := 0; j < 4; j++ {
			c, r[i+j] = mac(r[i+j], k[i], g[j], c)
		}
		r[i+4] = c
	}
	// Round on bit 383.
	var carry uint64
	lo, carry = bits.Add64(r[6], r[5]>>63, 0)
	hi = r[7] + carry
	return lo, hi
}

// splitK returns the magnitudes and signs of k1 and k2 with
// k ≡ k1 + k2·λ (mod n), each magnitude below 2^129, without big
// integers: c1 and c2 from the precomputed reciprocals, then k2 and k1
// by scalar arithmetic mod n, each negated when above n/2.
func splitK(k *btcec.ModNScalar) (k1, k2 btcec.ModNScalar, neg1, neg2 bool) {
	kb := k.Bytes()
	var kl fe
	kl.setBytes(&kb)
	k4 := [4]uint64(kl)
	var c1, c2 btcec.ModNScalar
	c1.SetBytes(limbBytes(mulShift384(&k4, &glvG1)))
	c2.SetBytes(limbBytes(mulShift384(&k4, &glvG2)))
	k2.Mul2(&c1, &glvMinusB1)
	c2.Mul(&glvMinusB2)
	k2.Add(&c2)
	k1.Mul2(&k2, &glvLambda).Negate().Add(k)
	if neg1 = k1.IsOverHalfOrder(); neg1 {
		k1.Negate()
	}
	if neg2 = k2.IsOverHalfOrder(); neg2 {
		k2.Negate()
	}
	return k1, k2, neg1, neg2
}

// limbBytes returns the 128-bit lo + hi·2^64 as 32 big-endian bytes.
func limbBytes(lo, hi uint64) *[32]byte {
	var b [32]byte
	for i := 0; i < 8; i++ {
		b[31-i] = byte(lo >> (8 * i))
		b[23-i] = byte(hi >> (8 * i))
	}
	return &b
}
