package vartime

import (
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// FuzzArithmetic checks the field against math/big and the
// multiplications (SecretMul, SecretBaseMul, DoubleBaseMul and DoubleMul
// included) against btcec for arbitrary inputs: a and b as field
// elements (unreduced when ≥ p), and as scalars.
func FuzzArithmetic(f *testing.F) {
	f.Add(make([]byte, 64))
	ones := make([]byte, 64)
	for i := range ones {
		ones[i] = 0xff
	}
	f.Add(ones)
	f.Add(append(feP.bytesRaw(), feP.bytesRaw()...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 64 {
			return
		}
		var ab, bb [32]byte
		copy(ab[:], in[:32])
		copy(bb[:], in[32:64])
		var a, b, z fe
		a.setBytes(&ab)
		b.setBytes(&bb)
		x, y := new(big.Int).SetBytes(ab[:]), new(big.Int).SetBytes(bb[:])
		want := func(v *big.Int) *big.Int { return v.Mod(v, bigP) }
		if z.mul(&a, &b).big().Cmp(want(new(big.Int).Mul(x, y))) != 0 {
			t.Fatalf("mul(%x, %x)", ab, bb)
		}
		if z.square(&a).big().Cmp(want(new(big.Int).Mul(x, x))) != 0 {
			t.Fatalf("square(%x)", ab)
		}
		if z.add(&a, &b).big().Cmp(want(new(big.Int).Add(x, y))) != 0 {
			t.Fatalf("add(%x, %x)", ab, bb)
		}
		if z.sub(&a, &b).big().Cmp(want(new(big.Int).Sub(x, y))) != 0 {
			t.Fatalf("sub(%x, %x)", ab, bb)
		}
		if !a.isZero() {
			var one fe
			if one.mul(z.inverse(&a), &a).big().Cmp(big.NewInt(1)) != 0 {
				t.Fatalf("inverse(%x)", ab)
			}
		}
		var k btcec.ModNScalar
		k.SetBytes(&ab)
		var wantG, gotG Jacobian
		var bj btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k, &bj)
		BaseMul(&k, &gotG)
		wantG = FromJacobian(&bj)
		if !samePoint(&gotG, &wantG) {
			t.Fatalf("BaseMul(%x)", ab)
		}
		sx, sy, ok := SecretBaseMul(&k)
		if ok != !wantG.IsInfinity() {
			t.Fatalf("SecretBaseMul(%x): ok %v", ab, ok)
		}
		if ok {
			bj.ToAffine()
			if sx != *bj.X.Bytes() || sy != *bj.Y.Bytes() {
				t.Fatalf("SecretBaseMul(%x)", ab)
			}
		}
		// k·P for P = (b mod n)·G, when that is a point.
		var pk btcec.ModNScalar
		pk.SetBytes(&bb)
		if pk.IsZero() {
			return
		}
		var pj, wantP btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&pk, &pj)
		pj.ToAffine()
		p := FromPubKey(btcec.NewPublicKey(&pj.X, &pj.Y))
		btcec.ScalarMultNonConst(&k, &pj, &wantP)
		var gotP Jacobian
		Mul(&p, &k, &gotP)
		want2 := FromJacobian(&wantP)
		if !samePoint(&gotP, &want2) {
			t.Fatalf("Mul(%x, %x)", bb, ab)
		}
		pub := btcec.NewPublicKey(&pj.X, &pj.Y)
		wantC, wantOK := btcecCompressed(pub, &k)
		gotC, ok := SecretMul(&p, &k)
		if ok != wantOK || (ok && gotC != wantC) {
			t.Fatalf("SecretMul(%x, %x)", bb, ab)
		}
		// k·G + pk·P and k·P + pk·G, in one pass each.
		var kg, pkp, wantD btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k, &kg)
		btcec.ScalarMultNonConst(&pk, &pj, &pkp)
		btcec.AddNonConst(&kg, &pkp, &wantD)
		want3 := FromJacobian(&wantD)
		var gotD Jacobian
		DoubleBaseMul(&k, &p, &pk, &gotD)
		if !samePoint(&gotD, &want3) {
			t.Fatalf("DoubleBaseMul(%x, %x)", ab, bb)
		}
		g := generatorPoint()
		DoubleMul(&p, &pk, &g, &k, &gotD)
		if !samePoint(&gotD, &want3) {
			t.Fatalf("DoubleMul(%x, %x)", bb, ab)
		}
	})
}

// bytesRaw is z's limbs big-endian, unreduced.
func (z *fe) bytesRaw() []byte {
	out := make([]byte, 32)
	for i := 0; i < 4; i++ {
		v := z[i]
		for j := 0; j < 8; j++ {
			out[31-8*i-j] = byte(v)
			v >>= 8
		}
	}
	return out
}

// samePoint reports whether a and b are the same point (both infinity,
// or equal affine coordinates).
func samePoint(a, b *Jacobian) bool {
	if a.IsInfinity() || b.IsInfinity() {
		return a.IsInfinity() == b.IsInfinity()
	}
	var za2, zb2, za3, zb3, l, r fe
	za2.square(&a.z)
	zb2.square(&b.z)
	za3.mul(&za2, &a.z)
	zb3.mul(&zb2, &b.z)
	return l.mul(&a.x, &zb2).equal(r.mul(&b.x, &za2)) &&
		l.mul(&a.y, &zb3).equal(r.mul(&b.y, &za3))
}
