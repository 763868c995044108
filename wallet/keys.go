package wallet

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"lnd.xprv/internal/vartime"
)

// Derivation purposes (BIP 43).
const (
	purposeBIP49     = 49   // P2SH-P2WPKH (nested segwit) accounts
	purposeBIP84     = 84   // P2WPKH accounts
	purposeBIP86     = 86   // P2TR key-path accounts
	purposeLightning = 1017 // lnd's key families, m/1017'/coin'/family'/0/i
)

const hardened = hdkeychain.HardenedKeyStart

// KeyFamily is a branch of Lightning keys, m/1017'/coin'/family'/0/index,
// numbered as lnd numbers them so that a seed means the same keys in both.
type KeyFamily uint32

// The key families a Lightning node uses.
const (
	KeyFamilyMultiSig       KeyFamily = 0
	KeyFamilyRevocationBase KeyFamily = 1
	KeyFamilyHtlcBase       KeyFamily = 2
	KeyFamilyPaymentBase    KeyFamily = 3
	KeyFamilyDelayBase      KeyFamily = 4
	KeyFamilyRevocationRoot KeyFamily = 5
	KeyFamilyNodeKey        KeyFamily = 6
)

// KeyLocator names a Lightning key by family and index.
type KeyLocator struct {
	Family KeyFamily
	Index  uint32
}

// KeyDescriptor is a public key with the locator that derives it.
type KeyDescriptor struct {
	KeyLocator
	PubKey *btcec.PublicKey
}

// AddressType is the kind of output a wallet address pays to.
type AddressType uint8

const (
	// AddressP2WPKH: BIP 84 native segwit v0, m/84'/coin'/0'/change/i.
	AddressP2WPKH AddressType = 0

	// AddressP2TR: BIP 86 taproot key-path only, m/86'/coin'/0'/change/i.
	AddressP2TR AddressType = 1

	// AddressNP2WPKH: BIP 49 P2WPKH nested in P2SH (lnd's np2wkh),
	// m/49'/coin'/0'/change/i.
	AddressNP2WPKH AddressType = 2
)

// addressTypes lists every type the wallet scans for.
var addressTypes = [...]AddressType{AddressP2WPKH, AddressP2TR, AddressNP2WPKH}

func (t AddressType) String() string {
	switch t {
	case AddressP2WPKH:
		return "p2wpkh"
	case AddressP2TR:
		return "p2tr"
	case AddressNP2WPKH:
		return "np2wpkh"
	}
	return fmt.Sprintf("addresstype(%d)", uint8(t))
}

func (t AddressType) valid() bool {
	return t == AddressP2WPKH || t == AddressP2TR || t == AddressNP2WPKH
}

func (t AddressType) purpose() uint32 {
	switch t {
	case AddressP2TR:
		return purposeBIP86
	case AddressNP2WPKH:
		return purposeBIP49
	}
	return purposeBIP84
}

// Branches of a BIP 44 style account.
const (
	branchReceive uint8 = 0
	branchChange  uint8 = 1
)

// derivation locates a wallet (non-Lightning) key.
type derivation struct {
	Type   AddressType
	Branch uint8
	Index  uint32
}

// coinType returns the BIP 44 coin type: 0 on mainnet, 1 on every test
// network (testnet, regtest, signet, simnet), as BIP 44 and lnd use it.
func coinType(net *chaincfg.Params) uint32 {
	if net.Net == chaincfg.MainNetParams.Net {
		return 0
	}
	return 1
}

// keyRing derives every key of the wallet from the BIP 32 master key. The
// branch-level extended keys are cached; each address or family key is one
// non-hardened step below them. Lightning family keys are cached too: a
// channel signs with the same few keys at every commitment, and deriving
// one costs a hash and a curve multiplication. The cache holds nothing a
// cached branch key could not derive, and lock zeroes it.
type keyRing struct {
	net      *chaincfg.Params
	coinType uint32

	mu       sync.Mutex
	master   *hdkeychain.ExtendedKey
	branches map[[3]uint32]*hdkeychain.ExtendedKey
	family   map[KeyLocator]*btcec.PrivateKey
	// familyPub holds the public keys of family, computed once: a
	// scalar base multiplication per signature or ECDH otherwise.
	familyPub map[KeyLocator]*btcec.PublicKey
}

