package lnwire

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

var (
	// ErrSigHighS is returned for a signature whose S is above half the
	// curve order; BOLT signatures, like Bitcoin's, must use low S.
	ErrSigHighS = errors.New("lnwire: signature S is not low")

	// ErrSigMalformed is returned for a signature whose R or S is zero or
	// not below the curve order, or whose DER encoding is invalid.
	ErrSigMalformed = errors.New("lnwire: malformed signature")
)

// Sig is the 64-byte compact ECDSA signature of the wire protocol: R and S,
// each 32 bytes big-endian.
type Sig [64]byte

// NewSigFromSignature converts a btcec signature. The result always has low
// S (btcec normalises it).
func NewSigFromSignature(sig *ecdsa.Signature) (Sig, error) {
	if sig == nil {
		return Sig{}, fmt.Errorf("%w: nil", ErrSigMalformed)
	}
	return sigFromDER(sig.Serialize())
}

// NewSigFromDER converts a strict DER signature (without sighash byte). A
// high-S signature is rejected rather than silently changed.
func NewSigFromDER(der []byte) (Sig, error) {
	if _, err := ecdsa.ParseDERSignature(der); err != nil {
		return Sig{}, fmt.Errorf("%w: %v", ErrSigMalformed, err)
	}
	s, err := sigFromDER(der)
	if err != nil {
		return Sig{}, err
	}
	if _, err := s.ToSignature(); err != nil {
		return Sig{}, err
	}
	return s, nil
}

// sigFromDER copies R and S out of a DER signature that has already been
// checked to be well-formed; it re-checks every bound it relies on.
func sigFromDER(der []byte) (Sig, error) {
	var out Sig
	// 0x30 len 0x02 rlen R 0x02 slen S
	if len(der) < 8 || der[0] != 0x30 || der[2] != 0x02 {
		return out, ErrSigMalformed
	}
	rLen := int(der[3])
	if 4+rLen+2 > len(der) || der[4+rLen] != 0x02 {
		return out, ErrSigMalformed
	}
	r := der[4 : 4+rLen]
	sLen := int(der[5+rLen])
	if 6+rLen+sLen != len(der) {
		return out, ErrSigMalformed
	}
	s := der[6+rLen:]
	put := func(dst []byte, v []byte) error {
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > 32 {
			return ErrSigMalformed
		}
		copy(dst[32-len(v):], v)
		return nil
	}
	if err := put(out[:32], r); err != nil {
		return Sig{}, err
	}
	if err := put(out[32:], s); err != nil {
		return Sig{}, err
	}
	return out, nil
}

// ToSignature converts to a btcec signature, rejecting R or S equal to zero
// or not below the curve order (ErrSigMalformed) and high S (ErrSigHighS).
func (s Sig) ToSignature() (*ecdsa.Signature, error) {
	var r, sv btcec.ModNScalar
	if overflow := r.SetByteSlice(s[:32]); overflow || r.IsZero() {
		return nil, fmt.Errorf("%w: R out of range", ErrSigMalformed)
	}
	if overflow := sv.SetByteSlice(s[32:]); overflow || sv.IsZero() {
		return nil, fmt.Errorf("%w: S out of range", ErrSigMalformed)
	}
	if sv.IsOverHalfOrder() {
		return nil, ErrSigHighS
	}
	return ecdsa.NewSignature(&r, &sv), nil
}

// IsZero reports whether the signature is all zeros (unset).
func (s Sig) IsZero() bool { return s == Sig{} }
