package chain

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/regtest"
)

// waitTimeout bounds every wait for an event from a real btcd.
const waitTimeout = 60 * time.Second

func newBackend(t testing.TB, node *regtest.Btcd, mod ...func(*BtcdConfig)) *BtcdBackend {
	t.Helper()
	cfg := BtcdConfig{
		Host:        node.RPCHost(),
		User:        node.RPCUser(),
		Pass:        node.RPCPass(),
		Cert:        node.RPCCert(),
		ChainParams: regtest.Params,
		Logger:      testLogger(),
	}
	for _, m := range mod {
		m(&cfg)
	}
	b, err := NewBtcdBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("start backend: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop backend: %v", err)
		}
	})
	return b
}

// testLogger logs to stderr when XLND_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("XLND_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelDebug}))
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("%s: nothing within %v", what, waitTimeout)
	}
	var zero T
	return zero
}

// testKey is a P2WPKH key the test spends from.
type testKey struct {
	priv   *btcec.PrivateKey
	script []byte
}

func newTestKey(t *testing.T) *testKey {
	t.Helper()
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(
		btcutil.Hash160(priv.PubKey().SerializeCompressed()), regtest.Params)
	if err != nil {
		t.Fatal(err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{priv, script}
}

// outputTo returns the outpoint and value of tx's output paying to script.
func outputTo(t *testing.T, tx *wire.MsgTx, script []byte) (wire.OutPoint, int64) {
	t.Helper()
	for i, out := range tx.TxOut {
		if bytes.Equal(out.PkScript, script) {
			return wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}, out.Value
		}
	}
	t.Fatalf("tx %v pays nothing to %x", tx.TxHash(), script)
	return wire.OutPoint{}, 0
}

// spend signs a transaction spending op (worth value, paying k) to dest,
// leaving fee.
func (k *testKey) spend(t *testing.T, op wire.OutPoint, value int64, dest []byte, fee int64) *wire.MsgTx {
	t.Helper()
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value-fee, dest))
	fetcher := txscript.NewCannedPrevOutputFetcher(k.script, value)
	wit, err := txscript.WitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher),
		0, value, k.script, txscript.SigHashAll, k.priv, true)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = wit
	return tx
}

func blockHolding(t *testing.T, node *regtest.Btcd, h chainhash.Hash, txid chainhash.Hash) int {
	t.Helper()
	blk, err := node.Client().GetBlock(&h)
	if err != nil {
		t.Fatal(err)
	}
	for i, tx := range blk.Transactions {
		if tx.TxHash() == txid {
			return i
		}
	}
	t.Fatalf("block %v does not hold %v", h, txid)
	return -1
}

func expectEpoch(t *testing.T, ep *BlockEpochs, height int32, hash chainhash.Hash, disconnected bool) {
	t.Helper()
	ev := recv(t, ep.Events, "block epoch")
	if ev.Height != height || ev.Hash != hash || ev.Disconnected != disconnected {
		t.Fatalf("epoch %+v, want height %d hash %v disconnected %v",
			ev, height, hash, disconnected)
	}
	if ev.Header == nil || ev.Header.BlockHash() != hash {
		t.Fatalf("epoch header does not hash to %v", hash)
	}
}

func TestEpochsOnMine(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	ep, err := b.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Cancel()

	_, h0 := node.BestBlock()
	hashes := node.Mine(3)
	for i, h := range hashes {
		expectEpoch(t, ep, h0+int32(i)+1, h, false)
	}
	ep.Cancel()
	ep.Cancel() // twice is fine
	if _, ok := <-ep.Events; ok {
		t.Fatal("events channel open after Cancel")
	}
}

