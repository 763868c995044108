package wallet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"
)

// keyRing returns the key ring, or ErrLocked.
func (w *Wallet) keyRing() (*keyRing, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keys == nil {
		return nil, ErrLocked
	}
	return w.keys, nil
}

func validFamily(f KeyFamily) error {
	if uint32(f) >= hardened {
		return fmt.Errorf("%w: key family %d out of range", ErrUnknownKey, f)
	}
	return nil
}

// DeriveKey returns the public key at a locator,
// m/1017'/coin'/family'/0/index.
func (w *Wallet) DeriveKey(loc KeyLocator) (KeyDescriptor, error) {
	if err := validFamily(loc.Family); err != nil {
		return KeyDescriptor{}, err
	}
	k, err := w.keyRing()
	if err != nil {
		return KeyDescriptor{}, err
	}
	_, pub, err := w.familyPair(k, loc)
	if err != nil {
		return KeyDescriptor{}, err
	}
	return KeyDescriptor{KeyLocator: loc, PubKey: pub}, nil
}

// familyPair returns the private and public keys of a Lightning key
// locator, remembering the public key's locator the first time.
func (w *Wallet) familyPair(k *keyRing, loc KeyLocator) (*btcec.PrivateKey,
	*btcec.PublicKey, error) {

	priv, err := k.familyKey(loc)
	if err != nil {
		return nil, nil, err
	}
	pub, fresh := k.familyPubKey(loc, priv)
	if fresh {
		w.rememberKey(loc, pub)
	}
	return priv, pub, nil
}

// DeriveNextKey returns the next unused key of a family, persisting the
// counter so that no key is handed out twice.
func (w *Wallet) DeriveNextKey(f KeyFamily) (KeyDescriptor, error) {
	if err := validFamily(f); err != nil {
		return KeyDescriptor{}, err
	}
	var idx uint32
	w.mu.Lock()
	err := w.db.Update(func(tx kvdb.RwTx) error {
		b := tx.ReadWriteBucket(bucketFamilies)
		idx = getUint32(b, u32(uint32(f)))
		if idx >= hardened {
			return fmt.Errorf("key family %d exhausted", f)
		}
		return b.Put(u32(uint32(f)), u32(idx+1))
	})
	w.mu.Unlock()
	if err != nil {
		return KeyDescriptor{}, err
	}
	return w.DeriveKey(KeyLocator{Family: f, Index: idx})
}

// DerivePrivKey returns the private key of a descriptor. If the
// descriptor carries a public key that its locator does not derive (a
// caller that knows only the public key, as lnwallet's signer does), the
// key is looked up among the Lightning keys the wallet has handed out, and
// then searched for in every family up to keySearchWindow past the last
// index handed out; not found is ErrUnknownKey.
func (w *Wallet) DerivePrivKey(desc KeyDescriptor) (*btcec.PrivateKey, error) {
	if err := validFamily(desc.Family); err != nil {
		return nil, err
	}
	k, err := w.keyRing()
	if err != nil {
		return nil, err
	}
	if desc.PubKey != nil {
		// A key handed out before: its locator, without deriving
		// the descriptor's to compare.
		if loc, ok := w.knownKey(desc.PubKey); ok {
			return k.familyKey(loc)
		}
	}
	priv, pub, err := w.familyPair(k, desc.KeyLocator)
	if err != nil {
		return nil, err
	}
	if desc.PubKey == nil || pub.IsEqual(desc.PubKey) {
		return priv, nil
	}
	loc, err := w.findKey(k, desc.PubKey)
	if err != nil {
		return nil, err
	}
	return k.familyKey(loc)
}

// keySearchWindow is how far past the last handed-out index of each family
// DerivePrivKey searches for a public key it does not know.
const keySearchWindow = 256

