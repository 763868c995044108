package contractcourt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
)

// ForceClose records our signed commitment for the channel st (whose
// link the caller stopped) and broadcasts it. The record is written, and
// the open channel removed, before the broadcast: after a crash the
// commitment is sent again.
func (c *Court) ForceClose(ctx context.Context, st *channeldb.OpenChannel,
	commitTx *wire.MsgTx) (chainhash.Hash, error) {

	var err error
	if e := c.do(func() { err = c.forceClose(st, commitTx) }); e != nil {
		return chainhash.Hash{}, e
	}
	return commitTx.TxHash(), err
}

func (c *Court) forceClose(st *channeldb.OpenChannel, commitTx *wire.MsgTx) error {
	op := st.FundingOutpoint
	if commitTx.TxHash() != st.LocalCommit.TxID {
		return fmt.Errorf("force close %v: transaction is not our "+
			"current commitment", op)
	}
	rec := &channeldb.ContractRecord{ChanPoint: op,
		Kind: channeldb.ContractLocalCommit, CommitNum: st.LocalCommit.Number,
		CloseTx: commitTx, Channel: st}
	err := c.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if _, err := channeldb.FetchContract(tx, op); err == nil {
			return fmt.Errorf("%w: %v", ErrAlreadyClosing, op)
		}
		if err := channeldb.PutContract(tx, rec); err != nil {
			return err
		}
		return channeldb.DeleteOpenChannel(tx, op)
	})
	if err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.ForceCloseRecorded)
	c.log.Info("Force closing", "chan_point", op, "txid", commitTx.TxHash())
	c.watchFunding(st)
	c.broadcast(commitTx, "commitment")
	crashpoint.Hit(crashpoint.ForceCloseBroadcast)
	return nil
}

// fundingSpent handles the spend of a channel's funding output.
func (c *Court) fundingSpent(op wire.OutPoint, d *chain.SpendDetail) {
	// The spend's block is in the chain even if its epoch is still on
	// its way.
	c.height = max(c.height, d.SpendingHeight)
	if err := c.handleFundingSpend(op, d); err != nil {
		c.log.Error("Funding spend not resolved", "chan_point", op,
			"txid", d.SpenderTxHash, "err", err)
	}
}

func (c *Court) handleFundingSpend(op wire.OutPoint, d *chain.SpendDetail) error {
	if c.cfg.ChannelClosing != nil {
		c.cfg.ChannelClosing(op)
	}
	rec, err := c.fetch(op)
	if err != nil {
		return err
	}
	var st *channeldb.OpenChannel
	switch {
	case rec != nil && rec.CloseHeight != 0 && rec.CloseTx.TxHash() == d.SpenderTxHash:
		// Seen before: a restart registered again. At another
		// height if a reorg moved it while the node was down.
		if !rec.Resolved {
			c.handUnclaimable(rec)
		}
		return c.moveClose(rec, d.SpendingHeight)
	case rec != nil && rec.CloseHeight != 0:
		// Another transaction: a reorg we did not see (the node was
		// down) replaced ours. Undo, then take the new one.
		if rec.Resolved {
			return fmt.Errorf("final contract %v: funding output "+
				"now spent by %v", op, d.SpenderTxHash)
		}
		if err := c.unclose(rec); err != nil {
			return err
		}
		st = rec.Channel
	case rec != nil:
		st = rec.Channel
	default:
		st, err = c.cfg.DB.FetchOpenChannel(op)
		if err != nil {
			return err
		}
	}
	key := channeldb.ChannelKey(op)
	cl, err := Classify(st, d.SpendingTx, func(n uint64) (*channeldb.RevocationLogEntry, error) {
		var e *channeldb.RevocationLogEntry
		err := c.cfg.DB.View(func(tx kvdb.RTx) error {
			var err error
			e, err = channeldb.FetchRevocationLog(tx, key, n)
			return err
		})
		return e, err
	})
	if err != nil {
		return err
	}
	c.log.Info("Funding output spent", "chan_point", op, "kind", cl.Kind,
		"txid", d.SpenderTxHash, "height", d.SpendingHeight)
	// The funding spend stays watched until final: a reorg may take it
	// out.
	switch cl.Kind {
	case SpendCooperative:
		c.coopSeen[op] = d.SpendingHeight
		if c.cfg.CooperativeClose != nil {
			c.cfg.CooperativeClose(op, d)
		}
		return nil
	case SpendUnknown:
		// A state we do not know (our data is behind): what can
		// still be taken is our to_remote, found by its script.
		return c.recordClose(st, d, &Classified{Kind: SpendRemote,
			CommitNum: cl.CommitNum}, rec)
	}
	return c.recordClose(st, d, cl, rec)
}

