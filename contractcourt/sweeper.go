package contractcourt

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

// This file is the sweeper: every block, the mature outputs of each
// contract are spent to the wallet in one transaction per channel, and a
// sweep still unconfirmed after BumpAfter blocks is replaced at a higher
// fee rate.

// sweepAll sweeps what is ready in every unresolved contract.
func (c *Court) sweepAll() {
	var recs []*channeldb.ContractRecord
	err := c.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		recs, err = channeldb.ListContracts(tx)
		return err
	})
	if err != nil {
		c.log.Error("Contracts not read", "err", err)
		return
	}
	for _, rec := range recs {
		if rec.Resolved || rec.CloseHeight == 0 {
			continue
		}
		if err := c.sweep(rec); err != nil {
			c.log.Warn("Sweep not made", "chan_point", rec.ChanPoint,
				"err", err)
		}
	}
}

// mature reports whether o can be spent in the next block: its CSV
// delay is over, an HTLC to time out has expired, an HTLC to claim has
// its preimage.
func (c *Court) mature(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) bool {
	switch o.Kind {
	case channeldb.OutputHTLCTimeout, channeldb.OutputLocalHTLCTimeout:
		if c.height < int32(o.CltvExpiry) {
			return false
		}
	case channeldb.OutputHTLCSuccess, channeldb.OutputLocalHTLCSuccess:
		if _, ok := c.cfg.Preimage(o.PaymentHash); !ok {
			return false
		}
	}
	if o.CSV == 0 {
		return true
	}
	return int64(c.height)+1 >= int64(maturity(rec, o))
}

// maturity is the height from which o's CSV delay lets it be in a block.
func maturity(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) uint32 {
	base := o.ConfHeight
	if base == 0 {
		base = rec.CloseHeight
	}
	return base + o.CSV
}

// secondLevel reports whether o is spent by a pre-signed HTLC
// transaction of our commitment rather than by a sweep.
func secondLevel(o *channeldb.ContractOutput) bool {
	return o.Kind == channeldb.OutputLocalHTLCTimeout ||
		o.Kind == channeldb.OutputLocalHTLCSuccess
}

// sweep builds, records and broadcasts the sweep of rec's mature
// outputs, if the current one is missing, stale or overdue.
func (c *Court) sweep(rec *channeldb.ContractRecord) error {
	var ready, htlcTxs []*channeldb.ContractOutput
	for _, o := range rec.Unresolved() {
		switch {
		case !c.mature(rec, o):
		case secondLevel(o):
			htlcTxs = append(htlcTxs, o)
		default:
			ready = append(ready, o)
		}
	}
	if len(htlcTxs) > 0 {
		c.broadcastHTLCTxs(rec, htlcTxs)
	}
	if len(ready) == 0 {
		return nil
	}
	if rec.SweepTx != nil && sweepDone(rec) {
		// Confirmed (kept only to be sent again after a reorg): the
		// next sweep starts afresh.
		rec.SweepTx = nil
	}
	if rec.SweepTx != nil {
		// A sweep that confirmed has its other spends on their way:
		// wait for them rather than build a conflicting one.
		id := rec.SweepTx.TxHash()
		for _, o := range rec.Outputs {
			if o.SpentBy == id {
				return nil
			}
		}
	}
	forced, bump := c.bumps[rec.ChanPoint]
	if rec.SweepTx != nil && !bump && sameInputs(rec.SweepTx, ready) &&
		c.height-int32(rec.SweepHeight) < c.cfg.BumpAfter {

		return nil
	}
	delete(c.bumps, rec.ChanPoint)
	rate, err := c.sweepRate(rec, forced)
	if err != nil {
		return err
	}
	ct, err := newContract(rec, c.cfg.Secrets, c.cfg.Preimage)
	if err != nil {
		return err
	}
	inputs := make([]*input, 0, len(ready))
	for _, o := range ready {
		in, err := ct.input(o)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	var pkScript []byte
	if rec.SweepTx != nil {
		pkScript = rec.SweepTx.TxOut[0].PkScript
	} else if pkScript, err = c.cfg.SweepScript(); err != nil {
		return err
	}
	tx, fee, err := buildSweep(inputs, pkScript, rate, uint32(c.height),
		c.cfg.Signer)
	if err != nil {
		return err
	}
	rec.SweepTx, rec.SweepFeeRate, rec.SweepHeight = tx, uint64(rate),
		uint32(c.height)
	rec.Sweeps = append(rec.Sweeps, tx.TxHash())
	if err := c.put(rec); err != nil {
		return err
	}
	c.log.Info("Sweeping", "chan_point", rec.ChanPoint, "kind", rec.Kind,
		"inputs", len(inputs), "fee", fee, "sat_per_kw", rate,
		"txid", tx.TxHash())
	what := "sweep"
	if rec.Kind == channeldb.ContractBreach {
		what = "justice transaction"
	}
	c.broadcast(tx, what)
	return nil
}

// broadcastHTLCTxs sends our signed HTLC-timeout and HTLC-success
// transactions of outs, every block until they confirm (they are
// rebuilt from the stored state, so nothing needs storing first).
func (c *Court) broadcastHTLCTxs(rec *channeldb.ContractRecord, outs []*channeldb.ContractOutput) {
	ct, err := newContract(rec, c.cfg.Secrets, c.cfg.Preimage)
	if err != nil {
		c.log.Error("HTLC transactions not built", "chan_point", rec.ChanPoint, "err", err)
		return
	}
	for _, o := range outs {
		if ct.p.Type.HasAnchors() {
			c.sendFundedHTLCTx(rec, ct, o)
			continue
		}
		tx, err := ct.htlcTx(o, c.cfg.Signer, nil)
		if err != nil {
			c.log.Error("HTLC transaction not built", "outpoint", o.OutPoint, "err", err)
			continue
		}
		c.broadcast(tx, o.Kind.String())
	}
}

// sendFundedHTLCTx sends the zero-fee HTLC transaction of o (anchors)
// with a wallet input paying its fee, once; later blocks send the same
// transaction again.
func (c *Court) sendFundedHTLCTx(rec *channeldb.ContractRecord, ct *contract,
	o *channeldb.ContractOutput) {

	if tx := c.funded[o.OutPoint]; tx != nil {
		c.broadcast(tx, o.Kind.String())
		return
	}
	if c.cfg.AttachFee == nil {
		c.log.Error("HTLC transaction of an anchors channel not sent: no "+
			"wallet to pay its fee", "outpoint", o.OutPoint)
		return
	}
	tx, err := ct.htlcTx(o, c.cfg.Signer, func(tx *wire.MsgTx, weight int64) (func(*wire.MsgTx) error, error) {
		rate, err := c.sweepRate(&channeldb.ContractRecord{Kind: rec.Kind}, 0)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), broadcastTimeout)
		defer cancel()
		prev := wire.NewTxOut(int64(o.Amount), rec.CloseTx.TxOut[o.OutPoint.Index].PkScript)
		return c.cfg.AttachFee(ctx, tx, prev, rate.FeeForWeight(weight), rate)
	})
	if err != nil {
		c.log.Error("HTLC transaction not sent", "outpoint", o.OutPoint, "err", err)
		return
	}
	c.funded[o.OutPoint] = tx
	c.log.Info("Sent", "what", o.Kind, "txid", tx.TxHash())
}

