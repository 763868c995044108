package funding

import (
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/wallet"
)

// KeyWallet is the part of Wallet that channel keys come from.
type KeyWallet interface {
	DeriveNextKey(f wallet.KeyFamily) (wallet.KeyDescriptor, error)
	DerivePrivKey(d wallet.KeyDescriptor) (*btcec.PrivateKey, error)
	SignOutputRaw(tx *wire.MsgTx, d *wallet.SignDescriptor) (*ecdsa.Signature, error)
}

// Signer makes a wallet an lnwallet.Signer: it signs with the wallet key
// a SignDescriptor names by its public key.
type Signer struct {
	W KeyWallet
}

// SignOutputRaw implements lnwallet.Signer.
func (s Signer) SignOutputRaw(tx *wire.MsgTx,
	d *lnwallet.SignDescriptor) (*ecdsa.Signature, error) {

	pkScript := lnwallet.WitnessScriptHash(d.WitnessScript)
	return s.W.SignOutputRaw(tx, &wallet.SignDescriptor{
		KeyDesc:       wallet.KeyDescriptor{PubKey: d.PubKey},
		SingleTweak:   d.SingleTweak,
		DoubleTweak:   d.DoubleTweak,
		WitnessScript: d.WitnessScript,
		Output:        wire.NewTxOut(int64(d.Value), pkScript),
		HashType:      d.HashType,
		InputIndex:    d.InputIndex,
	})
}

var _ lnwallet.Signer = Signer{}

// ChannelSecrets returns the producer of our per-commitment secrets of a
// channel: a shachain seeded with SHA256 of the private key at the
// channel's RevocationRoot, so that it is re-derived from the wallet seed
// and never stored.
func ChannelSecrets(w KeyWallet, root channeldb.KeyLocator) (*shachain.Producer, error) {
	priv, err := w.DerivePrivKey(wallet.KeyDescriptor{KeyLocator: wallet.KeyLocator{
		Family: wallet.KeyFamily(root.Family), Index: root.Index}})
	if err != nil {
		return nil, fmt.Errorf("revocation root %d/%d: %w", root.Family,
			root.Index, err)
	}
	return shachain.NewProducer(sha256.Sum256(priv.Serialize())), nil
}

// NewChannel resumes a stored channel as a state machine, with the
// wallet's signer and the channel's per-commitment secrets.
func NewChannel(w KeyWallet, st *channeldb.OpenChannel) (*lnwallet.Channel, error) {
	secrets, err := ChannelSecrets(w, st.RevocationRoot)
	if err != nil {
		return nil, err
	}
	return lnwallet.NewChannel(st, lnwallet.Config{Signer: Signer{W: w},
		Secrets: secrets})
}

// localKeys are our side's keys for a new channel.
type localKeys struct {
	cfg     channeldb.ChannelConfig
	revRoot channeldb.KeyLocator
	secrets *shachain.Producer
}

// newLocalKeys hands out a fresh funding key, the four basepoints and a
// revocation root from the wallet's key families.
func newLocalKeys(w KeyWallet) (*localKeys, error) {
	next := func(f wallet.KeyFamily) (*btcec.PublicKey, channeldb.KeyLocator, error) {
		d, err := w.DeriveNextKey(f)
		if err != nil {
			return nil, channeldb.KeyLocator{}, fmt.Errorf("key family %d: %w", f, err)
		}
		return d.PubKey, channeldb.KeyLocator{Family: uint32(d.Family),
			Index: d.Index}, nil
	}
	k := &localKeys{}
	c := &k.cfg
	var err error
	for _, s := range []struct {
		f   wallet.KeyFamily
		pub **btcec.PublicKey
		loc *channeldb.KeyLocator
	}{
		{wallet.KeyFamilyMultiSig, &c.FundingKey, &c.FundingKeyLoc},
		{wallet.KeyFamilyRevocationBase, &c.RevocationBasePoint, &c.RevocationBaseLoc},
		{wallet.KeyFamilyHtlcBase, &c.HtlcBasePoint, &c.HtlcBaseLoc},
		{wallet.KeyFamilyPaymentBase, &c.PaymentBasePoint, &c.PaymentBaseLoc},
		{wallet.KeyFamilyDelayBase, &c.DelayedPaymentBasePoint, &c.DelayedPaymentBaseLoc},
	} {
		if *s.pub, *s.loc, err = next(s.f); err != nil {
			return nil, err
		}
	}
	if _, k.revRoot, err = next(wallet.KeyFamilyRevocationRoot); err != nil {
		return nil, err
	}
	if k.secrets, err = ChannelSecrets(w, k.revRoot); err != nil {
		return nil, err
	}
	return k, nil
}

// commitPoint is our per_commitment_point of commitment n.
func commitPoint(s *shachain.Producer, n uint64) (*btcec.PublicKey, error) {
	secret, err := s.ForCommitment(n)
	if err != nil {
		return nil, err
	}
	return lnwallet.CommitPoint(secret), nil
}
