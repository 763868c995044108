package lnwallet

import (
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/wallet"
)

// walletSigner is the production Signer: the wallet's SignOutputRaw,
// naming keys by their public key alone (as funding.Signer does; that
// package imports this one, so the adapter is repeated here).
type walletSigner struct {
	w *wallet.Wallet
}

func (s walletSigner) SignOutputRaw(tx *wire.MsgTx,
	d *SignDescriptor) (*ecdsa.Signature, error) {

	return s.w.SignOutputRaw(tx, &wallet.SignDescriptor{
		KeyDesc:       wallet.KeyDescriptor{PubKey: d.PubKey},
		SingleTweak:   d.SingleTweak,
		DoubleTweak:   d.DoubleTweak,
		WitnessScript: d.WitnessScript,
		Output: wire.NewTxOut(int64(d.Value),
			WitnessScriptHash(d.WitnessScript)),
		HashType:   d.HashType,
		InputIndex: d.InputIndex,
	})
}

// newWalletParty is newParty with the keys handed out by a real wallet
// (a bbolt file in a temporary directory) and its signer.
func newWalletParty(t testing.TB, r *rand.Rand,
	c channeldb.ChannelConstraints) *party {

	t.Helper()
	w, _, err := wallet.Create(wallet.Config{
		DBPath: filepath.Join(t.TempDir(), "wallet.db"),
		Net:    &chaincfg.RegressionNetParams,
		Scrypt: wallet.ScryptParams{N: 1 << 10, R: 8, P: 1},
	}, wallet.CreateParams{NoPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	p := &party{signer: walletSigner{w}, cfg: channeldb.ChannelConfig{
		ChannelConstraints: c}}
	r.Read(p.seed[:])
	for _, k := range []struct {
		f   wallet.KeyFamily
		pub **btcec.PublicKey
	}{
		{wallet.KeyFamilyMultiSig, &p.cfg.FundingKey},
		{wallet.KeyFamilyRevocationBase, &p.cfg.RevocationBasePoint},
		{wallet.KeyFamilyPaymentBase, &p.cfg.PaymentBasePoint},
		{wallet.KeyFamilyDelayBase, &p.cfg.DelayedPaymentBasePoint},
		{wallet.KeyFamilyHtlcBase, &p.cfg.HtlcBasePoint},
	} {
		d, err := w.DeriveNextKey(k.f)
		if err != nil {
			t.Fatal(err)
		}
		*k.pub = d.PubKey
	}
	return p
}