// sweepRate is the fee rate of a new sweep of rec: the estimate for its
// deadline, and when replacing a sweep at least a quarter (and the relay
// increment) above the one it replaces, as BIP 125 requires.
func (c *Court) sweepRate(rec *channeldb.ContractRecord, forced chain.SatPerKWeight) (chain.SatPerKWeight, error) {
	target := c.cfg.ConfTarget
	if rec.Kind == channeldb.ContractBreach {
		target = breachConfTarget
	}
	ctx, cancel := context.WithTimeout(context.Background(), broadcastTimeout)
	defer cancel()
	rate, err := c.cfg.Fees.EstimateFeePerKW(ctx, target)
	if err != nil {
		return 0, fmt.Errorf("fee estimate: %w", err)
	}
	rate = max(rate, forced)
	if rec.SweepTx != nil {
		old := chain.SatPerKWeight(rec.SweepFeeRate)
		rate = max(rate, old+max(old/4, c.cfg.Fees.RelayFeePerKW()))
	}
	return rate, nil
}

// sameInputs reports whether tx spends exactly outs.
func sameInputs(tx *wire.MsgTx, outs []*channeldb.ContractOutput) bool {
	if len(tx.TxIn) != len(outs) {
		return false
	}
	for _, o := range outs {
		if !spends(tx, o.OutPoint) {
			return false
		}
	}
	return true
}

// BumpFee replaces the sweep spending op (an output of a contract) at
// rate or more, at once.
func (c *Court) BumpFee(op wire.OutPoint, rate chain.SatPerKWeight) error {
	var err error
	if e := c.do(func() { err = c.bumpFee(op, rate) }); e != nil {
		return e
	}
	return err
}

func (c *Court) bumpFee(op wire.OutPoint, rate chain.SatPerKWeight) error {
	rec, err := c.contractOf(op)
	if err != nil {
		return err
	}
	c.bumps[rec.ChanPoint] = rate
	if rec.SweepTx != nil {
		// Make it overdue so that sweep replaces it.
		rec.SweepHeight = 0
	}
	return c.sweep(rec)
}

// contractOf finds the unresolved contract with output op.
func (c *Court) contractOf(op wire.OutPoint) (*channeldb.ContractRecord, error) {
	recs, err := c.Contracts()
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if rec.Resolved {
			continue
		}
		for _, o := range rec.Unresolved() {
			if o.OutPoint == op {
				return rec, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrNoSweep, op)
}

// Contracts returns every contract record.
func (c *Court) Contracts() ([]*channeldb.ContractRecord, error) {
	var recs []*channeldb.ContractRecord
	err := c.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		recs, err = channeldb.ListContracts(tx)
		return err
	})
	return recs, err
}

// Height is the chain height the court last saw.
func (c *Court) Height() int32 {
	var h int32
	if err := c.do(func() { h = c.height }); err != nil {
		return 0
	}
	return h
}

// Maturity is the height from which output o of rec can be swept.
func Maturity(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) uint32 {
	return maturity(rec, o)
}
