package vartime

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/cpumeter"
)

// testScalars are random scalars and the edges: 0, 1, 2, 15, 16, 17,
// 2^255 - 1, n - 1, n - 2 and bytes of all ones.
func testScalars(r *rand.Rand, n int) []btcec.ModNScalar {
	var out []btcec.ModNScalar
	for _, v := range []uint16{0, 1, 2, 15, 16, 17, 255, 256} {
		var k btcec.ModNScalar
		k.SetInt(uint32(v))
		out = append(out, k)
	}
	var k btcec.ModNScalar
	k.SetInt(1).Negate()
	out = append(out, k)
	k.SetInt(2).Negate()
	out = append(out, k)
	var top [32]byte
	for i := range top {
		top[i] = 0xff
	}
	top[0] = 0x7f
	k.SetBytes(&top)
	out = append(out, k)
	for i := 0; i < n; i++ {
		var b [32]byte
		r.Read(b[:])
		if i%5 == 0 {
			// Sparse bytes: exercise the zero windows.
			for j := range b {
				if r.Intn(3) != 0 {
					b[j] = 0
				}
			}
		}
		k.SetByteSlice(b[:])
		out = append(out, k)
	}
	return out
}

func randPub(r *rand.Rand) *btcec.PublicKey {
	var b [32]byte
	r.Read(b[:])
	_, pub := btcec.PrivKeyFromBytes(b[:])
	return pub
}

// sameAs fails unless got is the point btcec's want is.
func sameAs(t *testing.T, what string, got *Jacobian,
	want *btcec.JacobianPoint) {

	t.Helper()
	w := *want
	wantInf := (w.X.IsZero() && w.Y.IsZero()) || w.Z.IsZero()
	if wantInf || got.IsInfinity() {
		if wantInf != got.IsInfinity() {
			t.Fatalf("%s: infinity %v, want %v", what,
				got.IsInfinity(), wantInf)
		}
		return
	}
	w.ToAffine()
	pub := btcec.NewPublicKey(&w.X, &w.Y)
	if !got.Equals(pub) {
		t.Fatalf("%s: point differs", what)
	}
	if !got.PubKey().IsEqual(pub) {
		t.Fatalf("%s: PubKey differs", what)
	}
	xb := w.X.Bytes()
	if !got.HasAffineX(xb) {
		t.Fatalf("%s: HasAffineX false", what)
	}
}

// TestMul checks BaseMul, Mul and Table.Mul against btcec.
func TestMul(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	scalars := testScalars(r, 60)
	for _, k := range scalars {
		var want btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k, &want)
		var got Jacobian
		BaseMul(&k, &got)
		sameAs(t, "BaseMul", &got, &want)
	}
	for n := 0; n < 12; n++ {
		pub := randPub(r)
		p := FromPubKey(pub)
		table := NewTable(pub, 2+n%7)
		var pj btcec.JacobianPoint
		pub.AsJacobian(&pj)
		for _, k := range scalars {
			var want btcec.JacobianPoint
			btcec.ScalarMultNonConst(&k, &pj, &want)
			var got Jacobian
			Mul(&p, &k, &got)
			sameAs(t, "Mul", &got, &want)
			conv := FromJacobian(&want)
			sameAs(t, "FromJacobian", &conv, &want)
			table.Mul(&k, &got)
			sameAs(t, "Table.Mul", &got, &want)
		}
	}
}

