package wallet

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"lnd.xprv/channeldb/kvdb"
)

// Account is one BIP 44 style account of the wallet, m/purpose'/coin'/0',
// from which the addresses of one type derive.
type Account struct {
	Type AddressType

	// XPub is the account's extended public key. Its version bytes are
	// those SLIP 132 gives the address type (vpub/zpub for P2WPKH,
	// upub/ypub for nested P2WPKH, tpub/xpub for P2TR), as lnd shows
	// them, so that another wallet importing it derives the same
	// addresses.
	XPub string

	// Path is the account's derivation path, m/purpose'/coin'/0'.
	Path string

	// External and Internal count the receive and change addresses
	// handed out (or seen used on chain).
	External uint32
	Internal uint32
}

// slip132Versions are the SLIP 132 version bytes of an account's
// extended public key, on mainnet and on the test networks. P2TR keeps
// BIP 32's xpub/tpub.
var slip132Versions = map[AddressType][2][4]byte{
	AddressP2WPKH:  {{0x04, 0xb2, 0x47, 0x46}, {0x04, 0x5f, 0x1c, 0xf6}}, // zpub, vpub
	AddressNP2WPKH: {{0x04, 0x9d, 0x7c, 0xb2}, {0x04, 0x4a, 0x52, 0x62}}, // ypub, upub
}

// Accounts returns the wallet's accounts, one per address type, in the
// order of addressTypes. The wallet must be unlocked.
func (w *Wallet) Accounts() ([]Account, error) {
	k, err := w.keyRing()
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(addressTypes))
	for _, t := range addressTypes {
		xpub, err := k.accountXPub(t)
		if err != nil {
			return nil, fmt.Errorf("account of %v: %w", t, err)
		}
		out = append(out, Account{
			Type: t,
			XPub: xpub,
			Path: fmt.Sprintf("m/%d'/%d'/0'", t.purpose(), k.coinType),
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	err = w.db.View(func(tx kvdb.RTx) error {
		for i := range out {
			out[i].External = handedOut(tx, out[i].Type, branchReceive)
			out[i].Internal = handedOut(tx, out[i].Type, branchChange)
		}
		return nil
	})
	return out, err
}

// handedOut is the next index of a branch: addresses below it were handed
// out or seen used.
func handedOut(tx kvdb.RTx, t AddressType, branch uint8) uint32 {
	id := [2]uint8{uint8(t), branch}
	return max(getUint32(tx.ReadBucket(bucketAddrs), id[:]),
		getUint32(tx.ReadBucket(bucketUsed), id[:]))
}

// accountXPub returns the serialized extended public key of the account
// m/purpose'/coin'/0' of an address type.
func (k *keyRing) accountXPub(t AddressType) (string, error) {
	k.mu.Lock()
	if k.master == nil {
		k.mu.Unlock()
		return "", ErrLocked
	}
	key := k.master
	var derived []*hdkeychain.ExtendedKey
	var err error
	for _, i := range []uint32{t.purpose() + hardened, k.coinType + hardened, hardened} {
		if key, err = key.Derive(i); err != nil {
			break
		}
		derived = append(derived, key)
	}
	k.mu.Unlock()
	// The private intermediates are not kept.
	defer func() {
		for _, d := range derived {
			d.Zero()
		}
	}()
	if err != nil {
		return "", fmt.Errorf("derive: %w", err)
	}
	pub, err := key.Neuter()
	if err != nil {
		return "", err
	}
	if versions, ok := slip132Versions[t]; ok {
		version := versions[1]
		if k.net.Net == chaincfg.MainNetParams.Net {
			version = versions[0]
		}
		if pub, err = pub.CloneWithVersion(version[:]); err != nil {
			return "", err
		}
	}
	return pub.String(), nil
}
