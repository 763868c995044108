package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2"
)

// This file holds a fixed-base multiplication table (Lim–Lee comb) for a
// point a channel multiplies by a fresh scalar at every commitment: the
// revocation basepoints. A general multiplication doubles about 130
// times; the comb doubles combSpacing-1 times and adds as often, from a
// table built once per Channel and kept in memory only.

const (
	// combTeeth is the number of bits of the scalar read per column.
	combTeeth = 6

	// combSpacing is the distance between two teeth: the scalar's 256
	// bits are read as combTeeth rows of combSpacing bits.
	combSpacing = (256 + combTeeth - 1) / combTeeth

	// combSize is the number of table entries (every nonzero column).
	combSize = 1<<combTeeth - 1
)

// affinePoint is a point with Z = 1, stored without its Z.
type affinePoint struct {
	x, y btcec.FieldVal
}

// combTable holds, for every nonzero column value j of combTeeth bits,
// the sum of 2^(i·combSpacing)·B over the bits i set in j, in affine form
// so that each addition is a mixed one. Its size is combSize·80 bytes
// (5,040 bytes).
type combTable [combSize]affinePoint

// newCombTable builds the table of base, which must not be the point at
// infinity (a valid public key never is).
func newCombTable(base *btcec.PublicKey) *combTable {
	var rows [combTeeth]btcec.JacobianPoint
	base.AsJacobian(&rows[0])
	for i := 1; i < combTeeth; i++ {
		rows[i] = rows[i-1]
		for j := 0; j < combSpacing; j++ {
			var d btcec.JacobianPoint
			btcec.DoubleNonConst(&rows[i], &d)
			rows[i] = d
		}
	}
	var jac [combSize + 1]btcec.JacobianPoint
	for j := 1; j <= combSize; j++ {
		low := j & -j
		if j == low {
			jac[j] = rows[bitIndex(low)]
			continue
		}
		btcec.AddNonConst(&jac[j^low], &rows[bitIndex(low)], &jac[j])
	}
	t := new(combTable)
	toAffine(jac[1:], t[:])
	return t
}

// bitIndex returns the index of the single bit set in v.
func bitIndex(v int) int {
	i := 0
	for v > 1 {
		v >>= 1
		i++
	}
	return i
}

// toAffine converts points (none at infinity) to affine form with one
// field inversion (Montgomery's trick).
func toAffine(pts []btcec.JacobianPoint, out []affinePoint) {
	// prefix[i] is the product of the Z of pts[0..i].
	prefix := make([]btcec.FieldVal, len(pts))
	for i := range pts {
		pts[i].Z.Normalize()
		if i == 0 {
			prefix[0].Set(&pts[0].Z)
			continue
		}
		prefix[i].Mul2(&prefix[i-1], &pts[i].Z).Normalize()
	}
	var inv btcec.FieldVal
	inv.Set(&prefix[len(pts)-1]).Inverse()
	for i := len(pts) - 1; i >= 0; i-- {
		// zInv = 1/Z_i; inv becomes 1/(Z_0…Z_{i-1}).
		var zInv, zInv2, zInv3 btcec.FieldVal
		if i == 0 {
			zInv.Set(&inv)
		} else {
			zInv.Mul2(&inv, &prefix[i-1]).Normalize()
			inv.Mul(&pts[i].Z).Normalize()
		}
		zInv2.SquareVal(&zInv).Normalize()
		zInv3.Mul2(&zInv2, &zInv).Normalize()
		out[i].x.Mul2(&pts[i].X, &zInv2).Normalize()
		out[i].y.Mul2(&pts[i].Y, &zInv3).Normalize()
	}
}

// mul sets result to k·B.
func (t *combTable) mul(k *btcec.ModNScalar, result *btcec.JacobianPoint) {
	b := k.Bytes()
	bit := func(n int) int {
		if n >= 256 {
			return 0
		}
		return int(b[31-n/8]>>(n%8)) & 1
	}
	// The btcec operations do not allow their result to alias an
	// input, hence the two accumulators.
	var acc, tmp, p btcec.JacobianPoint
	p.Z.SetInt(1)
	for col := combSpacing - 1; col >= 0; col-- {
		btcec.DoubleNonConst(&acc, &tmp)
		j := 0
		for i := 0; i < combTeeth; i++ {
			j |= bit(i*combSpacing+col) << i
		}
		if j == 0 {
			acc = tmp
			continue
		}
		p.X.Set(&t[j-1].x)
		p.Y.Set(&t[j-1].y)
		btcec.AddNonConst(&tmp, &p, &acc)
	}
	*result = acc
}
