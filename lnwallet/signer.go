package lnwallet

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// SignDescriptor tells a Signer which key signs which input and how. The
// key is named by a public key the Signer holds the secret of (a funding
// key or a basepoint); per-commitment keys are described as a tweak of it,
// so the wallet never has to store derived keys.
type SignDescriptor struct {
	// PubKey is the base public key whose secret signs.
	PubKey *btcec.PublicKey

	// SingleTweak, if set, is SHA256(per_commitment_point || basepoint):
	// the signing key is basepoint_secret + SingleTweak.
	SingleTweak []byte

	// DoubleTweak, if set, is a per_commitment_secret: the signing key
	// is the revocation private key derived from PubKey's secret (a
	// revocation_basepoint_secret) and it. SingleTweak and DoubleTweak
	// are mutually exclusive.
	DoubleTweak *btcec.PrivateKey

	// WitnessScript is the script of the output being spent (for P2WPKH
	// the equivalent P2PKH script).
	WitnessScript []byte

	// Value is the value of the output being spent.
	Value btcutil.Amount

	// HashType is the sighash type.
	HashType txscript.SigHashType

	// InputIndex is the input of the transaction to sign.
	InputIndex int
}

// Signer produces segwit v0 signatures. The wallet implements it over its
// key store; PrivKeySigner implements it over keys held in memory. It must
// be safe for concurrent use: a commitment's HTLC signatures are made on
// all CPUs.
type Signer interface {
	// SignOutputRaw returns the signature (without sighash byte) of
	// the input desc describes.
	SignOutputRaw(tx *wire.MsgTx, desc *SignDescriptor) (*ecdsa.Signature,
		error)
}

var (
	// ErrUnknownKey is returned by PrivKeySigner for a key it lacks.
	ErrUnknownKey = errors.New("lnwallet: signer does not hold key")

	// ErrInvalidSignature is returned when a peer's signature does not
	// verify.
	ErrInvalidSignature = errors.New("lnwallet: invalid signature")

	// ErrSigCount is returned when the number of HTLC signatures does
	// not match the number of untrimmed HTLCs.
	ErrSigCount = errors.New("lnwallet: wrong number of HTLC signatures")
)

// SigHash computes the BIP 143 signature hash for desc.
func SigHash(tx *wire.MsgTx, desc *SignDescriptor) ([]byte, error) {
	if desc.InputIndex < 0 || desc.InputIndex >= len(tx.TxIn) {
		return nil, fmt.Errorf("lnwallet: input %d out of range",
			desc.InputIndex)
	}
	// The prevout fetcher only matters for taproot; segwit v0 hashes
	// commit to the spent value alone.
	fetcher := txscript.NewCannedPrevOutputFetcher(nil, int64(desc.Value))
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	return txscript.CalcWitnessSigHash(desc.WitnessScript, hashes,
		desc.HashType, tx, desc.InputIndex, int64(desc.Value))
}

// PrivKeySigner is a Signer over private keys held in memory, for tests
// and tools.
type PrivKeySigner struct {
	keys map[[33]byte]*btcec.PrivateKey
}

// NewPrivKeySigner returns a Signer holding the given keys.
func NewPrivKeySigner(keys ...*btcec.PrivateKey) *PrivKeySigner {
	s := &PrivKeySigner{keys: make(map[[33]byte]*btcec.PrivateKey)}
	for _, k := range keys {
		var id [33]byte
		copy(id[:], k.PubKey().SerializeCompressed())
		s.keys[id] = k
	}
	return s
}

// SignOutputRaw implements Signer.
func (s *PrivKeySigner) SignOutputRaw(tx *wire.MsgTx,
	desc *SignDescriptor) (*ecdsa.Signature, error) {

	if desc.PubKey == nil {
		return nil, ErrNilKey
	}
	var id [33]byte
	copy(id[:], desc.PubKey.SerializeCompressed())
	priv, ok := s.keys[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	switch {
	case desc.SingleTweak != nil && desc.DoubleTweak != nil:
		return nil, errors.New("lnwallet: both single and double tweak")
	case desc.SingleTweak != nil:
		k := scalarFromHash(desc.SingleTweak)
		k.Add(&priv.Key)
		priv = btcec.PrivKeyFromScalar(&k)
	case desc.DoubleTweak != nil:
		priv = DeriveRevocationPrivKey(priv, desc.DoubleTweak)
	}
	hash, err := SigHash(tx, desc)
	if err != nil {
		return nil, err
	}
	return ecdsa.Sign(priv, hash), nil
}

// verify checks sig over desc's input of tx against pub.
func verify(tx *wire.MsgTx, desc *SignDescriptor, pub *btcec.PublicKey,
	sig *ecdsa.Signature) error {

	if sig == nil {
		return ErrInvalidSignature
	}
	hash, err := SigHash(tx, desc)
	if err != nil {
		return err
	}
	if !sig.Verify(hash, pub) {
		return ErrInvalidSignature
	}
	return nil
}
