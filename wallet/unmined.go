package wallet

import (
	"context"
	"errors"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"

	"lnd.xprv/chain"
)

// Unconfirmed transactions that can no longer confirm. A wallet
// transaction fails when a conflicting transaction spends one of its
// inputs (failConflicts for blocks, addTx for the mempool), or when the
// backend has lost it and it cannot come back (checkUnmined). Failing
// undoes its effects, fails its descendants, and keeps it in the history.

// failTx marks an unconfirmed wallet transaction that can no longer
// confirm as failed (by, when known, is the transaction that conflicts
// with it): its effects are undone (unwindTx), wallet transactions
// spending its outputs fail with it, and the record stays, flagged, in the
// history. Called with mu held.
func (w *Wallet) failTx(tx kvdb.RwTx, txid, by chainhash.Hash) error {
	r, err := getTxRec(tx, txid)
	if err != nil || r == nil || r.Failed || r.Height != unconfirmed {
		return err
	}
	if err := w.unwindTx(tx, r, func(child chainhash.Hash) error {
		return w.failTx(tx, child, txid)
	}); err != nil {
		return err
	}
	r.Failed, r.FailedBy, r.FailedAt = true, by, w.now().Unix()
	w.log.Warn("wallet transaction failed: it can no longer confirm",
		"txid", txid, "conflict", by, "ours", r.Ours)
	return putTxRec(tx, r)
}

// checkUnmined follows the wallet's unconfirmed transactions in the
// backend, as Bitcoin Core's wallet does: those the backend has are seen;
// our own it lacks are broadcast again (one recorded just before a crash
// may never have left, a backend restart empties its mempool). One still
// missing after MempoolGrace has failed if an input is spent by another
// transaction or no longer exists (a double spend, in a block or in the
// mempool), or once missing for DropAfter although still valid (dropped by
// every mempool, as Core's expiry does). Failing releases its inputs and
// drops its outputs (failTx).
func (w *Wallet) checkUnmined(ctx context.Context) {
	var pending []*txRec
	err := w.db.View(func(tx kvdb.RTx) error {
		var err error
		pending, err = unminedTxs(tx)
		return err
	})
	if err != nil {
		w.log.Error("check unconfirmed transactions", "err", err)
		return
	}
	byID := make(map[chainhash.Hash]*txRec, len(pending))
	msgs := make([]*wire.MsgTx, 0, len(pending))
	for _, r := range pending {
		byID[r.Tx.TxHash()] = r
		msgs = append(msgs, r.Tx)
	}
	now := w.now()
	var seen, failed []chainhash.Hash
	// Parents before children: a child broadcast first would be an
	// orphan, and a child's fate follows its parent's.
	for _, msg := range sortParentsFirst(msgs) {
		r := byID[msg.TxHash()]
		switch alive, gone := w.followUnmined(ctx, r, byID, now); {
		case alive:
			seen = append(seen, msg.TxHash())
		case gone:
			failed = append(failed, msg.TxHash())
		}
	}
	if len(seen) == 0 && len(failed) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	err = w.db.Update(func(tx kvdb.RwTx) error {
		for _, id := range seen {
			r, err := getTxRec(tx, id)
			if err != nil {
				return err
			}
			if r != nil && r.Height == unconfirmed && !r.Failed {
				r.LastSeen = now.Unix()
				if err := putTxRec(tx, r); err != nil {
					return err
				}
			}
		}
		for _, id := range failed {
			if err := w.failTx(tx, id, chainhash.Hash{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.log.Error("record unconfirmed transactions' state", "err", err)
	}
}

// followUnmined asks the backend about one unconfirmed transaction:
// alive if it has it (or accepts it again), gone if it can no longer
// confirm. Neither: wait and ask again later.
func (w *Wallet) followUnmined(ctx context.Context, r *txRec,
	pending map[chainhash.Hash]*txRec, now time.Time) (alive, gone bool) {

	id := r.Tx.TxHash()
	_, err := w.cfg.Chain.RawTx(ctx, id)
	if err == nil {
		return true, false
	}
	if !errors.Is(err, chain.ErrTxNotFound) {
		w.log.Debug("look up unconfirmed transaction", "txid", id, "err", err)
		return false, false
	}
	var refusal error
	if r.Ours {
		err := w.cfg.Chain.Broadcast(ctx, r.Tx)
		if err == nil || errors.Is(err, chain.ErrTxAlreadyKnown) {
			w.log.Info("rebroadcast", "txid", id)
			return true, false
		}
		refusal = err
	}
	missing := now.Sub(time.Unix(r.LastSeen, 0))
	if missing < w.cfg.MempoolGrace {
		return false, false
	}
	conflicted, err := w.inputsGone(ctx, r.Tx, pending)
	if err != nil {
		w.log.Debug("check inputs of unconfirmed transaction", "txid", id, "err", err)
		return false, false
	}
	switch {
	case conflicted:
		return false, true
	case missing >= w.cfg.DropAfter:
		w.log.Warn("unconfirmed transaction missing from the backend for too long",
			"txid", id, "missing", missing, "refusal", refusal)
		return false, true
	}
	w.log.Info("unconfirmed transaction not in the backend's mempool, its "+
		"inputs still unspent; keeping it", "txid", id, "refusal", refusal)
	return false, false
}

// inputsGone reports whether an input of msg is spent by another
// transaction (confirmed or in the mempool) or does not exist. Inputs
// from the wallet's own unconfirmed transactions are not checked: a child
// fails with its parent.
func (w *Wallet) inputsGone(ctx context.Context, msg *wire.MsgTx,
	pending map[chainhash.Hash]*txRec) (bool, error) {

	for _, in := range msg.TxIn {
		if _, ok := pending[in.PreviousOutPoint.Hash]; ok {
			continue
		}
		out, err := w.cfg.Chain.UnspentOutput(ctx, in.PreviousOutPoint, true)
		if err != nil {
			return false, err
		}
		if out == nil {
			return true, nil
		}
	}
	return false, nil
}

// failConflicts fails every unconfirmed wallet transaction that a block
// transaction double-spends, whether or not the input is the wallet's (an
// incoming payment whose sender spent the same coins elsewhere is found
// here; addTx finds those that spend the wallet's outputs). Called with mu
// held.
func (w *Wallet) failConflicts(tx kvdb.RwTx, blk *wire.MsgBlock) error {
	pending, err := unminedTxs(tx)
	if err != nil || len(pending) == 0 {
		return err
	}
	// Several unconfirmed transactions may spend one outpoint (a
	// replacement and the transaction it replaced): keep them all.
	spends := make(map[wire.OutPoint][]chainhash.Hash)
	for _, r := range pending {
		id := r.Tx.TxHash()
		for _, in := range r.Tx.TxIn {
			spends[in.PreviousOutPoint] = append(spends[in.PreviousOutPoint], id)
		}
	}
	for _, msg := range blk.Transactions {
		if blockchain.IsCoinBaseTx(msg) {
			continue
		}
		id := msg.TxHash()
		for _, in := range msg.TxIn {
			for _, other := range spends[in.PreviousOutPoint] {
				if other == id {
					continue
				}
				if err := w.failTx(tx, other, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
