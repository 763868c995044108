package vartime

import (
	"math/bits"

	"github.com/btcsuite/btcd/btcec/v2"
)

// This file and secretbase.go are the package's exceptions to "public
// data only": SecretMul (secret scalar times public point) and
// SecretBaseMul (secret scalar times G) run in constant time in the
// scalar. What they run is fixed by nothing but the scalar's width.
// SecretMul: a GLV split on btcec's constant-time mod-n scalars and a
// fixed-width product, a table of 16 points (one doubling, 15
// additions), then 130 doublings and 55 additions. SecretBaseMul: 63
// additions from a fixed table. Both use complete projective formulas
// (no exceptional case, so no branch on an intermediate point), read
// table entries by scanning the whole table (or row) with masks (but
// for entry 0 in SecretMul's top digit and corrections, an index fixed
// by the algorithm, not the scalar), apply signs and corrections by
// masks, invert by a fixed addition chain, and use field add, sub, mul,
// square, mulInt and normalize, which are straight-line code with no
// branch or table index (field.go; go tool objdump shows no conditional
// jump in them but the stack check). The point, and whether the product
// is infinity, are treated as public.
//
// Go gives no formal guarantee that the compiler keeps masked code free
// of branches (nor does it for crypto/internal), and bits.Mul64 is one
// instruction only where the hardware has it (amd64, arm64); the tests
// check results, not timing.

// proj is a point in homogeneous projective coordinates, (X/Z, Y/Z);
// infinity is (0 : 1 : 0).
type proj struct {
	x, y, z fe
}

// mulB3 sets z = 21·x (3·b for y² = x³ + 7), without a branch.
func (z *fe) mulB3(x *fe) *fe { return z.mulInt(x, 21) }

