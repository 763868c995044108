package wallet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/internal/etcdtest"
)

const abandonMnemonic = "abandon abandon abandon abandon abandon abandon " +
	"abandon abandon abandon abandon abandon about"

// testBackendEnv names the database the wallet tests run on: unset or
// "bolt" for a bbolt file, "etcd" for a real etcd started in the test
// process (make test-etcd).
const testBackendEnv = "XLND_TEST_DB"

func testConfig(t *testing.T, c Chain) Config {
	t.Helper()
	cfg := Config{
		DBPath: filepath.Join(t.TempDir(), "wallet.db"),
		Net:    &chaincfg.RegressionNetParams,
		Chain:  c,
		Scrypt: testScrypt,
	}
	switch os.Getenv(testBackendEnv) {
	case "", "bolt":
	case "etcd":
		cfg.DB = etcd.New(etcdtest.Start(t).Client(), "wallet/")
	default:
		t.Fatalf("%s=%q: want bolt or etcd", testBackendEnv, os.Getenv(testBackendEnv))
	}
	return cfg
}

func mustCreate(t *testing.T, cfg Config, p CreateParams) *Wallet {
	t.Helper()
	if p.Password == nil && !p.NoPassword {
		p.Password = []byte("password")
	}
	w, _, err := Create(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func balance(t *testing.T, w *Wallet) Balance {
	t.Helper()
	b, err := w.Balance()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateOpenUnlock(t *testing.T) {
	cfg := testConfig(t, nil)
	w, mnemonic, err := Create(cfg, CreateParams{Password: []byte("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	if len(mnemonic) == 0 {
		t.Fatal("no mnemonic returned")
	}
	a1, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	node1, err := w.NodeKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Create(cfg, CreateParams{Password: []byte("x")}); err == nil {
		t.Fatal("second Create on an open db succeeded")
	}
	w.Stop()

	if _, _, err := Create(cfg, CreateParams{Password: []byte("x")}); !errors.Is(err, ErrWalletExists) {
		t.Fatalf("Create over a wallet: %v", err)
	}
	if ok, err := Exists(cfg); err != nil || !ok {
		t.Fatalf("Exists: %v %v", ok, err)
	}

	w, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := w.NewAddress(AddressP2WPKH, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked NewAddress: %v", err)
	}
	if _, err := w.NodeKey(); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked NodeKey: %v", err)
	}
	for _, pw := range []string{"", "S3cret", "s3cret "} {
		if err := w.Unlock([]byte(pw)); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("Unlock(%q): %v", pw, err)
		}
	}
	if err := w.ChangePassword([]byte("nope"), []byte("new"), nil); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("ChangePassword with a wrong old one: %v", err)
	}
	if err := w.ChangePassword([]byte("s3cret"), []byte("n3w"), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Unlock([]byte("s3cret")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("old password after change: %v", err)
	}
	if err := w.Unlock([]byte("n3w")); err != nil {
		t.Fatal(err)
	}
	node2, err := w.NodeKey()
	if err != nil {
		t.Fatal(err)
	}
	if !node1.PubKey.IsEqual(node2.PubKey) {
		t.Fatal("node key changed across reopen")
	}
	a2, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	if a1.String() == a2.String() {
		t.Fatal("address handed out twice")
	}

	// Restoring the mnemonic elsewhere gives the same keys and addresses.
	cfg2 := testConfig(t, nil)
	r := mustCreate(t, cfg2, CreateParams{Mnemonic: mnemonic, Restore: true})
	node3, _ := r.NodeKey()
	if !node1.PubKey.IsEqual(node3.PubKey) {
		t.Fatal("restored node key differs")
	}
	r1, _ := r.NewAddress(AddressP2WPKH, false)
	if r1.String() != a1.String() {
		t.Fatalf("restored first address %s, want %s", r1, a1)
	}
	// A BIP 39 passphrase gives a different wallet.
	p := mustCreate(t, testConfig(t, nil), CreateParams{Mnemonic: mnemonic, Passphrase: "x", Restore: true})
	node4, _ := p.NodeKey()
	if node1.PubKey.IsEqual(node4.PubKey) {
		t.Fatal("passphrase ignored")
	}
}

func TestOpenErrors(t *testing.T) {
	cfg := testConfig(t, nil)
	if _, err := Open(cfg); !errors.Is(err, ErrNoWallet) {
		t.Fatalf("Open of nothing: %v", err)
	}
	if _, _, err := Create(cfg, CreateParams{}); err == nil {
		t.Fatal("empty password accepted")
	}
	if _, _, err := Create(cfg, CreateParams{Password: []byte("x"), Mnemonic: "abandon abandon"}); !errors.Is(err, ErrInvalidMnemonic) {
		t.Fatalf("bad mnemonic: %v", err)
	}
	w := mustCreate(t, cfg, CreateParams{})
	w.Stop()
	main := cfg
	main.Net = &chaincfg.MainNetParams
	if _, err := Open(main); !errors.Is(err, ErrWrongNetwork) {
		t.Fatalf("Open on another network: %v", err)
	}
}

func TestNoPasswordWallet(t *testing.T) {
	cfg := testConfig(t, nil)
	w := mustCreate(t, cfg, CreateParams{NoPassword: true})
	if !w.Insecure() {
		t.Fatal("not flagged insecure")
	}
	w.Stop()
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if !w.Insecure() {
		t.Fatal("insecure flag not persisted")
	}
	if err := w.Unlock(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.ChangePassword(nil, []byte("real"), nil); err != nil {
		t.Fatal(err)
	}
	if w.Insecure() {
		t.Fatal("still insecure after setting a password")
	}
	if err := w.Unlock(nil); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("empty password after setting one: %v", err)
	}
}

// TestBIP84AddressThroughWallet: the BIP 84 vector mnemonic on mainnet
// gives the BIP's first receive address from the public API.
func TestBIP84AddressThroughWallet(t *testing.T) {
	cfg := testConfig(t, nil)
	cfg.Net = &chaincfg.MainNetParams
	w := mustCreate(t, cfg, CreateParams{Mnemonic: abandonMnemonic, Restore: true})
	a, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.String() != "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" {
		t.Fatalf("first address %s", a)
	}
	c, _ := w.NewAddress(AddressP2WPKH, true)
	if c.String() != "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el" {
		t.Fatalf("first change address %s", c)
	}
	tr, _ := w.NewAddress(AddressP2TR, false)
	if tr.String() != "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr" {
		t.Fatalf("first taproot address %s", tr)
	}
}

// payTo makes a transaction from an outside wallet paying amt to addr.
func payTo(t *testing.T, addr btcutil.Address, amt btcutil.Amount, seed byte) *wire.MsgTx {
	t.Helper()
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{seed, 0xee}, Index: 1}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(int64(amt), script))
	return tx
}

func startedWallet(t *testing.T, c *fakeChain, p CreateParams) (*Wallet, Config) {
	t.Helper()
	cfg := testConfig(t, c)
	w := mustCreate(t, cfg, p)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	waitSynced(t, w, c.height())
	return w, cfg
}

func waitSynced(t *testing.T, w *Wallet, h int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WaitSynced(ctx, h); err != nil {
		t.Fatal(err)
	}
}

// TestReorgBookkeeping drives the wallet through receive, confirmation, a
// reorg that withdraws it, re-confirmation, a coinbase lost to a reorg and
// a double spend that displaces a wallet transaction.
func TestReorgBookkeeping(t *testing.T) {
	c := newFakeChain()
	for i := 0; i < 5; i++ {
		c.mine()
	}
	w, _ := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)

	pay := payTo(t, addr, 1_000_000, 1)
	c.relevant <- pay
	waitFor(t, "unconfirmed balance", func() bool { return balance(t, w).Unconfirmed == 1_000_000 })

	c.mine(pay)
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Confirmed != 1_000_000 || b.Unconfirmed != 0 {
		t.Fatalf("after confirmation: %+v", b)
	}
	txs, _ := w.Transactions()
	if len(txs) != 1 || txs[0].Confirmations != 1 || txs[0].Amount != 1_000_000 {
		t.Fatalf("history %+v", txs)
	}

	// Reorg the block away: the payment is unconfirmed again.
	h := c.height()
	c.reorg(h-1, nil, nil)
	waitFor(t, "rollback", func() bool {
		_, hash, _ := w.SyncedTo()
		best, _, _ := c.BestBlock(context.Background())
		return hash == best
	})
	if b := balance(t, w); b.Confirmed != 0 || b.Unconfirmed != 1_000_000 {
		t.Fatalf("after reorg: %+v", b)
	}
	txs, _ = w.Transactions()
	if txs[0].Confirmations != 0 || txs[0].BlockHeight != 0 {
		t.Fatalf("tx still confirmed after reorg: %+v", txs[0])
	}

	// It confirms again in the new chain.
	c.mine(pay)
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Confirmed != 1_000_000 {
		t.Fatalf("after re-confirmation: %+v", b)
	}

	// Spend it; then a conflicting spend of the same coin confirms.
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	sent, err := w.SendOutputs(context.Background(), []*wire.TxOut{wire.NewTxOut(300_000, ext)},
		FeePreference{SatPerVByte: 5}, 1, "rent")
	if err != nil {
		t.Fatal(err)
	}
	b := balance(t, w)
	if b.Confirmed != 0 || b.Unconfirmed >= 700_000 || b.Unconfirmed < 690_000 {
		t.Fatalf("after send: %+v", b)
	}
	tx, err := w.Transaction(sent.TxHash())
	if err != nil || !tx.FeeKnown || tx.Amount != -300_000-tx.Fee || tx.Label != "rent" {
		t.Fatalf("send record %+v %v", tx, err)
	}
	conflict := wire.NewMsgTx(2)
	conflict.AddTxIn(wire.NewTxIn(&sent.TxIn[0].PreviousOutPoint, nil, nil))
	conflict.AddTxOut(wire.NewTxOut(999_000, ext))
	c.mine(conflict)
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Total() != 0 {
		t.Fatalf("after double spend: %+v", b)
	}
	if tx, err := w.Transaction(sent.TxHash()); err != nil || !tx.Failed ||
		tx.FailedBy != conflict.TxHash() || tx.Confirmations != 0 {
		t.Fatalf("displaced tx not failed by the conflict: %+v %v", tx, err)
	}

	// A coinbase to the wallet that is reorged away disappears.
	cbAddr, _ := w.NewAddress(AddressP2TR, false)
	cbScript, _ := txscript.PayToAddrScript(cbAddr)
	c.mineCoinbase(cbScript)
	height := c.height()
	waitFor(t, "immature coinbase", func() bool { return balance(t, w).Immature == 50e8 })
	c.reorg(height-1, nil, nil)
	waitFor(t, "coinbase removed", func() bool { return balance(t, w).Total() == 0 })
}

