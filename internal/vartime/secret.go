package vartime

import (
	"math/bits"

	"github.com/btcsuite/btcd/btcec/v2"
)

// This file is the package's one exception to "public data only":
// SecretMul multiplies a public point by a secret scalar in constant time
// in the scalar. What it runs is fixed by nothing but the scalar's width:
// 255 doublings and 51 additions in complete projective formulas (no
// exceptional case, so no branch on an intermediate point), table entries
// read by scanning the whole table with masks, signs applied by masks, one
// inversion by a fixed addition chain, and field add, sub, mul, square
// and normalize without branches or table indices (field.go). The point
// and whether the product is infinity are treated as public.
//
// Go gives no formal guarantee that the compiler keeps masked code free
// of branches (nor does it for crypto/internal); the test TestSecretMul
// checks the results, not the timing.

// proj is a point in homogeneous projective coordinates, (X/Z, Y/Z);
// infinity is (0 : 1 : 0).
type proj struct {
	x, y, z fe
}

// mulB3 sets z = 21·x (3·b for y² = x³ + 7), without a branch.
func (z *fe) mulB3(x *fe) *fe {
	const b3 = 21
	h0, l0 := bits.Mul64(x[0], b3)
	h1, l1 := bits.Mul64(x[1], b3)
	h2, l2 := bits.Mul64(x[2], b3)
	h3, l3 := bits.Mul64(x[3], b3)
	var c uint64
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	top := h3 + c // < 21
	// top·2^256 ≡ top·pc < 2^38; a carry out of that addition leaves
	// the sum below 2^38, so the final pc lands in the lowest limb.
	l0, c = bits.Add64(l0, top*pc, 0)
	l1, c = bits.Add64(l1, 0, c)
	l2, c = bits.Add64(l2, 0, c)
	l3, c = bits.Add64(l3, 0, c)
	l0 += pc & -c
	z[0], z[1], z[2], z[3] = l0, l1, l2, l3
	return z
}

// double sets r = 2p: algorithm 9 of Renes, Costello and Batina,
// "Complete addition formulas for prime order elliptic curves" (2016),
// for a = 0; correct for every p, infinity included. r may alias p.
func (r *proj) double(p *proj) {
	var t0, t1, t2, x3, y3, z3 fe
	t0.square(&p.y)
	z3.add(&t0, &t0)
	z3.add(&z3, &z3)
	z3.add(&z3, &z3)
	t1.mul(&p.y, &p.z)
	t2.square(&p.z)
	t2.mulB3(&t2)
	x3.mul(&t2, &z3)
	y3.add(&t0, &t2)
	z3.mul(&t1, &z3)
	t1.add(&t2, &t2)
	t2.add(&t1, &t2)
	t0.sub(&t0, &t2)
	y3.mul(&t0, &y3)
	y3.add(&x3, &y3)
	t1.mul(&p.x, &p.y)
	x3.mul(&t0, &t1)
	x3.add(&x3, &x3)
	r.x, r.y, r.z = x3, y3, z3
}

