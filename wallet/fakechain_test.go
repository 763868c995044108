package wallet

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
)

// fakeChain is an in-memory chain for unit tests of the wallet's own
// logic (durability, reorg bookkeeping, leases). The chain-facing
// behaviour is tested against a real btcd in btcd_test.go.
type fakeChain struct {
	mu          sync.Mutex
	blocks      []*wire.MsgBlock // best chain, index = height
	epochs      []chan chain.BlockEvent
	relevant    chan *wire.MsgTx
	broadcastFn func(*wire.MsgTx) error
	broadcast   []*wire.MsgTx
	pool        map[chainhash.Hash]*wire.MsgTx // the mempool
	nonce       uint32
	cbScript    []byte
	epochErr    error // RegisterBlockEpochs fails while set
}

func newFakeChain() *fakeChain {
	c := &fakeChain{relevant: make(chan *wire.MsgTx, 100),
		pool: make(map[chainhash.Hash]*wire.MsgTx)}
	c.mine() // genesis
	return c
}

func (c *fakeChain) coinbase(height int32) *wire.MsgTx {
	c.nonce++
	tx := wire.NewMsgTx(1)
	sig := binary.BigEndian.AppendUint32(nil, uint32(height))
	sig = binary.BigEndian.AppendUint32(sig, c.nonce)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: sig})
	script := []byte{0x51}
	if c.cbScript != nil {
		script = c.cbScript
	}
	tx.AddTxOut(wire.NewTxOut(50e8, script))
	return tx
}

// mine appends a block with txs to the best chain and announces it.
func (c *fakeChain) mine(txs ...*wire.MsgTx) chainhash.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mineLocked(txs...)
}

// mineCoinbase mines a block whose coinbase pays pkScript.
func (c *fakeChain) mineCoinbase(pkScript []byte) chainhash.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cbScript = pkScript
	defer func() { c.cbScript = nil }()
	return c.mineLocked()
}

func (c *fakeChain) mineLocked(txs ...*wire.MsgTx) chainhash.Hash {
	height := int32(len(c.blocks))
	var prev chainhash.Hash
	if height > 0 {
		prev = c.blocks[height-1].BlockHash()
	}
	blk := &wire.MsgBlock{Header: wire.BlockHeader{
		Version:   1,
		PrevBlock: prev,
		Timestamp: time.Unix(1_700_000_000+int64(height)*600, 0),
		Nonce:     c.nonce,
	}}
	blk.Transactions = append([]*wire.MsgTx{c.coinbase(height)}, txs...)
	c.blocks = append(c.blocks, blk)
	// Mined transactions leave the mempool, and so do their conflicts.
	spent := make(map[wire.OutPoint]bool)
	for _, tx := range txs {
		delete(c.pool, tx.TxHash())
		for _, in := range tx.TxIn {
			spent[in.PreviousOutPoint] = true
		}
	}
	for id, tx := range c.pool {
		for _, in := range tx.TxIn {
			if spent[in.PreviousOutPoint] {
				delete(c.pool, id)
			}
		}
	}
	h := blk.BlockHash()
	hdr := blk.Header
	c.notify(chain.BlockEvent{Height: height, Hash: h, Header: &hdr})
	return h
}

// reorg disconnects blocks above height and mines replacements.
func (c *fakeChain) reorg(height int32, newBlocks ...[]*wire.MsgTx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for int32(len(c.blocks))-1 > height {
		top := c.blocks[len(c.blocks)-1]
		c.blocks = c.blocks[:len(c.blocks)-1]
		hdr := top.Header
		c.notify(chain.BlockEvent{Height: int32(len(c.blocks)), Hash: top.BlockHash(),
			Header: &hdr, Disconnected: true})
	}
	for _, txs := range newBlocks {
		c.mineLocked(txs...)
	}
}

func (c *fakeChain) notify(ev chain.BlockEvent) {
	for _, ch := range c.epochs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (c *fakeChain) height() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int32(len(c.blocks)) - 1
}

func (c *fakeChain) broadcasts() []*wire.MsgTx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*wire.MsgTx(nil), c.broadcast...)
}