// TestAddEdges checks additions that meet the special cases: a point
// plus itself, plus its negation, and infinity on either side.
func TestAddEdges(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for n := 0; n < 20; n++ {
		pub := randPub(r)
		p := FromPubKey(pub)
		var pj, dbl, sum, neg, inf Jacobian
		pj.SetPoint(&p)
		// A Jacobian form with Z ≠ 1.
		var k btcec.ModNScalar
		k.SetInt(1)
		Mul(&p, &k, &pj)
		dbl.Double(&pj)
		var want btcec.JacobianPoint
		var bj btcec.JacobianPoint
		pub.AsJacobian(&bj)
		btcec.DoubleNonConst(&bj, &want)
		sameAs(t, "Double", &dbl, &want)
		sum.Add(&pj, &pj)
		sameAs(t, "Add(p, p)", &sum, &want)
		sum.AddPoint(&pj, &p)
		sameAs(t, "AddPoint(p, p)", &sum, &want)
		neg.Neg(&pj)
		if sum.Add(&pj, &neg); !sum.IsInfinity() {
			t.Fatal("p + -p is not infinity")
		}
		negP := p
		negP.y.neg(&p.y)
		if sum.AddPoint(&pj, &negP); !sum.IsInfinity() {
			t.Fatal("p + -p (mixed) is not infinity")
		}
		sum.Add(&inf, &pj)
		sameAs(t, "inf + p", &sum, &bj)
		sum.Add(&pj, &inf)
		sameAs(t, "p + inf", &sum, &bj)
		sum.AddPoint(&inf, &p)
		sameAs(t, "inf + p (mixed)", &sum, &bj)
		if sum.Double(&inf); !sum.IsInfinity() {
			t.Fatal("2·inf is not infinity")
		}
		// Batch conversion with infinity among the points.
		pts := []Jacobian{dbl, inf, pj}
		out := make([]Point, 3)
		ToAffine(pts, out)
		if !out[2].PubKey().IsEqual(pub) || out[1] != (Point{}) {
			t.Fatal("ToAffine with infinity")
		}
		if got := out[0].PubKey(); !dbl.Equals(got) {
			t.Fatal("ToAffine of 2p")
		}
	}
}

func BenchmarkBaseMul(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	var out Jacobian
	BaseMul(&k, &out)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		BaseMul(&k, &out)
	}
}

func BenchmarkMul(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	p := FromPubKey(randPub(r))
	var out Jacobian
	m := cpumeter.Start()
	for i := 0; i < b.N; i++ {
		Mul(&p, &k, &out)
	}
	m.Report(b)
}

func BenchmarkTableMul6(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	t := NewTable(randPub(r), 6)
	var out Jacobian
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.Mul(&k, &out)
	}
}

func BenchmarkBtcecBaseMul(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	var out btcec.JacobianPoint
	for i := 0; i < b.N; i++ {
		btcec.ScalarBaseMultNonConst(&k, &out)
	}
}

func BenchmarkBtcecMul(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	var pj, out btcec.JacobianPoint
	randPub(r).AsJacobian(&pj)
	m := cpumeter.Start()
	for i := 0; i < b.N; i++ {
		btcec.ScalarMultNonConst(&k, &pj, &out)
	}
	m.Report(b)
}

// TestGLV checks the endomorphism constants (λ·P = (β·x, y)) and that
// splitK's halves recombine to k and stay below 2^129.
func TestGLV(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	var lambda btcec.ModNScalar
	lambda.SetByteSlice(hexInt("5363ad4cc05c30e0a5261c028812645a" +
		"122e22ea20816678df02967c1b23bd72").Bytes())
	pub := randPub(r)
	var pj, want btcec.JacobianPoint
	pub.AsJacobian(&pj)
	btcec.ScalarMultNonConst(&lambda, &pj, &want)
	p := FromPubKey(pub)
	var got Jacobian
	got.SetPoint(&p)
	got.x.mul(&got.x, &glvBeta)
	sameAs(t, "β·x", &got, &want)
	lb := lambda.Bytes()
	lam := new(big.Int).SetBytes(lb[:])
	limit := new(big.Int).Lsh(big.NewInt(1), 129)
	scalars := testScalars(r, 200)
	// The edges: 0, 1, n-1, (n-1)/2 and its neighbours, λ, -λ.
	for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1),
		new(big.Int).Sub(curveN, big.NewInt(1)),
		new(big.Int).Rsh(curveN, 1),
		new(big.Int).Add(new(big.Int).Rsh(curveN, 1), big.NewInt(1)),
		lam, new(big.Int).Sub(curveN, lam)} {

		scalars = append(scalars, scalarOf(v))
	}
	for _, k := range scalars {
		k1, k2, neg1, neg2 := splitK(&k)
		b1, b2 := k1.Bytes(), k2.Bytes()
		v1, v2 := new(big.Int).SetBytes(b1[:]), new(big.Int).SetBytes(b2[:])
		if v1.Cmp(limit) >= 0 || v2.Cmp(limit) >= 0 {
			t.Fatalf("split of %x too long", k.Bytes())
		}
		if neg1 {
			v1.Neg(v1)
		}
		if neg2 {
			v2.Neg(v2)
		}
		sum := new(big.Int).Mul(v2, lam)
		sum.Add(sum, v1).Mod(sum, curveN)
		kb := k.Bytes()
		if sum.Cmp(new(big.Int).SetBytes(kb[:])) != 0 {
			t.Fatalf("split of %x does not recombine", kb)
		}
	}
}