// double sets r = 2p: algorithm 9 of Renes, Costello and Batina,
// "Complete addition formulas for prime order elliptic curves" (2016),
// for a = 0; correct for every p, infinity included. r may alias p.
func (r *proj) double(p *proj) {
	var t0, t1, t2, x3, y3, z3 fe
	t0.square(&p.y)
	z3.mulInt(&t0, 8)
	t1.mul(&p.y, &p.z)
	t2.square(&p.z)
	t2.mulB3(&t2)
	x3.mul(&t2, &z3)
	y3.add(&t0, &t2)
	z3.mul(&t1, &z3)
	t2.mulInt(&t2, 3)
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
// multiples in the table.
const secretWindow = 5

// secretDigits is the number of digits below the top one of each GLV
// half: a half made odd is below 2^129 + 2 < 2^131 = 2^(5·26 + 1), so its
// top digit, (s >> 130) | 1, is 1.
const secretDigits = 26

// oddTable holds p, 3p, …, 31p.
type oddTable [1 << (secretWindow - 1)]proj

// selectOdd sets r to d·p from odd = p, 3p, …, 31p, d = ±(2·idx+1), the
// sign negative when neg is all ones: every entry is read, the one wanted
// kept by masks, so neither the memory touched nor the branches depend on
// idx. The masks are made once; each coordinate is then gathered in four
// locals, which the compiler keeps in registers.
func selectOdd(r *proj, odd *oddTable, idx, neg uint64) {
	var masks [len(oddTable{})]uint64
	for j := range masks {
		d := uint64(j) ^ idx
		// All ones when d = 0.
		masks[j] = ((d | -d) >> 63) - 1
	}
	var a0, a1, a2, a3 uint64
	for j := range odd {
		m, e := masks[j], &odd[j].x
		a0 |= e[0] & m
		a1 |= e[1] & m
		a2 |= e[2] & m
		a3 |= e[3] & m
	}
	r.x = fe{a0, a1, a2, a3}
	a0, a1, a2, a3 = 0, 0, 0, 0
	for j := range odd {
		m, e := masks[j], &odd[j].y
		a0 |= e[0] & m
		a1 |= e[1] & m
		a2 |= e[2] & m
		a3 |= e[3] & m
	}
	r.y = fe{a0, a1, a2, a3}
	a0, a1, a2, a3 = 0, 0, 0, 0
	for j := range odd {
		m, e := masks[j], &odd[j].z
		a0 |= e[0] & m
		a1 |= e[1] & m
		a2 |= e[2] & m
		a3 |= e[3] & m
	}
	r.z = fe{a0, a1, a2, a3}
	condNeg(r, neg)
}

// selectOddLambda is selectOdd for λ·d·p = (β·X, Y, Z): the entry is
// read from p's table as selectOdd reads it and its X multiplied by β,
// a fixed multiplication whatever the digit.
func selectOddLambda(r *proj, odd *oddTable, idx, neg uint64) {
	selectOdd(r, odd, idx, neg)
	r.x.mul(&r.x, &glvBeta)
}

// condNeg negates p when neg is all ones (neg is 0 or all ones).
func condNeg(p *proj, neg uint64) {
	var ny fe
	ny.neg(&p.y)
	for l := 0; l < 4; l++ {
		p.y[l] = ny[l]&neg | p.y[l]&^neg
	}
}

// condSet sets r = p when m is all ones (m is 0 or all ones).
func condSet(r, p *proj, m uint64) {
	for l := 0; l < 4; l++ {
		r.x[l] = p.x[l]&m | r.x[l]&^m
		r.y[l] = p.y[l]&m | r.y[l]&^m
		r.z[l] = p.z[l]&m | r.z[l]&^m
	}
}

// digit returns the table index and sign mask of the signed digit at bit
// pos (public) of the odd s: bits [pos, pos+6) of s, the lowest forced to
// 1, minus 32, an odd value in [-31, 31] (Joye and Tunstall's regular
// recoding: s = Σ digit_i·2^(5i) + 2^(5·26) for 26 digits).
func digit(s *[4]uint64, pos uint) (idx, neg uint64) {
	w := s[pos/64] >> (pos % 64)
	if pos%64 > 64-(secretWindow+1) && pos/64 < 3 {
		w |= s[pos/64+1] << (64 - pos%64)
	}
	v := (w & (1<<(secretWindow+1) - 1)) | 1
	// v ≥ 32: digit v - 32 > 0, index (v & 31) >> 1; v < 32: digit
	// -(32 - v), index ((v & 31) ^ 31) >> 1.
	neg = (v >> secretWindow) - 1
	idx = ((v & (1<<secretWindow - 1)) ^ ((1<<secretWindow - 1) & neg)) >> 1
	return idx, neg
}

// The GLV split's constants are glv.go's (glvG1, glvG2, glvMinusB1,
// glvMinusB2, as libsecp256k1's scalar_split_lambda); -λ and (n-1)/2 are
// this file's.
var (
	glvMinusLambda = func() btcec.ModNScalar {
		l := scalarHex("5363ad4cc05c30e0a5261c028812645a" +
			"122e22ea20816678df02967c1b23bd72")
		l.Negate()
		return l
	}()
	// halfNLimbs is (n - 1)/2.
	halfNLimbs = [4]uint64{0xdfe92f46681b20a0, 0x5d576e7357a4501d,
		0xffffffffffffffff, 0x7fffffffffffffff}
)

func scalarHex(h string) btcec.ModNScalar {
	var b [32]byte
	hexInt(h).FillBytes(b[:])
	var s btcec.ModNScalar
	s.SetBytes(&b)
	return s
}

// roundShift384 returns round(k·g / 2^384) as a scalar, without a
// branch (glv.go's mulShift384 and limbBytes have none).
func roundShift384(k, g *[4]uint64) btcec.ModNScalar {
	var s btcec.ModNScalar
	s.SetBytes(limbBytes(mulShift384(k, g)))
	return s
}

// limbs returns the big-endian b as little-endian limbs.
func limbs(b *[32]byte) [4]uint64 {
	var s [4]uint64
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		s[i] = uint64(b[o])<<56 | uint64(b[o+1])<<48 |
			uint64(b[o+2])<<40 | uint64(b[o+3])<<32 |
			uint64(b[o+4])<<24 | uint64(b[o+5])<<16 |
			uint64(b[o+6])<<8 | uint64(b[o+7])
	}
	return s
}

// putLimbs writes s big-endian into b.
func putLimbs(b *[32]byte, s *[4]uint64) {
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		v := s[i]
		for j := 7; j >= 0; j-- {
			b[o+j] = byte(v)
			v >>= 8
		}
	}
}

// splitSecret writes k ≡ r1 + λ·r2 (mod n) as magnitudes below 2^128
// with sign masks (all ones: negative), without a branch: the GLV split
// of libsecp256k1, on btcec's constant-time scalars.
func splitSecret(k *btcec.ModNScalar) (r1, r2 [4]uint64, neg1, neg2 uint64) {
	kb := k.Bytes()
	kl := limbs(&kb)
	c1 := roundShift384(&kl, &glvG1)
	c2 := roundShift384(&kl, &glvG2)
	c1.Mul(&glvMinusB1)
	c2.Mul(&glvMinusB2)
	var s2, s1 btcec.ModNScalar
	s2.Add2(&c1, &c2)
	s1.Mul2(&s2, &glvMinusLambda).Add(k)
	b1, b2 := s1.Bytes(), s2.Bytes()
	r1, r2 = limbs(&b1), limbs(&b2)
	neg1, neg2 = condNegN(&r1), condNegN(&r2)
	kb, b1, b2 = [32]byte{}, [32]byte{}, [32]byte{}
	kl = [4]uint64{}
	c1.Zero()
	c2.Zero()
	s1.Zero()
	s2.Zero()
	return r1, r2, neg1, neg2
}

