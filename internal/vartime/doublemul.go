package vartime

import (
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
)

// gWindow is the wNAF window of the generator's GLV halves in
// DoubleBaseMul: 2^(gWindow-2) odd multiples of G and as many of λG,
// affine, 2 × 16 KiB, about 2 × 129/(gWindow+1) additions.
const gWindow = 10

// generatorOdd holds G, 3G, 5G, … in g and the same multiples of λG,
// (β·x, y), in lg: built on first use and never changed.
type generatorOdd struct {
	g, lg [1 << (gWindow - 2)]Point
}

var generatorOddTable = sync.OnceValue(buildGeneratorOdd)

// generatorPoint returns G.
func generatorPoint() Point {
	var g btcec.JacobianPoint
	var one btcec.ModNScalar
	one.SetInt(1)
	btcec.ScalarBaseMultNonConst(&one, &g)
	g.ToAffine()
	var p Point
	p.x.setBytes(g.X.Bytes())
	p.y.setBytes(g.Y.Bytes())
	return p
}

func buildGeneratorOdd() *generatorOdd {
	g := generatorPoint()
	var g2j Jacobian
	g2j.SetPoint(&g)
	g2j.Double(&g2j)
	g2 := make([]Point, 1)
	ToAffine([]Jacobian{g2j}, g2)

	t := new(generatorOdd)
	jac := make([]Jacobian, len(t.g))
	jac[0].SetPoint(&g)
	for i := 1; i < len(jac); i++ {
		jac[i].AddPoint(&jac[i-1], &g2[0])
	}
	ToAffine(jac, t.g[:])
	for i := range t.g {
		t.lg[i].x.mul(&t.g[i].x, &glvBeta)
		t.lg[i].y = t.g[i].y
	}
	return t
}

// DoubleBaseMul sets r = u1·G + u2·p in one pass: both scalars split
// by GLV, the four halves' wNAFs (width gWindow against the generator's
// precomputed odd multiples, width 5 against p's) added into one chain
// of about 129 doublings. p's odd multiples are made to share one Z, so
// that every addition is a mixed one (see oddMultiplesIso). It is what
// an ECDSA verification or a public key recovery computes. Variable
// time: u1, u2 and p must be public.
func DoubleBaseMul(u1 *btcec.ModNScalar, p *Point, u2 *btcec.ModNScalar, r *Jacobian) {
	t := generatorOddTable()
	g1, g2, gneg1, gneg2 := splitK(u1)
	k1, k2, neg1, neg2 := splitK(u2)
	var odd1, odd2 [1 << (wnafWidth - 2)]Point
	z := oddMultiplesIso(p, neg1, neg2, &odd1, &odd2)
	// The sum runs on the curve y² = x³ + 7·z⁶, isomorphic by
	// (x, y) → (x·z², y·z³), where odd1 and odd2 are affine; G's
	// multiples are mapped there as they are added, and the result
	// is mapped back by its Z times z.
	var z2, z3 fe
	z2.square(&z)
	z3.mul(&z2, &z)

	var wg1, wg2, w1, w2 [wnafMax]int16
	bg1, bg2, b1, b2 := g1.Bytes(), g2.Bytes(), k1.Bytes(), k2.Bytes()
	dg1 := wg1[:wnafBytes(&bg1, gWindow, &wg1)]
	dg2 := wg2[:wnafBytes(&bg2, gWindow, &wg2)]
	d1 := w1[:wnafBytes(&b1, wnafWidth, &w1)]
	d2 := w2[:wnafBytes(&b2, wnafWidth, &w2)]
	var acc Jacobian
	for i := max(len(dg1), len(dg2), len(d1), len(d2)) - 1; i >= 0; i-- {
		acc.Double(&acc)
		if i < len(dg1) {
			addDigitIso(&acc, t.g[:], dg1[i], gneg1, &z2, &z3)
		}
		if i < len(dg2) {
			addDigitIso(&acc, t.lg[:], dg2[i], gneg2, &z2, &z3)
		}
		if i < len(d1) {
			addDigitIso(&acc, odd1[:], d1[i], false, nil, nil)
		}
		if i < len(d2) {
			addDigitIso(&acc, odd2[:], d2[i], false, nil, nil)
		}
	}
	acc.z.mul(&acc.z, &z)
	*r = acc
}