func BenchmarkGeneratorTable(b *testing.B) {
	for i := 0; i < b.N; i++ {
		buildGeneratorTable()
	}
}

// btcecCompressed is btcec's k·pub, compressed, and whether it is a point.
func btcecCompressed(pub *btcec.PublicKey, k *btcec.ModNScalar) ([33]byte, bool) {
	var p, r btcec.JacobianPoint
	pub.AsJacobian(&p)
	btcec.ScalarMultNonConst(k, &p, &r)
	if (r.X.IsZero() && r.Y.IsZero()) || r.Z.IsZero() {
		return [33]byte{}, false
	}
	r.ToAffine()
	var out [33]byte
	copy(out[:], btcec.NewPublicKey(&r.X, &r.Y).SerializeCompressed())
	return out, true
}

func TestSecretMul(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	pubs := []*btcec.PublicKey{btcec.Generator()}
	for i := 0; i < 8; i++ {
		pubs = append(pubs, randPub(r))
	}
	scalars := testScalars(r, 300)
	// Scalars whose recoding meets every digit at its extremes: all
	// bits set below 2^255, alternating bits, n - 2^k.
	var alt [32]byte
	for i := range alt {
		alt[i] = 0xaa
	}
	var k btcec.ModNScalar
	k.SetBytes(&alt)
	scalars = append(scalars, k)
	for i := range alt {
		alt[i] = 0x55
	}
	k.SetBytes(&alt)
	scalars = append(scalars, k)
	for _, e := range []int{1, 5, 31, 32, 64, 128, 200, 250, 254} {
		var b [32]byte
		new(big.Int).Sub(btcec.S256().N,
			new(big.Int).Lsh(big.NewInt(1), uint(e))).FillBytes(b[:])
		k.SetBytes(&b)
		scalars = append(scalars, k)
		b = [32]byte{}
		new(big.Int).Lsh(big.NewInt(1), uint(e)).FillBytes(b[:])
		k.SetBytes(&b)
		scalars = append(scalars, k)
	}
	for pi, pub := range pubs {
		p := FromPubKey(pub)
		for si := range scalars {
			want, wantOK := btcecCompressed(pub, &scalars[si])
			got, ok := SecretMul(&p, &scalars[si])
			if ok != wantOK || (ok && got != want) {
				t.Fatalf("SecretMul(pub %d, %x): %x %v, want %x %v", pi,
					scalars[si].Bytes(), got, ok, want, wantOK)
			}
		}
	}
}

