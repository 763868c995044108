package regtest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// ErrInsufficientFunds: the miner's mature coins do not cover a payment
// even after mining a fresh batch.
var ErrInsufficientFunds = errors.New("regtest: miner has insufficient mature funds")

// changeDust is the smallest change output the harness makes; less goes to
// the fee.
const changeDust = 1000

// wallet tracks outputs paying to the miner script. Whether an output is
// still unspent and mature is asked of btcd (gettxout) before spending, so
// reorgs that drop coinbases need no bookkeeping here.
type wallet struct {
	mu         sync.Mutex
	coins      map[wire.OutPoint]int64          // value of outputs paying to us
	spentBy    map[wire.OutPoint]chainhash.Hash // our broadcast spends
	scanHeight int32                            // blocks up to here scanned
	scanHash   chainhash.Hash
}

func (w *wallet) init() {
	w.coins = make(map[wire.OutPoint]int64)
	w.spentBy = make(map[wire.OutPoint]chainhash.Hash)
}

// scanBatch is how many blocks selectCoins scans at a time: coins are
// found from the oldest (mature) blocks up, and one coinbase usually pays.
const scanBatch = 20

// scan adds outputs paying to the miner from up to n blocks not yet
// scanned, and reports whether blocks remain. If the last scanned block
// left the best chain, it rescans from genesis (cheap on a regtest chain).
func (b *Btcd) scan(c *rpcclient.Client, n int32) (more bool, err error) {
	w := &b.wallet
	_, tip, err := c.GetBestBlock()
	if err != nil {
		return false, err
	}
	if w.scanHeight > 0 {
		h, err := c.GetBlockHash(int64(w.scanHeight))
		if err != nil || *h != w.scanHash {
			w.scanHeight = 0
		}
	}
	end := min(tip, w.scanHeight+n)
	for height := w.scanHeight + 1; height <= end; height++ {
		hash, err := c.GetBlockHash(int64(height))
		if err != nil {
			return false, err
		}
		block, err := c.GetBlock(hash)
		if err != nil {
			return false, err
		}
		for _, tx := range block.Transactions {
			b.addOutputs(tx)
		}
		w.scanHeight, w.scanHash = height, *hash
	}
	return w.scanHeight < tip, nil
}

func (b *Btcd) addOutputs(tx *wire.MsgTx) {
	txid := tx.TxHash()
	for i, out := range tx.TxOut {
		if bytes.Equal(out.PkScript, b.minerScript) {
			b.wallet.coins[wire.OutPoint{Hash: txid, Index: uint32(i)}] = out.Value
		}
	}
}

type spendable struct {
	op    wire.OutPoint
	value int64
}

// selectCoins picks the miner's coins, largest first, until they cover
// need(inputs so far), scanning more blocks while they do not. Each coin is
// checked with btcd (unspent, and mature if a coinbase) before it is used,
// and dropped if it left the chain.
func (b *Btcd) selectCoins(c *rpcclient.Client, need func(n int) int64) ([]spendable, error) {
	w := &b.wallet
	usable := make(map[wire.OutPoint]bool) // checked during this call
	for {
		all := make([]spendable, 0, len(w.coins))
		for op, value := range w.coins {
			all = append(all, spendable{op, value})
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].value != all[j].value {
				return all[i].value > all[j].value
			}
			return all[i].op.String() < all[j].op.String()
		})
		var picked []spendable
		var total int64
		for _, coin := range all {
			if total >= need(len(picked)) {
				break
			}
			ok, checked := usable[coin.op]
			if !checked {
				var err error
				if ok, err = b.usable(c, coin.op); err != nil {
					return nil, err
				}
				usable[coin.op] = ok
			}
			if ok {
				picked = append(picked, coin)
				total += coin.value
			}
		}
		if total >= need(len(picked)) {
			return picked, nil
		}
		more, err := b.scan(c, scanBatch)
		if err != nil {
			return nil, err
		}
		if !more && len(w.coins) == len(all) {
			return nil, fmt.Errorf("%w: have %v, need %v", ErrInsufficientFunds,
				btcutil.Amount(total), btcutil.Amount(need(len(picked))))
		}
	}
}

