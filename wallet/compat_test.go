package wallet

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

// TestOpenWalletWrittenBeforeKvdb opens testdata/wallet-v2.db, written by
// the wallet as it was when it used bbolt directly (before kvdb): a
// regtest wallet of abandonMnemonic, password "password", that handed out
// two receive addresses and one change address, received 100,000 and
// 250,000 sat on the first two in block 1, was synced to block 2, and
// derived key 0 of family 1. Everything reads back, and new handouts
// continue after the stored ones.
func TestOpenWalletWrittenBeforeKvdb(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "wallet-v2.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wallet.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(Config{DBPath: path, Net: &chaincfg.RegressionNetParams, Scrypt: testScrypt})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := w.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	if b := balance(t, w); b.Confirmed != 350_000 || b.Unconfirmed != 0 {
		t.Errorf("balance %+v, want 350000 confirmed", b)
	}
	if h, _, err := w.SyncedTo(); err != nil || h != 2 {
		t.Errorf("synced to %d (%v), want 2", h, err)
	}
	for _, a := range []string{"bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
		"bcrt1p8wpt9v4frpf3tkn0srd97pksgsxc5hs52lafxwru9kgeephvs7rqjeprhg",
		"bcrt1q9u62588spffmq4dzjxsr5l297znf3z6jkgnhsw"} {
		addr, err := btcutil.DecodeAddress(a, &chaincfg.RegressionNetParams)
		if err != nil {
			t.Fatal(err)
		}
		script, _ := txscript.PayToAddrScript(addr)
		if !w.IsOurScript(script) {
			t.Errorf("address %s not recognised", a)
		}
	}
	nk, err := w.NodeKey()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(nk.PubKey.SerializeCompressed()); got != "02b47d1dfb8d4aba27484cf6008c0d85b512d9acf2d888826f741a5b1ee709f3cd" {
		t.Errorf("node key %s", got)
	}
	// The second receive address was the P2TR one: the next P2WPKH
	// receive address is index 1, not index 0 again.
	next, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	if next.String() == "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk" {
		t.Error("a handed-out address was handed out again")
	}
	k, err := w.DeriveNextKey(KeyFamily(1))
	if err != nil {
		t.Fatal(err)
	}
	if k.Index != 1 {
		t.Errorf("next key of family 1 has index %d, want 1", k.Index)
	}
}