func newKeyRing(seed []byte, net *chaincfg.Params) (*keyRing, error) {
	master, err := hdkeychain.NewMaster(seed, net)
	if err != nil {
		return nil, fmt.Errorf("bip32 master: %w", err)
	}
	return &keyRing{
		net:       net,
		coinType:  coinType(net),
		master:    master,
		branches:  make(map[[3]uint32]*hdkeychain.ExtendedKey),
		family:    make(map[KeyLocator]*btcec.PrivateKey),
		familyPub: make(map[KeyLocator]*btcec.PublicKey),
	}, nil
}

// branch returns m/purpose'/coin'/account'/branch.
func (k *keyRing) branch(purpose, account, branch uint32) (*hdkeychain.ExtendedKey, error) {
	if account >= hardened {
		return nil, fmt.Errorf("%w: account %d out of range", ErrUnknownKey, account)
	}
	id := [3]uint32{purpose, account, branch}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master == nil {
		return nil, ErrLocked
	}
	if b, ok := k.branches[id]; ok {
		return b, nil
	}
	key := k.master
	var err error
	for _, i := range []uint32{purpose + hardened, k.coinType + hardened,
		account + hardened, branch} {
		if key, err = key.Derive(i); err != nil {
			return nil, fmt.Errorf("derive: %w", err)
		}
	}
	// Memoize the public key now: hdkeychain computes it lazily, which
	// would otherwise be a write to a shared value.
	if _, err := key.ECPubKey(); err != nil {
		return nil, err
	}
	k.branches[id] = key
	return key, nil
}

// child returns the private key at index below a branch.
func (k *keyRing) child(purpose, account, branch, index uint32) (*btcec.PrivateKey, error) {
	if index >= hardened {
		return nil, fmt.Errorf("%w: index %d out of range", ErrUnknownKey, index)
	}
	b, err := k.branch(purpose, account, branch)
	if err != nil {
		return nil, err
	}
	c, err := b.Derive(index)
	if errors.Is(err, hdkeychain.ErrInvalidChild) {
		// Probability below 2^-127; BIP 32 says skip to the next
		// index, which would shift every later index. Refuse instead.
		return nil, fmt.Errorf("%w: invalid child at index %d", ErrUnknownKey, index)
	}
	if err != nil {
		return nil, err
	}
	return c.ECPrivKey()
}

// walletKey returns the private key of an address derivation.
func (k *keyRing) walletKey(d derivation) (*btcec.PrivateKey, error) {
	if !d.Type.valid() || d.Branch > branchChange {
		return nil, fmt.Errorf("%w: %+v", ErrUnknownKey, d)
	}
	return k.child(d.Type.purpose(), 0, uint32(d.Branch), d.Index)
}

// familyKey returns the private key of a Lightning key locator: a copy
// the caller may keep or zero.
func (k *keyRing) familyKey(loc KeyLocator) (*btcec.PrivateKey, error) {
	k.mu.Lock()
	cached, ok := k.family[loc]
	var priv btcec.PrivateKey
	if ok {
		priv = *cached
	}
	k.mu.Unlock()
	if ok {
		return &priv, nil
	}
	derived, err := k.child(purposeLightning, uint32(loc.Family), 0,
		loc.Index)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master == nil {
		// Locked meanwhile: keep nothing.
		return nil, ErrLocked
	}
	kept := *derived
	k.family[loc] = &kept
	return derived, nil
}

// familyPubKey returns the public key of priv, the key familyKey
// returned for loc, computing it only the first time (fresh).
func (k *keyRing) familyPubKey(loc KeyLocator,
	priv *btcec.PrivateKey) (pub *btcec.PublicKey, fresh bool) {

	k.mu.Lock()
	pub, ok := k.familyPub[loc]
	k.mu.Unlock()
	if ok {
		return pub, false
	}
	pub = priv.PubKey()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master != nil {
		k.familyPub[loc] = pub
	}
	return pub, true
}