// add sets r = p + q: algorithm 7 of the same paper, complete (p = q,
// p = -q and infinity need no special case). r may alias p or q.
func (r *proj) add(p, q *proj) {
	var t0, t1, t2, t3, t4, x3, y3, z3 fe
	t0.mul(&p.x, &q.x)
	t1.mul(&p.y, &q.y)
	t2.mul(&p.z, &q.z)
	t3.add(&p.x, &p.y)
	t4.add(&q.x, &q.y)
	t3.mul(&t3, &t4)
	t4.add(&t0, &t1)
	t3.sub(&t3, &t4)
	t4.add(&p.y, &p.z)
	x3.add(&q.y, &q.z)
	t4.mul(&t4, &x3)
	x3.add(&t1, &t2)
	t4.sub(&t4, &x3)
	x3.add(&p.x, &p.z)
	y3.add(&q.x, &q.z)
	x3.mul(&x3, &y3)
	y3.add(&t0, &t2)
	y3.sub(&x3, &y3)
	x3.add(&t0, &t0)
	t0.add(&x3, &t0)
	t2.mulB3(&t2)
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

// secretWindow is the width of SecretMul's signed digits: 16 odd
// multiples in the table, 51 additions.
const secretWindow = 5

// secretDigits is the number of digits below the top one: 5·51 = 255,
// so the top one, (s >> 255) | 1, is 1 for every s below 2^256.
const secretDigits = 51

// selectOdd sets r to d·p from odd = p, 3p, …, 31p, d = ±(2·idx+1), the
// sign negative when neg is all ones: every entry is read, the one wanted
// kept by masks.
func selectOdd(r *proj, odd *[1 << (secretWindow - 1)]proj, idx, neg uint64) {
	var out proj
	for j := range odd {
		x := uint64(j) ^ idx
		// m is all ones when x = 0.
		m := ((x | -x) >> 63) - 1
		for l := 0; l < 4; l++ {
			out.x[l] |= odd[j].x[l] & m
			out.y[l] |= odd[j].y[l] & m
			out.z[l] |= odd[j].z[l] & m
		}
	}
	var ny fe
	ny.neg(&out.y)
	for l := 0; l < 4; l++ {
		out.y[l] = ny[l]&neg | out.y[l]&^neg
	}
	*r = out
}

// curveNLimbs is the group order n, little-endian limbs.
var curveNLimbs = [4]uint64{0xbfd25e8cd0364141, 0xbaaedce6af48a03b,
	0xfffffffffffffffe, 0xffffffffffffffff}

// SecretMul returns the compressed encoding of k·p, in time independent
// of the secret k (see the top of this file for exactly what that
// covers), and false when the product is infinity (k ≡ 0). p is public.
//
// The scalar is made odd without a branch (an even k is replaced by the
// odd n - k and the result negated), then written as 52 signed odd
// digits of five bits, the top one 1 (Joye and Tunstall's regular
// recoding): every digit costs five doublings and one addition.
func SecretMul(p *Point, k *btcec.ModNScalar) ([33]byte, bool) {
	kb := k.Bytes()
	var s [4]uint64
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		s[i] = uint64(kb[o])<<56 | uint64(kb[o+1])<<48 |
			uint64(kb[o+2])<<40 | uint64(kb[o+3])<<32 |
			uint64(kb[o+4])<<24 | uint64(kb[o+5])<<16 |
			uint64(kb[o+6])<<8 | uint64(kb[o+7])
	}
	kb = [32]byte{}
	// even is all ones when k is even; then s = n - k (n is odd, and
	// 0 becomes n, whose product is infinity as 0's is).
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

	// odd[i] = (2i+1)·p. p is public: building the table needs no care,
	// but the complete formulas serve anyway.
	var odd [1 << (secretWindow - 1)]proj
	odd[0] = proj{x: p.x, y: p.y, z: fe{1}}
	var p2 proj
	p2.double(&odd[0])
	for i := 1; i < len(odd); i++ {
		odd[i].add(&odd[i-1], &p2)
	}

	// Digit i is bits [5i, 5i+6) of s, the lowest of them forced to 1,
	// minus 32: an odd value in [-31, 31]. The digit above the last
	// is (s >> 255) | 1 = 1, so the sum starts at p.
	acc := odd[0]
	var t proj
	for i := secretDigits - 1; i >= 0; i-- {
		for j := 0; j < secretWindow; j++ {
			acc.double(&acc)
		}
		pos := uint(i * secretWindow) // public: the loop index
		w := s[pos/64] >> (pos % 64)
		if pos%64 > 64-(secretWindow+1) && pos/64 < 3 {
			w |= s[pos/64+1] << (64 - pos%64)
		}
		v := (w & (1<<(secretWindow+1) - 1)) | 1
		// v ≥ 32: digit v - 32 > 0, index (v & 31) >> 1; v < 32: digit
		// -(32 - v), index ((v & 31) ^ 31) >> 1.
		neg := (v >> secretWindow) - 1
		idx := ((v & (1<<secretWindow - 1)) ^ ((1<<secretWindow - 1) & neg)) >> 1
		selectOdd(&t, &odd, idx, neg)
		acc.add(&acc, &t)
	}
	s = [4]uint64{}

	var ny fe
	ny.neg(&acc.y)
	for l := 0; l < 4; l++ {
		acc.y[l] = ny[l]&even | acc.y[l]&^even
	}
	var zi, x, y fe
	zi.inverse(&acc.z)
	x.mul(&acc.x, &zi)
	y.mul(&acc.y, &zi)
	x.normalize()
	y.normalize()
	var out [33]byte
	out[0] = 0x02 | byte(y[0]&1)
	xb := x.bytes()
	copy(out[1:], xb[:])
	ok := !acc.z.isZero()
	return out, ok
}
