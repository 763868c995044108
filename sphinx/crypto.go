package sphinx

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"

	"github.com/btcsuite/btcd/btcec/v2"
	"golang.org/x/crypto/chacha20"

	"lnd.xprv/internal/vartime"
)

// Key types of BOLT 4 "Key Generation" and "Returning Errors". Each is the
// HMAC key used to derive a 32-byte key from a shared secret.
var (
	keyRho      = []byte("rho")
	keyMu       = []byte("mu")
	keyUm       = []byte("um")
	keyPad      = []byte("pad")
	keyAmmag    = []byte("ammag")
	keyAmmagExt = []byte("ammagext")
)

// ErrInvalidKey is returned when a public key is not a valid point or a
// derived private scalar is zero.
var ErrInvalidKey = errors.New("sphinx: invalid key")

// Hash256 is a 32-byte value: a shared secret, a derived key or an HMAC.
type Hash256 = [32]byte

// generateKey derives a key of the given type from a 32-byte secret:
// HMAC-SHA256 keyed with the key type over the secret.
func generateKey(keyType []byte, secret []byte) Hash256 {
	// RFC 2104 over stack buffers: hmac.New allocates its two hashes,
	// and every hop of every onion built, peeled or failed derives
	// several keys. Key types are short and secrets 32 bytes; anything
	// else goes through hmac.
	const block = sha256.BlockSize
	if len(keyType) > block || len(secret) > 64 {
		mac := hmac.New(sha256.New, keyType)
		mac.Write(secret)
		var k Hash256
		mac.Sum(k[:0])
		return k
	}
	var buf [block + 64]byte
	copy(buf[:], keyType)
	for i := range block {
		buf[i] ^= 0x36
	}
	n := copy(buf[block:], secret)
	inner := sha256.Sum256(buf[:block+n])
	clear(buf[:block])
	copy(buf[:], keyType)
	for i := range block {
		buf[i] ^= 0x5c
	}
	copy(buf[block:], inner[:])
	return sha256.Sum256(buf[:block+sha256.Size])
}

// xorStream XORs dst with the ChaCha20 stream of key (all-zero nonce),
// starting at the beginning of the stream.
func xorStream(key Hash256, dst []byte) {
	var nonce [chacha20.NonceSize]byte
	c, err := chacha20.NewUnauthenticatedCipher(key[:], nonce[:])
	if err != nil {
		// Only wrong key or nonce sizes fail, and both are fixed here.
		panic("sphinx: chacha20: " + err.Error())
	}
	c.XORKeyStream(dst, dst)
}

// computeHMAC returns HMAC-SHA256(key, parts...).
func computeHMAC(key Hash256, parts ...[]byte) Hash256 {
	mac := hmac.New(sha256.New, key[:])
	for _, p := range parts {
		mac.Write(p)
	}
	var out Hash256
	mac.Sum(out[:0])
	return out
}

// ECDHer computes the BOLT 4 shared secret between a private key it holds
// and a public key: SHA256 of the compressed ECDH point. A node passes its
// identity key behind this interface so the key can stay in the wallet.
type ECDHer interface {
	ECDH(pub *btcec.PublicKey) (Hash256, error)
}

// PrivKeyECDH is an ECDHer over a private key held in memory.
type PrivKeyECDH struct {
	Key *btcec.PrivateKey
}

// ECDH implements ECDHer.
func (p PrivKeyECDH) ECDH(pub *btcec.PublicKey) (Hash256, error) {
	return sharedSecret(&p.Key.Key, pub)
}

// PubKey returns the public key of the held private key.
func (p PrivKeyECDH) PubKey() *btcec.PublicKey {
	return p.Key.PubKey()
}

// sharedSecret returns SHA256(compressed(k*P)).
func sharedSecret(k *btcec.ModNScalar, pub *btcec.PublicKey) (Hash256, error) {
	if k.IsZero() {
		return Hash256{}, ErrInvalidKey
	}
	var p, r btcec.JacobianPoint
	pub.AsJacobian(&p)
	btcec.ScalarMultNonConst(k, &p, &r)
	r.ToAffine()
	if (r.X.IsZero() && r.Y.IsZero()) || r.Z.IsZero() {
		return Hash256{}, ErrInvalidKey
	}
	point := btcec.NewPublicKey(&r.X, &r.Y)
	return sha256.Sum256(point.SerializeCompressed()), nil
}