// rememberKey records which locator derives pub.
func (w *Wallet) rememberKey(loc KeyLocator, pub *btcec.PublicKey) {
	var id [33]byte
	copy(id[:], pub.SerializeCompressed())
	w.mu.Lock()
	w.pubKeys[id] = loc
	w.mu.Unlock()
}

// knownKey returns the locator pub was derived at, if remembered.
func (w *Wallet) knownKey(pub *btcec.PublicKey) (KeyLocator, bool) {
	var id [33]byte
	copy(id[:], pub.SerializeCompressed())
	w.mu.Lock()
	defer w.mu.Unlock()
	loc, ok := w.pubKeys[id]
	return loc, ok
}

// findKey returns the locator of a Lightning public key of this wallet.
func (w *Wallet) findKey(k *keyRing, pub *btcec.PublicKey) (KeyLocator, error) {
	if loc, ok := w.knownKey(pub); ok {
		return loc, nil
	}
	next := make(map[KeyFamily]uint32)
	err := w.db.View(func(tx kvdb.RTx) error {
		return tx.ReadBucket(bucketFamilies).ForEach(func(k, v []byte) error {
			if len(k) == 4 && len(v) == 4 {
				next[KeyFamily(binary.BigEndian.Uint32(k))] = binary.BigEndian.Uint32(v)
			}
			return nil
		})
	})
	if err != nil {
		return KeyLocator{}, err
	}
	for f := KeyFamilyMultiSig; f <= KeyFamilyNodeKey; f++ {
		limit := next[f] + keySearchWindow
		for i := uint32(0); i < limit; i++ {
			l := KeyLocator{Family: f, Index: i}
			// Uncached: most keys searched are not ours to keep.
			priv, err := k.child(purposeLightning, uint32(f), 0, i)
			if err != nil {
				return KeyLocator{}, err
			}
			if priv.PubKey().IsEqual(pub) {
				w.rememberKey(l, pub)
				return l, nil
			}
		}
	}
	return KeyLocator{}, fmt.Errorf("%w: public key %x", ErrUnknownKey,
		pub.SerializeCompressed())
}

// NodeKey is the node's identity key, family 6 index 0.
func (w *Wallet) NodeKey() (KeyDescriptor, error) {
	return w.DeriveKey(KeyLocator{Family: KeyFamilyNodeKey})
}

// ECDH returns SHA256(compressed(node_secret·pub)), BOLT 8's ECDH with the
// node key.
func (w *Wallet) ECDH(pub *btcec.PublicKey) ([32]byte, error) {
	if pub == nil {
		return [32]byte{}, errors.New("ecdh: nil public key")
	}
	// The node key is cached in the key ring with its public key: this is
	// a copy of the scalar, then one scalar multiplication.
	priv, err := w.DerivePrivKey(KeyDescriptor{KeyLocator: KeyLocator{Family: KeyFamilyNodeKey}})
	if err != nil {
		return [32]byte{}, err
	}
	defer priv.Zero()
	return ecdh(priv, pub)
}

// NodeKeyECDH is the node key as brontide's SingleKeyECDH wants it: the
// public key and ECDH, without the private key leaving the wallet.
type NodeKeyECDH struct {
	w   *Wallet
	pub *btcec.PublicKey
}

// NodeKeyECDH returns the node key's ECDH handle.
func (w *Wallet) NodeKeyECDH() (*NodeKeyECDH, error) {
	d, err := w.NodeKey()
	if err != nil {
		return nil, err
	}
	return &NodeKeyECDH{w: w, pub: d.PubKey}, nil
}

// PubKey is the node's public key.
func (n *NodeKeyECDH) PubKey() *btcec.PublicKey { return n.pub }

// ECDH with the node key.
func (n *NodeKeyECDH) ECDH(pub *btcec.PublicKey) ([32]byte, error) { return n.w.ECDH(pub) }