func (c *fakeChain) RegisterBlockEpochs() (*chain.BlockEpochs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochErr != nil {
		return nil, c.epochErr
	}
	ch := make(chan chain.BlockEvent, 1000)
	c.epochs = append(c.epochs, ch)
	return &chain.BlockEpochs{Events: ch, Cancel: func() {}}, nil
}

func (c *fakeChain) BestBlock(context.Context) (chainhash.Hash, int32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[len(c.blocks)-1].BlockHash(), int32(len(c.blocks)) - 1, nil
}

func (c *fakeChain) BlockHash(_ context.Context, h int32) (chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h < 0 || int(h) >= len(c.blocks) {
		return chainhash.Hash{}, chain.ErrBlockNotFound
	}
	return c.blocks[h].BlockHash(), nil
}

func (c *fakeChain) Block(_ context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.blocks {
		if b.BlockHash() == hash {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: %v", chain.ErrBlockNotFound, hash)
}

func (c *fakeChain) Broadcast(_ context.Context, tx *wire.MsgTx) error {
	c.mu.Lock()
	fn := c.broadcastFn
	c.mu.Unlock()
	if fn != nil {
		if err := fn(tx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broadcast = append(c.broadcast, tx)
	id := tx.TxHash()
	txs := make([]*wire.MsgTx, 0)
	for _, b := range c.blocks {
		txs = append(txs, b.Transactions...)
	}
	for _, other := range txs {
		if other.TxHash() == id {
			return chain.ErrTxAlreadyKnown
		}
	}
	for _, other := range c.pool {
		txs = append(txs, other)
	}
	for _, other := range txs {
		if other.TxHash() == id {
			continue
		}
		for _, oin := range other.TxIn {
			for _, in := range tx.TxIn {
				if in.PreviousOutPoint == oin.PreviousOutPoint {
					return &chain.RejectError{Txid: id, Reason: "output already spent"}
				}
			}
		}
	}
	c.pool[id] = tx
	return nil
}

// evict drops a transaction from the mempool, as a full or restarted
// mempool does.
func (c *fakeChain) evict(txid chainhash.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pool, txid)
}

// addToPool puts a transaction in the mempool without a broadcast (one
// relayed from elsewhere).
func (c *fakeChain) addToPool(tx *wire.MsgTx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pool[tx.TxHash()] = tx
}

func (c *fakeChain) RawTx(_ context.Context, txid chainhash.Hash) (*wire.MsgTx, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tx, ok := c.pool[txid]; ok {
		return tx, nil
	}
	for _, b := range c.blocks {
		for _, tx := range b.Transactions {
			if tx.TxHash() == txid {
				return tx, nil
			}
		}
	}
	return nil, chain.ErrTxNotFound
}

// UnspentOutput finds the output in the chain (and mempool) and checks
// nothing there spends it. Outputs of transactions the fake chain never
// saw (the tests' outside payers) count as existing and unspent unless
// spent.
func (c *fakeChain) UnspentOutput(_ context.Context, op wire.OutPoint,
	includeMempool bool) (*wire.TxOut, error) {

	c.mu.Lock()
	defer c.mu.Unlock()
	txs := make([]*wire.MsgTx, 0)
	for _, b := range c.blocks {
		txs = append(txs, b.Transactions...)
	}
	if includeMempool {
		for _, tx := range c.pool {
			txs = append(txs, tx)
		}
	}
	out := wire.NewTxOut(0, nil)
	for _, tx := range txs {
		if tx.TxHash() == op.Hash {
			if int(op.Index) >= len(tx.TxOut) {
				return nil, nil
			}
			out = tx.TxOut[op.Index]
		}
		for _, in := range tx.TxIn {
			if in.PreviousOutPoint == op {
				return nil, nil
			}
		}
	}
	return out, nil
}

func (c *fakeChain) EstimateFeePerKW(context.Context, uint32) (chain.SatPerKWeight, error) {
	return 2500, nil
}

func (c *fakeChain) RelayFeePerKW() chain.SatPerKWeight { return chain.FeePerKwFloor }

func (c *fakeChain) WatchMempool([][]byte, []wire.OutPoint) error { return nil }

func (c *fakeChain) RelevantTxs() <-chan *wire.MsgTx { return c.relevant }
