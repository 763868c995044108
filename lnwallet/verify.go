package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/vartime"
	"lnd.xprv/lnwire"
)

// This file checks the peer's signatures faster than ecdsa.Verify, with
// the same verdicts. ECDSA verification computes u1·G + u2·Q; the keys Q a
// Channel checks are the peer's funding key (commitment signatures) and
// its HTLC basepoint tweaked per commitment (HTLC signatures), so with a
// comb table of the fixed point B, Q = B + t·G gives
//
//	u1·G + u2·Q = (u1 + u2·t)·G + u2·B
//
// one generator multiplication and one comb multiplication instead of a
// generator and a general multiplication. Everything in a verification is
// public (the key, the signature, the hash), so it runs on vartime.

// sigTables are the comb tables of the peer's keys.
type sigTables struct {
	funding *vartime.Table
	htlc    *vartime.Table
}

// sigTables returns the tables of the peer's keys, building them on first
// use.
func (c *Channel) sigTables() *sigTables {
	if c.peerTables == nil {
		c.peerTables = &sigTables{
			funding: vartime.NewTable(c.params.Remote.FundingKey,
				sigCombTeeth),
			htlc: vartime.NewTable(c.params.Remote.HtlcBasePoint,
				sigCombTeeth),
		}
	}
	return c.peerTables
}

// orderBytes is the group order n, big-endian.
var orderBytes = func() [32]byte {
	var b [32]byte
	btcec.S256().N.FillBytes(b[:])
	return b
}()

// primeMinusOrder is p - n: an r below it may also be the X of a point
// whose X is r + n.
var primeMinusOrder = func() [32]byte {
	var b [32]byte
	d := btcec.S256().P
	d = d.Sub(d, btcec.S256().N)
	d.FillBytes(b[:])
	return b
}()

// verifyWithTable checks sig over desc's input of tx against the key
// B + tweak·G, B the table's point (tweak nil: B itself).
func verifyWithTable(tx *wire.MsgTx, desc *SignDescriptor,
	table *vartime.Table, tweak *btcec.ModNScalar,
	sig *ecdsa.Signature) error {

	if sig == nil {
		return ErrInvalidSignature
	}
	hash, err := SigHash(tx, desc)
	if err != nil {
		return err
	}
	if !ecdsaVerifyComb(hash, sig, table, tweak) {
		return ErrInvalidSignature
	}
	return nil
}

// ecdsaVerifyComb is ECDSA verification (SEC 1, 4.1.4) of sig over hash
// for the key B + tweak·G.
func ecdsaVerifyComb(hash []byte, sig *ecdsa.Signature, table *vartime.Table,
	tweak *btcec.ModNScalar) bool {

	// R and S as scalars; Serialize gives the canonical (low) S, which
	// verifies exactly when S does.
	raw, err := lnwire.NewSigFromSignature(sig)
	if err != nil {
		return false
	}
	var r, s, e btcec.ModNScalar
	if r.SetByteSlice(raw[:32]) || r.IsZero() ||
		s.SetByteSlice(raw[32:]) || s.IsZero() {

		return false
	}
	e.SetByteSlice(hash)
	var w, u1, u2 btcec.ModNScalar
	w.InverseValNonConst(&s)
	u1.Mul2(&e, &w)
	u2.Mul2(&r, &w)
	if tweak != nil {
		var t btcec.ModNScalar
		t.Mul2(&u2, tweak)
		u1.Add(&t)
	}
	var a, b vartime.Jacobian
	vartime.BaseMul(&u1, &a)
	table.Mul(&u2, &b)
	a.Add(&a, &b)
	// The point's affine X, reduced mod n, must be r: X is r, or r + n
	// when that is still below p.
	rb := r.Bytes()
	if a.HasAffineX(&rb) {
		return true
	}
	if !lessThan(&rb, &primeMinusOrder) {
		return false
	}
	return a.HasAffineX(addBytes(&rb, &orderBytes))
}

// lessThan reports whether the big-endian a < b.
func lessThan(a, b *[32]byte) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// addBytes returns the big-endian a + b (which must not overflow).
func addBytes(a, b *[32]byte) *[32]byte {
	var out [32]byte
	carry := 0
	for i := 31; i >= 0; i-- {
		v := int(a[i]) + int(b[i]) + carry
		out[i] = byte(v)
		carry = v >> 8
	}
	return &out
}
