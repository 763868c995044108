package vartime

import (
	"github.com/btcsuite/btcd/btcec/v2"
)

// Point is an affine point of secp256k1 (never infinity).
type Point struct {
	x, y fe
}

// Jacobian is a point in Jacobian coordinates, (X/Z², Y/Z³); Z ≡ 0 is the
// point at infinity. The zero value is infinity.
type Jacobian struct {
	x, y, z fe
}

// FromPubKey converts a public key.
func FromPubKey(pub *btcec.PublicKey) Point {
	var j btcec.JacobianPoint
	pub.AsJacobian(&j)
	var xb, yb [32]byte
	j.X.PutBytes(&xb)
	j.Y.PutBytes(&yb)
	var p Point
	p.x.setBytes(&xb)
	p.y.setBytes(&yb)
	return p
}

// FromJacobian converts btcec's Jacobian point (infinity: Z ≡ 0 or
// X = Y = 0, as btcec marks it).
func FromJacobian(j *btcec.JacobianPoint) Jacobian {
	var r Jacobian
	if (j.X.IsZero() && j.Y.IsZero()) || j.Z.IsZero() {
		return r
	}
	x, y, z := j.X, j.Y, j.Z
	xb, yb, zb := x.Normalize().Bytes(), y.Normalize().Bytes(),
		z.Normalize().Bytes()
	r.x.setBytes(xb)
	r.y.setBytes(yb)
	r.z.setBytes(zb)
	return r
}

// PubKey converts p to a public key.
func (p *Point) PubKey() *btcec.PublicKey {
	xb, yb := p.x.bytes(), p.y.bytes()
	var x, y btcec.FieldVal
	x.SetBytes(&xb)
	y.SetBytes(&yb)
	return btcec.NewPublicKey(&x, &y)
}

// IsInfinity reports whether r is the point at infinity.
func (r *Jacobian) IsInfinity() bool { return r.z.isZero() }

// SetPoint sets r to p.
func (r *Jacobian) SetPoint(p *Point) {
	r.x, r.y, r.z = p.x, p.y, fe{1}
}

// PubKey converts r to a public key; infinity (a key nobody can find)
// becomes the invalid key (0, 0), as btcec converts it.
func (r *Jacobian) PubKey() *btcec.PublicKey {
	var p Point
	if !r.IsInfinity() {
		var zInv, zInv2, zInv3 fe
		zInv.inverse(&r.z)
		zInv2.square(&zInv)
		zInv3.mul(&zInv2, &zInv)
		p.x.mul(&r.x, &zInv2)
		p.y.mul(&r.y, &zInv3)
	}
	return p.PubKey()
}

// Equals reports whether r is the point of pub, without an inversion.
func (r *Jacobian) Equals(pub *btcec.PublicKey) bool {
	if r.IsInfinity() {
		return false
	}
	p := FromPubKey(pub)
	var z2, z3, t fe
	z2.square(&r.z)
	z3.mul(&z2, &r.z)
	return t.mul(&p.x, &z2).equal(&r.x) && t.mul(&p.y, &z3).equal(&r.y)
}

// HasAffineX reports whether r is not infinity and its affine X,
// big-endian, is x (which must be below p).
func (r *Jacobian) HasAffineX(x *[32]byte) bool {
	if r.IsInfinity() {
		return false
	}
	var f, z2 fe
	f.setBytes(x)
	z2.square(&r.z)
	return f.mul(&f, &z2).equal(&r.x)
}

// Double sets r = 2p (dbl-2009-l: 2M + 5S). r may alias p.
func (r *Jacobian) Double(p *Jacobian) {
	// secp256k1 has no point of order two, so Y ≠ 0 and infinity
	// (Z = 0) maps to Z3 = 2·Y·Z = 0 without a branch.
	var a, b, c, d, e, f, x3, y3, z3 fe
	a.square(&p.x)
	b.square(&p.y)
	c.square(&b)
	d.add(&p.x, &b).square(&d).sub(&d, &a).sub(&d, &c).double(&d)
	e.mulInt(&a, 3)
	f.square(&e)
	z3.mul(&p.y, &p.z).double(&z3)
	x3.double(&d)
	x3.sub(&f, &x3)
	y3.sub(&d, &x3).mul(&y3, &e)
	c.mulInt(&c, 8)
	y3.sub(&y3, &c)
	r.x, r.y, r.z = x3, y3, z3
}

// AddPoint sets r = p + q (mixed addition: 8M + 3S). r may alias p.
func (r *Jacobian) AddPoint(p *Jacobian, q *Point) {
	if p.IsInfinity() {
		r.SetPoint(q)
		return
	}
	var z1z1, u2, s2, h, rr fe
	z1z1.square(&p.z)
	u2.mul(&q.x, &z1z1)
	s2.mul(&p.z, &z1z1).mul(&s2, &q.y)
	h.sub(&u2, &p.x)
	rr.sub(&s2, &p.y)
	if h.isZero() {
		if rr.isZero() {
			r.Double(p)
			return
		}
		*r = Jacobian{}
		return
	}
	r.finishAdd(&p.x, &p.y, &h, &rr, &p.z, nil)
}

