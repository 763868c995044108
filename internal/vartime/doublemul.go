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
// of about 129 doublings. It is what an ECDSA verification or public
// key recovery computes, in about half the time of a BaseMul and a Mul
// apart. Variable time: u1, u2 and p must be public.
func DoubleBaseMul(u1 *btcec.ModNScalar, p *Point, u2 *btcec.ModNScalar, r *Jacobian) {
	t := generatorOddTable()
	g1, g2, gneg1, gneg2 := splitK(u1)
	k1, k2, neg1, neg2 := splitK(u2)
	var odd1, odd2 [1 << (wnafWidth - 2)]Jacobian
	oddMultiples(p, neg1, neg2, &odd1, &odd2)

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
			addDigitPoint(&acc, t.g[:], dg1[i], gneg1)
		}
		if i < len(dg2) {
			addDigitPoint(&acc, t.lg[:], dg2[i], gneg2)
		}
		if i < len(d1) {
			addDigit(&acc, odd1[:], d1[i])
		}
		if i < len(d2) {
			addDigit(&acc, odd2[:], d2[i])
		}
	}
	*r = acc
}

// addDigitPoint adds d·P to acc (−d·P when neg), odd holding the affine
// P, 3P, 5P, ….
func addDigitPoint(acc *Jacobian, odd []Point, d int16, neg bool) {
	if d == 0 {
		return
	}
	if neg {
		d = -d
	}
	if d > 0 {
		acc.AddPoint(acc, &odd[d>>1])
		return
	}
	q := odd[(-d)>>1]
	q.y.neg(&q.y)
	acc.AddPoint(acc, &q)
}