// recordClose writes the contract of a confirmed commitment, closes the
// channel, and starts resolving the outputs. prev is the record it
// replaces (our force close waiting, or a close a reorg took out), nil if
// none: its sweep history is kept.
func (c *Court) recordClose(st *channeldb.OpenChannel, d *chain.SpendDetail,
	cl *Classified, prev *channeldb.ContractRecord) error {

	op := st.FundingOutpoint
	rec := &channeldb.ContractRecord{ChanPoint: op,
		Kind: cl.Kind.contractKind(), CommitNum: cl.CommitNum,
		CloseTx: d.SpendingTx, CloseHeight: uint32(d.SpendingHeight),
		Channel: st}
	if prev != nil {
		rec.Sweeps = prev.Sweeps
	}
	ct, err := newContract(rec, c.cfg.Secrets, c.cfg.Preimage)
	if err != nil {
		return err
	}
	// A state we do not know (unknown) is handled as the peer's: our
	// to_remote is found by its script all the same.
	rec.Outputs, err = ct.outputs(cl.Revoked)
	if err != nil {
		return err
	}
	sum := closeSummary(rec)
	err = c.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutContract(tx, rec); err != nil {
			return err
		}
		err := channeldb.DeleteOpenChannel(tx, op)
		if err != nil && !errors.Is(err, channeldb.ErrChannelNotFound) {
			return err
		}
		return channeldb.PutClosedChannel(tx, sum)
	})
	if err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.CommitmentConfirmed)
	c.closed(op)
	c.handUnclaimable(rec)
	if len(rec.Outputs) == 0 {
		c.fullyResolved(op) // nothing of ours to take
	}
	if rec.Kind == channeldb.ContractBreach {
		c.log.Warn("Breach: the peer broadcast a revoked commitment; "+
			"taking every output", "chan_point", op,
			"commitment", rec.CommitNum, "outputs", len(rec.Outputs))
		crashpoint.Hit(crashpoint.BreachDetected)
	}
	for i := range rec.Outputs {
		c.watchOutput(op, &rec.Outputs[i], int32(rec.CloseHeight))
	}
	if _, err := c.finalize(rec); err != nil {
		return err
	}
	c.sweepAll()
	return nil
}

// closeSummary is the closed-channel summary of a contract.
func closeSummary(rec *channeldb.ContractRecord) *channeldb.ChannelCloseSummary {
	st := rec.Channel
	s := &channeldb.ChannelCloseSummary{ChanPoint: rec.ChanPoint,
		ShortChanID: st.ShortChannelID, RemotePub: st.RemoteNode,
		Capacity: st.Capacity, ClosingTxID: rec.CloseTx.TxHash(),
		CloseHeight: rec.CloseHeight, CloseType: rec.Kind.CloseType(),
		IsPending: true}
	for _, o := range rec.Outputs {
		if o.Kind == channeldb.OutputAnchor {
			continue
		}
		if o.CSV > 1 {
			s.TimeLockedBalance += o.Amount
		} else {
			s.SettledBalance += o.Amount
		}
	}
	return s
}

// watchOutput registers for the spend of one output to resolve.
func (c *Court) watchOutput(chanPoint wire.OutPoint, o *channeldb.ContractOutput,
	hint int32) {

	op := o.OutPoint
	if _, ok := c.outWatch[op]; ok {
		return
	}
	// Full-node backends need no script; the notifier takes nil.
	c.outWatch[op] = func() {} // taken; the registration fills it in
	c.registerSpend(chain.SpendRequest{OutPoint: op, HeightHint: hint},
		func(ev *chain.SpendEvent) {
			c.outWatch[op] = ev.Cancel
			c.forward(ev, func(d *chain.SpendDetail) { c.outputSpent(chanPoint, op, d) },
				func() { c.outputReorged(chanPoint, op) })
		}, func(err error) {
			delete(c.outWatch, op)
			c.log.Error("Output not watched", "outpoint", op, "err", err)
		})
}

// outputSpent records the spend of a contract output: by our sweep, or
// by the peer (a cheater's HTLC transaction, whose output is then taken
// in turn).
func (c *Court) outputSpent(chanPoint, op wire.OutPoint, d *chain.SpendDetail) {
	c.height = max(c.height, d.SpendingHeight)
	if err := c.handleOutputSpend(chanPoint, op, d); err != nil {
		c.log.Error("Output spend not recorded", "outpoint", op, "err", err)
	}
}