// TestGapLimit: a payment to an address past those handed out, within the
// gap window, is found, and finding it moves the window.
func TestGapLimit(t *testing.T) {
	c := newFakeChain()
	w, cfg := startedWallet(t, c, CreateParams{})
	// Addresses 0..70 of the receive branch, none handed out.
	var addrs []btcutil.Address
	for i := uint32(0); i <= 70; i++ {
		s, err := w.scriptFor(derivation{Type: AddressP2WPKH, Index: i})
		if err != nil {
			t.Fatal(err)
		}
		_, a, _, _ := txscript.ExtractPkScriptAddrs(s, cfg.Net)
		addrs = append(addrs, a[0])
	}
	// Index 15 (within 20 of nothing used), 34 (within 20 of 15) and 44
	// (within 20 of 34), in one block in that worst order: all found.
	c.mine(payTo(t, addrs[15], 10_000, 1), payTo(t, addrs[44], 30_000, 3),
		payTo(t, addrs[34], 20_000, 2))
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Confirmed != 60_000 {
		t.Fatalf("balance %v, want 60000", b.Confirmed)
	}
	// Index 70 is past the window (44 + 20): not seen.
	c.mine(payTo(t, addrs[70], 40_000, 4))
	waitSynced(t, w, c.height())
	if b := balance(t, w); b.Confirmed != 60_000 {
		t.Fatalf("payment past the gap limit counted: %v", b.Confirmed)
	}
	if !w.IsOurScript(scriptOfAddr(t, addrs[64])) || w.IsOurScript(scriptOfAddr(t, addrs[65])) {
		t.Fatal("window is not 20 past the last used index")
	}
	// The next address handed out follows the highest used one.
	next, err := w.NewAddress(AddressP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	if next.String() != addrs[45].String() {
		t.Fatalf("next address %s, want index 45 %s", next, addrs[45])
	}
}

func scriptOfAddr(t *testing.T, a btcutil.Address) []byte {
	t.Helper()
	s, err := txscript.PayToAddrScript(a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCrashBetweenRecordAndBroadcast: a send recorded but never broadcast
// (the process died) is rebroadcast at the next start.
func TestCrashBetweenRecordAndBroadcast(t *testing.T) {
	c := newFakeChain()
	w, cfg := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 1))
	waitSynced(t, w, c.height())

	crash := errors.New("killed")
	w.beforeBroadcast = func(*wire.MsgTx) error { return crash }
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	sent, err := w.SendOutputs(context.Background(), []*wire.TxOut{wire.NewTxOut(500_000, ext)},
		FeePreference{SatPerVByte: 2}, 1, "")
	if !errors.Is(err, crash) {
		t.Fatalf("send: %v", err)
	}
	if len(c.broadcasts()) != 0 {
		t.Fatal("broadcast happened despite the crash")
	}
	w.Stop()

	w, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	if err := w.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	// The record survived: the coin is spent, the change pending.
	rec, err := w.Transaction(sent.TxHash())
	if err != nil || !rec.Own || rec.Confirmations != 0 {
		t.Fatalf("record after crash: %+v %v", rec, err)
	}
	if b := balance(t, w); b.Confirmed != 0 || b.Unconfirmed != 2_000_000-500_000-rec.Fee {
		t.Fatalf("balance after crash: %+v", b)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rebroadcast", func() bool {
		for _, tx := range c.broadcasts() {
			if tx.TxHash() == sent.TxHash() {
				return true
			}
		}
		return false
	})
}

