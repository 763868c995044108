package wallet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"

	"lnd.xprv/chain"
)

// blockMeta places a transaction in a block.
type blockMeta struct {
	Height int32
	Hash   chainhash.Hash
	Time   time.Time
}

// syncPollInterval is how often the wallet checks the backend's tip
// without a block event.
const syncPollInterval = 30 * time.Second

// syncLoop keeps the wallet on the backend's best chain. Every block event
// triggers a reconciliation against the backend (syncChain), which is
// idempotent, so missed or repeated events are harmless; a failed pass is
// retried with a backoff (the backend may be reconnecting).
func (w *Wallet) syncLoop(epochs *chain.BlockEpochs) {
	defer w.wg.Done()
	defer epochs.Cancel()

	ctx, cancel := w.ctx()
	defer cancel()

	const maxBackoff = 10 * time.Second
	backoff := time.Duration(0)
	var retry <-chan time.Time
	events := epochs.Events

	// After every pass our unconfirmed transactions are checked against
	// the backend (checkUnmined): a backend restart empties btcd's
	// mempool, a double spend makes one fail.
	pass := func() {
		if err := w.syncChain(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), maxBackoff)
			w.log.Warn("chain sync failed, retrying", "err", err, "in", backoff)
			retry = time.After(backoff)
			return
		}
		backoff, retry = 0, nil
		w.checkUnmined(ctx)
		select {
		case w.synced <- struct{}{}:
		default:
		}
	}

	// A pass now and then even without events: a notification lost in
	// a backend reconnect must not leave the wallet behind for good.
	poll := time.NewTicker(syncPollInterval)
	defer poll.Stop()

	pass()
	for {
		select {
		case <-w.quit:
			return
		case <-retry:
			pass()
		case <-poll.C:
			if retry == nil {
				pass()
			}
		case _, ok := <-events:
			if !ok {
				w.log.Warn("block epochs closed")
				events = nil
				continue
			}
			// Coalesce a burst of events into one pass.
			for drained := false; !drained; {
				select {
				case _, ok := <-events:
					if !ok {
						events = nil
						drained = true
					}
				default:
					drained = true
				}
			}
			pass()
		}
	}
}

// mempoolLoop records unconfirmed transactions that touch the wallet.
func (w *Wallet) mempoolLoop() {
	defer w.wg.Done()
	txs := w.cfg.Chain.RelevantTxs()
	for {
		select {
		case <-w.quit:
			return
		case tx, ok := <-txs:
			if !ok {
				return
			}
			if err := w.addMempoolTx(tx); err != nil {
				w.log.Warn("mempool tx", "txid", tx.TxHash(), "err", err)
			}
		}
	}
}

func (w *Wallet) addMempoolTx(msg *wire.MsgTx) error {
	w.mu.Lock()
	var newScripts [][]byte
	var newOps []wire.OutPoint
	err := w.updateIndexed(func(tx kvdb.RwTx) error {
		if r, err := getTxRec(tx, msg.TxHash()); err != nil || (r != nil && !r.Failed) {
			return err // known; a block may already have confirmed it
		}
		res, err := w.addTx(tx, msg, nil, false, "")
		if err != nil {
			return err
		}
		newOps = res.newOutpoints
		if res.usedAddr {
			newScripts, err = w.extendHorizon(tx)
		}
		return err
	})
	w.mu.Unlock()
	if err == nil {
		w.watch(newScripts, newOps)
	}
	return err
}

// syncChain brings the wallet to the backend's best chain: it rolls back
// blocks no longer in it (a reorg, possibly one that happened while the
// wallet was down) and scans every block from its tip to the best block.
func (w *Wallet) syncChain(ctx context.Context) error {
	src := w.cfg.Chain
	for {
		bestHash, bestHeight, err := src.BestBlock(ctx)
		if err != nil {
			return fmt.Errorf("best block: %w", err)
		}
		t, err := w.initialTip(ctx, bestHash, bestHeight)
		if err != nil {
			return err
		}

		// Roll back to the fork point.
		for t.Height >= 0 {
			if t.Height <= bestHeight {
				h, err := src.BlockHash(ctx, t.Height)
				if err != nil && !errors.Is(err, chain.ErrBlockNotFound) {
					return fmt.Errorf("block hash %d: %w", t.Height, err)
				}
				if err == nil && h == t.Hash {
					break
				}
			}
			if t, err = w.disconnectTip(t); err != nil {
				return err
			}
		}

		// Scan forward.
		forked := false
		for height := t.Height + 1; height <= bestHeight; height++ {
			select {
			case <-w.quit:
				return ErrShuttingDown
			default:
			}
			hash, err := src.BlockHash(ctx, height)
			if err != nil {
				return fmt.Errorf("block hash %d: %w", height, err)
			}
			blk, err := src.Block(ctx, hash)
			if err != nil {
				return fmt.Errorf("block %v: %w", hash, err)
			}
			if t.Height >= 0 && blk.Header.PrevBlock != t.Hash {
				forked = true // the chain moved under us; start over
				break
			}
			if err := w.connectBlock(blk, blockMeta{Height: height,
				Hash: hash, Time: blk.Header.Timestamp}); err != nil {
				return err
			}
			t = tip{Height: height, Hash: hash}
		}
		if !forked {
			return w.loadTipTime(ctx, t)
		}
	}
}

