package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire"

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
// generator and a general multiplication.

// sigTables are the comb tables of the peer's keys.
type sigTables struct {
	funding *combTable
	htlc    *combTable
}

// sigTables returns the tables of the peer's keys, building them on first
// use.
func (c *Channel) sigTables() *sigTables {
	if c.peerTables == nil {
		c.peerTables = &sigTables{
			funding: newCombTable(c.params.Remote.FundingKey,
				sigCombTeeth),
			htlc: newCombTable(c.params.Remote.HtlcBasePoint,
				sigCombTeeth),
		}
	}
	return c.peerTables
}

// orderAsField is the group order as a field element.
var orderAsField = func() btcec.FieldVal {
	var f btcec.FieldVal
	f.SetByteSlice(btcec.S256().N.Bytes())
	return f
}()

// verifyWithTable checks sig over desc's input of tx against the key
// B + tweak·G, B the table's point (tweak nil: B itself).
func verifyWithTable(tx *wire.MsgTx, desc *SignDescriptor, table *combTable,
	tweak *btcec.ModNScalar, sig *ecdsa.Signature) error {

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
func ecdsaVerifyComb(hash []byte, sig *ecdsa.Signature, table *combTable,
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
	var a, b, x btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&u1, &a)
	table.mul(&u2, &b)
	btcec.AddNonConst(&a, &b, &x)
	if (x.X.IsZero() && x.Y.IsZero()) || x.Z.IsZero() {
		return false
	}
	// x's affine X is X/Z²: compare X with r·Z², and with (r+n)·Z²
	// when r+n is still below the field prime.
	var z2, rf, cmp btcec.FieldVal
	z2.SquareVal(&x.Z)
	rb := r.Bytes()
	rf.SetBytes(&rb)
	x.X.Normalize()
	if cmp.Mul2(&rf, &z2).Normalize(); cmp.Equals(&x.X) {
		return true
	}
	if rf.IsGtOrEqPrimeMinusOrder() {
		return false
	}
	rf.Add(&orderAsField)
	cmp.Mul2(&rf, &z2).Normalize()
	return cmp.Equals(&x.X)
}