// blindingFactor returns SHA256(compressed(pub) || secret), the scalar that
// blinds the ephemeral key for the next hop.
func blindingFactor(pub *btcec.PublicKey, secret Hash256) (btcec.ModNScalar, error) {
	h := sha256.New()
	h.Write(pub.SerializeCompressed())
	h.Write(secret[:])
	var b [32]byte
	h.Sum(b[:0])
	var s btcec.ModNScalar
	if overflow := s.SetBytes(&b); overflow != 0 || s.IsZero() {
		// Negligible probability; treat as an unusable key rather
		// than silently reducing.
		return s, ErrInvalidKey
	}
	return s, nil
}

// blindPubKey returns b*P.
func blindPubKey(pub *btcec.PublicKey, b *btcec.ModNScalar) (*btcec.PublicKey, error) {
	var p, r btcec.JacobianPoint
	pub.AsJacobian(&p)
	btcec.ScalarMultNonConst(b, &p, &r)
	r.ToAffine()
	if (r.X.IsZero() && r.Y.IsZero()) || r.Z.IsZero() {
		return nil, ErrInvalidKey
	}
	return btcec.NewPublicKey(&r.X, &r.Y), nil
}

// SharedSecrets returns the shared secret of each hop of path for an onion
// built with sessionKey, in path order. The origin node needs them to
// decrypt a returned failure.
func SharedSecrets(sessionKey *btcec.PrivateKey, path []*btcec.PublicKey) ([]Hash256, error) {
	secrets, _, err := hopSecrets(sessionKey, path)
	return secrets, err
}

// hopSecrets walks the route with the blinded ephemeral key and returns each
// hop's shared secret and the ephemeral public key the first hop sees.
//
// Each hop costs a multiplication of its key by the ephemeral scalar and,
// except for the last hop, a base-point multiplication for the ephemeral
// public key, which only the packet (first hop) and the next blinding
// factor need. Both run on internal/vartime although the scalar is
// secret: it is a session key drawn fresh for this one onion, blinded per
// hop, never reused, and btcec multiplies it in variable time as well
// (see the package doc for why that is acceptable here and nowhere else).
func hopSecrets(sessionKey *btcec.PrivateKey, path []*btcec.PublicKey) ([]Hash256, *btcec.PublicKey, error) {
	return hopSecretsWith(sessionKey, path, nil)
}

// hopSecretsWith is hopSecrets with the tables of t (nil: none).
func hopSecretsWith(sessionKey *btcec.PrivateKey, path []*btcec.PublicKey, t *HopTables) ([]Hash256, *btcec.PublicKey, error) {
	if sessionKey == nil {
		return nil, nil, ErrInvalidKey
	}
	secrets := make([]Hash256, len(path))
	var first *btcec.PublicKey
	e := sessionKey.Key
	if e.IsZero() {
		return nil, nil, ErrInvalidKey
	}
	for i, hop := range path {
		if hop == nil {
			return nil, nil, ErrInvalidKey
		}
		last := i == len(path)-1
		// pts[0] = e·hop, pts[1] = e·G, made affine with one inversion.
		var pts [2]vartime.Jacobian
		if table := t.lookup(hop); table != nil {
			table.Mul(&e, &pts[0])
		} else {
			h := vartime.FromPubKey(hop)
			vartime.Mul(&h, &e, &pts[0])
		}
		n := 1
		if i == 0 || !last {
			vartime.BaseMul(&e, &pts[1])
			n = 2
		}
		// e ≠ 0 below the group order and points of prime order:
		// neither product is infinity unless hop is not a valid key.
		if pts[0].IsInfinity() || pts[1].IsInfinity() && n == 2 {
			return nil, nil, ErrInvalidKey
		}
		var aff [2]vartime.Point
		vartime.ToAffine(pts[:n], aff[:n])
		secrets[i] = sha256.Sum256(aff[0].PubKey().SerializeCompressed())
		if n == 1 {
			break
		}
		epk := aff[1].PubKey()
		if i == 0 {
			first = epk
		}
		if last {
			break
		}
		b, err := blindingFactor(epk, secrets[i])
		if err != nil {
			return nil, nil, err
		}
		e.Mul(&b)
	}
	return secrets, first, nil
}
