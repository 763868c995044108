package chain

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// BenchmarkPipe measures one item through a client queue.
func BenchmarkPipe(b *testing.B) {
	p := newPipe[BlockEvent]()
	defer p.stop()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.push(BlockEvent{Height: int32(i)})
		<-p.out
	}
}

// BenchmarkConnectHeader measures the notifier's own work per block (no
// RPC): 10 epoch clients that drain their queues and 100 confirmations
// already reached, as a node with open channels has.
func BenchmarkConnectHeader(b *testing.B) {
	be, err := NewBtcdBackend(BtcdConfig{Host: "127.0.0.1:1", Cert: []byte("x"),
		ChainParams: &chaincfg.RegressionNetParams})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Stop()
	genesis := chaincfg.RegressionNetParams.GenesisBlock.Header
	be.headers = []header{{height: 0, hash: genesis.BlockHash(), header: genesis}}
	for i := 0; i < 10; i++ {
		ep, _ := be.RegisterBlockEpochs()
		go func() {
			for range ep.Events {
			}
		}()
	}
	for i := 0; i < 100; i++ {
		r := &confReg{txid: chainhash.Hash{byte(i)}, numConfs: 3,
			conf:       &TxConfirmation{BlockHeight: 0},
			lastUpdate: 3, dispatched: true,
			confirmed: newPipe[*TxConfirmation](), updates: newPipe[uint32](),
			reorged: newPipe[int32]()}
		be.confs[uint64(1000+i)] = r
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tip := be.tip()
		hdr := wire.BlockHeader{PrevBlock: tip.hash, Nonce: uint32(i)}
		if err := be.connect(nil, header{height: tip.height + 1, hash: hdr.BlockHash(), header: hdr}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexBlock measures hashing and indexing a block of 2,000
// one-input two-output transactions, done once per block fetched.
func BenchmarkIndexBlock(b *testing.B) {
	blk := &wire.MsgBlock{}
	for i := 0; i < 2000; i++ {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{byte(i), byte(i >> 8)}}, nil,
			[][]byte{make([]byte, 72), make([]byte, 33)}))
		tx.AddTxOut(wire.NewTxOut(1000, make([]byte, 22)))
		tx.AddTxOut(wire.NewTxOut(2000, make([]byte, 34)))
		blk.Transactions = append(blk.Transactions, tx)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		indexBlock(blk)
	}
}
