package wallet_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/wallet"
)

// Restore a wallet from a mnemonic and hand out its first address. Start
// (with a chain backend in Config.Chain) would then rescan the chain for
// its coins.
func Example() {
	dir, err := os.MkdirTemp("", "wallet-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, _, err := wallet.Create(wallet.Config{
		DBPath: filepath.Join(dir, "wallet.db"),
		Net:    &chaincfg.MainNetParams,
		Scrypt: wallet.ScryptParams{N: 1 << 10, R: 8, P: 1}, // cheap for the example
	}, wallet.CreateParams{
		Password: []byte("correct horse battery staple"),
		Mnemonic: "abandon abandon abandon abandon abandon abandon " +
			"abandon abandon abandon abandon abandon about",
		Restore: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	addr, err := w.NewAddress(wallet.AddressP2WPKH, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(addr)
	// Output: bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu
}