func TestConfirmations(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)

	tx, err := node.SendTo(key.script, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	_, hint := node.BestBlock()
	txid := tx.TxHash()
	one, err := b.RegisterConfirmations(txid, key.script, 1, hint)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Cancel()
	three, err := b.RegisterConfirmations(txid, key.script, 3, hint)
	if err != nil {
		t.Fatal(err)
	}
	defer three.Cancel()
	// By script only, as a light client would.
	byScript, err := b.RegisterConfirmations(chainhash.Hash{}, key.script, 1, hint)
	if err != nil {
		t.Fatal(err)
	}
	defer byScript.Cancel()

	mined := node.Mine(1)
	idx := blockHolding(t, node, mined[0], txid)
	for name, ev := range map[string]*ConfirmationEvent{"1 conf": one, "by script": byScript} {
		conf := recv(t, ev.Confirmed, name)
		if conf.Txid != txid || conf.BlockHash != mined[0] || conf.BlockHeight != hint+1 ||
			conf.TxIndex != uint32(idx) || conf.Tx.TxHash() != txid ||
			conf.Block.BlockHash() != mined[0] {
			t.Fatalf("%s: confirmation %+v", name, conf)
		}
	}
	if n := recv(t, one.Updates, "update"); n != 1 {
		t.Fatalf("update %d, want 1", n)
	}

	node.Mine(2)
	conf := recv(t, three.Confirmed, "3 confs")
	if conf.BlockHeight != hint+1 || conf.BlockHash != mined[0] {
		t.Fatalf("3 confs: %+v", conf)
	}
	for want := uint32(1); want <= 3; want++ {
		if n := recv(t, three.Updates, "update"); n != want {
			t.Fatalf("update %d, want %d", n, want)
		}
	}
}

func TestAlreadyConfirmedAndSpent(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []regtest.Option
	}{
		{"txindex", nil},
		{"no txindex", []regtest.Option{regtest.WithoutTxIndex()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := regtest.StartBtcd(t, tc.opts...)
			b := newBackend(t, node)
			key := newTestKey(t)
			_, hint := node.BestBlock()

			fund, err := node.SendTo(key.script, 2_000_000)
			if err != nil {
				t.Fatal(err)
			}
			fundBlock := node.Mine(2)[0]
			op, value := outputTo(t, fund, key.script)
			spendTx := key.spend(t, op, value, key.script, 10_000)
			if err := b.Broadcast(context.Background(), spendTx); err != nil {
				t.Fatal(err)
			}
			spendBlock := node.Mine(1)[0]
			// Let the backend see the tip before registering.
			waitTip(t, b, node)

			ev, err := b.RegisterConfirmations(fund.TxHash(), key.script, 2, hint)
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Cancel()
			conf := recv(t, ev.Confirmed, "confirmed at once")
			if conf.BlockHash != fundBlock || conf.BlockHeight != hint+1 {
				t.Fatalf("confirmation %+v, want block %v", conf, fundBlock)
			}
			if n := recv(t, ev.Updates, "update"); n != 2 {
				t.Fatalf("update %d, want 2 (already 3 deep)", n)
			}

			sp, err := b.RegisterSpend(op, key.script, hint)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Cancel()
			d := recv(t, sp.Spend, "spent at once")
			if d.SpenderTxHash != spendTx.TxHash() || d.SpentOutPoint != op ||
				d.SpendingHeight != hint+3 || d.SpenderInputIndex != 0 {
				t.Fatalf("spend %+v", d)
			}
			idx := blockHolding(t, node, spendBlock, spendTx.TxHash())
			if idx == 0 {
				t.Fatal("spend in the coinbase slot")
			}
		})
	}
}

// waitTip waits until the backend's view reaches node's tip.
func waitTip(t *testing.T, b *BtcdBackend, node *regtest.Btcd) {
	t.Helper()
	want, _ := node.BestBlock()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		got := b.tip().hash
		b.mu.Unlock()
		if got == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("backend did not reach tip %v", want)
}

func TestSpendNotification(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)

	fund, err := node.SendTo(key.script, 3_000_000)
	if err != nil {
		t.Fatal(err)
	}
	node.Mine(1)
	op, value := outputTo(t, fund, key.script)
	_, hint := node.BestBlock()
	waitTip(t, b, node)

	sp, err := b.RegisterSpend(op, key.script, hint)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Cancel()

	dest := newTestKey(t)
	spendTx := key.spend(t, op, value, dest.script, 5_000)
	if err := b.Broadcast(context.Background(), spendTx); err != nil {
		t.Fatal(err)
	}
	mined := node.Mine(1)
	d := recv(t, sp.Spend, "spend")
	if d.SpenderTxHash != spendTx.TxHash() || d.SpendingHeight != hint+1 ||
		d.SpentOutPoint != op || d.SpendingTx.TxHash() != spendTx.TxHash() {
		t.Fatalf("spend %+v", d)
	}
	_ = mined
}

