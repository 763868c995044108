package brontide

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/btcec/v2"
)

// ECDH is the local static key as a capability: it reveals the public key
// and performs BOLT 8 ECDH with it, so the private key itself may stay in a
// wallet or signer.
type ECDH interface {
	// PubKey returns the static public key (the node ID).
	PubKey() *btcec.PublicKey

	// ECDH returns SHA256 of the compressed point priv*pub, as BOLT 8
	// defines ECDH(k, rk).
	ECDH(pub *btcec.PublicKey) ([32]byte, error)
}

// PrivKeyECDH implements ECDH with an in-memory private key.
type PrivKeyECDH struct {
	PrivKey *btcec.PrivateKey
}

// Compile-time check.
var _ ECDH = (*PrivKeyECDH)(nil)

// PubKey returns the public key of the wrapped private key, or nil if there
// is none.
func (p *PrivKeyECDH) PubKey() *btcec.PublicKey {
	if p == nil || p.PrivKey == nil {
		return nil
	}
	return p.PrivKey.PubKey()
}

// ECDH performs BOLT 8 ECDH between the wrapped private key and pub.
func (p *PrivKeyECDH) ECDH(pub *btcec.PublicKey) ([32]byte, error) {
	if p == nil || p.PrivKey == nil || p.PrivKey.Key.IsZero() {
		return [32]byte{}, ErrInvalidPrivKey
	}
	if pub == nil {
		return [32]byte{}, ErrBadPubKey
	}
	return ecdh(p.PrivKey, pub), nil
}

// ecdh computes SHA256(compressed(priv*pub)). The caller guarantees a
// non-zero scalar and a valid point, so the product is never infinity.
func ecdh(priv *btcec.PrivateKey, pub *btcec.PublicKey) [32]byte {
	var point, product btcec.JacobianPoint
	pub.AsJacobian(&point)
	btcec.ScalarMultNonConst(&priv.Key, &point, &product)
	product.ToAffine()
	shared := btcec.NewPublicKey(&product.X, &product.Y)
	return sha256.Sum256(shared.SerializeCompressed())
}
