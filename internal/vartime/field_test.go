package vartime

import (
	"math/big"
	"math/rand"
	"testing"
)

var bigP, _ = new(big.Int).SetString(
	"fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f", 16)

func (z *fe) big() *big.Int {
	b := z.bytes()
	return new(big.Int).SetBytes(b[:])
}

// raw is z's value as stored (not reduced), for checking the bound.
func (z *fe) raw() *big.Int {
	v := new(big.Int)
	for i := 3; i >= 0; i-- {
		v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(z[i]))
	}
	return v
}

// testElements are random elements and the edges: 0, 1, p-1, p, p+1,
// 2^256-1 and values with all limbs at their extremes.
func testElements(r *rand.Rand, n int) []fe {
	out := []fe{{}, {1}, feP, {0xffffffffffffffff, 0xffffffffffffffff,
		0xffffffffffffffff, 0xffffffffffffffff}, {0, 0, 0, 1 << 63},
		{pc, 0, 0, 0}, {0xffffffffffffffff, 0, 0xffffffffffffffff, 0}}
	pm1, pp1 := feP, feP
	pm1[0]--
	pp1[0]++
	out = append(out, pm1, pp1)
	for i := 0; i < n; i++ {
		var z fe
		for j := range z {
			z[j] = r.Uint64()
			switch r.Intn(6) {
			case 0:
				z[j] = 0xffffffffffffffff
			case 1:
				z[j] = 0
			}
		}
		out = append(out, z)
	}
	return out
}

// TestField checks every operation against math/big on random and edge
// elements, including unreduced inputs in [p, 2^256).
func TestField(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	els := testElements(r, 300)
	mod := func(v *big.Int) *big.Int { return v.Mod(v, bigP) }
	check := func(op string, got *fe, want *big.Int, a, b *fe) {
		t.Helper()
		if got.raw().BitLen() > 256 {
			t.Fatalf("%s out of range", op)
		}
		if got.big().Cmp(mod(want)) != 0 {
			t.Fatalf("%s(%x, %x) = %x, want %x", op, *a, *b,
				got.big(), mod(want))
		}
	}
	for i := range els {
		a := &els[i]
		ab := a.raw()
		var z fe
		check("square", z.square(a), new(big.Int).Mul(ab, ab), a, a)
		check("neg", z.neg(a), new(big.Int).Neg(ab), a, a)
		check("double", z.double(a), new(big.Int).Lsh(ab, 1), a, a)
		check("mulB3", z.mulB3(a), new(big.Int).Mul(ab, big.NewInt(21)), a, a)
		for _, k := range []uint64{0, 1, 3, 8, 21, 0xffff} {
			check("mulInt", z.mulInt(a, k),
				new(big.Int).Mul(ab, new(big.Int).SetUint64(k)), a, a)
		}
		if !a.isZero() {
			var one fe
			one.mul(z.inverse(a), a)
			if one.big().Cmp(big.NewInt(1)) != 0 {
				t.Fatalf("inverse(%x) wrong", *a)
			}
		}
		if got := a.isZero(); got != (mod(new(big.Int).Set(ab)).Sign() == 0) {
			t.Fatalf("isZero(%x) = %v", *a, got)
		}
		for j := range els {
			b := &els[j]
			bb := b.raw()
			check("mul", z.mul(a, b), new(big.Int).Mul(ab, bb), a, b)
			check("add", z.add(a, b), new(big.Int).Add(ab, bb), a, b)
			check("sub", z.sub(a, b), new(big.Int).Sub(ab, bb), a, b)
			want := mod(new(big.Int).Set(ab)).Cmp(
				mod(new(big.Int).Set(bb))) == 0
			if a.equal(b) != want {
				t.Fatalf("equal(%x, %x) != %v", *a, *b, want)
			}
		}
		// Aliased operands.
		z = *a
		check("mul aliased", z.mul(&z, &z), new(big.Int).Mul(ab, ab), a, a)
		z = *a
		check("sub aliased", z.sub(&z, &z), new(big.Int), a, a)
	}
}