// TestSecretMulSelf checks k·P for P a small multiple of the point itself
// (k·P where the sum passes through ±P and infinity).
func TestSecretMulSmallMultiples(t *testing.T) {
	g := btcec.Generator()
	p := FromPubKey(g)
	for v := -40; v <= 40; v++ {
		var k btcec.ModNScalar
		k.SetInt(uint32(abs(v)))
		if v < 0 {
			k.Negate()
		}
		want, wantOK := btcecCompressed(g, &k)
		got, ok := SecretMul(&p, &k)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("SecretMul(G, %d): %x %v, want %x %v", v, got, ok,
				want, wantOK)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// BenchmarkSecretMul is the scalar and point of BenchmarkMul, with the
// inversion and encoding Mul leaves out.
func BenchmarkSecretMul(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	p := FromPubKey(randPub(r))
	m := cpumeter.Start()
	for i := 0; i < b.N; i++ {
		SecretMul(&p, &k)
	}
	m.Report(b)
}

// TestSplitSecret checks the constant-time GLV split: the constants
// against their definitions, and for random and edge scalars that
// k ≡ ±r1 ± λ·r2 with both halves below 2^128.
func TestSplitSecret(t *testing.T) {
	n := btcec.S256().N
	round := func(num *big.Int) *big.Int {
		q := new(big.Int).Lsh(num, 384)
		q.Add(q, new(big.Int).Rsh(n, 1))
		return q.Quo(q, n)
	}
	limbsBig := func(l [4]uint64) *big.Int {
		var b [32]byte
		putLimbs(&b, &l)
		return new(big.Int).SetBytes(b[:])
	}
	if limbsBig(glvG1).Cmp(round(glvB2)) != 0 ||
		limbsBig(glvG2).Cmp(round(new(big.Int).Neg(glvB1))) != 0 {
		t.Fatal("g1 or g2 is not round(2^384·b/n)")
	}
	lambda := new(big.Int).SetBytes(hexInt("5363ad4cc05c30e0a5261c028812645a" +
		"122e22ea20816678df02967c1b23bd72").Bytes())
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	r := rand.New(rand.NewSource(11))
	for _, k := range testScalars(r, 2000) {
		r1, r2, neg1, neg2 := splitSecret(&k)
		a, b := limbsBig(r1), limbsBig(r2)
		if a.Cmp(limit) >= 0 || b.Cmp(limit) >= 0 {
			t.Fatalf("split(%x): halves %x %x", k.Bytes(), a, b)
		}
		if neg1 != 0 {
			a.Neg(a)
		}
		if neg2 != 0 {
			b.Neg(b)
		}
		sum := new(big.Int).Mul(b, lambda)
		sum.Add(sum, a).Mod(sum, n)
		kb := k.Bytes()
		if sum.Cmp(new(big.Int).SetBytes(kb[:])) != 0 {
			t.Fatalf("split(%x): r1 + λ·r2 = %x", kb, sum)
		}
	}
}

func TestSecretBaseMul(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	scalars := testScalars(r, 500)
	for v := 0; v <= 40; v++ {
		var k btcec.ModNScalar
		k.SetInt(uint32(v))
		scalars = append(scalars, k)
		k.Negate()
		scalars = append(scalars, k)
	}
	for _, k := range scalars {
		var w btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k, &w)
		wantInf := (w.X.IsZero() && w.Y.IsZero()) || w.Z.IsZero()
		x, y, ok := SecretBaseMul(&k)
		if ok == wantInf {
			t.Fatalf("SecretBaseMul(%x): ok %v", k.Bytes(), ok)
		}
		if !ok {
			continue
		}
		w.ToAffine()
		if x != *w.X.Bytes() || y != *w.Y.Bytes() {
			t.Fatalf("SecretBaseMul(%x): (%x, %x), want (%x, %x)",
				k.Bytes(), x, y, w.X.Bytes(), w.Y.Bytes())
		}
	}
}

func BenchmarkSecretBaseMul(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	SecretBaseMul(&k)
	m := cpumeter.Start()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		SecretBaseMul(&k)
	}
	m.Report(b)
}

// BenchmarkBtcecBaseMulAffine is what btcec's signer does with its nonce.
func BenchmarkBtcecBaseMulAffine(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	var out btcec.JacobianPoint
	m := cpumeter.Start()
	for i := 0; i < b.N; i++ {
		btcec.ScalarBaseMultNonConst(&k, &out)
		out.ToAffine()
	}
	m.Report(b)
}

// TestMulShift384 checks round(k·g / 2^384) against math/big for random
// and extreme k.
func TestMulShift384(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	half := new(big.Int).Lsh(big.NewInt(1), 383)
	for i := 0; i < 2000; i++ {
		var k [4]uint64
		for j := range k {
			k[j] = r.Uint64()
			if i%7 == 0 {
				k[j] = ^uint64(0)
			}
		}
		for _, g := range [][4]uint64{glvG1, glvG2} {
			var kb, gb [32]byte
			putLimbs(&kb, &k)
			putLimbs(&gb, &g)
			want := new(big.Int).Mul(new(big.Int).SetBytes(kb[:]),
				new(big.Int).SetBytes(gb[:]))
			want.Add(want, half).Rsh(want, 384)
			got := roundShift384(&k, &g)
			wb := [32]byte{}
			want.Mod(want, btcec.S256().N).FillBytes(wb[:])
			if got.Bytes() != wb {
				t.Fatalf("roundShift384(%x, %x) = %x, want %x", kb, gb,
					got.Bytes(), wb)
			}
		}
	}
}

func BenchmarkBtcecInverseN(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	k := testScalars(r, 2)[12]
	var w btcec.ModNScalar
	m := cpumeter.Start()
	for i := 0; i < b.N; i++ {
		w.InverseValNonConst(&k)
	}
	m.Report(b)
}
