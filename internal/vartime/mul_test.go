package vartime

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
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
	for i := 0; i < b.N; i++ {
		Mul(&p, &k, &out)
	}
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
	for i := 0; i < b.N; i++ {
		btcec.ScalarMultNonConst(&k, &pj, &out)
	}
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