// SignDigest signs a 32-byte digest with a Lightning key (node
// announcements, channel updates: the caller double-SHA256s as BOLT 7
// says).
func (w *Wallet) SignDigest(loc KeyLocator, digest [32]byte) (*ecdsa.Signature, error) {
	priv, err := w.DerivePrivKey(KeyDescriptor{KeyLocator: loc})
	if err != nil {
		return nil, err
	}
	return ecdsa.Sign(priv, digest[:]), nil
}

// SignDigestCompact signs a 32-byte digest with a Lightning key as a
// 65-byte recoverable signature (header 31+recovery id, r, s; the key is
// compressed), the form of signed messages: the verifier recovers the key
// from the signature.
//
// The signature is btcec's, byte for byte; the nonce is handled in
// constant time (signCompact).
func (w *Wallet) SignDigestCompact(loc KeyLocator, digest [32]byte) ([]byte, error) {
	priv, err := w.DerivePrivKey(KeyDescriptor{KeyLocator: loc})
	if err != nil {
		return nil, err
	}
	defer priv.Zero()
	return signCompact(priv, digest[:])
}

// SignDescriptor says how to sign one input of a transaction with a
// Lightning key, as lnd's input.SignDescriptor.
type SignDescriptor struct {
	// KeyDesc names the base key: by locator, or by public key alone
	// (see DerivePrivKey).
	KeyDesc KeyDescriptor

	// SingleTweak, if set, is added to the base private key: BOLT 3's
	// SHA256(per_commitment_point || basepoint), for localpubkey,
	// local_htlcpubkey and local_delayedpubkey.
	SingleTweak []byte

	// DoubleTweak, if set, is the per-commitment secret of a revoked
	// state; the key signed with is then BOLT 3's revocationprivkey
	// from the base (revocation basepoint secret) and this secret.
	DoubleTweak *btcec.PrivateKey

	// WitnessScript is the script being satisfied (the P2WSH script).
	WitnessScript []byte

	// Output is the output being spent (value and pkScript).
	Output *wire.TxOut

	// HashType is the sighash type, normally SigHashAll.
	HashType txscript.SigHashType

	// SigHashes caches the transaction's sighash midstate; nil computes
	// it.
	SigHashes *txscript.TxSigHashes

	// InputIndex is the input being signed.
	InputIndex int
}

// SignOutputRaw produces a segwit v0 signature (without the sighash byte)
// for one input, with the private key the descriptor names and tweaks.
func (w *Wallet) SignOutputRaw(tx *wire.MsgTx, desc *SignDescriptor) (*ecdsa.Signature, error) {
	if desc == nil || desc.Output == nil {
		return nil, errors.New("sign: descriptor without output")
	}
	if desc.InputIndex < 0 || desc.InputIndex >= len(tx.TxIn) {
		return nil, fmt.Errorf("sign: input index %d out of range", desc.InputIndex)
	}
	if desc.SingleTweak != nil && desc.DoubleTweak != nil {
		return nil, errors.New("sign: both single and double tweak")
	}
	priv, err := w.DerivePrivKey(desc.KeyDesc)
	if err != nil {
		return nil, err
	}
	switch {
	case desc.SingleTweak != nil:
		priv, err = tweakPrivKey(priv, desc.SingleTweak)
	case desc.DoubleTweak != nil:
		priv, err = revocationPrivKey(priv, desc.DoubleTweak)
	}
	if err != nil {
		return nil, err
	}
	hashes := desc.SigHashes
	if hashes == nil {
		hashes = txscript.NewTxSigHashes(tx, txscript.NewCannedPrevOutputFetcher(
			desc.Output.PkScript, desc.Output.Value))
	}
	hashType := desc.HashType
	if hashType == 0 {
		hashType = txscript.SigHashAll
	}
	sigHash, err := txscript.CalcWitnessSigHash(desc.WitnessScript, hashes,
		hashType, tx, desc.InputIndex, desc.Output.Value)
	if err != nil {
		return nil, fmt.Errorf("sighash: %w", err)
	}
	return ecdsa.Sign(priv, sigHash), nil
}
