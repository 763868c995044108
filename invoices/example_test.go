package invoices_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/channeldb"
	"lnd.xprv/invoices"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
)

// An invoice is added, then paid by one HTLC as a link hands it over.
func Example() {
	dir, _ := os.MkdirTemp("", "invoices-example")
	defer os.RemoveAll(dir)
	db, err := channeldb.Open(filepath.Join(dir, "channel.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	key, _ := btcec.NewPrivateKey()
	reg := invoices.New(invoices.Config{DB: db, Net: &chaincfg.RegressionNetParams, Sign: bolt11.KeySigner(key)})
	if err := reg.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Stop()

	ctx := context.Background()
	inv, err := reg.AddInvoice(ctx, invoices.NewInvoice{Memo: "tea", Value: 150_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.PaymentRequest[:11], inv.State)

	circuit := channeldb.CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(800_000 << 40), HtlcID: 0}
	payload := invoices.Payload{MPP: &invoices.MPP{PaymentAddr: inv.PaymentAddr, TotalMsat: 150_000}}
	res, err := reg.NotifyExitHopHtlc(inv.PaymentHash, 150_000, 1000+inv.CltvDelta, 1000, circuit, payload, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	paid, _ := reg.LookupInvoice(ctx, inv.PaymentHash)
	fmt.Println(res.Settled(), *res.Preimage == *inv.Preimage, paid.State, paid.AmtPaid)
	// Output:
	// lnbcrt1500n OPEN
	// true true SETTLED 150000 mSAT
}
