package lnwallet_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwallet/shachain"
)

// key derives a throwaway private key for the example.
func key(name string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte(name))
	priv, _ := btcec.PrivKeyFromBytes(h[:])
	return priv
}

func config(who string) (lnwallet.ChannelConfig, *lnwallet.PrivKeySigner) {
	f, r, p, d, h := key(who+"f"), key(who+"r"), key(who+"p"),
		key(who+"d"), key(who+"h")
	return lnwallet.ChannelConfig{
		DustLimit:               354,
		CsvDelay:                144,
		FundingKey:              f.PubKey(),
		RevocationBasePoint:     r.PubKey(),
		PaymentBasePoint:        p.PubKey(),
		DelayedPaymentBasePoint: d.PubKey(),
		HtlcBasePoint:           h.PubKey(),
	}, lnwallet.NewPrivKeySigner(f, r, p, d, h)
}

// Alice signs Bob's next commitment (her commitment_signed) and Bob checks
// it against the commitment he builds himself.
func Example_commitmentSigned() {
	aliceCfg, aliceSigner := config("alice")
	bobCfg, _ := config("bob")
	alice := &lnwallet.ChannelParams{
		FundingOutpoint: wire.OutPoint{Index: 0},
		Capacity:        1_000_000,
		Type:            lnwallet.ChannelTypeAnchors,
		LocalIsOpener:   true,
		Local:           aliceCfg,
		Remote:          bobCfg,
	}
	bob := *alice
	bob.Local, bob.Remote, bob.LocalIsOpener = bobCfg, aliceCfg, false

	// Bob's per-commitment point for commitment 1 comes from his
	// shachain seed (he sent it in revoke_and_ack).
	bobSecret, _ := shachain.NewProducer([32]byte{7}).ForCommitment(1)
	bobPoint := lnwallet.CommitPoint(bobSecret)

	// The state, as Alice sees it: she offered Bob one HTLC.
	spec := &lnwallet.CommitmentSpec{
		Number:            1,
		FeeRate:           chainfee.FeePerKwFloor,
		LocalBalanceMsat:  700_000_000,
		RemoteBalanceMsat: 250_000_000,
		HTLCs: []lnwallet.HTLC{{
			AmountMsat: 50_000_000,
			CltvExpiry: 800_000,
		}},
	}
	_, sig, err := lnwallet.SignRemoteCommitment(aliceSigner, alice,
		bobPoint, spec)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Bob sees the same state from his side.
	bobSpec := *spec
	bobSpec.LocalBalanceMsat, bobSpec.RemoteBalanceMsat =
		spec.RemoteBalanceMsat, spec.LocalBalanceMsat
	bobSpec.HTLCs = []lnwallet.HTLC{spec.HTLCs[0]}
	bobSpec.HTLCs[0].Incoming = true

	c, err := lnwallet.VerifyLocalCommitment(&bob, bobPoint, &bobSpec, sig)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("outputs: %d, HTLC signatures: %d, fee: %d sat\n",
		len(c.Tx.TxOut), len(sig.HTLCSigs), int64(c.Fee))
	// Output: outputs: 5, HTLC signatures: 1, fee: 327 sat
}
