package vartime

import (
	"math/bits"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
)

// baseTable holds, for each byte position i of a scalar and each nonzero
// byte value v, v·2^(8i)·G in affine form: 32 × 255 points, 512 KiB,
// built on first use and never changed.
type baseTable [32][255]Point

var generatorTable = sync.OnceValue(buildGeneratorTable)

// buildGeneratorTable computes the table: about 8,200 mixed additions
// and one batched inversion.
func buildGeneratorTable() *baseTable {
	var g btcec.JacobianPoint
	var one btcec.ModNScalar
	one.SetInt(1)
	btcec.ScalarBaseMultNonConst(&one, &g)
	g.ToAffine()
	xb, yb := g.X.Bytes(), g.Y.Bytes()
	var base Point
	base.x.setBytes(xb)
	base.y.setBytes(yb)

	jac := make([]Jacobian, 32*255)
	for i := 0; i < 32; i++ {
		row := jac[i*255 : (i+1)*255]
		row[0].SetPoint(&base)
		for v := 1; v < 255; v++ {
			row[v].AddPoint(&row[v-1], &base)
		}
		// The next row's base: 256·base = 255·base + base.
		var next Jacobian
		next.AddPoint(&row[254], &base)
		out := make([]Point, 1)
		ToAffine([]Jacobian{next}, out)
		base = out[0]
	}
	t := new(baseTable)
	flat := make([]Point, len(jac))
	ToAffine(jac, flat)
	for i := 0; i < 32; i++ {
		copy(t[i][:], flat[i*255:(i+1)*255])
	}
	return t
}

// BaseMul sets r = k·G: one mixed addition per nonzero byte of k, no
// doubling. Variable time: k must be public.
func BaseMul(k *btcec.ModNScalar, r *Jacobian) {
	t := generatorTable()
	b := k.Bytes()
	var acc Jacobian
	for i := 0; i < 32; i++ {
		if v := b[31-i]; v != 0 {
			acc.AddPoint(&acc, &t[i][v-1])
		}
	}
	*r = acc
}

// wnafWidth is the window of Mul: 8 precomputed odd multiples of each
// half.
const wnafWidth = 5

// Mul sets r = k·p: k split as k1 + k2·λ (GLV), then a width-5 wNAF of
// both halves with shared doublings (about 129 doublings and 2 × 22
// additions). Variable time: k and p must be public.
func Mul(p *Point, k *btcec.ModNScalar, r *Jacobian) {
	k1, k2, neg1, neg2 := splitK(k)
	var odd1, odd2 [1 << (wnafWidth - 2)]Jacobian
	oddMultiples(p, neg1, neg2, &odd1, &odd2)
	var w1, w2 [wnafMax]int16
	b1, b2 := k1.Bytes(), k2.Bytes()
	d1 := w1[:wnafBytes(&b1, wnafWidth, &w1)]
	d2 := w2[:wnafBytes(&b2, wnafWidth, &w2)]
	var acc Jacobian
	for i := max(len(d1), len(d2)) - 1; i >= 0; i-- {
		acc.Double(&acc)
		if i < len(d1) {
			addDigit(&acc, odd1[:], d1[i])
		}
		if i < len(d2) {
			addDigit(&acc, odd2[:], d2[i])
		}
	}
	*r = acc
}

// oddMultiples sets odd1 to p, 3p, …, 15p, negated when neg1, and odd2
// to the same multiples of λp, negated when neg2: the tables of the two
// GLV halves of a scalar times p.
func oddMultiples(p *Point, neg1, neg2 bool, odd1, odd2 *[1 << (wnafWidth - 2)]Jacobian) {
	base := *p
	if neg1 {
		base.y.neg(&base.y)
	}
	var p2 Jacobian
	odd1[0].SetPoint(&base)
	p2.Double(&odd1[0])
	for i := 1; i < len(odd1); i++ {
		odd1[i].Add(&odd1[i-1], &p2)
	}
	// odd1 holds multiples of ±p; those of k2's sign times λp are λ
	// of them, (β·X, Y, Z), negated when the signs differ.
	flip := neg1 != neg2
	for i := range odd2 {
		odd2[i].x.mul(&odd1[i].x, &glvBeta)
		odd2[i].y, odd2[i].z = odd1[i].y, odd1[i].z
		if flip {
			odd2[i].y.neg(&odd2[i].y)
		}
	}
}