// lock forgets every private key.
func (k *keyRing) lock() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master != nil {
		k.master.Zero()
	}
	for id, b := range k.branches {
		b.Zero()
		delete(k.branches, id)
	}
	for loc, priv := range k.family {
		priv.Zero()
		delete(k.family, loc)
	}
	clear(k.familyPub)
	k.master = nil
}

// pkScriptFor returns the output script an address derivation pays to.
func pkScriptFor(t AddressType, pub *btcec.PublicKey) ([]byte, error) {
	switch t {
	case AddressP2WPKH:
		return witnessKeyHashScript(pub)
	case AddressNP2WPKH:
		// BIP 49: the P2WPKH program is the redeem script of a P2SH
		// output.
		redeem, err := witnessKeyHashScript(pub)
		if err != nil {
			return nil, err
		}
		return txscript.NewScriptBuilder().AddOp(txscript.OP_HASH160).
			AddData(btcutil.Hash160(redeem)).AddOp(txscript.OP_EQUAL).Script()
	case AddressP2TR:
		// BIP 86: the output key commits to no script tree.
		return txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(pub))
	}
	return nil, fmt.Errorf("unknown address type %d", t)
}

// witnessKeyHashScript is the segwit v0 key-hash program of pub: a P2WPKH output
// script, and the redeem script of a BIP 49 nested one.
func witnessKeyHashScript(pub *btcec.PublicKey) ([]byte, error) {
	return txscript.NewScriptBuilder().AddOp(txscript.OP_0).
		AddData(btcutil.Hash160(pub.SerializeCompressed())).Script()
}

// ecdh returns SHA256 of the compressed shared point priv·pub, the
// construction BOLT 8 uses. The multiplication is vartime.SecretMul:
// constant time in the node key, and faster than btcec's variable-time
// ScalarMultNonConst, which lnd uses here. The product is a point for a
// nonzero key and a public key on the curve (ParsePubKey checks that);
// the error is for a caller breaking that.
func ecdh(priv *btcec.PrivateKey, pub *btcec.PublicKey) ([32]byte, error) {
	p := vartime.FromPubKey(pub)
	c, ok := vartime.SecretMul(&p, &priv.Key)
	if !ok {
		return [32]byte{}, errors.New("ecdh: shared point at infinity")
	}
	ss := sha256.Sum256(c[:])
	c = [33]byte{}
	return ss, nil
}

// tweakPrivKey returns base + tweak (mod n): BOLT 3's localprivkey,
// local_htlcprivkey and local_delayedprivkey, where tweak is
// SHA256(per_commitment_point || basepoint).
func tweakPrivKey(base *btcec.PrivateKey, tweak []byte) (*btcec.PrivateKey, error) {
	if len(tweak) != 32 {
		return nil, fmt.Errorf("single tweak must be 32 bytes, got %d", len(tweak))
	}
	var t btcec.ModNScalar
	if overflow := t.SetByteSlice(tweak); overflow {
		return nil, errors.New("single tweak overflows the curve order")
	}
	t.Add(&base.Key)
	if t.IsZero() {
		return nil, errors.New("tweaked key is zero")
	}
	return &btcec.PrivateKey{Key: t}, nil
}

// revocationPrivKey returns BOLT 3's revocationprivkey:
// revocation_basepoint_secret·SHA256(revocation_basepoint || per_commitment_point)
// + per_commitment_secret·SHA256(per_commitment_point || revocation_basepoint).
func revocationPrivKey(revBase, commitSecret *btcec.PrivateKey) (*btcec.PrivateKey, error) {
	basePoint := revBase.PubKey().SerializeCompressed()
	commitPoint := commitSecret.PubKey().SerializeCompressed()

	h1 := sha256.Sum256(append(append([]byte{}, basePoint...), commitPoint...))
	h2 := sha256.Sum256(append(append([]byte{}, commitPoint...), basePoint...))

	var a, b btcec.ModNScalar
	a.SetBytes(&h1)
	b.SetBytes(&h2)
	a.Mul(&revBase.Key)
	b.Mul(&commitSecret.Key)
	a.Add(&b)
	if a.IsZero() {
		return nil, errors.New("revocation key is zero")
	}
	return &btcec.PrivateKey{Key: a}, nil
}

func sha256Concat(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
