package contractcourt

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet"
)

// This file undoes what a reorg takes out of the chain (BOLT 5: "MUST be
// prepared to resolve outputs multiple times"). Nothing is final until
// the last transaction resolving a contract is FinalDepth deep: until
// then the funding output and every output stay watched.
//
//   - The closing commitment reorged out: the contract goes back to
//     waiting for a spend of the funding output (which may now be another
//     commitment, or a cooperative close), its outputs and closed-channel
//     summary dropped; our commitment, or the peer's current one, is sent
//     again every block until one confirms (after a revoked one, ours).
//   - An output's spend reorged out: the output is unspent again, the
//     outputs of the reorged transaction (an HTLC transaction's) are
//     dropped, our sweep or justice transaction is sent again as signed,
//     or rebuilt by the sweeper, and our HTLC transactions are sent again
//     at the next block. CSV maturities are counted from the height of
//     whatever confirms next.
//   - A preimage taken from a reorged spend stays known: it is valid
//     whatever the chain, and the upstream HTLC settled with it stays
//     settled.

// fundingReorged handles the reorg of the spend of op's funding output.
func (c *Court) fundingReorged(op wire.OutPoint) {
	if err := c.handleFundingReorg(op); err != nil {
		c.log.Error("Reorged closing transaction not undone",
			"chan_point", op, "err", err)
	}
}

func (c *Court) handleFundingReorg(op wire.OutPoint) error {
	if _, ok := c.coopSeen[op]; ok {
		delete(c.coopSeen, op)
		c.log.Warn("Cooperative closing transaction reorged out; "+
			"watching the funding output again", "chan_point", op)
	}
	rec, err := c.fetch(op)
	if err != nil || rec == nil || rec.Resolved || rec.CloseHeight == 0 {
		return err
	}
	txid, height := rec.CloseTx.TxHash(), rec.CloseHeight
	if err := c.unclose(rec); err != nil {
		return err
	}
	if rec.Kind == channeldb.ContractBreach {
		// The revoked commitment is the cheater's to publish again;
		// ours closes the channel should it not come back (it
		// conflicts with it, so cannot displace it from a mempool).
		if err := c.switchToOurs(rec); err != nil {
			c.log.Error("Our commitment not built", "chan_point", op,
				"err", err)
		}
	}
	c.log.Warn("Closing transaction reorged out; waiting for the funding "+
		"output to be spent again", "chan_point", op, "kind", rec.Kind,
		"txid", txid, "height", height)
	c.rebroadcastClose(rec)
	return nil
}

// unclose takes rec back to waiting for its closing transaction: its
// outputs, their watches and the closed-channel summary go. The sweep
// history stays.
func (c *Court) unclose(rec *channeldb.ContractRecord) error {
	for _, o := range rec.Outputs {
		c.unwatchOutput(o.OutPoint)
	}
	rec.CloseHeight, rec.Outputs = 0, nil
	rec.SweepTx, rec.SweepFeeRate, rec.SweepHeight = nil, 0, 0
	delete(c.waiting, rec.ChanPoint)
	delete(c.bumps, rec.ChanPoint)
	c.resend[rec.ChanPoint] = true
	return c.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutContract(tx, rec); err != nil {
			return err
		}
		return channeldb.DeleteClosedChannel(tx, rec.ChanPoint)
	})
}

// switchToOurs makes our current commitment of rec's channel the one
// rec waits for.
func (c *Court) switchToOurs(rec *channeldb.ContractRecord) error {
	// The state machine takes a copy: rec keeps the state as it went
	// to chain.
	raw, err := channeldb.EncodeOpenChannel(rec.Channel)
	if err != nil {
		return err
	}
	st, err := channeldb.DecodeOpenChannel(raw)
	if err != nil {
		return err
	}
	src, err := c.cfg.Secrets(st.RevocationRoot)
	if err != nil {
		return err
	}
	ch, err := lnwallet.NewChannel(st, lnwallet.Config{Signer: c.cfg.Signer,
		Secrets: src})
	if err != nil {
		return err
	}
	tx, err := ch.LocalCommitTx()
	if err != nil {
		return err
	}
	if tx.TxHash() != rec.Channel.LocalCommit.TxID {
		return fmt.Errorf("built %v, our commitment is %v", tx.TxHash(),
			rec.Channel.LocalCommit.TxID)
	}
	rec.Kind, rec.CommitNum, rec.CloseTx = channeldb.ContractLocalCommit,
		rec.Channel.LocalCommit.Number, tx
	return c.put(rec)
}

// outputReorged handles the reorg of the spend of output op.
func (c *Court) outputReorged(chanPoint, op wire.OutPoint) {
	if err := c.handleOutputReorg(chanPoint, op); err != nil {
		c.log.Error("Reorged output spend not undone", "outpoint", op,
			"err", err)
	}
}