// TestFieldBytes checks the big-endian encoding round trip.
func TestFieldBytes(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, z := range testElements(r, 50) {
		b := z.bytes()
		var back fe
		back.setBytes(&b)
		if !back.equal(&z) || back.big().Cmp(new(big.Int).SetBytes(b[:])) != 0 {
			t.Fatalf("round trip of %x", z)
		}
	}
}

func BenchmarkFieldMul(b *testing.B) {
	x := fe{1, 2, 3, 4}
	y := fe{0xffffffffffffffff, 5, 6, 0xffffffffffffff}
	for i := 0; i < b.N; i++ {
		x.mul(&x, &y)
	}
}

func BenchmarkFieldSquare(b *testing.B) {
	x := fe{1, 2, 3, 4}
	for i := 0; i < b.N; i++ {
		x.square(&x)
	}
}

func BenchmarkFieldInverse(b *testing.B) {
	x := fe{1, 2, 3, 4}
	for i := 0; i < b.N; i++ {
		x.inverse(&x)
	}
}

// reductionPaths reports, for the 512-bit product n, whether mul's and
// square's reduction takes its two rare carries: the fold of the high
// half leaving a carry limb k > 0, and k·pc then carrying out of 2^256
// (the final pc).
func reductionPaths(n *big.Int) (carry, final bool) {
	two256 := new(big.Int).Lsh(big.NewInt(1), 256)
	pcB := new(big.Int).SetUint64(pc)
	lo := new(big.Int).Mod(n, two256)
	hi := new(big.Int).Rsh(n, 256)
	s := new(big.Int).Add(lo, new(big.Int).Mul(hi, pcB))
	k := new(big.Int).Rsh(s, 256)
	t := new(big.Int).Mod(s, two256)
	t.Add(t, k.Mul(k, pcB))
	return k.Sign() > 0, t.Cmp(two256) >= 0
}

// TestFieldReductionEdges checks mul and square on inputs chosen to take
// every carry of the reduction, including the final one that no random
// input reaches (about 2^-189 of them): the largest limbs, values about
// p, and y near m·2^256/(pc-1) times 2^256 - 1, whose folded sum lands
// just below a multiple of 2^256.
func TestFieldReductionEdges(t *testing.T) {
	ones := fe{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	var cands []fe
	for a := uint64(0); a < 64; a++ {
		v := ones
		v[0] -= a
		cands = append(cands, v)
		w := feP
		w[0] -= a
		cands = append(cands, w)
	}
	two256 := new(big.Int).Lsh(big.NewInt(1), 256)
	for m := int64(1); m <= 4; m++ {
		base := new(big.Int).Mul(big.NewInt(m), two256)
		base.Div(base, new(big.Int).SetUint64(pc-1))
		for d := int64(-3); d <= 3; d++ {
			var b [32]byte
			new(big.Int).Add(base, big.NewInt(d)).FillBytes(b[:])
			var f fe
			cands = append(cands, *f.setBytes(&b))
		}
	}
	var mulFinal, sqFinal, mulCarry int
	for i := range cands {
		a := &cands[i]
		ab := a.raw()
		var z fe
		sq := new(big.Int).Mul(ab, ab)
		if _, f := reductionPaths(sq); f {
			sqFinal++
		}
		if z.square(a).big().Cmp(new(big.Int).Mod(sq, bigP)) != 0 {
			t.Fatalf("square(%x)", *a)
		}
		for j := range cands {
			b := &cands[j]
			prod := new(big.Int).Mul(ab, b.raw())
			c, f := reductionPaths(prod)
			if c {
				mulCarry++
			}
			if f {
				mulFinal++
			}
			if z.mul(a, b).big().Cmp(new(big.Int).Mod(prod, bigP)) != 0 {
				t.Fatalf("mul(%x, %x)", *a, *b)
			}
		}
	}
	if mulFinal == 0 || sqFinal == 0 || mulCarry == 0 {
		t.Fatalf("edges not reached: mul carry %d, final %d; square "+
			"final %d", mulCarry, mulFinal, sqFinal)
	}
	t.Logf("mul: %d carries, %d final; square: %d final (of %d)",
		mulCarry, mulFinal, sqFinal, len(cands))
}
