package wallet

// Tests against a real btcd on regtest (internal/regtest) through the real
// chain backend (chain.NewBtcdBackend). Nothing here is mocked.

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/internal/regtest"
)

const chainWait = 60 * time.Second

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("XLND_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).
		With("test", t.Name())
}

func startBackend(t *testing.T, b *regtest.Btcd) *chain.BtcdBackend {
	t.Helper()
	be, err := chain.NewBtcdBackend(chain.BtcdConfig{
		Host:        b.RPCHost(),
		User:        b.RPCUser(),
		Pass:        b.RPCPass(),
		Cert:        b.RPCCert(),
		ChainParams: regtest.Params,
		Logger:      testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Stop() })
	return be
}

func btcdWallet(t *testing.T, be Chain, p CreateParams) (*Wallet, Config) {
	t.Helper()
	cfg := Config{
		DBPath: filepath.Join(t.TempDir(), "wallet.db"),
		Net:    regtest.Params,
		Chain:  be,
		Scrypt: testScrypt,
		Logger: testLogger(t),
	}
	if p.Password == nil && !p.NoPassword {
		p.Password = []byte("hunter2")
	}
	w, mnemonic, err := Create(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	testMnemonics.Store(cfg.DBPath, mnemonic)
	t.Cleanup(func() { w.Stop() })
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w, cfg
}

// eventually polls cond until it holds or chainWait passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(chainWait)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last state: %s", what, state)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitTip waits until the wallet has scanned the btcd's best block.
func waitTip(t *testing.T, w *Wallet, b *regtest.Btcd) {
	t.Helper()
	hash, height := b.BestBlock()
	eventually(t, "wallet at btcd's tip", func() (bool, string) {
		h, hh, err := w.SyncedTo()
		return err == nil && h == height && hh == hash,
			"wallet at " + itoa(h) + ", btcd at " + itoa(height)
	})
}

func itoa(i int32) string {
	return btcutil.Amount(i).Format(btcutil.AmountSatoshi)
}

func waitBalance(t *testing.T, w *Wallet, what string, want func(Balance) bool) Balance {
	t.Helper()
	var b Balance
	eventually(t, what, func() (bool, string) {
		var err error
		b, err = w.Balance()
		return err == nil && want(b), stringBalance(b)
	})
	return b
}

func stringBalance(b Balance) string {
	return "confirmed " + b.Confirmed.String() + " unconfirmed " +
		b.Unconfirmed.String() + " locked " + b.Locked.String() +
		" immature " + b.Immature.String()
}

func scriptOf(t *testing.T, a btcutil.Address) []byte {
	t.Helper()
	s, err := txscript.PayToAddrScript(a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBtcdWallet runs one wallet through its life on a real regtest btcd:
// funding, sends, errors, a btcd restart, a reorg and a restore.
func TestBtcdWallet(t *testing.T) {
	b := regtest.StartBtcd(t)
	be := startBackend(t, b)
	w, cfg := btcdWallet(t, be, CreateParams{})
	ctx := context.Background()
	waitTip(t, w, b)

	// Receive one coin: unconfirmed first (mempool), then confirmed.
	addr, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	const oneBTC = btcutil.Amount(1e8)
	fund, err := b.SendTo(scriptOf(t, addr), oneBTC)
	if err != nil {
		t.Fatal(err)
	}
	waitBalance(t, w, "unconfirmed funding", func(b Balance) bool {
		return b.Unconfirmed == oneBTC && b.Confirmed == 0
	})
	b.Mine(1)
	waitBalance(t, w, "confirmed funding", func(b Balance) bool {
		return b.Confirmed == oneBTC && b.Unconfirmed == 0
	})
	// And a taproot receive.
	trAddr, err := w.NewAddress(AddressP2TR, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendTo(scriptOf(t, trAddr), oneBTC/2); err != nil {
		t.Fatal(err)
	}
	b.Mine(1)
	balance := waitBalance(t, w, "taproot funding", func(b Balance) bool {
		return b.Confirmed == oneBTC+oneBTC/2
	})
	txs, err := w.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 2 || txs[0].Hash != fund.TxHash() || txs[0].Amount != oneBTC ||
		txs[0].Confirmations != 2 {
		t.Fatalf("history after funding: %+v", txs)
	}

	t.Run("rejects bad sends", func(t *testing.T) {
		main, _ := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.MainNetParams)
		tests := []struct {
			name string
			addr string
			amt  btcutil.Amount
			want error
		}{
			{"mainnet address", main.String(), 10_000, ErrWrongNetwork},
			{"garbage address", "notanaddress", 10_000, ErrInvalidAddress},
			{"above balance", b.MinerAddress().String(), 3 * oneBTC, ErrInsufficientFunds},
			{"dust", b.MinerAddress().String(), 100, ErrDustAmount},
			{"zero", b.MinerAddress().String(), 0, ErrInvalidAmount},
			{"negative", b.MinerAddress().String(), -5, ErrInvalidAmount},
		}
		for _, tc := range tests {
			_, err := w.SendToAddress(ctx, tc.addr, tc.amt, FeePreference{}, 1, "")
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
		}
		var ife *InsufficientFundsError
		_, err := w.SendToAddress(ctx, b.MinerAddress().String(), 3*oneBTC, FeePreference{}, 1, "")
		if !errors.As(err, &ife) || ife.Available != oneBTC+oneBTC/2 || ife.Needed <= 3*oneBTC {
			t.Errorf("insufficient funds amounts: %v", err)
		}
		if got, _ := w.Balance(); got != balance {
			t.Errorf("failed sends changed the balance: %+v", got)
		}
	})

	// Send to an external address at an explicit rate.
	sent, err := w.SendToAddress(ctx, b.MinerAddress().String(), 30_000_000,
		FeePreference{SatPerVByte: 5}, 1, "external")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := w.Transaction(sent.TxHash())
	if err != nil || !rec.FeeKnown || rec.Fee <= 0 || rec.Amount != -30_000_000-rec.Fee {
		t.Fatalf("external send record %+v %v", rec, err)
	}
	vsize := (blockchainWeight(sent) + 3) / 4
	if rec.Fee < btcutil.Amount(5*vsize) {
		t.Fatalf("fee %v below 5 sat/vB for %d vB", rec.Fee, vsize)
	}
	b.Mine(1)
	after := oneBTC + oneBTC/2 - 30_000_000 - rec.Fee
	waitBalance(t, w, "external send confirmed", func(b Balance) bool {
		return b.Confirmed == after && b.Unconfirmed == 0
	})

	// Send to ourselves: the balance drops by the fee only.
	self, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	selfTx, err := w.SendToAddress(ctx, self.String(), 20_000_000, FeePreference{ConfTarget: 2}, 1, "self")
	if err != nil {
		t.Fatal(err)
	}
	selfRec, err := w.Transaction(selfTx.TxHash())
	if err != nil || selfRec.Amount != -selfRec.Fee || !selfRec.FeeKnown {
		t.Fatalf("self send record %+v %v", selfRec, err)
	}
	after -= selfRec.Fee
	waitBalance(t, w, "self send unconfirmed", func(b Balance) bool {
		return b.Confirmed+b.Unconfirmed == after
	})
	b.Mine(1)
	waitBalance(t, w, "self send confirmed", func(b Balance) bool {
		return b.Confirmed == after && b.Unconfirmed == 0
	})

	// Restart btcd under the running wallet, with one of our sends
	// unconfirmed: btcd forgets its mempool, the wallet rebroadcasts the
	// send on the next block, and coins sent after the restart appear.
	pending, err := w.SendToAddress(ctx, b.MinerAddress().String(), 1_000_000,
		FeePreference{SatPerVByte: 2}, 1, "across restart")
	if err != nil {
		t.Fatal(err)
	}
	pendingRec, _ := w.Transaction(pending.TxHash())
	after -= 1_000_000 + pendingRec.Fee
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	b.Mine(1)
	waitTip(t, w, b)
	eventually(t, "send rebroadcast after btcd restart", func() (bool, string) {
		pool, err := b.Client().GetRawMempool()
		if err != nil {
			return false, err.Error()
		}
		for _, h := range pool {
			if *h == pending.TxHash() {
				return true, ""
			}
		}
		return false, "not in btcd's mempool"
	})
	addr2, _ := w.NewAddress(AddressP2WPKH, false)
	if _, err := b.SendTo(scriptOf(t, addr2), 25_000_000); err != nil {
		t.Fatal(err)
	}
	// Seen unconfirmed: the backend's mempool filter survived the
	// restart.
	waitBalance(t, w, "unconfirmed payment after btcd restart", func(b Balance) bool {
		return b.Unconfirmed >= 25_000_000
	})
	b.Mine(1)
	after += 25_000_000
	waitBalance(t, w, "payment after btcd restart", func(b Balance) bool {
		return b.Confirmed == after && b.Unconfirmed == 0
	})
	waitTip(t, w, b)
	if rec, _ := w.Transaction(pending.TxHash()); rec.Confirmations != 1 {
		t.Fatalf("send across the restart: %d confirmations", rec.Confirmations)
	}

	// Reorg: the block confirming a payment is invalidated; the
	// confirmation is withdrawn and the balance corrected.
	addr3, _ := w.NewAddress(AddressP2TR, false)
	reorged, err := b.SendTo(scriptOf(t, addr3), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	hashes := b.Mine(1)
	waitBalance(t, w, "payment confirmed before reorg", func(b Balance) bool {
		return b.Confirmed == after+10_000_000
	})
	if err := b.InvalidateBlock(hashes[0]); err != nil {
		t.Fatal(err)
	}
	waitTip(t, w, b)
	bal := waitBalance(t, w, "confirmation withdrawn", func(b Balance) bool {
		return b.Confirmed == after
	})
	if bal.Unconfirmed != 0 && bal.Unconfirmed != 10_000_000 {
		t.Fatalf("after reorg: %s", stringBalance(bal))
	}
	rr, err := w.Transaction(reorged.TxHash())
	if err == nil && (rr.Confirmations != 0 || rr.BlockHeight != 0) {
		t.Fatalf("reorged transaction still confirmed: %+v", rr)
	}
	// Mining a longer chain on the new tip confirms it again (it went
	// back to btcd's mempool).
	b.Mine(2)
	waitTip(t, w, b)
	after += 10_000_000
	waitBalance(t, w, "payment reconfirmed", func(b Balance) bool {
		return b.Confirmed == after && b.Unconfirmed == 0
	})

	// Wrong password on reopen.
	wantAddrs := []string{addr.String(), self.String(), addr2.String()}
	wantTR := []string{trAddr.String(), addr3.String()}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Unlock([]byte("hunter3")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	w2.Stop()

	// Restore from the mnemonic into a fresh data dir, rescanning from
	// genesis: same addresses, same balance.
	mnemonic := mnemonicOf(t, cfg)
	restoreStart := time.Now()
	r, _ := btcdWallet(t, be, CreateParams{Mnemonic: mnemonic, Restore: true})
	waitTip(t, r, b)
	_, tipHeight := b.BestBlock()
	t.Logf("restore rescanned %d blocks in %v", tipHeight+1, time.Since(restoreStart))
	got := waitBalance(t, r, "restored balance", func(b Balance) bool {
		return b.Confirmed == after
	})
	if got.Unconfirmed != 0 {
		t.Fatalf("restored: %s", stringBalance(got))
	}
	restoredTxs, _ := r.Transactions()
	origTxs, _ := readTxs(t, cfg)
	if len(restoredTxs) != origTxs {
		t.Fatalf("restored %d transactions, original has %d", len(restoredTxs), origTxs)
	}
	// Addresses are handed out after those used on chain: the restore
	// found the used ones and will not hand them out again.
	for i, want := range append(wantAddrs, wantTR...) {
		typ := AddressP2WPKH
		if i >= len(wantAddrs) {
			typ = AddressP2TR
		}
		s := scriptOf(t, mustParse(t, r, want))
		if !r.IsOurScript(s) {
			t.Fatalf("restored wallet does not know %s (%v)", want, typ)
		}
	}
	next, _ := r.NewAddress(AddressP2WPKH, false)
	for _, a := range wantAddrs {
		if next.String() == a {
			t.Fatalf("restored wallet hands out used address %s", a)
		}
	}
}

func mustParse(t *testing.T, w *Wallet, s string) btcutil.Address {
	t.Helper()
	a, err := w.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func blockchainWeight(tx *wire.MsgTx) int64 {
	return int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize())
}

// TestBtcdConcurrentFund: two funding flows running at once never select
// the same coin; both transactions confirm.
func TestBtcdConcurrentFund(t *testing.T) {
	b := regtest.StartBtcd(t)
	be := startBackend(t, b)
	w, _ := btcdWallet(t, be, CreateParams{NoPassword: true})
	waitTip(t, w, b)
	for i := 0; i < 4; i++ {
		a, _ := w.NewAddress(AddressP2WPKH, false)
		if _, err := b.SendTo(scriptOf(t, a), 40_000_000); err != nil {
			t.Fatal(err)
		}
	}
	b.Mine(1)
	waitBalance(t, w, "funding", func(b Balance) bool { return b.Confirmed == 160_000_000 })

	ctx := context.Background()
	rate, err := w.FeeRate(ctx, FeePreference{})
	if err != nil {
		t.Fatal(err)
	}
	// A 2-of-2 funding-like output each, needing two coins each: two
	// flows can both succeed only with disjoint coins.
	out := wire.NewTxOut(70_000_000, scriptOf(t, b.MinerAddress()))
	var wg sync.WaitGroup
	funded := make([]*FundedTx, 2)
	errs := make([]error, 2)
	for i := range funded {
		wg.Add(1)
		go func() {
			defer wg.Done()
			funded[i], errs[i] = w.Fund(ctx, FundRequest{
				Outputs: []*wire.TxOut{out}, FeeRate: rate, MinConfs: 1})
		}()
	}
	wg.Wait()
	seen := map[wire.OutPoint]bool{}
	for i, f := range funded {
		if errs[i] != nil {
			t.Fatalf("fund %d: %v", i, errs[i])
		}
		for _, in := range f.Tx.TxIn {
			if seen[in.PreviousOutPoint] {
				t.Fatalf("coin %v selected by both flows", in.PreviousOutPoint)
			}
			seen[in.PreviousOutPoint] = true
		}
	}
	if bal, _ := w.Balance(); bal.Locked != 160_000_000 || bal.Confirmed != 0 {
		t.Fatalf("balance with both flows pending: %s", stringBalance(bal))
	}
	// A third flow finds nothing to spend.
	if _, err := w.Fund(ctx, FundRequest{Outputs: []*wire.TxOut{wire.NewTxOut(1_000_000,
		out.PkScript)}, FeeRate: rate, MinConfs: 1}); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("third flow: %v", err)
	}
	for _, f := range funded {
		if err := w.SignTx(f.Tx); err != nil {
			t.Fatal(err)
		}
		if err := w.PublishTx(ctx, f.Tx, "funding"); err != nil {
			t.Fatal(err)
		}
	}
	b.Mine(1)
	var want btcutil.Amount
	for _, f := range funded {
		if f.ChangeIndex >= 0 {
			want += btcutil.Amount(f.Tx.TxOut[f.ChangeIndex].Value)
		}
	}
	waitBalance(t, w, "both fundings confirmed", func(b Balance) bool {
		return b.Confirmed == want && b.Locked == 0 && b.Unconfirmed == 0
	})
}

// mnemonicOf is not recoverable from the database (only the sealed BIP 32
// seed is stored), so the test wallets remember theirs.
func mnemonicOf(t *testing.T, cfg Config) string {
	t.Helper()
	m, ok := testMnemonics.Load(cfg.DBPath)
	if !ok {
		t.Fatal("mnemonic not recorded")
	}
	return m.(string)
}

var testMnemonics sync.Map

func readTxs(t *testing.T, cfg Config) (int, error) {
	t.Helper()
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	txs, err := w.Transactions()
	return len(txs), err
}

// TestBtcdCatchUpAcrossReorgAndSendAll: a wallet stopped while blocks are
// mined and one holding its payment is reorged away catches up at the next
// start, rolling back to the fork point; ListUnspent and SendAll then
// spend everything.
func TestBtcdCatchUpAcrossReorgAndSendAll(t *testing.T) {
	b := regtest.StartBtcd(t)
	be := startBackend(t, b)
	w, cfg := btcdWallet(t, be, CreateParams{})
	waitTip(t, w, b)

	a1, _ := w.NewAddress(AddressP2WPKH, false)
	a2, _ := w.NewAddress(AddressP2TR, false)
	if _, err := b.SendTo(scriptOf(t, a1), 20_000_000); err != nil {
		t.Fatal(err)
	}
	b.Mine(1)
	pay2, err := b.SendTo(scriptOf(t, a2), 5_000_000)
	if err != nil {
		t.Fatal(err)
	}
	waitBalance(t, w, "both payments seen", func(b Balance) bool {
		return b.Confirmed == 20_000_000 && b.Unconfirmed == 5_000_000
	})
	if u, err := w.ListUnspent(0, 0); err != nil || len(u) != 2 {
		t.Fatalf("ListUnspent(0, 0): %d %v", len(u), err)
	}
	if u, _ := w.ListUnspent(1, 0); len(u) != 1 || u[0].Value != 20_000_000 ||
		u[0].Address != a1.String() || u[0].Confirmations != 1 {
		t.Fatalf("ListUnspent(1, 0): %+v", u)
	}
	if u, _ := w.ListUnspent(0, 0); u[1].Confirmations != 0 || u[1].AddressType != AddressP2TR {
		t.Fatalf("unconfirmed utxo: %+v", u[1])
	}
	hashes := b.Mine(1)
	waitTip(t, w, b)
	first, err := w.Transaction(pay2.TxHash())
	if err != nil || first.BlockHash != hashes[0] {
		t.Fatalf("payment 2 at %v, want %v (%v)", first.BlockHash, hashes[0], err)
	}
	if u, _ := w.ListUnspent(0, 1); len(u) != 1 || u[0].Value != 5_000_000 {
		t.Fatalf("ListUnspent(0, 1): %+v", u)
	}

	// Stop the wallet; reorg the payment's block away and build a longer
	// chain (the payment is mined again from the mempool, elsewhere).
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.InvalidateBlock(hashes[0]); err != nil {
		t.Fatal(err)
	}
	newHashes := b.Mine(3)

	w, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	if err := w.Unlock([]byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	waitTip(t, w, b)
	again, err := w.Transaction(pay2.TxHash())
	if err != nil {
		t.Fatal(err)
	}
	if again.BlockHash == hashes[0] || again.BlockHash != newHashes[0] || again.Confirmations != 3 {
		t.Fatalf("payment 2 after the reorg: block %v (%d confs), want %v with 3",
			again.BlockHash, again.Confirmations, newHashes[0])
	}
	waitBalance(t, w, "balance after catch-up", func(b Balance) bool {
		return b.Confirmed == 25_000_000 && b.Unconfirmed == 0
	})

	// Sweep everything to the miner.
	sweep, err := w.SendAll(context.Background(), b.MinerAddress().String(),
		FeePreference{SatPerVByte: 3}, 1, "sweep")
	if err != nil {
		t.Fatal(err)
	}
	if len(sweep.TxIn) != 2 || len(sweep.TxOut) != 1 {
		t.Fatalf("sweep shape: %d in, %d out", len(sweep.TxIn), len(sweep.TxOut))
	}
	rec, _ := w.Transaction(sweep.TxHash())
	if btcutil.Amount(sweep.TxOut[0].Value)+rec.Fee != 25_000_000 || rec.Amount != -25_000_000 {
		t.Fatalf("sweep: out %d fee %v amount %v", sweep.TxOut[0].Value, rec.Fee, rec.Amount)
	}
	b.Mine(1)
	waitTip(t, w, b)
	if bal, _ := w.Balance(); bal.Total() != 0 {
		t.Fatalf("after sweep: %s", stringBalance(bal))
	}
	if _, err := w.SendAll(context.Background(), b.MinerAddress().String(),
		FeePreference{}, 1, ""); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("sweep of an empty wallet: %v", err)
	}
}
