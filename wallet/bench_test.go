package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/cpumeter"
)

func benchWallet(b *testing.B) (*Wallet, *fakeChain) {
	b.Helper()
	c := newFakeChain()
	cfg := Config{DBPath: b.TempDir() + "/wallet.db", Net: testNet, Chain: c, Scrypt: testScrypt}
	w, _, err := Create(cfg, CreateParams{NoPassword: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Stop() })
	return w, c
}

// BenchmarkDeriveAddress: one BIP 84 child key and its script.
func BenchmarkDeriveAddress(b *testing.B) {
	w, _ := benchWallet(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := w.scriptFor(derivation{Type: AddressP2WPKH, Index: uint32(i % 1_000_000)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewAddress: handing out an address, with its fsynced write.
func BenchmarkNewAddress(b *testing.B) {
	w, _ := benchWallet(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.NewAddress(AddressP2WPKH, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkECDH(b *testing.B) {
	w, _ := benchWallet(b)
	k, _ := btcec.NewPrivateKey()
	pub := k.PubKey()
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		if _, err := w.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}

// BenchmarkSelectCoins: a payment from a wallet of 1000 coins.
func BenchmarkSelectCoins(b *testing.B) {
	vals := make([]int64, 1000)
	for i := range vals {
		vals[i] = int64(10_000 + (i*7919)%1_000_000)
	}
	coins := make([]coin, len(vals))
	for i, v := range vals {
		coins[i] = coin{OutPoint: wire.OutPoint{Index: uint32(i)}, Value: btcAmount(v),
			Weight: inputWeight(AddressP2WPKH)}
	}
	outs := []*wire.TxOut{wire.NewTxOut(3_333_333, p2trScript)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := selectCoins(coins, outs, 2500, p2wpkhScript); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignTx: signing and verifying a two-input P2WPKH transaction.
func BenchmarkSignTx(b *testing.B) {
	w, c := benchWallet(b)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	var pays []*wire.MsgTx
	for i := 0; i < 2; i++ {
		a, _ := w.NewAddress(AddressP2WPKH, false)
		pays = append(pays, payToBench(a.ScriptAddress(), byte(i)))
	}
	c.mine(pays...)
	if err := w.WaitSynced(context.Background(), c.height()); err != nil {
		b.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	for _, p := range pays {
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: p.TxHash()}, nil, nil))
	}
	tx.AddTxOut(wire.NewTxOut(1_500_000, p2trScript))
	b.ReportAllocs()
	for b.Loop() {
		err := w.db.View(func(dbtx kvdb.RTx) error { return w.signInputs(dbtx, tx) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnectBlock: scanning a block of 2000 foreign transactions
// (the common case), with the fsynced tip update. SetBytes is the block
// size.
func BenchmarkConnectBlock(b *testing.B) {
	w, _ := benchWallet(b)
	blk := &wire.MsgBlock{}
	for i := 0; i < 2000; i++ {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{byte(i), byte(i >> 8)}}, nil,
			[][]byte{bytes.Repeat([]byte{1}, 72), bytes.Repeat([]byte{2}, 33)}))
		tx.AddTxOut(wire.NewTxOut(int64(i+1000), p2wpkhScript))
		tx.AddTxOut(wire.NewTxOut(int64(i+5000), p2trScript))
		blk.Transactions = append(blk.Transactions, tx)
	}
	b.SetBytes(int64(blk.SerializeSize()))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		meta := blockMeta{Height: int32(i), Hash: chainhash.Hash{byte(i), byte(i >> 8), byte(i >> 16)}}
		if err := w.connectBlock(blk, meta); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealSeed: sealing with the default scrypt cost (unlock costs
// the same).
func BenchmarkSealSeed(b *testing.B) {
	seed := bytes.Repeat([]byte{9}, 64)
	for b.Loop() {
		if _, err := sealSeed(seed, []byte("password"), DefaultScryptParams); err != nil {
			b.Fatal(err)
		}
	}
}

var testNet = &chaincfg.RegressionNetParams

func btcAmount(v int64) btcutil.Amount { return btcutil.Amount(v) }

func payToBench(hash []byte, seed byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{seed, 0xbb}}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(1_000_000, append([]byte{0x00, 0x14}, hash...)))
	return tx
}

// BenchmarkECDHBtcec is the ECDH as it was before vartime.SecretMul
// (btcec's variable-time ScalarMultNonConst): the figure to compare
// BenchmarkECDH with.
func BenchmarkECDHBtcec(b *testing.B) {
	a, _ := btcec.NewPrivateKey()
	k, _ := btcec.NewPrivateKey()
	pub := k.PubKey()
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		var p, r btcec.JacobianPoint
		pub.AsJacobian(&p)
		btcec.ScalarMultNonConst(&a.Key, &p, &r)
		r.ToAffine()
		_ = sha256.Sum256(btcec.NewPublicKey(&r.X, &r.Y).SerializeCompressed())
	}
	m.Report(b)
}
