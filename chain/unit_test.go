package chain

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

func TestMapBroadcastErr(t *testing.T) {
	txid := chainhash.Hash{7}
	netErr := errors.New("connection refused")
	for _, tc := range []struct {
		name   string
		err    error
		known  bool
		reason string // non-empty: a *RejectError with this reason
	}{
		{"in mempool", &btcjson.RPCError{Code: btcjson.ErrRPCTxRejected,
			Message: "TX rejected: already have transaction in mempool " + txid.String()}, true, ""},
		{"in chain", &btcjson.RPCError{Code: btcjson.ErrRPCTxAlreadyInChain,
			Message: "TX rejected: transaction already exists in blockchain"}, true, ""},
		{"bitcoind wording", &btcjson.RPCError{Code: btcjson.ErrRPCVerifyAlreadyInChain,
			Message: "txn-already-known"}, true, ""},
		{"orphan", &btcjson.RPCError{Code: btcjson.ErrRPCTxError,
			Message: "TX rejected: orphan transaction x references outputs of unknown or fully-spent transaction y"},
			false, "orphan transaction x references outputs of unknown or fully-spent transaction y"},
		{"policy", &btcjson.RPCError{Code: btcjson.ErrRPCTxRejected,
			Message: "TX rejected: transaction has insufficient priority"}, false,
			"transaction has insufficient priority"},
		{"decode", &btcjson.RPCError{Code: btcjson.ErrRPCDeserialization,
			Message: "TX decode failed: unexpected EOF"}, false, "TX decode failed: unexpected EOF"},
		{"network", netErr, false, ""},
		{"other rpc", &btcjson.RPCError{Code: btcjson.ErrRPCInternal.Code, Message: "boom"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mapBroadcastErr(txid, tc.err)
			if got := errors.Is(err, ErrTxAlreadyKnown); got != tc.known {
				t.Fatalf("%v: already known %v, want %v", err, got, tc.known)
			}
			var rej *RejectError
			isRej := errors.As(err, &rej)
			if isRej != (tc.reason != "") {
				t.Fatalf("%v: reject %v, want %v", err, isRej, tc.reason != "")
			}
			if isRej {
				if rej.Reason != tc.reason || rej.Txid != txid || !errors.Is(err, ErrTxRejected) {
					t.Fatalf("reject %+v, want reason %q", rej, tc.reason)
				}
			}
			if tc.err == netErr && !errors.Is(err, netErr) {
				t.Fatalf("network error not wrapped: %v", err)
			}
		})
	}
}