// oddMultiplesIso sets odd1 to p, 3p, …, 15p (negated when neg1) and
// odd2 to the same multiples of λp (negated when neg2), all as affine
// points of the isomorphic curve y² = x³ + 7·z⁶ for the returned z: the
// multiples computed in Jacobian form with mixed additions of 2p, then
// brought to the last one's Z by the running product of the additions'
// Z ratios, which costs no inversion. p must be a point of the curve.
func oddMultiplesIso(p *Point, neg1, neg2 bool, odd1, odd2 *[1 << (wnafWidth - 2)]Point) fe {
	base := *p
	if neg1 {
		base.y.neg(&base.y)
	}
	// d = 2p = (dx, dy, dz); on the curve mapped by dz it is the
	// affine (dx, dy), and p is (x·dz², y·dz³).
	var d Jacobian
	d.SetPoint(&base)
	d.Double(&d)
	var dz2, dz3 fe
	dz2.square(&d.z)
	dz3.mul(&dz2, &d.z)
	d2 := Point{x: d.x, y: d.y}
	var jac [1 << (wnafWidth - 2)]Jacobian
	var ratio [1 << (wnafWidth - 2)]fe
	jac[0].x.mul(&base.x, &dz2)
	jac[0].y.mul(&base.y, &dz3)
	jac[0].z = fe{1}
	for i := 1; i < len(jac); i++ {
		ratio[i] = jac[i].addPointRatio(&jac[i-1], &d2)
	}
	// jac[i]'s Z times ratio[i+1]·…·ratio[last] is the last Z.
	last := len(jac) - 1
	odd1[last] = Point{x: jac[last].x, y: jac[last].y}
	acc := ratio[last]
	for i := last - 1; i >= 0; i-- {
		var a2, a3 fe
		a2.square(&acc)
		a3.mul(&a2, &acc)
		odd1[i].x.mul(&jac[i].x, &a2)
		odd1[i].y.mul(&jac[i].y, &a3)
		if i > 0 {
			acc.mul(&acc, &ratio[i])
		}
	}
	// λ on the mapped curve is (β·x, y) too.
	flip := neg1 != neg2
	for i := range odd2 {
		odd2[i].x.mul(&odd1[i].x, &glvBeta)
		odd2[i].y = odd1[i].y
		if flip {
			odd2[i].y.neg(&odd2[i].y)
		}
	}
	var z fe
	return *z.mul(&d.z, &jac[last].z)
}

// addDigitIso adds d·P to acc (−d·P when neg), odd holding the affine
// P, 3P, 5P, …, each first mapped by (x·z2, y·z3) when z2 is not nil.
func addDigitIso(acc *Jacobian, odd []Point, d int16, neg bool, z2, z3 *fe) {
	if d == 0 {
		return
	}
	if neg {
		d = -d
	}
	var q Point
	if d > 0 {
		q = odd[d>>1]
	} else {
		q = odd[(-d)>>1]
		q.y.neg(&q.y)
	}
	if z2 != nil {
		q.x.mul(&q.x, z2)
		q.y.mul(&q.y, z3)
	}
	acc.AddPoint(acc, &q)
}

// DoubleMul sets r = k1·p + k2·q in one pass, as DoubleBaseMul with q's
// width-5 odd multiples in place of G's: about 129 doublings where two
// Mul take twice as many. p's multiples share one Z (oddMultiplesIso),
// q's are Jacobian, mapped to the same isomorphic curve. Variable time:
// the scalars and the points must be public.
func DoubleMul(p *Point, k1 *btcec.ModNScalar, q *Point, k2 *btcec.ModNScalar, r *Jacobian) {
	a1, a2, aneg1, aneg2 := splitK(k1)
	b1, b2, bneg1, bneg2 := splitK(k2)
	var oddP1, oddP2 [1 << (wnafWidth - 2)]Point
	z := oddMultiplesIso(p, aneg1, aneg2, &oddP1, &oddP2)
	var oddQ1, oddQ2 [1 << (wnafWidth - 2)]Jacobian
	oddMultiples(q, bneg1, bneg2, &oddQ1, &oddQ2)
	// (X, Y, Z) → (X·z², Y·z³, Z) maps q's multiples to the curve of
	// p's.
	var z2, z3 fe
	z2.square(&z)
	z3.mul(&z2, &z)
	for i := range oddQ1 {
		oddQ1[i].x.mul(&oddQ1[i].x, &z2)
		oddQ1[i].y.mul(&oddQ1[i].y, &z3)
		oddQ2[i].x.mul(&oddQ2[i].x, &z2)
		oddQ2[i].y.mul(&oddQ2[i].y, &z3)
	}

	var wa1, wa2, wb1, wb2 [wnafMax]int16
	ba1, ba2, bb1, bb2 := a1.Bytes(), a2.Bytes(), b1.Bytes(), b2.Bytes()
	da1 := wa1[:wnafBytes(&ba1, wnafWidth, &wa1)]
	da2 := wa2[:wnafBytes(&ba2, wnafWidth, &wa2)]
	db1 := wb1[:wnafBytes(&bb1, wnafWidth, &wb1)]
	db2 := wb2[:wnafBytes(&bb2, wnafWidth, &wb2)]
	var acc Jacobian
	for i := max(len(da1), len(da2), len(db1), len(db2)) - 1; i >= 0; i-- {
		acc.Double(&acc)
		if i < len(da1) {
			addDigitIso(&acc, oddP1[:], da1[i], false, nil, nil)
		}
		if i < len(da2) {
			addDigitIso(&acc, oddP2[:], da2[i], false, nil, nil)
		}
		if i < len(db1) {
			addDigit(&acc, oddQ1[:], db1[i])
		}
		if i < len(db2) {
			addDigit(&acc, oddQ2[:], db2[i])
		}
	}
	acc.z.mul(&acc.z, &z)
	*r = acc
}
