package bolt11

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"lnd.xprv/internal/vartime"
)

// recoverPayee recovers the key that made sig (R || S || recovery id, the
// id at most 3) over hash, as a reader must for an invoice without an n
// field (SEC 1 §4.1.6: Q = r⁻¹·(s·R − e·G)). Every value here is public,
// the invoice's signature and hash, so R's square root and u1·G + u2·R,
// in one chain of doublings, run on internal/vartime, several times
// faster than btcec's, which is most of a payer's cost of decoding an
// invoice. It accepts and rejects what
// btcec's RecoverCompact does, and returns the same key (tested against
// it).
func recoverPayee(sig [65]byte, hash []byte) (*btcec.PublicKey, error) {
	recID := sig[64]
	if recID&2 != 0 {
		// R's x coordinate is r + N: about one signature in 2^127.
		return recoverCompact(sig, hash)
	}
	var r, s btcec.ModNScalar
	if r.SetByteSlice(sig[:32]) || r.IsZero() || s.SetByteSlice(sig[32:64]) || s.IsZero() {
		return nil, fmt.Errorf("%w: R or S out of range", ErrInvalidSignature)
	}
	// r < N < P: its bytes are R's x coordinate as they are.
	rPoint, ok := vartime.PointFromX((*[32]byte)(sig[:32]), recID&1 == 1)
	if !ok {
		return nil, fmt.Errorf("%w: R is not on the curve", ErrInvalidSignature)
	}
	var e, w, u1, u2 btcec.ModNScalar
	e.SetByteSlice(hash)
	w.InverseValNonConst(&r)
	u1.Mul2(&e, &w).Negate()
	u2.Mul2(&s, &w)

	var q vartime.Jacobian
	vartime.DoubleBaseMul(&u1, &rPoint, &u2, &q)
	if q.IsInfinity() {
		return nil, fmt.Errorf("%w: the recovered key is the point at infinity",
			ErrInvalidSignature)
	}
	return q.PubKey(), nil
}

// recoverCompact is recoverPayee on btcec's RecoverCompact.
func recoverCompact(sig [65]byte, hash []byte) (*btcec.PublicKey, error) {
	// btcec's compact layout puts the recovery code first, offset by 27
	// and flagged (+4) for a compressed key.
	var compact [65]byte
	compact[0] = 27 + 4 + sig[64]
	copy(compact[1:], sig[:64])
	key, _, err := ecdsa.RecoverCompact(compact[:], hash)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return key, nil
}

// parseKey is vartime.ParsePubKey: btcec's parse, the square root on
// internal/vartime.
func parseKey(b []byte) (*btcec.PublicKey, error) { return vartime.ParsePubKey(b) }