// condNegN replaces r (below n) with n - r when r > (n-1)/2, and returns
// all ones if it did.
func condNegN(r *[4]uint64) uint64 {
	var b uint64
	_, b = bits.Sub64(halfNLimbs[0], r[0], 0)
	_, b = bits.Sub64(halfNLimbs[1], r[1], b)
	_, b = bits.Sub64(halfNLimbs[2], r[2], b)
	_, b = bits.Sub64(halfNLimbs[3], r[3], b)
	m := -b
	var nr [4]uint64
	nr[0], b = bits.Sub64(curveNLimbs[0], r[0], 0)
	nr[1], b = bits.Sub64(curveNLimbs[1], r[1], b)
	nr[2], b = bits.Sub64(curveNLimbs[2], r[2], b)
	nr[3], _ = bits.Sub64(curveNLimbs[3], r[3], b)
	for i := range r {
		r[i] = nr[i]&m | r[i]&^m
	}
	return m
}

// makeOdd adds 1 to an even r (below 2^129) and returns all ones if it
// did.
func makeOdd(r *[4]uint64) uint64 {
	even := 1 - r[0]&1
	var c uint64
	r[0], c = bits.Add64(r[0], even, 0)
	r[1], c = bits.Add64(r[1], 0, c)
	r[2], c = bits.Add64(r[2], 0, c)
	r[3] += c
	return -even
}

// curveNLimbs is the group order n, little-endian limbs.
var curveNLimbs = [4]uint64{0xbfd25e8cd0364141, 0xbaaedce6af48a03b,
	0xfffffffffffffffe, 0xffffffffffffffff}

// SecretMul returns the compressed encoding of k·p, in time independent
// of the secret k (see the top of this file for exactly what that
// covers), and false when the product is infinity (k ≡ 0). p is public.
//
// k is split as r1 + λ·r2 (GLV) with r1, r2 below 2^128 in absolute
// value, their signs moved onto the points p and λp = (β·x, y); each half
// is made odd (an even one gets 1 added, and p or λp is subtracted at the
// end, always computed, kept by mask) and written as 26 signed odd digits
// of five bits under a top digit 1: 130 doublings and 52 additions.
func SecretMul(p *Point, k *btcec.ModNScalar) ([33]byte, bool) {
	r1, r2, neg1, neg2 := splitSecret(k)
	even1, even2 := makeOdd(&r1), makeOdd(&r2)

	// odd1[i] = (2i+1)·p; λ·(2i+1)·p is read from it with X times β
	// (selectOddLambda). p is public: building the table needs no care;
	// the signs are applied at each read.
	var odd1 oddTable
	odd1[0] = proj{x: p.x, y: p.y, z: fe{1}}
	var p2 proj
	p2.double(&odd1[0])
	for i := 1; i < len(odd1); i++ {
		odd1[i].add(&odd1[i-1], &p2)
	}

	// The top digits are 1: start at ±p ± λp. Index 0 is public, only
	// the signs are secret: no scan, the signs applied by masks.
	lp := odd1[0]
	lp.x.mul(&lp.x, &glvBeta)
	acc, t := odd1[0], lp
	condNeg(&acc, neg1)
	condNeg(&t, neg2)
	acc.add(&acc, &t)
	for i := secretDigits - 1; i >= 0; i-- {
		for j := 0; j < secretWindow; j++ {
			acc.double(&acc)
		}
		pos := uint(i * secretWindow) // public: the loop index
		idx, neg := digit(&r1, pos)
		selectOdd(&t, &odd1, idx, neg^neg1)
		acc.add(&acc, &t)
		idx, neg = digit(&r2, pos)
		selectOddLambda(&t, &odd1, idx, neg^neg2)
		acc.add(&acc, &t)
	}
	// Undo the 1 added to an even half: subtract its signed point.
	var sum proj
	t = odd1[0]
	condNeg(&t, ^neg1)
	sum.add(&acc, &t)
	condSet(&acc, &sum, even1)
	t = lp
	condNeg(&t, ^neg2)
	sum.add(&acc, &t)
	condSet(&acc, &sum, even2)
	r1, r2 = [4]uint64{}, [4]uint64{}

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
