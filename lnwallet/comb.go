package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2"
)

// This file holds a fixed-base multiplication table (Lim–Lee comb) for a
// point a channel multiplies by a fresh scalar at every commitment: the
// revocation basepoints, and the peer's keys its signatures are checked
// under. A general multiplication doubles about 130 times; a comb of t
// teeth doubles ceil(256/t)-1 times and adds as often, from a table built
// once per Channel and kept in memory only.

// Comb widths: a table of t teeth holds 2^t-1 points of 80 bytes and
// multiplies with ceil(256/t)-1 doublings and as many additions.
const (
	// revCombTeeth is used for the revocation basepoints (5,040 bytes
	// each, 42 doublings).
	revCombTeeth = 6

	// sigCombTeeth is used for the peer's funding key and HTLC
	// basepoint, which check its signatures (2,480 bytes each, 51
	// doublings), keeping a Channel's four tables under 16 KB.
	sigCombTeeth = 5
)

// affinePoint is a point with Z = 1, stored without its Z.
type affinePoint struct {
	x, y btcec.FieldVal
}

// combTable holds, for every nonzero column value j of teeth bits, the
// sum of 2^(i·spacing)·B over the bits i set in j, in affine form so that
// each addition is a mixed one.
type combTable struct {
	teeth, spacing int
	pts            []affinePoint
}

// newCombTable builds the table of base with the given number of teeth
// (2 to 8). base must not be the point at infinity (a valid public key
// never is).
func newCombTable(base *btcec.PublicKey, teeth int) *combTable {
	t := &combTable{teeth: teeth, spacing: (256 + teeth - 1) / teeth,
		pts: make([]affinePoint, 1<<teeth-1)}
	rows := make([]btcec.JacobianPoint, teeth)
	base.AsJacobian(&rows[0])
	for i := 1; i < teeth; i++ {
		rows[i] = rows[i-1]
		for j := 0; j < t.spacing; j++ {
			var d btcec.JacobianPoint
			btcec.DoubleNonConst(&rows[i], &d)
			rows[i] = d
		}
	}
	jac := make([]btcec.JacobianPoint, len(t.pts)+1)
	for j := 1; j < len(jac); j++ {
		low := j & -j
		if j == low {
			jac[j] = rows[bitIndex(low)]
			continue
		}
		btcec.AddNonConst(&jac[j^low], &rows[bitIndex(low)], &jac[j])
	}
	toAffine(jac[1:], t.pts)
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
	for col := t.spacing - 1; col >= 0; col-- {
		btcec.DoubleNonConst(&acc, &tmp)
		j := 0
		for i := 0; i < t.teeth; i++ {
			j |= bit(i*t.spacing+col) << i
		}
		if j == 0 {
			acc = tmp
			continue
		}
		p.X.Set(&t.pts[j-1].x)
		p.Y.Set(&t.pts[j-1].y)
		btcec.AddNonConst(&tmp, &p, &acc)
	}
	*result = acc
}