func (c *Court) handleOutputSpend(chanPoint, op wire.OutPoint, d *chain.SpendDetail) error {
	rec, err := c.fetch(chanPoint)
	if err != nil || rec == nil {
		return err
	}
	o := findOutput(rec, op)
	if o == nil || rec.Resolved {
		// Not ours to follow, or final: a spend in flight when its
		// watch was dropped.
		return nil
	}
	if o.SpentBy == d.SpenderTxHash {
		// Seen before: a restart registered again. At another
		// height if a reorg moved it while the node was down.
		if err := c.replayTimeout(rec, chanPoint, o); err != nil {
			return err
		}
		return c.moveSpend(rec, o, d.SpendingHeight)
	}
	if o.Resolved() {
		// Spent by another transaction: a reorg we did not see (the
		// node was down) replaced it. Undo, then take the new one.
		spender := o.SpentBy
		c.unspend(rec, o)
		if o = findOutput(rec, op); o == nil {
			return fmt.Errorf("output %v gone with the spend %v", op, spender)
		}
	}
	o.SpentBy, o.SpentHeight = d.SpenderTxHash, uint32(d.SpendingHeight)
	ours := false
	for _, h := range rec.Sweeps {
		ours = ours || h == d.SpenderTxHash
	}
	c.log.Info("Contract output spent", "chan_point", chanPoint, "kind", o.Kind,
		"outpoint", op, "by", d.SpenderTxHash, "ours", ours)
	var follow *channeldb.ContractOutput
	switch o.Kind {
	case channeldb.OutputRevokedHTLC:
		if !ours {
			follow, err = c.secondLevel(rec, d, channeldb.OutputRevokedSecondLevel, 0)
		}
	case channeldb.OutputLocalHTLCTimeout, channeldb.OutputLocalHTLCSuccess:
		// Our HTLC transaction pays our delayed to_local script.
		follow, err = c.secondLevel(rec, d, channeldb.OutputSecondLevel,
			uint32(rec.Channel.LocalConfig.CsvDelay))
	}
	if err != nil {
		return err
	}
	if follow != nil {
		rec.Outputs = append(rec.Outputs, *follow)
	}
	if !ours && follow == nil && !o.Incoming && (o.Kind == channeldb.OutputHTLCTimeout ||
		o.Kind == channeldb.OutputLocalHTLCTimeout) {

		// Handed on before the output is recorded as spent: should
		// it fail, the spend is handled again after a restart.
		if err := c.takePreimage(chanPoint, o, d); err != nil {
			return err
		}
	}
	if timedOut(o, ours, follow) {
		// As a preimage: handed on before the spend is recorded.
		if err := c.handTimeout(rec, chanPoint, o); err != nil {
			return fmt.Errorf("contractcourt: fail upstream %x: %w",
				o.PaymentHash, err)
		}
	}
	conflicted := false
	if rec.SweepTx != nil && spends(rec.SweepTx, op) &&
		rec.SweepTx.TxHash() != d.SpenderTxHash {

		// Someone else's spend, or an earlier sweep of ours that
		// confirmed in the block that had us replace it: this sweep
		// can no longer confirm as built. A sweep of ours that
		// confirmed stays recorded, to be sent again should a reorg
		// take it out; once all its inputs are reported, the next
		// sweep starts afresh.
		rec.SweepTx, conflicted = nil, true
	}
	if err := c.put(rec); err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.OutputResolved)
	// The output stays watched until the contract is final: a reorg
	// may take this spend out.
	if follow != nil {
		c.log.Warn("HTLC transaction confirmed; taking its output",
			"chan_point", chanPoint, "outpoint", follow.OutPoint)
		c.watchOutput(chanPoint, follow, d.SpendingHeight)
	}
	if len(rec.Unresolved()) == 0 {
		// Every output of ours is settled: lnd's fully resolved
		// event (the record itself is final once deep enough).
		c.fullyResolved(chanPoint)
	}
	if done, err := c.finalize(rec); err != nil || done {
		return err
	}
	if !ours || conflicted || onlyAnchors(rec) {
		// The peer took an output (or an HTLC transaction of ours
		// confirmed, or a sweep of ours its replacement was built
		// on), or only our anchor is left: sweep (or abandon) what
		// is left now, not at the next block.
		return c.sweep(rec)
	}
	return nil
}

// secondLevel finds the output of the HTLC transaction d (the cheater's
// from a revoked commitment, or our own) paying kind's script, not yet
// known.
func (c *Court) secondLevel(rec *channeldb.ContractRecord, d *chain.SpendDetail,
	kind channeldb.OutputKind, csv uint32) (*channeldb.ContractOutput, error) {

	ct, err := newContract(rec, c.cfg.Secrets, c.cfg.Preimage)
	if err != nil {
		return nil, err
	}
	probe := &channeldb.ContractOutput{Kind: kind, CSV: csv,
		ConfHeight: uint32(d.SpendingHeight)}
	in, err := ct.input(probe)
	if err != nil {
		return nil, err
	}
	for i, out := range d.SpendingTx.TxOut {
		if !equalScript(out.PkScript, in.pkScript) {
			continue
		}
		o := wire.OutPoint{Hash: d.SpenderTxHash, Index: uint32(i)}
		known := false
		for _, x := range rec.Outputs {
			known = known || x.OutPoint == o
		}
		if !known {
			probe.OutPoint, probe.Amount = o, btcutil.Amount(out.Value)
			return probe, nil
		}
	}
	return nil, nil
}