// loadTipTime learns the time of the tip scanned before a restart (a
// block connected since sets it), for the anti-fee-sniping lock time.
func (w *Wallet) loadTipTime(ctx context.Context, t tip) error {
	w.mu.Lock()
	known := !w.tipTime.IsZero()
	w.mu.Unlock()
	if known || t.Height < 0 {
		return nil
	}
	blk, err := w.cfg.Chain.Block(ctx, t.Hash)
	if err != nil {
		return fmt.Errorf("tip block %v: %w", t.Hash, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, hash, err := w.SyncedTo(); err == nil && hash == t.Hash {
		w.tipTime = blk.Header.Timestamp
	}
	return nil
}

// newWalletLookback is how many blocks below the tip a new wallet's first
// scan starts.
const newWalletLookback = 6

// initialTip returns the stored tip, setting it on the first start: at the
// best block for a new wallet, below the birthday for a restored one.
func (w *Wallet) initialTip(ctx context.Context, bestHash chainhash.Hash,
	bestHeight int32) (tip, error) {

	var t tip
	var found bool
	var birthday int32
	err := w.db.View(func(tx kvdb.RTx) error {
		var err error
		t, found, err = getTip(tx)
		birthday, _ = getInt32(tx.ReadBucket(bucketMeta), keyBirthday)
		return err
	})
	if err != nil || found {
		return t, err
	}
	if birthday < 0 {
		// A new wallet: nothing can pay it before its first address,
		// but addresses may be handed out before the first Start, so
		// look a few blocks back.
		birthday = max(bestHeight-newWalletLookback, 0)
	}
	switch {
	case birthday == bestHeight+1:
		t = tip{Height: bestHeight, Hash: bestHash}
	case birthday == 0:
		t = tip{Height: -1} // scan from genesis
	default:
		h := min(birthday, bestHeight+1) - 1
		hash, err := w.cfg.Chain.BlockHash(ctx, h)
		if err != nil {
			return t, fmt.Errorf("birthday block %d: %w", h, err)
		}
		t = tip{Height: h, Hash: hash}
	}
	w.log.Info("wallet sync starts", "height", t.Height, "hash", t.Hash)
	w.mu.Lock()
	defer w.mu.Unlock()
	return t, w.db.Update(func(tx kvdb.RwTx) error { return putTip(tx, t) })
}

// connectBlock scans a block for the wallet's scripts and outpoints and
// moves the tip to it.
func (w *Wallet) connectBlock(blk *wire.MsgBlock, meta blockMeta) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var watchScripts [][]byte
	var watchOps []wire.OutPoint
	err := w.updateIndexed(func(tx kvdb.RwTx) error {
		if err := w.failConflicts(tx, blk); err != nil {
			return err
		}
		// Finding an output to an address moves the gap horizon, and
		// the new scripts may be paid later in this same block: scan
		// again until nothing new appears. addTx is idempotent.
		for {
			used := false
			for i, msg := range blk.Transactions {
				res, err := w.addTx(tx, msg, &meta, false, "")
				if err != nil {
					return fmt.Errorf("block %v tx %d: %w", meta.Hash, i, err)
				}
				used = used || res.usedAddr
				watchOps = append(watchOps, res.newOutpoints...)
			}
			if !used {
				break
			}
			added, err := w.extendHorizon(tx)
			if err != nil {
				return err
			}
			if len(added) == 0 {
				break
			}
			watchScripts = append(watchScripts, added...)
		}
		if meta.Height%pruneInterval == 0 && meta.Height > keepBlocks {
			if err := pruneSpent(tx, meta.Height-keepBlocks); err != nil {
				return err
			}
		}
		return putTip(tx, tip{Height: meta.Height, Hash: meta.Hash})
	})
	if err != nil {
		return err
	}
	w.tipTime = meta.Time
	w.watch(watchScripts, watchOps)
	return nil
}

// pruneInterval: every this many blocks, spent records too deep to be
// reorged are dropped.
const pruneInterval = 144

// pruneSpent forgets spent wallet outputs whose spending transaction
// confirmed at or below cutoff: no reorg the wallet handles can bring them
// back, and the history keeps the amounts. Called with mu held.
func pruneSpent(tx kvdb.RwTx, cutoff int32) error {
	spent := tx.ReadWriteBucket(bucketSpent)
	var drop [][]byte
	err := spent.ForEach(func(k, v []byte) error {
		u, err := decodeUtxo(v, true)
		if err != nil {
			return err
		}
		r, err := getTxRec(tx, u.Spender)
		if err != nil {
			return err
		}
		if r != nil && r.Height != unconfirmed && r.Height <= cutoff {
			drop = append(drop, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := spent.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// disconnectTip rolls the wallet back from block t: its transactions
// become unconfirmed (they return to the mempool), except coinbases, which
// cannot and are removed with everything spending them.
func (w *Wallet) disconnectTip(t tip) (tip, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var prev tip
	err := w.db.Update(func(tx kvdb.RwTx) error {
		var inBlock []*txRec
		err := tx.ReadWriteBucket(bucketTxs).ForEach(func(_, v []byte) error {
			r, err := decodeTx(v)
			if err != nil {
				return err
			}
			if r.Height == t.Height && r.BlockHash == t.Hash {
				inBlock = append(inBlock, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Coinbases first: removing one removes its spenders, which may
		// be in this block too.
		sort.SliceStable(inBlock, func(i, j int) bool {
			return blockchain.IsCoinBaseTx(inBlock[i].Tx) &&
				!blockchain.IsCoinBaseTx(inBlock[j].Tx)
		})
		for _, r := range inBlock {
			txid := r.Tx.TxHash()
			if blockchain.IsCoinBaseTx(r.Tx) {
				if err := w.removeTx(tx, txid); err != nil {
					return err
				}
				continue
			}
			if r, err = getTxRec(tx, txid); err != nil {
				return err
			} else if r == nil {
				continue // removed with a coinbase it spent
			}
			r.Height, r.BlockHash, r.BlockTime = unconfirmed, chainhash.Hash{}, 0
			if err := putTxRec(tx, r); err != nil {
				return err
			}
			if err := setOutputsHeight(tx, r.Tx.TxHash(), r.Tx, unconfirmed); err != nil {
				return err
			}
		}
		tx.ReadWriteBucket(bucketBlocks).Delete(u32(uint32(t.Height)))
		prev.Height = t.Height - 1
		if prev.Height >= 0 {
			h, ok := blockHashAt(tx, prev.Height)
			if !ok {
				return fmt.Errorf("reorg deeper than the %d blocks kept: "+
					"no hash for height %d", keepBlocks, prev.Height)
			}
			prev.Hash = h
		}
		if prev.Height < 0 {
			return tx.ReadWriteBucket(bucketMeta).Delete(keyTip)
		}
		return putTip(tx, prev)
	})
	if err != nil {
		return t, err
	}
	w.tipTime = time.Time{}
	w.log.Info("block disconnected", "height", t.Height, "hash", t.Hash)
	if prev.Height < 0 {
		// Back before genesis: record "nothing scanned" explicitly.
		return tip{Height: -1}, nil
	}
	return prev, nil
}

// setOutputsHeight updates the height of the wallet outputs a transaction
// created, spent or not.
func setOutputsHeight(tx kvdb.RwTx, txid chainhash.Hash, msg *wire.MsgTx, height int32) error {
	for i := range msg.TxOut {
		k := outpointKey(wire.OutPoint{Hash: txid, Index: uint32(i)})
		for _, b := range []struct {
			name    []byte
			spender bool
		}{{bucketUtxos, false}, {bucketSpent, true}} {
			v := tx.ReadWriteBucket(b.name).Get(k)
			if v == nil {
				continue
			}
			u, err := decodeUtxo(v, b.spender)
			if err != nil {
				return err
			}
			u.Height = height
			if err := tx.ReadWriteBucket(b.name).Put(k, u.encode(b.spender)); err != nil {
				return err
			}
		}
	}
	return nil
}

// addResult says what addTx changed.
type addResult struct {
	relevant     bool
	usedAddr     bool
	newOutpoints []wire.OutPoint
}

// addTx records msg if it touches the wallet: it marks the wallet outputs
// it spends as spent, adds the outputs it pays to wallet scripts, and
// stores or updates the transaction (confirmed in meta's block, or
// unconfirmed when meta is nil). A wallet transaction that spends the same
// output is a conflict and is removed with its descendants. Calling it again
// for the same transaction and block changes nothing. Called with mu held.
func (w *Wallet) addTx(tx kvdb.RwTx, msg *wire.MsgTx, meta *blockMeta,
	ours bool, label string) (addResult, error) {

	var res addResult
	txid := msg.TxHash()
	old, err := getTxRec(tx, txid)
	if err != nil {
		return res, err
	}
	coinbase := blockchain.IsCoinBaseTx(msg)
	utxos, spent := tx.ReadWriteBucket(bucketUtxos), tx.ReadWriteBucket(bucketSpent)

	// The common case, a block full of other people's transactions:
	// nothing known, no output of ours, no input spending ours.
	if old == nil && !w.touches(msg, coinbase, utxos, spent) {
		return res, nil
	}

	// An unconfirmed transaction never displaces a confirmed one: a
	// mempool report that arrives after the block is stale.
	if meta == nil && !coinbase {
		for _, in := range msg.TxIn {
			v := spent.Get(outpointKey(in.PreviousOutPoint))
			if v == nil {
				continue
			}
			u, err := decodeUtxo(v, true)
			if err != nil {
				return res, err
			}
			if u.Spender == txid {
				continue
			}
			other, err := getTxRec(tx, u.Spender)
			if err != nil {
				return res, err
			}
			if other != nil && other.Height != unconfirmed {
				return res, nil
			}
		}
	}

	var debit btcutil.Amount
	ourInputs := 0
	if !coinbase {
		for _, in := range msg.TxIn {
			k := outpointKey(in.PreviousOutPoint)
			if v := spent.Get(k); v != nil {
				u, err := decodeUtxo(v, true)
				if err != nil {
					return res, err
				}
				if u.Spender != txid {
					if err := w.failTx(tx, u.Spender, txid); err != nil {
						return res, err
					}
				}
			}
			if v := utxos.Get(k); v != nil {
				u, err := decodeUtxo(v, false)
				if err != nil {
					return res, err
				}
				u.Spender = txid
				if err := spent.Put(k, u.encode(true)); err != nil {
					return res, err
				}
				if err := utxos.Delete(k); err != nil {
					return res, err
				}
				tx.ReadWriteBucket(bucketLeases).Delete(k)
			}
			if v := spent.Get(k); v != nil {
				u, err := decodeUtxo(v, true)
				if err != nil {
					return res, err
				}
				if u.Spender == txid {
					debit += u.Value
					ourInputs++
				}
			}
		}
	}

	// Where the transaction is: in meta's block, else where it was
	// already recorded (publishing a confirmed transaction again does
	// not unconfirm it), else nowhere yet.
	height := unconfirmed
	var blockHash chainhash.Hash
	var blockTime int64
	switch {
	case meta != nil:
		height, blockHash, blockTime = meta.Height, meta.Hash, meta.Time.Unix()
	case old != nil:
		height, blockHash, blockTime = old.Height, old.BlockHash, old.BlockTime
	}
	var credit btcutil.Amount
	for i, out := range msg.TxOut {
		d, ok := w.scripts[string(out.PkScript)]
		if !ok {
			continue
		}
		credit += btcutil.Amount(out.Value)
		if err := w.markUsed(tx, d); err != nil {
			return res, err
		}
		res.usedAddr = true
		op := wire.OutPoint{Hash: txid, Index: uint32(i)}
		k := outpointKey(op)
		if spent.Get(k) != nil {
			continue // already spent by a later wallet transaction
		}
		if utxos.Get(k) == nil {
			res.newOutpoints = append(res.newOutpoints, op)
		}
		u := &utxoRec{
			Value:    btcutil.Amount(out.Value),
			Height:   height,
			Coinbase: coinbase,
			Deriv:    d,
			PkScript: out.PkScript,
		}
		if err := utxos.Put(k, u.encode(false)); err != nil {
			return res, err
		}
	}
	if meta != nil && credit > 0 {
		// Outputs already spent keep their record in spent; keep its
		// height right for a later rollback.
		if err := setOutputsHeight(tx, txid, msg, height); err != nil {
			return res, err
		}
	}

	if old == nil && debit == 0 && credit == 0 {
		return res, nil
	}
	res.relevant = true
	now := w.now().Unix()
	r := &txRec{
		Height:   height,
		Received: now,
		LastSeen: now,
		Ours:     ours,
		Debit:    debit,
		Credit:   credit,
		Fee:      -1,
		Label:    label,
		Tx:       msg,
	}
	r.BlockHash, r.BlockTime = blockHash, blockTime
	if old != nil {
		r.Received = old.Received
		r.Ours = old.Ours || ours
		if r.Label == "" {
			r.Label = old.Label
		}
	}
	if !coinbase && ourInputs == len(msg.TxIn) {
		var out btcutil.Amount
		for _, o := range msg.TxOut {
			out += btcutil.Amount(o.Value)
		}
		r.Fee = debit - out
	}
	return res, putTxRec(tx, r)
}

// touches reports whether msg pays a wallet script or spends a wallet
// output (unspent, or spent by another wallet transaction).
func (w *Wallet) touches(msg *wire.MsgTx, coinbase bool, utxos, spent kvdb.RwBucket) bool {
	for _, out := range msg.TxOut {
		if _, ok := w.scripts[string(out.PkScript)]; ok {
			return true
		}
	}
	if coinbase {
		return false
	}
	for _, in := range msg.TxIn {
		k := outpointKey(in.PreviousOutPoint)
		if utxos.Get(k) != nil || spent.Get(k) != nil {
			return true
		}
	}
	return false
}

// removeTx deletes a wallet transaction that was never valid or cannot
// come back (a broadcast the backend refused, a disconnected coinbase):
// its effects are undone (unwindTx) and wallet transactions spending its
// outputs are removed too. Called with mu held.
func (w *Wallet) removeTx(tx kvdb.RwTx, txid chainhash.Hash) error {
	r, err := getTxRec(tx, txid)
	if err != nil || r == nil {
		return err
	}
	if err := w.unwindTx(tx, r, func(child chainhash.Hash) error {
		return w.removeTx(tx, child)
	}); err != nil {
		return err
	}
	return deleteTxRec(tx, txid)
}

// unwindTx undoes a transaction's effects on the wallet: its outputs are
// dropped (after dropChild has dealt with each wallet transaction spending
// one) and the wallet outputs it spent are unspent again. Called with mu
// held.
func (w *Wallet) unwindTx(tx kvdb.RwTx, r *txRec, dropChild func(chainhash.Hash) error) error {
	txid := r.Tx.TxHash()
	utxos, spent := tx.ReadWriteBucket(bucketUtxos), tx.ReadWriteBucket(bucketSpent)
	for i := range r.Tx.TxOut {
		k := outpointKey(wire.OutPoint{Hash: txid, Index: uint32(i)})
		if v := spent.Get(k); v != nil {
			u, err := decodeUtxo(v, true)
			if err != nil {
				return err
			}
			if u.Spender != txid {
				if err := dropChild(u.Spender); err != nil {
					return err
				}
			}
		}
		if err := spent.Delete(k); err != nil {
			return err
		}
		if err := utxos.Delete(k); err != nil {
			return err
		}
		if err := tx.ReadWriteBucket(bucketLeases).Delete(k); err != nil {
			return err
		}
	}
	for _, in := range r.Tx.TxIn {
		k := outpointKey(in.PreviousOutPoint)
		v := spent.Get(k)
		if v == nil {
			continue
		}
		u, err := decodeUtxo(v, true)
		if err != nil {
			return err
		}
		if u.Spender != txid {
			continue
		}
		if err := utxos.Put(k, u.encode(false)); err != nil {
			return err
		}
		if err := spent.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// sortParentsFirst orders transactions so that each comes after those of
// the set it spends.
func sortParentsFirst(txs []*wire.MsgTx) []*wire.MsgTx {
	byID := make(map[chainhash.Hash]*wire.MsgTx, len(txs))
	for _, t := range txs {
		byID[t.TxHash()] = t
	}
	done := make(map[chainhash.Hash]bool, len(txs))
	var out []*wire.MsgTx
	var visit func(t *wire.MsgTx)
	visit = func(t *wire.MsgTx) {
		id := t.TxHash()
		if done[id] {
			return
		}
		done[id] = true
		for _, in := range t.TxIn {
			if p, ok := byID[in.PreviousOutPoint.Hash]; ok {
				visit(p)
			}
		}
		out = append(out, t)
	}
	for _, t := range txs {
		visit(t)
	}
	return out
}
