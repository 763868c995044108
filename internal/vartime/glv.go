package vartime

import (
	"math/big"

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

var (
	curveN  = btcec.S256().N
	halfN   = new(big.Int).Rsh(curveN, 1)
	glvA1   = hexInt("3086d221a7d46bcde86c90e49284eb15")
	glvB1   = hexInt("-e4437ed6010e88286f547fa90abfe4c3")
	glvA2   = hexInt("114ca50f7a8e2f3f657c1108d9d44cfd8")
	glvB2   = hexInt("3086d221a7d46bcde86c90e49284eb15")
	glvBeta = func() fe {
		var b [32]byte
		hexInt("7ae96a2b657c07106e64479eac3434e9" +
			"9cf0497512f58995c1396c28719501ee").FillBytes(b[:])
		var f fe
		f.setBytes(&b)
		return f
	}()
)

// splitK returns k1 and k2 with k ≡ k1 + k2·λ (mod n), each of
// absolute value below 2^129.
func splitK(k *btcec.ModNScalar) (k1, k2 *big.Int) {
	kb := k.Bytes()
	kk := new(big.Int).SetBytes(kb[:])
	// c1 = round(b2·k/n), c2 = round(-b1·k/n).
	c1 := new(big.Int).Mul(glvB2, kk)
	c1.Add(c1, halfN).Quo(c1, curveN)
	c2 := new(big.Int).Mul(glvB1, kk)
	c2.Neg(c2).Add(c2, halfN).Quo(c2, curveN)
	// k1 = k - c1·a1 - c2·a2, k2 = -c1·b1 - c2·b2.
	t := new(big.Int)
	k1 = new(big.Int).Set(kk)
	k1.Sub(k1, t.Mul(c1, glvA1))
	k1.Sub(k1, t.Mul(c2, glvA2))
	k2 = new(big.Int).Mul(c1, glvB1)
	k2.Neg(k2)
	k2.Sub(k2, t.Mul(c2, glvB2))
	return k1, k2
}

// wnafBig is wnaf of a non-negative k below 2^256.
func wnafBig(k *big.Int) []int8 {
	var b [32]byte
	k.FillBytes(b[:])
	return wnafBytes(&b)
}