// TestRejectedBroadcastUndone: a transaction the backend refuses frees its
// coins again.
func TestRejectedBroadcastUndone(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 1))
	waitSynced(t, w, c.height())
	c.mu.Lock()
	c.broadcastFn = func(tx *wire.MsgTx) error {
		return &chain.RejectError{Txid: tx.TxHash(), Reason: "insufficient fee"}
	}
	c.mu.Unlock()
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	sent, err := w.SendOutputs(context.Background(), []*wire.TxOut{wire.NewTxOut(500_000, ext)},
		FeePreference{}, 1, "")
	if !errors.Is(err, chain.ErrTxRejected) {
		t.Fatalf("send: %v", err)
	}
	_ = sent
	if b := balance(t, w); b.Confirmed != 2_000_000 || b.Unconfirmed != 0 {
		t.Fatalf("coins not freed: %+v", b)
	}
	if txs, _ := w.Transactions(); len(txs) != 1 {
		t.Fatalf("%d transactions recorded", len(txs))
	}
}

// TestFundLeases: concurrent Fund calls never share a coin; leases block
// other ids and expire.
func TestFundLeases(t *testing.T) {
	c := newFakeChain()
	now := time.Unix(1_800_000_000, 0)
	var nowMu sync.Mutex
	cfg := testConfig(t, c)
	cfg.Now = func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
	w := mustCreate(t, cfg, CreateParams{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var pays []*wire.MsgTx
	for i := 0; i < 12; i++ {
		addr, _ := w.NewAddress(AddressP2WPKH, false)
		pays = append(pays, payTo(t, addr, 1_000_000, byte(i)))
	}
	c.mine(pays...)
	waitSynced(t, w, c.height())

	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	var wg sync.WaitGroup
	results := make([]*FundedTx, 10)
	errs := make([]error, 10)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.Fund(context.Background(), FundRequest{
				Outputs:  []*wire.TxOut{wire.NewTxOut(900_000, ext)},
				FeeRate:  1000,
				MinConfs: 1,
			})
		}()
	}
	wg.Wait()
	seen := map[wire.OutPoint]bool{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("fund %d: %v", i, errs[i])
		}
		for _, in := range r.Tx.TxIn {
			if seen[in.PreviousOutPoint] {
				t.Fatalf("coin %v funded twice", in.PreviousOutPoint)
			}
			seen[in.PreviousOutPoint] = true
		}
	}
	b := balance(t, w)
	if b.Locked != btcutil.Amount(len(seen))*1_000_000 {
		t.Fatalf("locked %v for %d coins", b.Locked, len(seen))
	}
	// Only two coins are left: a third funding of 2.5 BTC fails with the
	// amounts.
	_, err := w.Fund(context.Background(), FundRequest{
		Outputs: []*wire.TxOut{wire.NewTxOut(2_500_000, ext)}, FeeRate: 1000, MinConfs: 1})
	var ife *InsufficientFundsError
	if !errors.As(err, &ife) || ife.Available != 2_000_000 {
		t.Fatalf("over-funding: %v", err)
	}

	op := results[0].Tx.TxIn[0].PreviousOutPoint
	other := LockID{1}
	if _, err := w.LeaseOutput(other, op, time.Hour); !errors.Is(err, ErrOutputLeased) {
		t.Fatalf("lease of a leased coin: %v", err)
	}
	if err := w.ReleaseOutput(other, op); !errors.Is(err, ErrLockIDMismatch) {
		t.Fatalf("release by another id: %v", err)
	}
	if _, err := w.LeaseOutput(other, wire.OutPoint{Index: 7}, time.Hour); !errors.Is(err, ErrUnknownOutput) {
		t.Fatalf("lease of an unknown output: %v", err)
	}
	if err := w.ReleaseOutput(results[0].LockID, op); err != nil {
		t.Fatal(err)
	}
	if _, err := w.LeaseOutput(other, op, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Leases expire.
	nowMu.Lock()
	now = now.Add(time.Hour)
	nowMu.Unlock()
	if b := balance(t, w); b.Locked != 0 || b.Confirmed != 12_000_000 {
		t.Fatalf("after expiry: %+v", b)
	}

	// Sign and publish one funded transaction.
	r := results[1]
	if err := w.SignTx(r.Tx); err != nil {
		t.Fatal(err)
	}
	if err := w.PublishTx(context.Background(), r.Tx, "funding"); err != nil {
		t.Fatal(err)
	}
	rec, err := w.Transaction(r.Tx.TxHash())
	if err != nil || rec.Fee != r.Fee || rec.Label != "funding" {
		t.Fatalf("published %+v %v (fee want %v)", rec, err, r.Fee)
	}
}

