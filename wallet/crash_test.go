//go:build unix

package wallet

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
)

const crashDirEnv = "XLND_WALLET_CRASH_DIR"

// crashChain builds the same fake chain in the child and the parent: the
// wallet's first address funded in block 1.
func crashChain(t *testing.T, script []byte) *fakeChain {
	c := newFakeChain()
	pay := wire.NewMsgTx(2)
	pay.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 5}, nil, nil))
	pay.AddTxOut(wire.NewTxOut(3_000_000, script))
	c.mine(pay)
	return c
}

func crashConfig(dir string, c Chain) Config {
	return Config{DBPath: filepath.Join(dir, "wallet.db"), Net: &chaincfg.RegressionNetParams,
		Chain: c, Scrypt: testScrypt}
}

// TestKill9BetweenRecordAndBroadcast kills a process (SIGKILL) after it
// recorded a send and before it broadcast it, then reopens the database:
// the send is there, its coin spent, and the next start broadcasts it.
func TestKill9BetweenRecordAndBroadcast(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9BetweenRecordAndBroadcast$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child did not die: %v\n%s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL\n%s", err, out)
	}
	txidHex, err := os.ReadFile(filepath.Join(dir, "txid"))
	if err != nil {
		t.Fatalf("child wrote no txid: %v\n%s", err, out)
	}

	w, err := Open(crashConfig(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	script, err := w.scriptFor(derivation{Type: AddressP2WPKH})
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	c := crashChain(t, script)

	w, err = Open(crashConfig(dir, c))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	if err := w.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	txs, err := w.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	var sent *Transaction
	for i := range txs {
		if txs[i].Hash.String() == string(txidHex) {
			sent = &txs[i]
		}
	}
	if sent == nil || !sent.Own || sent.Confirmations != 0 {
		t.Fatalf("send %s not recorded after kill -9: %+v", txidHex, txs)
	}
	if b := balance(t, w); b.Confirmed != 0 || b.Unconfirmed != 3_000_000-1_000_000-sent.Fee {
		t.Fatalf("balance after kill -9: %+v (fee %v)", b, sent.Fee)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rebroadcast after kill -9", func() bool {
		for _, tx := range c.broadcasts() {
			if tx.TxHash() == sent.Hash {
				return true
			}
		}
		return false
	})
}

func crashChild(t *testing.T, dir string) {
	cfg := crashConfig(dir, nil)
	w, _, err := Create(cfg, CreateParams{Password: []byte("password"),
		Mnemonic: abandonMnemonic, Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	script, err := w.scriptFor(derivation{Type: AddressP2WPKH})
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	c := crashChain(t, script)
	cfg.Chain = c
	w, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	waitSynced(t, w, c.height())
	w.beforeBroadcast = func(tx *wire.MsgTx) error {
		id := tx.TxHash().String()
		if err := os.WriteFile(filepath.Join(dir, "txid"), []byte(id), 0o600); err != nil {
			t.Error(err)
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	ext, _ := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), cfg.Net)
	_, err = w.SendToAddress(context.Background(), ext.String(), 1_000_000,
		FeePreference{SatPerVByte: 2}, 1, "")
	t.Fatalf("send returned: %v", err)
}