func (c *Court) handleOutputReorg(chanPoint, op wire.OutPoint) error {
	rec, err := c.fetch(chanPoint)
	if err != nil || rec == nil || rec.Resolved || rec.CloseHeight == 0 {
		return err
	}
	o := findOutput(rec, op)
	if o == nil || !o.Resolved() {
		return nil
	}
	spender := o.SpentBy
	c.unspend(rec, o)
	// Our sweep goes out again once all its inputs are reported
	// unspent (each comes on its own).
	resend := rec.SweepTx != nil && rec.SweepTx.TxHash() == spender
	for _, x := range rec.Outputs {
		resend = resend && x.SpentBy != spender
	}
	if resend {
		// Sent again now: not a stale sweep to replace yet.
		rec.SweepHeight = uint32(max(c.height, 0))
	}
	if err := c.put(rec); err != nil {
		return err
	}
	c.log.Warn("Spend of a contract output reorged out; resolving it "+
		"again", "chan_point", chanPoint, "outpoint", op, "txid", spender)
	if resend {
		what := "sweep"
		if rec.Kind == channeldb.ContractBreach {
			what = "justice transaction"
		}
		c.broadcast(rec.SweepTx, what)
	}
	// The sweeper builds a sweep if none is on its way, and sends our
	// HTLC transactions again.
	return c.sweep(rec)
}

// unspend marks o unspent and drops the outputs of the transaction that
// had spent it (an HTLC transaction's), with their watches and a sweep
// spending them.
func (c *Court) unspend(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) {
	spender := o.SpentBy
	o.SpentBy, o.SpentHeight = chainhash.Hash{}, 0
	kept := rec.Outputs[:0]
	for _, x := range rec.Outputs {
		if x.OutPoint.Hash != spender {
			kept = append(kept, x)
			continue
		}
		c.unwatchOutput(x.OutPoint)
		if rec.SweepTx != nil && spends(rec.SweepTx, x.OutPoint) {
			rec.SweepTx = nil
		}
	}
	rec.Outputs = kept
}

// unwatchOutput drops the spend registration of op.
func (c *Court) unwatchOutput(op wire.OutPoint) {
	if cancel, ok := c.outWatch[op]; ok {
		cancel()
		delete(c.outWatch, op)
	}
}

// finalDepth reports whether a transaction confirmed at height is deep
// enough to be final.
func (c *Court) finalDepth(height uint32) bool {
	return int64(c.height)-int64(height)+1 >= int64(c.cfg.FinalDepth)
}

// finalize marks rec resolved once every output is spent and the last
// resolving transaction is FinalDepth deep: the closed-channel summary is
// then final and the watches go. It reports whether it did.
func (c *Court) finalize(rec *channeldb.ContractRecord) (bool, error) {
	if rec.Resolved || rec.CloseHeight == 0 || len(rec.Unresolved()) > 0 {
		return false, nil
	}
	last := rec.CloseHeight
	for _, o := range rec.Outputs {
		last = max(last, o.SpentHeight)
	}
	if !c.finalDepth(last) {
		return false, nil
	}
	rec.Resolved, rec.SweepTx = true, nil
	err := c.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutContract(tx, rec); err != nil {
			return err
		}
		return channeldb.MarkChannelFullyResolved(tx, rec.ChanPoint)
	})
	if err != nil {
		return false, fmt.Errorf("mark %v resolved: %w", rec.ChanPoint, err)
	}
	crashpoint.Hit(crashpoint.ContractFinal)
	c.unwatchFunding(rec.ChanPoint)
	for _, o := range rec.Outputs {
		c.unwatchOutput(o.OutPoint)
	}
	c.log.Info("Channel fully resolved", "chan_point", rec.ChanPoint,
		"last_height", last, "depth", c.cfg.FinalDepth)
	return true, nil
}

// finalizeAll finalizes every contract deep enough, and stops watching
// the funding outputs of cooperative closes that are.
func (c *Court) finalizeAll() {
	for op, h := range c.coopSeen {
		if c.finalDepth(uint32(max(h, 0))) {
			delete(c.coopSeen, op)
			c.unwatchFunding(op)
		}
	}
	recs, err := c.Contracts()
	if err != nil {
		c.log.Error("Contracts not read", "err", err)
		return
	}
	for _, rec := range recs {
		if _, err := c.finalize(rec); err != nil {
			c.log.Error("Contract not finalized", "chan_point",
				rec.ChanPoint, "err", err)
		}
	}
}

// moveClose records that rec's closing transaction, seen again, is now
// at height (a reorg while the node was down moved it): CSV maturities
// count from there.
func (c *Court) moveClose(rec *channeldb.ContractRecord, height int32) error {
	if rec.Resolved || height <= 0 || rec.CloseHeight == uint32(height) {
		return nil
	}
	c.log.Warn("Closing transaction moved to another block", "chan_point",
		rec.ChanPoint, "height", height, "was", rec.CloseHeight)
	rec.CloseHeight = uint32(height)
	return c.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutContract(tx, rec); err != nil {
			return err
		}
		return channeldb.PutClosedChannel(tx, closeSummary(rec))
	})
}

// moveSpend records that o's spend, seen again, is now at height, and
// so is every output of its transaction.
func (c *Court) moveSpend(rec *channeldb.ContractRecord, o *channeldb.ContractOutput,
	height int32) error {

	if rec.Resolved || height <= 0 || o.SpentHeight == uint32(height) {
		return nil
	}
	c.log.Warn("Spend of a contract output moved to another block",
		"outpoint", o.OutPoint, "txid", o.SpentBy, "height", height,
		"was", o.SpentHeight)
	o.SpentHeight = uint32(height)
	for i := range rec.Outputs {
		if rec.Outputs[i].OutPoint.Hash == o.SpentBy {
			rec.Outputs[i].ConfHeight = uint32(height)
		}
	}
	return c.put(rec)
}
