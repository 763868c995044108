package wallet

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/vartime"
)

// signCompact returns the 65-byte recoverable ECDSA signature of hash
// (header 27 + 4 + recovery id, r, s; low s), byte for byte what btcec's
// ecdsa.SignCompact(priv, hash, true) returns: the same RFC 6979 nonce and
// the same s. It differs in how the nonce is handled: k·G is
// vartime.SecretBaseMul (btcec's walks a table indexed by the nonce's
// bytes, with branching additions), and the inverse of k, which btcec
// computes in variable time (big.Int), is taken of k·b for a fresh
// random b and multiplied by b, so its timing depends on a value
// independent of k. The remaining scalar arithmetic is btcec's
// constant-time mod-n arithmetic.
func signCompact(priv *btcec.PrivateKey, hash []byte) ([]byte, error) {
	if len(hash) != 32 {
		return nil, fmt.Errorf("sign: digest of %d bytes, want 32", len(hash))
	}
	if priv.Key.IsZero() {
		return nil, errors.New("sign: zero private key")
	}
	var d [32]byte
	priv.Key.PutBytes(&d)
	defer func() { d = [32]byte{} }()
	var e btcec.ModNScalar
	e.SetByteSlice(hash)
	for iter := uint32(0); ; iter++ {
		k := btcec.NonceRFC6979(d[:], hash, nil, nil, iter)
		x, y, ok := vartime.SecretBaseMul(k)
		var r btcec.ModNScalar
		overflow := r.SetBytes(&x)
		if !ok || r.IsZero() {
			k.Zero()
			continue
		}
		code := byte(overflow<<1) | y[31]&1

		blind, err := randScalar()
		if err != nil {
			k.Zero()
			return nil, err
		}
		var kInv btcec.ModNScalar
		kInv.Mul2(k, &blind).InverseNonConst().Mul(&blind)
		k.Zero()
		blind.Zero()
		var s btcec.ModNScalar
		s.Mul2(&priv.Key, &r).Add(&e).Mul(&kInv)
		kInv.Zero()
		if s.IsZero() {
			continue
		}
		if s.IsOverHalfOrder() {
			// -s is the signature of the nonce -k, whose point has
			// the other Y parity.
			s.Negate()
			code ^= 1
		}
		sig := make([]byte, 65)
		sig[0] = 27 + 4 + code
		r.PutBytesUnchecked(sig[1:33])
		s.PutBytesUnchecked(sig[33:65])
		return sig, nil
	}
}

// randScalar returns a uniformly random nonzero scalar.
func randScalar() (btcec.ModNScalar, error) {
	var b [32]byte
	var s btcec.ModNScalar
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return s, fmt.Errorf("sign: blinding: %w", err)
		}
		if overflow := s.SetBytes(&b); overflow == 0 && !s.IsZero() {
			b = [32]byte{}
			return s, nil
		}
	}
}