func nil2(t *testing.T) btcutil.Address {
	a, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseAddress(t *testing.T) {
	w := mustCreate(t, testConfig(t, nil), CreateParams{})
	tests := []struct {
		addr string
		want error
	}{
		{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", nil},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ErrWrongNetwork},
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", ErrWrongNetwork},
		{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt081", ErrInvalidAddress},
		{"garbage", ErrInvalidAddress},
		{"", ErrInvalidAddress},
	}
	for _, tc := range tests {
		_, err := w.ParseAddress(tc.addr)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.addr, err, tc.want)
		}
		if tc.want != nil && !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("%q: %v does not match ErrInvalidAddress", tc.addr, err)
		}
	}
}

func TestEstimateFeeMatchesSend(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 1))
	waitSynced(t, w, c.height())
	outs := []*wire.TxOut{wire.NewTxOut(700_000, payTo(t, nil2(t), 1, 9).TxOut[0].PkScript)}
	fee, rate, err := w.EstimateFee(context.Background(), outs, FeePreference{SatPerVByte: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 750 {
		t.Fatalf("rate %v", rate)
	}
	if b := balance(t, w); b.Confirmed != 2_000_000 || b.Locked != 0 {
		t.Fatalf("estimate spent something: %+v", b)
	}
	sent, err := w.SendOutputs(context.Background(), outs, FeePreference{SatPerVByte: 3}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := w.Transaction(sent.TxHash())
	if rec.Fee != fee {
		t.Fatalf("sent fee %v, estimated %v", rec.Fee, fee)
	}
	// Also the fee floor: an explicit 0 falls back to the estimator, a
	// tiny conf-target estimate is raised to the relay floor.
	r, _ := w.FeeRate(context.Background(), FeePreference{})
	if r != 2500 {
		t.Fatalf("default rate %v", r)
	}
	if _, err := w.FeeRate(context.Background(), FeePreference{SatPerVByte: -1}); err == nil {
		t.Fatal("negative rate accepted")
	}
	// A rate in sat/kw is taken exactly (no sat/vB rounding), above the
	// floor, and wins over a conf target.
	for _, c := range []struct{ in, want chain.SatPerKWeight }{{1234, 1234}, {100, chain.FeePerKwFloor}} {
		r, err := w.FeeRate(context.Background(), FeePreference{SatPerKWeight: c.in, ConfTarget: 3})
		if err != nil || r != c.want {
			t.Fatalf("FeeRate(%v sat/kw) = %v %v, want %v", c.in, r, err, c.want)
		}
	}
	if _, err := w.FeeRate(context.Background(), FeePreference{SatPerKWeight: 30_000_000}); err == nil {
		t.Fatal("absurd sat/kw rate accepted")
	}
}

// TestRepublishConfirmed: publishing a transaction that is already
// confirmed (a caller retrying) does not unconfirm it.
func TestRepublishConfirmed(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 1))
	waitSynced(t, w, c.height())
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	sent, err := w.SendOutputs(context.Background(), []*wire.TxOut{wire.NewTxOut(500_000, ext)},
		FeePreference{}, 1, "first")
	if err != nil {
		t.Fatal(err)
	}
	c.mine(sent)
	waitSynced(t, w, c.height())
	before := balance(t, w)
	if err := w.PublishTx(context.Background(), sent, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := w.Transaction(sent.TxHash())
	if err != nil || rec.Confirmations != 1 || rec.Label != "first" {
		t.Fatalf("after republish: %+v %v", rec, err)
	}
	if err := w.LabelTransaction(sent.TxHash(), "relabelled", false); !errors.Is(err, ErrLabelExists) {
		t.Fatalf("relabel without overwrite: %v", err)
	}
	if rec, _ := w.Transaction(sent.TxHash()); rec.Label != "first" {
		t.Fatalf("refused relabel changed the label to %q", rec.Label)
	}
	if err := w.LabelTransaction(sent.TxHash(), "relabelled", true); err != nil {
		t.Fatal(err)
	}
	if rec, _ := w.Transaction(sent.TxHash()); rec.Label != "relabelled" || rec.Confirmations != 1 {
		t.Fatalf("after relabel: %+v", rec)
	}
	if err := w.LabelTransaction(chainhash.Hash{7}, "x", true); !errors.Is(err, ErrUnknownTx) {
		t.Fatalf("label of an unknown tx: %v", err)
	}
	if after := balance(t, w); after != before || after.Unconfirmed != 0 {
		t.Fatalf("republish changed the balance: %+v -> %+v", before, after)
	}
}

// TestPruneSpent: spent records of deeply confirmed spends go; history and
// balance stay.
func TestPruneSpent(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 1))
	waitSynced(t, w, c.height())
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	sent, err := w.SendOutputs(context.Background(), []*wire.TxOut{wire.NewTxOut(500_000, ext)},
		FeePreference{}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	c.mine(sent)
	waitSynced(t, w, c.height())
	before := balance(t, w)
	txsBefore, _ := w.Transactions()
	count := func() (n int) {
		w.db.View(func(tx kvdb.RTx) error {
			return tx.ReadBucket(bucketSpent).ForEach(func(_, _ []byte) error { n++; return nil })
		})
		return n
	}
	if count() != 1 {
		t.Fatalf("%d spent records", count())
	}
	prune := func(cutoff int32) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if err := w.db.Update(func(tx kvdb.RwTx) error { return pruneSpent(tx, cutoff) }); err != nil {
			t.Fatal(err)
		}
	}
	prune(c.height() - 1) // the spend is above the cutoff: kept
	if count() != 1 {
		t.Fatal("spent record pruned too early")
	}
	prune(c.height())
	if count() != 0 {
		t.Fatal("spent record not pruned")
	}
	txsAfter, _ := w.Transactions()
	if balance(t, w) != before || len(txsAfter) != len(txsBefore) || txsAfter[1].Amount != txsBefore[1].Amount {
		t.Fatal("pruning changed balance or history")
	}
}

// TestStartLifecycle: Start needs an unlocked wallet, can be retried after
// a backend failure, is idempotent, and is refused after Stop.
func TestStartLifecycle(t *testing.T) {
	c := newFakeChain()
	cfg := testConfig(t, c)
	w := mustCreate(t, cfg, CreateParams{})
	w.Stop()
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); !errors.Is(err, ErrLocked) {
		t.Fatalf("Start locked: %v", err)
	}
	if err := w.Unlock([]byte("password")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("backend down")
	c.mu.Lock()
	c.epochErr = boom
	c.mu.Unlock()
	if err := w.Start(); !errors.Is(err, boom) {
		t.Fatalf("Start with a failing backend: %v", err)
	}
	c.mu.Lock()
	c.epochErr = nil
	c.mu.Unlock()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	waitSynced(t, w, c.height())
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := w.Start(); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("Start after Stop: %v", err)
	}
}