// addPointRatio sets r = p + q, as AddPoint, for p not infinity and p ≠
// ±q, and returns H, r's Z over p's. r may alias p.
func (r *Jacobian) addPointRatio(p *Jacobian, q *Point) fe {
	var z1z1, u2, s2, h, rr fe
	z1z1.square(&p.z)
	u2.mul(&q.x, &z1z1)
	s2.mul(&p.z, &z1z1).mul(&s2, &q.y)
	h.sub(&u2, &p.x)
	rr.sub(&s2, &p.y)
	r.finishAdd(&p.x, &p.y, &h, &rr, &p.z, nil)
	return h
}

// Add sets r = p + q (12M + 4S). r may alias p or q.
func (r *Jacobian) Add(p, q *Jacobian) {
	switch {
	case p.IsInfinity():
		*r = *q
		return
	case q.IsInfinity():
		*r = *p
		return
	}
	var z1z1, z2z2, u1, u2, s1, s2, h, rr fe
	z1z1.square(&p.z)
	z2z2.square(&q.z)
	u1.mul(&p.x, &z2z2)
	u2.mul(&q.x, &z1z1)
	s1.mul(&q.z, &z2z2).mul(&s1, &p.y)
	s2.mul(&p.z, &z1z1).mul(&s2, &q.y)
	h.sub(&u2, &u1)
	rr.sub(&s2, &s1)
	if h.isZero() {
		if rr.isZero() {
			r.Double(p)
			return
		}
		*r = Jacobian{}
		return
	}
	r.finishAdd(&u1, &s1, &h, &rr, &p.z, &q.z)
}

// finishAdd completes an addition from U1, S1, H = U2 - U1 and
// R = S2 - S1: X3 = R² - H³ - 2·U1·H², Y3 = R·(U1·H² - X3) - S1·H³,
// Z3 = Z1·Z2·H (z2 nil: 1).
func (r *Jacobian) finishAdd(u1, s1, h, rr, z1, z2 *fe) {
	var hh, hhh, v, x3, y3, z3, t fe
	hh.square(h)
	hhh.mul(h, &hh)
	v.mul(u1, &hh)
	x3.square(rr).sub(&x3, &hhh)
	t.double(&v)
	x3.sub(&x3, &t)
	y3.sub(&v, &x3).mul(&y3, rr)
	t.mul(s1, &hhh)
	y3.sub(&y3, &t)
	z3.mul(z1, h)
	if z2 != nil {
		z3.mul(&z3, z2)
	}
	r.x, r.y, r.z = x3, y3, z3
}

// Neg sets r = -p. r may alias p.
func (r *Jacobian) Neg(p *Jacobian) {
	r.x, r.z = p.x, p.z
	r.y.neg(&p.y)
}

// ToAffine converts pts to out (at least as long) with one field
// inversion (Montgomery's trick). A point at infinity becomes (0, 0).
func ToAffine(pts []Jacobian, out []Point) {
	if len(pts) == 0 {
		return
	}
	// prefix[i] is the product of the nonzero Z of pts[0..i].
	prefix := make([]fe, len(pts))
	acc := fe{1}
	for i := range pts {
		if !pts[i].z.isZero() {
			acc.mul(&acc, &pts[i].z)
		}
		prefix[i] = acc
	}
	var inv fe
	inv.inverse(&acc)
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].z.isZero() {
			out[i] = Point{}
			continue
		}
		// zInv = 1/Z_i; inv becomes 1/(Z_0…Z_{i-1}).
		var zInv, zInv2, zInv3 fe
		if i == 0 {
			zInv = inv
		} else {
			zInv.mul(&inv, &prefix[i-1])
			inv.mul(&inv, &pts[i].z)
		}
		zInv2.square(&zInv)
		zInv3.mul(&zInv2, &zInv)
		out[i].x.mul(&pts[i].x, &zInv2)
		out[i].y.mul(&pts[i].y, &zInv3)
	}
}

// PubKeys converts pts to public keys with one field inversion.
func PubKeys(pts []Jacobian) []*btcec.PublicKey {
	aff := make([]Point, len(pts))
	ToAffine(pts, aff)
	pubs := make([]*btcec.PublicKey, len(pts))
	for i := range aff {
		pubs[i] = aff[i].PubKey()
	}
	return pubs
}

// PointFromX returns the point with big-endian x coordinate x (below p)
// and y of the given parity, as a reader of a compressed key or of an
// ECDSA signature's R needs, and whether there is one.
func PointFromX(x *[32]byte, odd bool) (Point, bool) {
	var p Point
	p.x.setBytes(x)
	var y2 fe
	y2.square(&p.x).mul(&y2, &p.x).add(&y2, &fe{7})
	if !p.y.sqrt(&y2) {
		return Point{}, false
	}
	p.y.normalize()
	if (p.y[0]&1 == 1) != odd {
		p.y.neg(&p.y)
	}
	return p, true
}

// ParsePubKey is btcec.ParsePubKey with a compressed key's square root
// on this package's field (a public key: public data), about twice as
// fast. It
// accepts and returns what btcec does; anything it would not take as
// is, btcec parses, so the errors are btcec's.
func ParsePubKey(b []byte) (*btcec.PublicKey, error) {
	if len(b) != btcec.PubKeyBytesLenCompressed || (b[0] != 2 && b[0] != 3) {
		return btcec.ParsePubKey(b)
	}
	var x btcec.FieldVal
	if x.SetByteSlice(b[1:]) {
		// x ≥ p: not a field element.
		return btcec.ParsePubKey(b)
	}
	p, ok := PointFromX((*[32]byte)(b[1:]), b[0] == 3)
	if !ok {
		return btcec.ParsePubKey(b)
	}
	return p.PubKey(), nil
}
