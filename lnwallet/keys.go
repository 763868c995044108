package lnwallet

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/vartime"
)

// This file holds the BOLT 3 "Key Derivation" rules: every per-commitment
// key is a basepoint blinded with the commitment's per_commitment_point, so
// that a watcher given the basepoints cannot link commitments together.

// SingleTweak returns SHA256(per_commitment_point || basepoint), the scalar
// added to a basepoint (or its secret) to get a per-commitment key. It is
// what SignDescriptor.SingleTweak carries.
func SingleTweak(commitPoint, basePoint *btcec.PublicKey) []byte {
	h := hashPoints(commitPoint, basePoint)
	return h[:]
}

// hashPoints returns SHA256(a || b) of the compressed encodings.
func hashPoints(a, b *btcec.PublicKey) [32]byte {
	var buf [66]byte
	putCompressed(buf[:33], a)
	putCompressed(buf[33:], b)
	return sha256.Sum256(buf[:])
}

// putCompressed writes pub's 33-byte compressed encoding to b, as
// SerializeCompressed does, without allocating.
func putCompressed(b []byte, pub *btcec.PublicKey) {
	var j btcec.JacobianPoint
	pub.AsJacobian(&j)
	b[0] = 0x02
	if j.Y.IsOdd() {
		b[0] = 0x03
	}
	j.X.PutBytesUnchecked(b[1:])
}

// scalarFromHash reduces a 32-byte hash modulo the group order. A hash at or
// above the order occurs with negligible probability; reducing it keeps the
// function total, and both peers reduce the same way.
func scalarFromHash(h []byte) btcec.ModNScalar {
	var s btcec.ModNScalar
	s.SetByteSlice(h)
	return s
}

// TweakPubKey derives a per-commitment public key from a basepoint:
//
//	pubkey = basepoint + SHA256(per_commitment_point || basepoint)·G
//
// It yields localpubkey, local_htlcpubkey, remote_htlcpubkey,
// local_delayedpubkey and remote_delayedpubkey (and the legacy remotepubkey
// of channels without option_static_remotekey), depending on the basepoint.
func TweakPubKey(basePoint, commitPoint *btcec.PublicKey) *btcec.PublicKey {
	var sum vartime.Jacobian
	tweakJacobian(basePoint, commitPoint, &sum)
	return sum.PubKey()
}

// tweakJacobian sets result to TweakPubKey's key in Jacobian form. The
// basepoint and the tweak (a hash of public keys) are public.
func tweakJacobian(basePoint, commitPoint *btcec.PublicKey,
	result *vartime.Jacobian) {

	k := scalarFromHash(SingleTweak(commitPoint, basePoint))
	b := vartime.FromPubKey(basePoint)
	vartime.BaseMul(&k, result)
	result.AddPoint(result, &b)
}

// TweakPrivKey derives the private key matching TweakPubKey:
//
//	privkey = basepoint_secret + SHA256(per_commitment_point || basepoint)
func TweakPrivKey(baseSecret *btcec.PrivateKey,
	commitPoint *btcec.PublicKey) *btcec.PrivateKey {

	k := scalarFromHash(SingleTweak(commitPoint, baseSecret.PubKey()))
	k.Add(&baseSecret.Key)
	return btcec.PrivKeyFromScalar(&k)
}

// revocationTweaks returns SHA256(revocation_basepoint || per_commitment_point)
// and SHA256(per_commitment_point || revocation_basepoint).
func revocationTweaks(revBase, commitPoint *btcec.PublicKey) (btcec.ModNScalar,
	btcec.ModNScalar) {

	h1 := hashPoints(revBase, commitPoint)
	h2 := hashPoints(commitPoint, revBase)
	return scalarFromHash(h1[:]), scalarFromHash(h2[:])
}

// DeriveRevocationPubKey derives revocationpubkey from the revocation
// basepoint of the node that will be able to punish, and the
// per_commitment_point of the commitment's owner:
//
//	revocation_basepoint·SHA256(revocation_basepoint || per_commitment_point) +
//	per_commitment_point·SHA256(per_commitment_point || revocation_basepoint)
func DeriveRevocationPubKey(revBase,
	commitPoint *btcec.PublicKey) *btcec.PublicKey {

	// Public points and public hashes: vartime throughout.
	k1, k2 := revocationTweaks(revBase, commitPoint)
	rb, cp := vartime.FromPubKey(revBase), vartime.FromPubKey(commitPoint)
	var a vartime.Jacobian
	vartime.DoubleMul(&rb, &k1, &cp, &k2, &a)
	return a.PubKey()
}

// DeriveRevocationPrivKey derives the revocation private key once the
// per_commitment_secret of a revoked commitment is known:
//
//	revocation_basepoint_secret·SHA256(revocation_basepoint || per_commitment_point) +
//	per_commitment_secret·SHA256(per_commitment_point || revocation_basepoint)
func DeriveRevocationPrivKey(revBaseSecret,
	commitSecret *btcec.PrivateKey) *btcec.PrivateKey {

	k1, k2 := revocationTweaks(revBaseSecret.PubKey(), commitSecret.PubKey())
	k1.Mul(&revBaseSecret.Key)
	k2.Mul(&commitSecret.Key)
	k1.Add(&k2)
	return btcec.PrivKeyFromScalar(&k1)
}

// CommitPoint returns per_commitment_point = per_commitment_secret·G for a
// 32-byte per-commitment secret (reduced modulo the order, as
// btcec.PrivKeyFromBytes reduces it). The secret may be one not yet
// revealed, so this is btcec's multiplication, not vartime's.
func CommitPoint(secret [32]byte) *btcec.PublicKey {
	var k btcec.ModNScalar
	k.SetBytes(&secret)
	var p btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&k, &p)
	k.Zero()
	p.ToAffine()
	return btcec.NewPublicKey(&p.X, &p.Y)
}

// revealedPointIs reports whether a revealed per_commitment_secret is
// the secret of point: the secret is public once revealed, so vartime
// checks it, comparing without converting to affine.
func revealedPointIs(secret [32]byte, point *btcec.PublicKey) bool {
	var k btcec.ModNScalar
	k.SetBytes(&secret)
	var p vartime.Jacobian
	vartime.BaseMul(&k, &p)
	return p.Equals(point)
}