// addDigit adds d·P to acc, odd holding P, 3P, 5P, ….
func addDigit(acc *Jacobian, odd []Jacobian, d int16) {
	switch {
	case d > 0:
		acc.Add(acc, &odd[d>>1])
	case d < 0:
		var neg Jacobian
		neg.Neg(&odd[(-d)>>1])
		acc.Add(acc, &neg)
	}
}

// wnafMax is the most digits wnafBytes writes: one more than the bits
// of a 256-bit value.
const wnafMax = 257

// wnafBytes writes the width-w non-adjacent form of the big-endian b to
// digits, least significant digit first, and returns how many it wrote:
// odd digits in (-2^(w-1), 2^(w-1)), each followed by at least w-1
// zeros. w is at most 15.
func wnafBytes(b *[32]byte, w uint, digits *[wnafMax]int16) int {
	// n holds k in five little-endian limbs (one spare for the carry
	// of a negative digit); pos is the weight of n's bit 0.
	var n [5]uint64
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			n[i] = n[i]<<8 | uint64(b[24-8*i+j])
		}
	}
	*digits = [wnafMax]int16{}
	count, pos := 0, 0
	for {
		// Skip the zero bits below the lowest one at once.
		var shift uint
		switch {
		case n[0] != 0:
			shift = uint(bits.TrailingZeros64(n[0]))
		case n[1]|n[2]|n[3]|n[4] == 0:
			return count
		default:
			shift = 63
		}
		if shift > 0 {
			for i := 0; i < 4; i++ {
				n[i] = n[i]>>shift | n[i+1]<<(64-shift)
			}
			n[4] >>= shift
			pos += int(shift)
			continue
		}
		d := int16(n[0] & (1<<w - 1))
		if d >= 1<<(w-1) {
			d -= 1 << w
		}
		// n -= d.
		if d > 0 {
			sub := uint64(d)
			for i := range n {
				old := n[i]
				n[i] -= sub
				if old >= sub {
					break
				}
				sub = 1
			}
		} else {
			add := uint64(-d)
			for i := range n {
				n[i] += add
				if n[i] >= add {
					break
				}
				add = 1
			}
		}
		digits[pos] = d
		count = pos + 1
	}
}

// Table is a Lim–Lee comb for multiplying one fixed point: a table of t
// teeth holds 2^t-1 affine points and multiplies with ceil(256/t)-1
// doublings and as many mixed additions. Variable time: scalars must be
// public.
type Table struct {
	teeth, spacing int
	pts            []Point
}

// NewTable builds the comb of base with 2 to 8 teeth. Building costs
// about 256 doublings and 2^teeth additions.
func NewTable(base *btcec.PublicKey, teeth int) *Table {
	t := &Table{teeth: teeth, spacing: (256 + teeth - 1) / teeth,
		pts: make([]Point, 1<<teeth-1)}
	// rows[i] = 2^(i·spacing)·base.
	rows := make([]Jacobian, teeth)
	b := FromPubKey(base)
	rows[0].SetPoint(&b)
	for i := 1; i < teeth; i++ {
		rows[i] = rows[i-1]
		for j := 0; j < t.spacing; j++ {
			rows[i].Double(&rows[i])
		}
	}
	// jac[j] is the sum of rows[i] over the bits i of j.
	jac := make([]Jacobian, len(t.pts)+1)
	for j := 1; j < len(jac); j++ {
		low := j & -j
		if j == low {
			jac[j] = rows[bitIndex(low)]
			continue
		}
		jac[j].Add(&jac[j^low], &rows[bitIndex(low)])
	}
	ToAffine(jac[1:], t.pts)
	return t
}

// bitIndex returns the index of the single bit set in v.
func bitIndex(v int) int {
	i := 0
	for v > 1 {
		v >>= 1
		i++
	}
	return i
}

// Mul sets r = k·B.
func (t *Table) Mul(k *btcec.ModNScalar, r *Jacobian) {
	b := k.Bytes()
	bit := func(n int) int {
		if n >= 256 {
			return 0
		}
		return int(b[31-n/8]>>(n%8)) & 1
	}
	var acc Jacobian
	for col := t.spacing - 1; col >= 0; col-- {
		acc.Double(&acc)
		j := 0
		for i := 0; i < t.teeth; i++ {
			j |= bit(i*t.spacing+col) << i
		}
		if j != 0 {
			acc.AddPoint(&acc, &t.pts[j-1])
		}
	}
	*r = acc
}