func TestReorgByInvalidate(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)

	ep, err := b.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Cancel()

	fund, err := node.SendTo(key.script, 4_000_000)
	if err != nil {
		t.Fatal(err)
	}
	_, hint := node.BestBlock()
	conf, err := b.RegisterConfirmations(fund.TxHash(), key.script, 1, hint)
	if err != nil {
		t.Fatal(err)
	}
	defer conf.Cancel()
	op, value := outputTo(t, fund, key.script)
	sp, err := b.RegisterSpend(op, key.script, hint)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Cancel()

	x := node.Mine(1)[0]
	expectEpoch(t, ep, hint+1, x, false)
	if c := recv(t, conf.Confirmed, "confirmed"); c.BlockHash != x {
		t.Fatalf("confirmed in %v, want %v", c.BlockHash, x)
	}
	spendTx := key.spend(t, op, value, key.script, 5_000)
	if err := b.Broadcast(context.Background(), spendTx); err != nil {
		t.Fatal(err)
	}
	y := node.Mine(1)[0]
	expectEpoch(t, ep, hint+2, y, false)
	if d := recv(t, sp.Spend, "spend"); d.SpendingHeight != hint+2 {
		t.Fatalf("spend at %d, want %d", d.SpendingHeight, hint+2)
	}

	// Take both blocks away: both transactions go back to the mempool.
	if err := node.InvalidateBlock(x); err != nil {
		t.Fatal(err)
	}
	expectEpoch(t, ep, hint+2, y, true)
	expectEpoch(t, ep, hint+1, x, true)
	if depth := recv(t, conf.Reorged, "conf reorged"); depth != 2 {
		t.Fatalf("reorg depth %d, want 2", depth)
	}
	recv(t, sp.Reorged, "spend reorged")

	// One new block confirms both again.
	z := node.Mine(1)[0]
	expectEpoch(t, ep, hint+1, z, false)
	if c := recv(t, conf.Confirmed, "confirmed again"); c.BlockHash != z || c.BlockHeight != hint+1 {
		t.Fatalf("confirmed again %+v, want block %v", c, z)
	}
	if d := recv(t, sp.Spend, "spent again"); d.SpendingHeight != hint+1 ||
		d.SpenderTxHash != spendTx.TxHash() {
		t.Fatalf("spent again %+v", d)
	}
}

func TestReorgByLongerChain(t *testing.T) {
	a := regtest.StartBtcd(t)
	other := regtest.StartBtcd(t)
	// other adopts a's chain, then they part.
	a.Mine(1)
	if err := other.ConnectNode(a); err != nil {
		t.Fatal(err)
	}
	aTip, aHeight := a.BestBlock()
	if err := other.WaitForHeight(aHeight, waitTimeout); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.BestBlock(); got != aTip {
		t.Fatalf("other at %v, want %v", got, aTip)
	}
	if err := other.DisconnectNode(a); err != nil {
		t.Fatal(err)
	}

	b := newBackend(t, a)
	ep, err := b.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Cancel()
	key := newTestKey(t)
	fund, err := a.SendTo(key.script, 5_000_000)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := b.RegisterConfirmations(fund.TxHash(), key.script, 1, aHeight)
	if err != nil {
		t.Fatal(err)
	}
	defer conf.Cancel()
	x := a.Mine(1)[0]
	expectEpoch(t, ep, aHeight+1, x, false)
	recv(t, conf.Confirmed, "confirmed on a")

	long := other.Mine(3)
	if err := a.ConnectNode(other); err != nil {
		t.Fatal(err)
	}
	expectEpoch(t, ep, aHeight+1, x, true)
	for i, h := range long {
		expectEpoch(t, ep, aHeight+1+int32(i), h, false)
	}
	if depth := recv(t, conf.Reorged, "reorged"); depth != 1 {
		t.Fatalf("depth %d, want 1", depth)
	}
	// The transaction is back in a's mempool; a's next block has it.
	next := a.Mine(1)[0]
	if c := recv(t, conf.Confirmed, "confirmed again"); c.BlockHash != next {
		t.Fatalf("confirmed again in %v, want %v", c.BlockHash, next)
	}
}

