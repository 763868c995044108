package bolt11_test

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/invoices/bolt11"
)

func ExampleDecode() {
	const s = "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3" +
		"zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcy" +
		"q5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxd" +
		"y8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfeg" +
		"ext0eh0ymjpf39tuven09sam30g4vgpfna3rh"

	inv, err := bolt11.Decode(s, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	desc, _ := inv.Description()
	fmt.Println(inv.Net.Name, inv.Amount, "msat")
	fmt.Println(desc, inv.Expiry())
	fmt.Printf("%x\n", inv.Payee().SerializeCompressed())
	// Output:
	// mainnet 250000000 msat
	// 1 cup coffee 1m0s
	// 03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad
}

func ExampleInvoice_Encode() {
	keyBytes, _ := hex.DecodeString("e126f68f7eafcc8b74f54d269fe206be" +
		"715000f94dac067d1c04a8ca3b2db734")
	key, _ := btcec.PrivKeyFromBytes(keyBytes)

	var hash bolt11.PaymentHash
	hash[31] = 1
	var secret bolt11.PaymentSecret
	secret[0] = 2

	inv := &bolt11.Invoice{
		Net:       &chaincfg.RegressionNetParams,
		Amount:    10_000,
		Timestamp: time.Unix(1700000000, 0),
		Fields: []bolt11.Field{
			hash,
			secret,
			bolt11.Description("coffee"),
			bolt11.Expiry(600),
			bolt11.NewFeatures(bolt11.FeatureVarOnionOptin,
				bolt11.FeaturePaymentSecret),
		},
	}
	s, err := inv.Encode(bolt11.KeySigner(key))
	if err != nil {
		fmt.Println(err)
		return
	}
	back, _ := bolt11.Decode(s, &chaincfg.RegressionNetParams)
	fmt.Println(s[:10], back.Amount, back.PaymentHash() == hash)
	// Output:
	// lnbcrt100n 10000 true
}