// replayTimeout hands on again, when a restart reports a recorded spend
// once more, the timeout of an HTLC we offered: the switch may not have
// committed the upstream failure before the node stopped, and nothing but
// this record remembers it. A failure already committed changes nothing
// (FailFromChain finds no circuit).
func (c *Court) replayTimeout(rec *channeldb.ContractRecord, chanPoint wire.OutPoint,
	o *channeldb.ContractOutput) error {

	if (c.cfg.OnTimeout == nil && c.cfg.OnTimeoutHTLC == nil) || o.Incoming {
		return nil
	}
	ours := slices.Contains(rec.Sweeps, o.SpentBy)
	var follow *channeldb.ContractOutput
	for i := range rec.Outputs {
		if f := &rec.Outputs[i]; f.Kind == channeldb.OutputSecondLevel &&
			f.OutPoint.Hash == o.SpentBy {
			follow = f
		}
	}
	if !timedOut(o, ours, follow) {
		return nil
	}
	if err := c.handTimeout(rec, chanPoint, o); err != nil {
		return fmt.Errorf("contractcourt: fail upstream %x again: %w",
			o.PaymentHash, err)
	}
	return nil
}

// handTimeout hands on the timeout of o, an HTLC output we offered on
// rec's confirmed commitment: by the HTLC's id when the commitment says
// which HTLC pays to o (OnTimeoutHTLC), else by hash and amount
// (OnTimeout). The id matters for HTLCs of the same hash and amount (the
// shards of one payment): the peer may still claim the other one with
// the preimage, and its upstream HTLC must then be settled, not failed.
func (c *Court) handTimeout(rec *channeldb.ContractRecord, chanPoint wire.OutPoint,
	o *channeldb.ContractOutput) error {

	if c.cfg.OnTimeoutHTLC != nil {
		if id, ok := offeredHTLC(rec, o); ok {
			return c.cfg.OnTimeoutHTLC(chanPoint, id)
		}
	}
	if c.cfg.OnTimeout == nil {
		return nil
	}
	return c.cfg.OnTimeout(chanPoint, o.PaymentHash, o.Amount)
}

// timedOut reports whether the spend of o is our timeout of an HTLC we
// offered: our sweep of it from the peer's commitment, or our
// HTLC-timeout transaction (whose output we then follow) on ours.
func timedOut(o *channeldb.ContractOutput, ours bool, follow *channeldb.ContractOutput) bool {
	switch o.Kind {
	case channeldb.OutputHTLCTimeout:
		return ours
	case channeldb.OutputLocalHTLCTimeout:
		return follow != nil
	}
	return false
}

// takePreimage looks for the preimage of an HTLC we offered in the
// witness of the peer's claim, and hands it upstream: the incoming HTLC
// it pays for settles off chain.
func (c *Court) takePreimage(chanPoint wire.OutPoint, o *channeldb.ContractOutput,
	d *chain.SpendDetail) error {

	if int(d.SpenderInputIndex) >= len(d.SpendingTx.TxIn) {
		return nil
	}
	for _, item := range d.SpendingTx.TxIn[d.SpenderInputIndex].Witness {
		if len(item) != 32 || sha256.Sum256(item) != o.PaymentHash {
			continue
		}
		var pre [32]byte
		copy(pre[:], item)
		c.log.Info("Preimage taken from the chain", "outpoint", o.OutPoint,
			"payment_hash", fmt.Sprintf("%x", o.PaymentHash))
		if c.cfg.OnPreimage == nil {
			return nil
		}
		if err := c.cfg.OnPreimage(chanPoint, o.PaymentHash, pre); err != nil {
			return fmt.Errorf("contractcourt: hand on the preimage of %x: %w",
				o.PaymentHash, err)
		}
		return nil
	}
	return nil
}

// findOutput returns rec's output op, nil if it has none.
func findOutput(rec *channeldb.ContractRecord, op wire.OutPoint) *channeldb.ContractOutput {
	for i := range rec.Outputs {
		if rec.Outputs[i].OutPoint == op {
			return &rec.Outputs[i]
		}
	}
	return nil
}

// sweepDone reports whether every input of rec's sweep is resolved.
func sweepDone(rec *channeldb.ContractRecord) bool {
	for _, in := range rec.SweepTx.TxIn {
		for _, o := range rec.Outputs {
			if o.OutPoint == in.PreviousOutPoint && !o.Resolved() {
				return false
			}
		}
	}
	return true
}

// spends reports whether tx spends op.
func spends(tx *wire.MsgTx, op wire.OutPoint) bool {
	for _, in := range tx.TxIn {
		if in.PreviousOutPoint == op {
			return true
		}
	}
	return false
}
