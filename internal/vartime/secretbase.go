package vartime

import (
	"math/bits"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
)

// secretBaseTable holds, for each 4-bit position i and each odd v up to
// 15, v·16^i·G in affine form: 64 × 8 points, 32 KiB, built on first use
// and never changed.
type secretBaseTable [64][8]Point

var secretGenTable = sync.OnceValue(buildSecretBaseTable)

// buildSecretBaseTable computes the table from G (public: in variable
// time).
func buildSecretBaseTable() *secretBaseTable {
	var g btcec.JacobianPoint
	var one btcec.ModNScalar
	one.SetInt(1)
	btcec.ScalarBaseMultNonConst(&one, &g)
	g.ToAffine()
	var base Jacobian
	base.x.setBytes(g.X.Bytes())
	base.y.setBytes(g.Y.Bytes())
	base.z = fe{1}
	jac := make([]Jacobian, 64*8)
	for i := 0; i < 64; i++ {
		row := jac[i*8 : (i+1)*8]
		var two Jacobian
		two.Double(&base)
		row[0] = base
		for v := 1; v < 8; v++ {
			row[v].Add(&row[v-1], &two)
		}
		for j := 0; j < 4; j++ {
			base.Double(&base)
		}
	}
	flat := make([]Point, len(jac))
	ToAffine(jac, flat)
	t := new(secretBaseTable)
	for i := 0; i < 64; i++ {
		copy(t[i][:], flat[i*8:(i+1)*8])
	}
	return t
}

// addAffine sets r = p + q for an affine q: algorithm 8 of Renes,
// Costello and Batina, complete for every p (infinity included) and every
// affine q. r may alias p.
func (r *proj) addAffine(p *proj, q *Point) {
	var t0, t1, t2, t3, t4, x3, y3, z3 fe
	t0.mul(&p.x, &q.x)
	t1.mul(&p.y, &q.y)
	t3.add(&q.x, &q.y)
	t4.add(&p.x, &p.y)
	t3.mul(&t3, &t4)
	t4.add(&t0, &t1)
	t3.sub(&t3, &t4)
	t4.mul(&q.y, &p.z)
	t4.add(&t4, &p.y)
	y3.mul(&q.x, &p.z)
	y3.add(&y3, &p.x)
	x3.add(&t0, &t0)
	t0.add(&x3, &t0)
	t2.mulB3(&p.z)
	z3.add(&t1, &t2)
	t1.sub(&t1, &t2)
	y3.mulB3(&y3)
	x3.mul(&t4, &y3)
	t2.mul(&t3, &t1)
	x3.sub(&t2, &x3)
	y3.mul(&y3, &t0)
	t1.mul(&t1, &z3)
	y3.add(&t1, &y3)
	t0.mul(&t0, &t3)
	z3.mul(&z3, &t4)
	z3.add(&z3, &t0)
	r.x, r.y, r.z = x3, y3, z3
}

// selectBase sets r to ±row[idx], negative when neg is all ones, reading
// every entry of the row: the masks are made once, each coordinate is
// gathered in four locals (registers), and the sign is applied by a mask,
// so neither the memory touched nor any branch depends on idx or neg.
func selectBase(r *Point, row *[8]Point, idx, neg uint64) {
	var masks [len(row)]uint64
	for j := range masks {
		d := uint64(j) ^ idx
		// All ones when d = 0.
		masks[j] = ((d | -d) >> 63) - 1
	}
	var a0, a1, a2, a3 uint64
	for j := range row {
		m, e := masks[j], &row[j].x
		a0 |= e[0] & m
		a1 |= e[1] & m
		a2 |= e[2] & m
		a3 |= e[3] & m
	}
	r.x = fe{a0, a1, a2, a3}
	a0, a1, a2, a3 = 0, 0, 0, 0
	for j := range row {
		m, e := masks[j], &row[j].y
		a0 |= e[0] & m
		a1 |= e[1] & m
		a2 |= e[2] & m
		a3 |= e[3] & m
	}
	y := fe{a0, a1, a2, a3}
	var ny fe
	ny.neg(&y)
	for l := 0; l < 4; l++ {
		r.y[l] = ny[l]&neg | y[l]&^neg
	}
}

// SecretBaseMul returns the affine coordinates of k·G, big-endian and
// fully reduced, in time independent of the secret k, and false when the
// product is infinity (k ≡ 0). It is for signing nonces: k is made odd
// as in SecretMul (n - k and a negation for an even k) and written as 63
// signed odd digits of four bits under a positive odd top digit (the
// recoding of SecretMul, width 4); each digit selects, by a masked scan
// of eight entries, one point of a fixed table and adds it with the
// complete mixed formula: 63 additions, no doubling.
func SecretBaseMul(k *btcec.ModNScalar) (x, y [32]byte, ok bool) {
	t := secretGenTable()
	kb := k.Bytes()
	s := limbs(&kb)
	kb = [32]byte{}
	even := (s[0] & 1) - 1
	var ns [4]uint64
	var b uint64
	ns[0], b = bits.Sub64(curveNLimbs[0], s[0], 0)
	ns[1], b = bits.Sub64(curveNLimbs[1], s[1], b)
	ns[2], b = bits.Sub64(curveNLimbs[2], s[2], b)
	ns[3], _ = bits.Sub64(curveNLimbs[3], s[3], b)
	for i := range s {
		s[i] = ns[i]&even | s[i]&^even
	}
	ns = [4]uint64{}

	var acc proj
	var q Point
	// The top digit, (s >> 252) | 1, is odd and positive.
	selectBase(&q, &t[63], ((s[3]>>60)|1)>>1, 0)
	acc = proj{x: q.x, y: q.y, z: fe{1}}
	for i := 0; i < 63; i++ {
		pos := uint(4 * i) // public: the loop index
		w := s[pos/64] >> (pos % 64)
		if pos%64 > 59 {
			w |= s[pos/64+1] << (64 - pos%64)
		}
		v := (w & 31) | 1
		// v ≥ 16: digit v - 16 > 0, index (v & 15) >> 1; v < 16: digit
		// -(16 - v), index ((v & 15) ^ 15) >> 1.
		neg := (v >> 4) - 1
		idx := ((v & 15) ^ (15 & neg)) >> 1
		selectBase(&q, &t[i], idx, neg)
		acc.addAffine(&acc, &q)
	}
	s = [4]uint64{}
	q = Point{}
	condNeg(&acc, even)

	var zi, ax, ay fe
	zi.inverse(&acc.z)
	ax.mul(&acc.x, &zi)
	ay.mul(&acc.y, &zi)
	x, y = ax.bytes(), ay.bytes()
	ok = !acc.z.isZero()
	return x, y, ok
}