func TestRestartCatchUp(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	ep, err := b.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Cancel()
	key := newTestKey(t)
	fund, err := node.SendTo(key.script, 1_500_000)
	if err != nil {
		t.Fatal(err)
	}
	_, h0 := node.BestBlock()
	first := node.Mine(1)[0]
	expectEpoch(t, ep, h0+1, first, false)
	conf, err := b.RegisterConfirmations(fund.TxHash(), key.script, 4, h0)
	if err != nil {
		t.Fatal(err)
	}
	defer conf.Cancel()

	if err := node.Restart(); err != nil {
		t.Fatal(err)
	}
	// Mined at once, most likely before the backend is back: it must
	// catch up on every block anyway.
	missed := node.Mine(3)
	for i, h := range missed {
		expectEpoch(t, ep, h0+2+int32(i), h, false)
	}
	if c := recv(t, conf.Confirmed, "4 confs across the restart"); c.BlockHash != first {
		t.Fatalf("confirmed in %v, want %v", c.BlockHash, first)
	}
	// And it keeps following.
	more := node.Mine(1)[0]
	expectEpoch(t, ep, h0+5, more, false)
}

func TestSlowConsumer(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	stuck, err := b.RegisterBlockEpochs() // never read
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Cancel()
	reader, err := b.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Cancel()

	_, h0 := node.BestBlock()
	hashes := node.Mine(30)
	for i, h := range hashes {
		expectEpoch(t, reader, h0+int32(i)+1, h, false)
	}
	// The stuck client's events wait in its queue, in order.
	for i, h := range hashes {
		expectEpoch(t, stuck, h0+int32(i)+1, h, false)
	}
}

func TestBroadcastErrors(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)
	ctx := context.Background()

	fund, err := node.SendTo(key.script, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	node.Mine(1)
	op, value := outputTo(t, fund, key.script)

	// A bad signature: the key is not the one the output pays to.
	wrong := newTestKey(t)
	bad := wrong.spend(t, op, value, key.script, 1_000)
	bad.TxIn[0].Witness[1] = key.priv.PubKey().SerializeCompressed()
	err = b.Broadcast(ctx, bad)
	var rej *RejectError
	if !errors.As(err, &rej) || !errors.Is(err, ErrTxRejected) {
		t.Fatalf("bad signature: %v, want *RejectError", err)
	}
	if rej.Txid != bad.TxHash() || rej.Reason == "" {
		t.Fatalf("reject %+v", rej)
	}

	// Spending an output that does not exist.
	missing := key.spend(t, wire.OutPoint{Hash: chainhash.Hash{1}, Index: 7}, value, key.script, 1_000)
	if err := b.Broadcast(ctx, missing); !errors.As(err, &rej) {
		t.Fatalf("missing input: %v, want *RejectError", err)
	}

	good := key.spend(t, op, value, key.script, 1_000)
	if err := b.Broadcast(ctx, good); err != nil {
		t.Fatal(err)
	}
	if err := b.Broadcast(ctx, good); !errors.Is(err, ErrTxAlreadyKnown) {
		t.Fatalf("second broadcast: %v, want ErrTxAlreadyKnown", err)
	}
	node.Mine(1)
	if err := b.Broadcast(ctx, good); !errors.Is(err, ErrTxAlreadyKnown) {
		t.Fatalf("broadcast of a mined tx: %v, want ErrTxAlreadyKnown", err)
	}
}

func TestFeeEstimate(t *testing.T) {
	node := regtest.StartBtcd(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		fallback SatPerKWeight
		want     SatPerKWeight
	}{
		{"default fallback", 0, DefaultFallbackFeeRate},
		{"configured fallback", 5000, 5000},
		{"fallback below floor", 100, FeePerKwFloor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t, node, func(c *BtcdConfig) { c.FallbackFeeRate = tc.fallback })
			if r := b.RelayFeePerKW(); r < FeePerKwFloor {
				t.Fatalf("relay fee %v below the floor", r)
			}
			for _, target := range []uint32{0, 1, 6, 144, 1008} {
				got, err := b.EstimateFeePerKW(ctx, target)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("target %d: %v, want %v", target, got, tc.want)
				}
			}
		})
	}
}