func TestHeaderFromVerbose(t *testing.T) {
	want := chaincfg.RegressionNetParams.GenesisBlock.Header
	v := &btcjson.GetBlockHeaderVerboseResult{
		Version:    want.Version,
		MerkleRoot: want.MerkleRoot.String(),
		Time:       want.Timestamp.Unix(),
		Bits:       fmt.Sprintf("%08x", want.Bits),
		Nonce:      uint64(want.Nonce),
	}
	got, err := headerFromVerbose(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.BlockHash() != *chaincfg.RegressionNetParams.GenesisHash {
		t.Fatalf("genesis header hashes to %v", got.BlockHash())
	}
	for _, bad := range []*btcjson.GetBlockHeaderVerboseResult{
		{MerkleRoot: "zz", Bits: "1d00ffff"},
		{MerkleRoot: want.MerkleRoot.String(), Bits: "nothex"},
		{MerkleRoot: want.MerkleRoot.String(), Bits: "1d00ffff", PreviousHash: "12"},
	} {
		if _, err := headerFromVerbose(bad); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}

func FuzzHeaderFromVerbose(f *testing.F) {
	f.Add(int32(1), "", "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
		int64(1296688602), "207fffff", uint64(2))
	f.Add(int32(0), "00", "", int64(-1), "", uint64(1<<40))
	f.Fuzz(func(t *testing.T, version int32, prev, root string, tm int64, bits string, nonce uint64) {
		v := &btcjson.GetBlockHeaderVerboseResult{Version: version, PreviousHash: prev,
			MerkleRoot: root, Time: tm, Bits: bits, Nonce: nonce}
		h, err := headerFromVerbose(v)
		if err != nil {
			return
		}
		if h.Version != version || h.Timestamp.Unix() != tm || uint64(h.Nonce) != nonce {
			t.Fatalf("header %+v from %+v", h, v)
		}
	})
}

func TestPipeOrderAndStop(t *testing.T) {
	p := newPipe[int]()
	const n = 1000
	for i := range n {
		p.push(i) // nobody reads yet: must not block
	}
	for i := range n {
		select {
		case got := <-p.out:
			if got != i {
				t.Fatalf("got %d, want %d", got, i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("item %d not delivered", i)
		}
	}
	p.push(1)
	p.stop()
	p.stop()
	for range p.out {
	}
	p.push(2) // after stop: dropped, no panic
}

// TestPipeIdle: a pipe runs no goroutine while nothing is queued, before
// its first item and after its items were taken, and delivers in order
// across such pauses.
func TestPipeIdle(t *testing.T) {
	p := newPipe[int]()
	defer p.stop()
	running := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.running
	}
	if running() {
		t.Fatal("a new pipe runs a goroutine")
	}
	for round := range 3 {
		for i := range 10 {
			p.push(round*10 + i)
		}
		for i := range 10 {
			select {
			case got := <-p.out:
				if got != round*10+i {
					t.Fatalf("got %d, want %d", got, round*10+i)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("item %d not delivered", round*10+i)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for running() {
			if time.Now().After(deadline) {
				t.Fatal("the goroutine outlives the items it delivered")
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// TestPipeStopWhileDelivering: stop returns while an item waits for a
// reader, and closes the channel.
func TestPipeStopWhileDelivering(t *testing.T) {
	p := newPipe[int]()
	p.push(1)
	p.push(2)
	p.stop()
	for range p.out {
	}
}

func TestConfRegMatch(t *testing.T) {
	script := []byte{0x00, 0x14, 1, 2, 3}
	tx1 := wire.NewMsgTx(2)
	tx1.AddTxOut(wire.NewTxOut(1, []byte{0x51}))
	tx2 := wire.NewMsgTx(2)
	tx2.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}, Index: 3}, nil, nil))
	tx2.AddTxOut(wire.NewTxOut(2, script))
	blk := indexBlock(&wire.MsgBlock{Transactions: []*wire.MsgTx{tx1, tx2}})

	if i, ok := (&confReg{txid: tx2.TxHash()}).match(blk); !ok || i != 1 {
		t.Fatalf("by txid: %d %v", i, ok)
	}
	if i, ok := (&confReg{pkScript: script}).match(blk); !ok || i != 1 {
		t.Fatalf("by script: %d %v", i, ok)
	}
	if _, ok := (&confReg{txid: chainhash.Hash{9}}).match(blk); ok {
		t.Fatal("matched an absent txid")
	}
	sr := &spendReg{outpoint: wire.OutPoint{Hash: chainhash.Hash{1}, Index: 3}}
	d := sr.match(blk, 42)
	if d == nil || d.SpenderTxHash != tx2.TxHash() || d.SpendingHeight != 42 || d.SpenderInputIndex != 0 {
		t.Fatalf("spend %+v", d)
	}
	sr.outpoint.Index = 4
	if sr.match(blk, 42) != nil {
		t.Fatal("matched another output of the same tx")
	}
}

// Cancel closes the channels at once even while the notifier holds its
// lock (a long catch-up), and the notifier forgets the registration later.
func TestCancelNeverWaitsForNotifier(t *testing.T) {
	be, err := NewBtcdBackend(BtcdConfig{Host: "127.0.0.1:1", Cert: []byte("x"),
		ChainParams: &chaincfg.RegressionNetParams})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Stop()
	ep, err := be.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	kept, err := be.RegisterBlockEpochs()
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Cancel()

	be.mu.Lock() // the notifier is busy
	done := make(chan struct{})
	go func() {
		ep.Cancel()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		be.mu.Unlock()
		t.Fatal("Cancel waited for the notifier")
	}
	if _, ok := <-ep.Events; ok {
		t.Fatal("events channel open after Cancel")
	}
	be.sweep()
	n := len(be.epochs)
	be.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d epoch registrations after sweeping, want 1", n)
	}
}
