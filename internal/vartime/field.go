package vartime

import (
	"math/bits"
)

// fe is a field element mod p = 2^256 - 2^32 - 977 in four little-endian
// 64-bit limbs. Operations keep it below 2^256 but not necessarily below
// p; normalize reduces it fully before a comparison or an encoding.
type fe [4]uint64

// pc is 2^256 - p: reducing mod p turns a carry out of 2^256 into + pc.
const pc = 0x1000003d1

// feP is p.
var feP = fe{0xfffffffefffffc2f, 0xffffffffffffffff, 0xffffffffffffffff,
	0xffffffffffffffff}

// setBytes sets z to the big-endian b (which may be ≥ p: it is reduced
// lazily).
func (z *fe) setBytes(b *[32]byte) *fe {
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		z[i] = uint64(b[o])<<56 | uint64(b[o+1])<<48 |
			uint64(b[o+2])<<40 | uint64(b[o+3])<<32 |
			uint64(b[o+4])<<24 | uint64(b[o+5])<<16 |
			uint64(b[o+6])<<8 | uint64(b[o+7])
	}
	return z
}

// bytes returns z fully reduced, big-endian.
func (z *fe) bytes() [32]byte {
	n := *z
	n.normalize()
	var b [32]byte
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		v := n[i]
		for j := 7; j >= 0; j-- {
			b[o+j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// normalize reduces z below p.
func (z *fe) normalize() {
	// z ≥ p exactly when z + pc carries out of 2^256, and then z - p
	// is that sum's low 256 bits (z < 2^256 < 2p: once is enough).
	var t fe
	var c uint64
	t[0], c = bits.Add64(z[0], pc, 0)
	t[1], c = bits.Add64(z[1], 0, c)
	t[2], c = bits.Add64(z[2], 0, c)
	t[3], c = bits.Add64(z[3], 0, c)
	// Select without a branch: SecretMul normalizes secret values.
	m := -c
	for i := range z {
		z[i] = t[i]&m | z[i]&^m
	}
}

// isZero reports whether z ≡ 0.
func (z *fe) isZero() bool {
	n := *z
	n.normalize()
	return n[0]|n[1]|n[2]|n[3] == 0
}

// equal reports whether z ≡ x.
func (z *fe) equal(x *fe) bool {
	a, b := *z, *x
	a.normalize()
	b.normalize()
	return a == b
}

// add sets z = x + y.
func (z *fe) add(x, y *fe) *fe {
	var k uint64
	z0, c := bits.Add64(x[0], y[0], 0)
	z1, c := bits.Add64(x[1], y[1], c)
	z2, c := bits.Add64(x[2], y[2], c)
	z3, c := bits.Add64(x[3], y[3], c)
	// A carry out of 2^256 is worth pc, folded in without a branch.
	// It carries again only when both inputs were within pc of 2^256,
	// and then the sum wrapped below pc: one more pc, into the lowest
	// limb alone, cannot carry. No branch: constant time.
	z0, k = bits.Add64(z0, pc&-c, 0)
	z1, k = bits.Add64(z1, 0, k)
	z2, k = bits.Add64(z2, 0, k)
	z3, k = bits.Add64(z3, 0, k)
	z0 += pc & -k
	z[0], z[1], z[2], z[3] = z0, z1, z2, z3
	return z
}

// sub sets z = x - y.
func (z *fe) sub(x, y *fe) *fe {
	var k uint64
	z0, b := bits.Sub64(x[0], y[0], 0)
	z1, b := bits.Sub64(x[1], y[1], b)
	z2, b := bits.Sub64(x[2], y[2], b)
	z3, b := bits.Sub64(x[3], y[3], b)
	// A borrow wrapped z to x - y + 2^256: subtracting pc gives
	// x - y + p, without a branch; that borrows again only when y
	// exceeded x by more than 2^256 - pc, and then z wrapped to at
	// least 2^256 - pc, from which a second pc cannot borrow. Both
	// passes always run: constant time.
	z0, k = bits.Sub64(z0, pc&-b, 0)
	z1, k = bits.Sub64(z1, 0, k)
	z2, k = bits.Sub64(z2, 0, k)
	z3, k = bits.Sub64(z3, 0, k)
	z0, k = bits.Sub64(z0, pc&-k, 0)
	z1, k = bits.Sub64(z1, 0, k)
	z2, k = bits.Sub64(z2, 0, k)
	z3, _ = bits.Sub64(z3, 0, k)
	z[0], z[1], z[2], z[3] = z0, z1, z2, z3
	return z
}

// neg sets z = -x.
func (z *fe) neg(x *fe) *fe {
	var zero fe
	return z.sub(&zero, x)
}

// double sets z = 2x.
func (z *fe) double(x *fe) *fe { return z.add(x, x) }

// mac returns a + b·c + d as (hi, lo); it cannot overflow 128 bits.
func mac(a, b, c, d uint64) (uint64, uint64) {
	hi, lo := bits.Mul64(b, c)
	var k uint64
	lo, k = bits.Add64(lo, a, 0)
	hi, _ = bits.Add64(hi, 0, k)
	lo, k = bits.Add64(lo, d, 0)
	hi, _ = bits.Add64(hi, 0, k)
	return hi, lo
}

// mulInt sets z = k·x for a small constant k (below 2^16): one row of
// mul, cheaper than the two or three additions it replaces. k·x <
// k·2^256, so the limb above 2^256 is below k and worth less than
// k·pc < 2^49; if adding it carries out of 2^256, the sum wrapped to
// below 2^49 and the pc that carry is worth lands in the lowest limb.
// No branch on x: constant time.
func (z *fe) mulInt(x *fe, k uint64) *fe {
	h0, l0 := bits.Mul64(x[0], k)
	h1, l1 := bits.Mul64(x[1], k)
	h2, l2 := bits.Mul64(x[2], k)
	h3, l3 := bits.Mul64(x[3], k)
	var c uint64
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	top, _ := bits.Add64(h3, 0, c)
	l0, c = bits.Add64(l0, top*pc, 0)
	l1, c = bits.Add64(l1, 0, c)
	l2, c = bits.Add64(l2, 0, c)
	l3, c = bits.Add64(l3, 0, c)
	l0 += pc & -c
	z[0], z[1], z[2], z[3] = l0, l1, l2, l3
	return z
}

// mul sets z = x·y.
//
// The 512-bit product is built a row at a time: the four products of
// one limb of x by y are first summed among themselves (their low and
// high halves overlap by one limb, which needs a single carry chain),
// and the row is then added to the running total with a second chain.
// Two short chains a row keep every carry in the flags, where a
// multiply-accumulate per product needs two carries per product. There
// is no branch and no index on the values: constant time.
func (z *fe) mul(x, y *fe) *fe {
	x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
	y0, y1, y2, y3 := y[0], y[1], y[2], y[3]
	var c uint64

	// Row 0: r0..r4 = x0·y.
	h0, r0 := bits.Mul64(x0, y0)
	h1, l1 := bits.Mul64(x0, y1)
	h2, l2 := bits.Mul64(x0, y2)
	h3, l3 := bits.Mul64(x0, y3)
	r1, c := bits.Add64(l1, h0, 0)
	r2, c := bits.Add64(l2, h1, c)
	r3, c := bits.Add64(l3, h2, c)
	r4, _ := bits.Add64(h3, 0, c) // x0·y < 2^320: no carry out

	// Row 1: r1..r5 += x1·y.
	h0, l0 := bits.Mul64(x1, y0)
	h1, l1 = bits.Mul64(x1, y1)
	h2, l2 = bits.Mul64(x1, y2)
	h3, l3 = bits.Mul64(x1, y3)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	h3, _ = bits.Add64(h3, 0, c)
	r1, c = bits.Add64(r1, l0, 0)
	r2, c = bits.Add64(r2, l1, c)
	r3, c = bits.Add64(r3, l2, c)
	r4, c = bits.Add64(r4, l3, c)
	r5, _ := bits.Add64(h3, 0, c) // the sum so far is below 2^384

	// Row 2: r2..r6 += x2·y.
	h0, l0 = bits.Mul64(x2, y0)
	h1, l1 = bits.Mul64(x2, y1)
	h2, l2 = bits.Mul64(x2, y2)
	h3, l3 = bits.Mul64(x2, y3)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	h3, _ = bits.Add64(h3, 0, c)
	r2, c = bits.Add64(r2, l0, 0)
	r3, c = bits.Add64(r3, l1, c)
	r4, c = bits.Add64(r4, l2, c)
	r5, c = bits.Add64(r5, l3, c)
	r6, _ := bits.Add64(h3, 0, c)

	// Row 3: r3..r7 += x3·y.
	h0, l0 = bits.Mul64(x3, y0)
	h1, l1 = bits.Mul64(x3, y1)
	h2, l2 = bits.Mul64(x3, y2)
	h3, l3 = bits.Mul64(x3, y3)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	h3, _ = bits.Add64(h3, 0, c)
	r3, c = bits.Add64(r3, l0, 0)
	r4, c = bits.Add64(r4, l1, c)
	r5, c = bits.Add64(r5, l2, c)
	r6, c = bits.Add64(r6, l3, c)
	r7, _ := bits.Add64(h3, 0, c)

	// Reduction, written out in mul and square alike (as a function it
	// is not inlined, and the call costs a sixth of a mul): 2^256 ≡ pc,
	// so r ≡ lo + hi·pc for its low and high 256 bits. hi·pc is formed
	// like a row above (pc < 2^33: its top limb is below 2^33) and added
	// to lo, leaving a carry limb k < 2^34; k·2^256 ≡ k·pc < 2^67 is added
	// once more. If that carries out of 2^256, the sum wrapped to below
	// 2^67, so the pc it is worth lands in the two lowest limbs without
	// carrying further. Every step always runs and the carry is applied
	// by a mask: no branch, constant time.
	h0, l0 = bits.Mul64(r4, pc)
	h1, l1 = bits.Mul64(r5, pc)
	h2, l2 = bits.Mul64(r6, pc)
	h3, l3 = bits.Mul64(r7, pc)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	k, _ := bits.Add64(h3, 0, c)
	r0, c = bits.Add64(r0, l0, 0)
	r1, c = bits.Add64(r1, l1, c)
	r2, c = bits.Add64(r2, l2, c)
	r3, c = bits.Add64(r3, l3, c)
	k, _ = bits.Add64(k, 0, c)
	hk, lk := bits.Mul64(k, pc)
	r0, c = bits.Add64(r0, lk, 0)
	r1, c = bits.Add64(r1, hk, c)
	r2, c = bits.Add64(r2, 0, c)
	r3, c = bits.Add64(r3, 0, c)
	r0, c = bits.Add64(r0, pc&-c, 0)
	r1, _ = bits.Add64(r1, 0, c)
	z[0], z[1], z[2], z[3] = r0, r1, r2, r3
	return z
}

// square sets z = x², as mul does but with each cross product x_i·x_j
// (i < j) formed once and their sum doubled by adding it to itself.
// Constant time, as mul.
func (z *fe) square(x *fe) *fe {
	x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
	var c uint64

	// Cross products into r1..r6: x0·(x1, x2, x3) at limb 1 …
	h0, r1 := bits.Mul64(x0, x1)
	h1, l1 := bits.Mul64(x0, x2)
	h2, l2 := bits.Mul64(x0, x3)
	r2, c := bits.Add64(l1, h0, 0)
	r3, c := bits.Add64(l2, h1, c)
	r4, _ := bits.Add64(h2, 0, c)
	// … x1·(x2, x3) at limb 3 …
	h0, l0 := bits.Mul64(x1, x2)
	h1, l1 = bits.Mul64(x1, x3)
	l1, c = bits.Add64(l1, h0, 0)
	h1, _ = bits.Add64(h1, 0, c)
	r3, c = bits.Add64(r3, l0, 0)
	r4, c = bits.Add64(r4, l1, c)
	r5, _ := bits.Add64(h1, 0, c)
	// … and x2·x3 at limb 5.
	h0, l0 = bits.Mul64(x2, x3)
	r5, c = bits.Add64(r5, l0, 0)
	r6, _ := bits.Add64(h0, 0, c)

	// Doubled (a carry chain, shorter than shifts), then the squares on
	// the diagonal added.
	r1, c = bits.Add64(r1, r1, 0)
	r2, c = bits.Add64(r2, r2, c)
	r3, c = bits.Add64(r3, r3, c)
	r4, c = bits.Add64(r4, r4, c)
	r5, c = bits.Add64(r5, r5, c)
	r6, c = bits.Add64(r6, r6, c)
	r7 := c
	h0, r0 := bits.Mul64(x0, x0)
	h1, l1 = bits.Mul64(x1, x1)
	h2, l2 = bits.Mul64(x2, x2)
	h3, l3 := bits.Mul64(x3, x3)
	r1, c = bits.Add64(r1, h0, 0)
	r2, c = bits.Add64(r2, l1, c)
	r3, c = bits.Add64(r3, h1, c)
	r4, c = bits.Add64(r4, l2, c)
	r5, c = bits.Add64(r5, h2, c)
	r6, c = bits.Add64(r6, l3, c)
	r7, _ = bits.Add64(r7, h3, c)

	// Reduction: as in mul.
	h0, l0 = bits.Mul64(r4, pc)
	h1, l1 = bits.Mul64(r5, pc)
	h2, l2 = bits.Mul64(r6, pc)
	h3, l3 = bits.Mul64(r7, pc)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	k, _ := bits.Add64(h3, 0, c)
	r0, c = bits.Add64(r0, l0, 0)
	r1, c = bits.Add64(r1, l1, c)
	r2, c = bits.Add64(r2, l2, c)
	r3, c = bits.Add64(r3, l3, c)
	k, _ = bits.Add64(k, 0, c)
	hk, lk := bits.Mul64(k, pc)
	r0, c = bits.Add64(r0, lk, 0)
	r1, c = bits.Add64(r1, hk, c)
	r2, c = bits.Add64(r2, 0, c)
	r3, c = bits.Add64(r3, 0, c)
	r0, c = bits.Add64(r0, pc&-c, 0)
	r1, _ = bits.Add64(r1, 0, c)
	z[0], z[1], z[2], z[3] = r0, r1, r2, r3
	return z
}

// sqrn sets z = x^(2^n).
func (z *fe) sqrn(x *fe, n int) *fe {
	*z = *x
	for i := 0; i < n; i++ {
		z.square(z)
	}
	return z
}

// inverse sets z = 1/x (0 for 0), as x^(p-2) by the addition chain of
// libsecp256k1's field inversion: 255 squarings and 15 multiplications.
func (z *fe) inverse(x *fe) *fe {
	var x2, x3, x6, x9, x11, x22, x44, x88, x176, x220, x223, t fe
	x2.square(x).mul(&x2, x)
	x3.square(&x2).mul(&x3, x)
	x6.sqrn(&x3, 3).mul(&x6, &x3)
	x9.sqrn(&x6, 3).mul(&x9, &x3)
	x11.sqrn(&x9, 2).mul(&x11, &x2)
	x22.sqrn(&x11, 11).mul(&x22, &x11)
	x44.sqrn(&x22, 22).mul(&x44, &x22)
	x88.sqrn(&x44, 44).mul(&x88, &x44)
	x176.sqrn(&x88, 88).mul(&x176, &x88)
	x220.sqrn(&x176, 44).mul(&x220, &x44)
	x223.sqrn(&x220, 3).mul(&x223, &x3)
	t.sqrn(&x223, 23).mul(&t, &x22)
	t.sqrn(&t, 5).mul(&t, x)
	t.sqrn(&t, 3).mul(&t, &x2)
	t.sqrn(&t, 2).mul(&t, x)
	*z = t
	return z
}

// sqrt sets z to a square root of x and reports whether x is a square
// (z is then meaningless otherwise): x^((p+1)/4), as p ≡ 3 (mod 4), by
// libsecp256k1's addition chain (the exponent's 1-bits run in blocks of
// 223, 22 and 2): 253 squarings and 13 multiplications.
func (z *fe) sqrt(x *fe) bool {
	var x2, x3, x6, x9, x11, x22, x44, x88, x176, x220, x223, t fe
	x2.square(x).mul(&x2, x)
	x3.square(&x2).mul(&x3, x)
	x6.sqrn(&x3, 3).mul(&x6, &x3)
	x9.sqrn(&x6, 3).mul(&x9, &x3)
	x11.sqrn(&x9, 2).mul(&x11, &x2)
	x22.sqrn(&x11, 11).mul(&x22, &x11)
	x44.sqrn(&x22, 22).mul(&x44, &x22)
	x88.sqrn(&x44, 44).mul(&x88, &x44)
	x176.sqrn(&x88, 88).mul(&x176, &x88)
	x220.sqrn(&x176, 44).mul(&x220, &x44)
	x223.sqrn(&x220, 3).mul(&x223, &x3)
	t.sqrn(&x223, 23).mul(&t, &x22)
	t.sqrn(&t, 6).mul(&t, &x2)
	t.sqrn(&t, 2)
	var check fe
	ok := check.square(&t).equal(x)
	*z = t
	return ok
}