func TestSourceQueries(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	ctx := context.Background()
	key := newTestKey(t)

	fund, err := node.SendTo(key.script, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	op, value := outputTo(t, fund, key.script)
	mined := node.Mine(1)[0]

	hash, height, err := b.BestBlock(ctx)
	if err != nil || hash != mined {
		t.Fatalf("best block %v %d %v, want %v", hash, height, err, mined)
	}
	if h, err := b.BlockHash(ctx, height); err != nil || h != mined {
		t.Fatalf("block hash at %d: %v %v", height, h, err)
	}
	if _, err := b.BlockHash(ctx, height+10); !errors.Is(err, ErrBlockNotFound) {
		t.Fatalf("block above the tip: %v, want ErrBlockNotFound", err)
	}
	blk, err := b.Block(ctx, mined)
	if err != nil || blk.BlockHash() != mined {
		t.Fatalf("block: %v", err)
	}
	if _, err := b.Block(ctx, chainhash.Hash{9}); !errors.Is(err, ErrBlockNotFound) {
		t.Fatalf("unknown block: %v, want ErrBlockNotFound", err)
	}
	hdr, hh, err := b.BlockHeader(ctx, mined)
	if err != nil || hh != height || hdr.BlockHash() != mined {
		t.Fatalf("header: %v %d %v", hdr, hh, err)
	}
	tx, err := b.RawTx(ctx, fund.TxHash())
	if err != nil || tx.TxHash() != fund.TxHash() {
		t.Fatalf("raw tx: %v", err)
	}
	if _, err := b.RawTx(ctx, chainhash.Hash{3}); !errors.Is(err, ErrTxNotFound) {
		t.Fatalf("unknown tx: %v, want ErrTxNotFound", err)
	}

	out, err := b.UnspentOutput(ctx, op, false)
	if err != nil || out == nil || out.Value != value || !bytes.Equal(out.PkScript, key.script) {
		t.Fatalf("unspent output: %+v %v", out, err)
	}
	spendTx := key.spend(t, op, value, key.script, 1_000)
	if err := b.Broadcast(ctx, spendTx); err != nil {
		t.Fatal(err)
	}
	if out, err := b.UnspentOutput(ctx, op, true); err != nil || out != nil {
		t.Fatalf("output spent in the mempool: %+v %v, want nil", out, err)
	}
	if out, err := b.UnspentOutput(ctx, op, false); err != nil || out == nil {
		t.Fatalf("output unspent in the chain: %+v %v", out, err)
	}
	newOp := wire.OutPoint{Hash: spendTx.TxHash(), Index: 0}
	if out, err := b.UnspentOutput(ctx, newOp, true); err != nil || out == nil {
		t.Fatalf("mempool output with includeMempool: %+v %v", out, err)
	}
	if out, err := b.UnspentOutput(ctx, wire.OutPoint{Hash: chainhash.Hash{4}}, true); err != nil || out != nil {
		t.Fatalf("unknown output: %+v %v", out, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := b.BestBlock(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestMempoolWatcher(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)
	if err := b.WatchMempool([][]byte{key.script}, nil); err != nil {
		t.Fatal(err)
	}
	fund, err := node.SendTo(key.script, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if got := recv(t, b.RelevantTxs(), "relevant tx"); got.TxHash() != fund.TxHash() {
		t.Fatalf("relevant tx %v, want %v", got.TxHash(), fund.TxHash())
	}

	// Watching an outpoint reports its spender; the filter survives a
	// restart of btcd.
	op, value := outputTo(t, fund, key.script)
	if err := b.WatchMempool(nil, []wire.OutPoint{op}); err != nil {
		t.Fatal(err)
	}
	node.Mine(1)
	if err := node.Restart(); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, b)
	dest := newTestKey(t)
	spendTx := key.spend(t, op, value, dest.script, 1_000)
	if err := b.Broadcast(context.Background(), spendTx); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, b.RelevantTxs(), "spender"); got.TxHash() != spendTx.TxHash() {
		t.Fatalf("relevant tx %v, want %v", got.TxHash(), spendTx.TxHash())
	}

	if err := b.WatchMempool([][]byte{{txscript.OP_RETURN}}, nil); err == nil {
		t.Fatal("watching a script with no address succeeded")
	}
}

// waitConnected waits until the backend has a live connection again.
func waitConnected(t *testing.T, b *BtcdBackend) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if _, err := b.rpc(); err == nil {
			if _, _, err := b.BestBlock(context.Background()); err == nil {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("backend did not reconnect")
}

func TestStopLeavesNoGoroutine(t *testing.T) {
	node := regtest.StartBtcd(t)
	before := runtime.NumGoroutine()

	cfg := BtcdConfig{
		Host: node.RPCHost(), User: node.RPCUser(), Pass: node.RPCPass(),
		Cert: node.RPCCert(), ChainParams: regtest.Params,
	}
	b, err := NewBtcdBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	ep, _ := b.RegisterBlockEpochs()
	conf, err := b.RegisterConfirmations(chainhash.Hash{5}, nil, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := b.RegisterSpend(wire.OutPoint{Hash: chainhash.Hash{6}}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf.Cancel()
	node.Mine(2)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ep.Events; ok {
		// Events queued before Stop may be dropped, never kept open.
		for range ep.Events {
		}
	}
	if _, ok := <-sp.Spend; ok {
		t.Fatal("spend channel open after Stop")
	}
	if _, err := b.RegisterBlockEpochs(); !errors.Is(err, ErrBackendShutdown) {
		t.Fatalf("register after Stop: %v", err)
	}
	if _, _, err := b.BestBlock(context.Background()); !errors.Is(err, ErrBackendShutdown) {
		t.Fatalf("query after Stop: %v", err)
	}
	if _, err := b.EstimateFeePerKW(context.Background(), 6); !errors.Is(err, ErrBackendShutdown) {
		t.Fatalf("fee estimate after Stop: %v, want ErrBackendShutdown", err)
	}
	ep.Cancel()
	sp.Cancel()

	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Stop, %d before:\n%s",
				runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A reorg deeper than the kept headers cannot report every disconnected
// block, but the backend must follow the new chain, in order and without a
// gap in the connected blocks.
func TestReorgDeeperThanWindow(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node, func(c *BtcdConfig) { c.MaxReorgDepth = 2 })
	ep, err := b.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Cancel()

	_, h0 := node.BestBlock()
	old := node.Mine(6)
	for i, h := range old {
		expectEpoch(t, ep, h0+1+int32(i), h, false)
	}
	if err := node.InvalidateBlock(old[0]); err != nil {
		t.Fatal(err)
	}
	fresh := node.Mine(8)
	want := fresh[len(fresh)-1]
	var last BlockEvent
	for last.Hash != want {
		ev := recv(t, ep.Events, "epoch after deep reorg")
		switch {
		case last.Height == 0:
		case !ev.Disconnected && !last.Disconnected && ev.Height != last.Height+1:
			t.Fatalf("connected %d after connecting %d", ev.Height, last.Height)
		case !ev.Disconnected && last.Disconnected && ev.Height > last.Height:
			t.Fatalf("connected %d after disconnecting %d: a gap", ev.Height, last.Height)
		case ev.Disconnected && !last.Disconnected && ev.Height != last.Height:
			t.Fatalf("disconnected %d after connecting %d", ev.Height, last.Height)
		case ev.Disconnected && last.Disconnected && ev.Height >= last.Height:
			// Below the kept headers, disconnects may be missing; their
			// order may not be wrong.
			t.Fatalf("disconnected %d after disconnecting %d", ev.Height, last.Height)
		}
		last = ev
	}
	if last.Height != h0+8 || last.Disconnected {
		t.Fatalf("last epoch %+v, want connect at %d", last, h0+8)
	}
	waitTip(t, b, node)
}

// Registering while btcd restarts succeeds; the search of the chain happens
// once the backend is connected again.
func TestRegisterWhileDisconnected(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)
	_, hint := node.BestBlock()
	fund, err := node.SendTo(key.script, 2_500_000)
	if err != nil {
		t.Fatal(err)
	}
	fundBlock := node.Mine(1)[0]
	op, value := outputTo(t, fund, key.script)
	spendTx := key.spend(t, op, value, key.script, 2_000)
	if err := b.Broadcast(context.Background(), spendTx); err != nil {
		t.Fatal(err)
	}
	node.Mine(1)
	waitTip(t, b, node)

	restarted := make(chan error, 1)
	go func() { restarted <- node.Restart() }()
	deadline := time.Now().Add(waitTimeout)
	for {
		if _, err := b.rpc(); errors.Is(err, ErrNotConnected) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("backend never noticed btcd going away")
		}
		time.Sleep(2 * time.Millisecond)
	}
	conf, err := b.RegisterConfirmations(fund.TxHash(), nil, 2, hint)
	if err != nil {
		t.Fatalf("register confirmation while disconnected: %v", err)
	}
	defer conf.Cancel()
	sp, err := b.RegisterSpend(op, key.script, hint)
	if err != nil {
		t.Fatalf("register spend while disconnected: %v", err)
	}
	defer sp.Cancel()
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}

	if c := recv(t, conf.Confirmed, "confirmation after reconnect"); c.BlockHash != fundBlock {
		t.Fatalf("confirmed in %v, want %v", c.BlockHash, fundBlock)
	}
	if d := recv(t, sp.Spend, "spend after reconnect"); d.SpenderTxHash != spendTx.TxHash() {
		t.Fatalf("spent by %v, want %v", d.SpenderTxHash, spendTx.TxHash())
	}
}