// usable asks btcd whether a coin can be spent now.
func (b *Btcd) usable(c *rpcclient.Client, op wire.OutPoint) (bool, error) {
	w := &b.wallet
	if spender, ok := w.spentBy[op]; ok {
		// Still spent if the spender is in the mempool or chain.
		if _, err := c.GetRawTransaction(&spender); err == nil {
			return false, nil
		}
		delete(w.spentBy, op)
	}
	res, err := c.GetTxOut(&op.Hash, op.Index, true)
	if err != nil {
		return false, err
	}
	if res == nil {
		delete(w.coins, op) // spent, or left the chain
		return false, nil
	}
	return !res.Coinbase || res.Confirmations >= CoinbaseMaturity, nil
}

// SendTo pays amt to pkScript from the miner's coins with a transaction the
// harness signs, broadcasts it and returns it (unconfirmed: mine to confirm
// it). The first time no mature coin is there, it mines 100 blocks.
func (b *Btcd) SendTo(pkScript []byte, amt btcutil.Amount) (*wire.MsgTx, error) {
	if amt <= 0 {
		return nil, fmt.Errorf("regtest: amount %v must be positive", amt)
	}
	b.wallet.mu.Lock()
	defer b.wallet.mu.Unlock()

	c, err := b.rpc()
	if err != nil {
		return nil, err
	}
	rate := int64(b.cfg.FeeRate)
	// vsize upper bound: 11 vB of overhead, 68 per P2WPKH input, 9 plus
	// the script per output, and a P2WPKH change output of 31.
	baseVSize := int64(11 + 9 + len(pkScript) + 31)
	need := func(inputs int) int64 {
		return int64(amt) + rate*(baseVSize+68*int64(inputs))
	}
	for mined := false; ; mined = true {
		coins, err := b.selectCoins(c, need)
		if errors.Is(err, ErrInsufficientFunds) && !mined {
			if _, err := b.Generate(CoinbaseMaturity); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		tx, err := b.signTx(coins, pkScript, int64(amt), need(len(coins))-int64(amt))
		if err != nil {
			return nil, err
		}
		if _, err := c.SendRawTransaction(tx, true); err != nil {
			return nil, fmt.Errorf("regtest: broadcast %v: %w", tx.TxHash(), err)
		}
		txid := tx.TxHash()
		for _, in := range tx.TxIn {
			// Forget the coin; spentBy keeps a rescan from reviving it
			// while its spender lives.
			delete(b.wallet.coins, in.PreviousOutPoint)
			b.wallet.spentBy[in.PreviousOutPoint] = txid
		}
		b.addOutputs(tx)
		return tx, nil
	}
}

// signTx spends coins to amt on pkScript, with change back to the miner
// unless it would be dust.
func (b *Btcd) signTx(coins []spendable, pkScript []byte, amt, fee int64) (*wire.MsgTx, error) {
	tx := wire.NewMsgTx(2)
	tx.AddTxOut(wire.NewTxOut(amt, pkScript))
	var in int64
	prevOuts := make(map[wire.OutPoint]*wire.TxOut)
	for _, coin := range coins {
		tx.AddTxIn(wire.NewTxIn(&coin.op, nil, nil))
		prevOuts[coin.op] = wire.NewTxOut(coin.value, b.minerScript)
		in += coin.value
	}
	if change := in - amt - fee; change >= changeDust {
		tx.AddTxOut(wire.NewTxOut(change, b.minerScript))
	}

	fetcher := txscript.NewMultiPrevOutFetcher(prevOuts)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, txIn := range tx.TxIn {
		prev := prevOuts[txIn.PreviousOutPoint]
		wit, err := txscript.WitnessSignature(tx, hashes, i, prev.Value,
			b.minerScript, txscript.SigHashAll, b.minerKey, true)
		if err != nil {
			return nil, fmt.Errorf("regtest: sign input %d: %w", i, err)
		}
		txIn.Witness = wit
	}
	return tx, nil
}

// SendToAddress is SendTo for an address of the regtest network.
func (b *Btcd) SendToAddress(addr btcutil.Address, amt btcutil.Amount) (*wire.MsgTx, error) {
	if !addr.IsForNet(Params) {
		return nil, fmt.Errorf("regtest: address %v is not for regtest", addr)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, fmt.Errorf("regtest: address %v: %w", addr, err)
	}
	return b.SendTo(script, amt)
}
