package contractcourt

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
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

// anchorCSV is the delay after which anyone may spend an anchor (BOLT 3
// "to_local_anchor and to_remote_anchor Output"): until then it is ours
// alone.
const anchorCSV = 16

// sweep builds, records and broadcasts the sweep of rec's mature
// outputs, if the current one is missing, stale or overdue.
//
// Our anchor is worth 330 sat, less than the fee of a sweep of its own
// at any usual rate. It joins a sweep of the contract's other outputs
// while only we can spend it (the first 16 blocks) and it brings more
// than its weight costs; it is swept alone only once nothing else of
// the contract is left and that pays, and otherwise abandoned then, so
// that the contract resolves without it.
func (c *Court) sweep(rec *channeldb.ContractRecord) error {
	var ready, anchors, htlcTxs []*channeldb.ContractOutput
	others := 0
	for _, o := range rec.Unresolved() {
		if o.Kind != channeldb.OutputAnchor {
			others++
		}
		switch {
		case !c.mature(rec, o):
		case secondLevel(o):
			htlcTxs = append(htlcTxs, o)
		case o.Kind == channeldb.OutputAnchor:
			anchors = append(anchors, o)
		default:
			ready = append(ready, o)
		}
	}
	if len(htlcTxs) > 0 {
		c.broadcastHTLCTxs(rec, htlcTxs)
	}
	if len(ready) == 0 && (others > 0 || len(anchors) == 0) {
		return nil
	}
	confirmed := rec.SweepTx
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
	alone := len(ready) == 0
	exclusive := int64(c.height)+1 < int64(rec.CloseHeight)+anchorCSV
	if !alone && !exclusive {
		anchors = nil
	}
	if len(anchors) == 0 && rec.SweepTx != nil && !c.sweepDue(rec, ready, feePlan{}) &&
		!hasDeadline(ready) {

		// Nothing to decide: spare the fee estimate.
		return nil
	}
	ct, err := newContract(rec, c.cfg.Secrets, c.cfg.Preimage)
	if err != nil {
		return err
	}
	plan, err := c.planFee(rec, append(append([]*channeldb.ContractOutput{}, ready...), anchors...))
	if err != nil {
		return err
	}
	inputs := make([]*input, 0, len(ready)+len(anchors))
	for _, o := range ready {
		in, err := ct.input(o)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	for _, o := range anchors {
		in, err := ct.input(o)
		if err != nil {
			return err
		}
		if alone || o.Amount > plan.start.FeeForWeight(inputWeight(in)) {
			inputs = append(inputs, in)
		}
	}
	chosen := make([]*channeldb.ContractOutput, len(inputs))
	for i, in := range inputs {
		chosen[i] = in.out
	}
	if !c.sweepDue(rec, chosen, plan) {
		return nil
	}
	delete(c.bumps, rec.ChanPoint)
	plan.budget = budgetOf(chosen)
	var pkScript []byte
	if rec.SweepTx != nil {
		pkScript = rec.SweepTx.TxOut[0].PkScript
	} else if pkScript, err = c.cfg.SweepScript(); err != nil {
		return err
	}
	tx, fee, err := buildSweep(inputs, pkScript, c.feeFor(rec, plan),
		uint32(c.height), c.cfg.Signer)
	switch {
	case alone && errors.Is(err, ErrUneconomical) &&
		(rec.SweepTx == nil || !spends(rec.SweepTx, anchors[0].OutPoint)):

		// No new sweep: the confirmed one stays recorded, to be
		// sent again should a reorg take it out.
		rec.SweepTx = confirmed
		return c.abandon(rec, anchors, err)
	case errors.Is(err, errNoReplacement):
		c.log.Debug("Sweep kept: its budget allows no replacement",
			"chan_point", rec.ChanPoint, "txid", rec.SweepTx.TxHash())
		return nil
	case err != nil:
		return err
	}
	rate := chain.SatPerKWeight(int64(fee) * 1000 / weight(tx))
	rec.SweepTx, rec.SweepFeeRate, rec.SweepHeight = tx, uint64(rate),
		c.tipHeight()
	rec.Sweeps = append(rec.Sweeps, tx.TxHash())
	if err := c.put(rec); err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.SweepRecorded)
	c.log.Info("Sweeping", "chan_point", rec.ChanPoint, "kind", rec.Kind,
		"inputs", len(inputs), "fee", fee, "sat_per_kw", rate,
		"budget", plan.budget, "deadline", plan.deadline, "txid", tx.TxHash())
	what := "sweep"
	if rec.Kind == channeldb.ContractBreach {
		what = "justice transaction"
		crashpoint.Hit(crashpoint.JusticeRecorded)
	}
	c.broadcast(tx, what)
	return nil
}

// tipHeight is the chain's tip as the backend reports it, or the last
// block the court handled if that is higher or the backend cannot say.
// A sweep is dated by it, not by the block being handled: blocks mined
// before the broadcast, which the court may still be catching up with,
// cannot confirm it and must not count toward replacing it.
func (c *Court) tipHeight() uint32 {
	h, err := c.cfg.BestHeight()
	if err != nil {
		return uint32(c.height)
	}
	return uint32(max(h, c.height))
}

// onlyAnchors reports whether our anchor is all that is left of rec.
func onlyAnchors(rec *channeldb.ContractRecord) bool {
	left := rec.Unresolved()
	for _, o := range left {
		if o.Kind != channeldb.OutputAnchor {
			return false
		}
	}
	return len(left) > 0
}

// hasDeadline reports whether one of outs has a deadline.
func hasDeadline(outs []*channeldb.ContractOutput) bool {
	for _, o := range outs {
		if o.Sweep.DeadlineHeight != 0 {
			return true
		}
	}
	return false
}

// sweepDue reports whether a sweep of chosen should be built now: there
// is none, it spends other inputs, a bump was asked for, or it is
// overdue (BumpAfter blocks; every block on a deadline, whose fee rate
// rises with each).
func (c *Court) sweepDue(rec *channeldb.ContractRecord, chosen []*channeldb.ContractOutput,
	plan feePlan) bool {

	if rec.SweepTx == nil || c.bumps[rec.ChanPoint] || !sameInputs(rec.SweepTx, chosen) {
		return true
	}
	age := c.height - int32(rec.SweepHeight)
	if plan.deadline != 0 {
		return age > 0
	}
	return age >= c.cfg.BumpAfter
}

// abandon gives up the anchors of rec, which cost more to sweep than they
// are worth: nothing else of the contract is left, so it is settled (and
// final once its last spend is deep enough).
func (c *Court) abandon(rec *channeldb.ContractRecord, anchors []*channeldb.ContractOutput,
	why error) error {

	for _, o := range anchors {
		o.Abandoned = true
	}
	if err := c.put(rec); err != nil {
		return err
	}
	for _, o := range anchors {
		c.log.Info("Anchor left on chain: not worth its sweep",
			"chan_point", rec.ChanPoint, "outpoint", o.OutPoint,
			"amount", o.Amount, "reason", why)
		c.unwatchOutput(o.OutPoint)
	}
	if len(rec.Unresolved()) == 0 {
		c.fullyResolved(rec.ChanPoint)
	}
	_, err := c.finalize(rec)
	return err
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
		rate, err := c.sweepRate(rec)
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
	crashpoint.Hit(crashpoint.HTLCTxPublished)
	c.funded[o.OutPoint] = tx
	c.log.Info("Sent", "what", o.Kind, "txid", tx.TxHash())
}

// sweepRate is the fee rate of a sweep outside the contract's own: the
// estimate for its deadline.
func (c *Court) sweepRate(rec *channeldb.ContractRecord) (chain.SatPerKWeight, error) {
	return c.estimate(rec, 0)
}

// estimate is the estimator's rate for target blocks (0: the contract's
// default target).
func (c *Court) estimate(rec *channeldb.ContractRecord, target uint32) (chain.SatPerKWeight, error) {
	if target == 0 {
		target = c.cfg.ConfTarget
		if rec.Kind == channeldb.ContractBreach {
			target = breachConfTarget
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), broadcastTimeout)
	defer cancel()
	rate, err := c.cfg.Fees.EstimateFeePerKW(ctx, target)
	if err != nil {
		return 0, fmt.Errorf("fee estimate: %w", err)
	}
	return rate, nil
}

// feePlan is what the fee of a sweep follows (lnd's fee function): a
// starting rate, rising to spend the whole budget by the deadline if
// there is one.
type feePlan struct {
	start        chain.SatPerKWeight
	budget       btcutil.Amount
	deadline     uint32
	deadlineFrom uint32
}

// planFee gathers the parameters of outs: the highest of their starting
// rates (the one asked for, else the estimate for the deadline, else for
// the default target) and the earliest deadline.
func (c *Court) planFee(rec *channeldb.ContractRecord, outs []*channeldb.ContractOutput) (feePlan, error) {
	var plan feePlan
	estimated := false
	for _, o := range outs {
		p := &o.Sweep
		plan.start = max(plan.start, chain.SatPerKWeight(p.StartRate))
		estimated = estimated || p.StartRate == 0
		if p.DeadlineHeight != 0 && (plan.deadline == 0 || p.DeadlineHeight < plan.deadline) {
			plan.deadline, plan.deadlineFrom = p.DeadlineHeight, p.StartHeight
		}
	}
	if !estimated {
		return plan, nil
	}
	var target uint32
	if plan.deadline != 0 {
		target = uint32(max(int64(plan.deadline)-int64(c.height), 1))
	}
	rate, err := c.estimate(rec, target)
	plan.start = max(plan.start, rate)
	return plan, err
}

// feeFor is the fee function of a sweep of rec following plan: the rate
// on the plan's curve, at least a valid replacement of the current sweep
// (a quarter more without a deadline, whose rate already rises), and
// never more than the budget.
func (c *Court) feeFor(rec *channeldb.ContractRecord, plan feePlan) feeFunc {
	return func(w int64) (btcutil.Amount, error) {
		rate := plan.start
		if plan.deadline != 0 {
			rate = curveRate(plan, w, uint32(max(c.height, 0)))
		}
		fee := min(rate.FeeForWeight(w), plan.budget)
		if rec.SweepTx == nil {
			return fee, nil
		}
		old := chain.SatPerKWeight(rec.SweepFeeRate)
		relay := c.cfg.Fees.RelayFeePerKW()
		step := max(old/4, relay)
		if plan.deadline != 0 {
			step = relay
		}
		fee = min(max(fee, (old+step).FeeForWeight(w)), plan.budget)
		// BIP 125: more than the old fee by the relay fee of the new.
		if fee < old.FeeForWeight(weight(rec.SweepTx))+relay.FeeForWeight(w) {
			return 0, errNoReplacement
		}
		return fee, nil
	}
}

// curveRate is the rate at height of a fee function rising linearly
// from plan's starting rate at its start height to the rate that spends
// the whole budget at the deadline.
func curveRate(plan feePlan, w int64, height uint32) chain.SatPerKWeight {
	end := chain.SatPerKWeight(int64(plan.budget) * 1000 / max(w, 1))
	if end <= plan.start || height >= plan.deadline || plan.deadline <= plan.deadlineFrom {
		return max(end, plan.start)
	}
	if height <= plan.deadlineFrom {
		return plan.start
	}
	span := int64(plan.deadline - plan.deadlineFrom)
	gone := int64(height - plan.deadlineFrom)
	return plan.start + chain.SatPerKWeight(int64(end-plan.start)*gone/span)
}

// DefaultBudget is the most an output's sweep may pay in fees unless
// BumpFee set another: its whole value for our anchor, half of it for
// any other output (lnd's defaults).
func DefaultBudget(o *channeldb.ContractOutput) btcutil.Amount {
	if o.Kind == channeldb.OutputAnchor {
		return o.Amount
	}
	return o.Amount / 2
}

// Budget is the budget of o's sweep: the one asked for, else the default.
func Budget(o *channeldb.ContractOutput) btcutil.Amount {
	if o.Sweep.Budget != 0 {
		return o.Sweep.Budget
	}
	return DefaultBudget(o)
}

// budgetOf sums the budgets of outs.
func budgetOf(outs []*channeldb.ContractOutput) btcutil.Amount {
	var b btcutil.Amount
	for _, o := range outs {
		b += Budget(o)
	}
	return b
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

// SweepRequest is what BumpFee asks of an output's sweep; zero fields
// keep the output's current parameters.
type SweepRequest struct {
	// Budget is the most the output's share of the fee may be.
	Budget btcutil.Amount
	// DeadlineDelta is the number of blocks, from now, by which the
	// sweep should confirm: its fee rate rises to spend the whole budget
	// by then.
	DeadlineDelta uint32
	// StartRate is the starting fee rate.
	StartRate chain.SatPerKWeight
	// Immediate replaces the sweep at once rather than at the next
	// block.
	Immediate bool
}

// Errors of BumpFee callers branch on.
var (
	// ErrDeadlineNoBudget is returned for a deadline without a budget:
	// the deadline spends the whole budget.
	ErrDeadlineNoBudget = errors.New("contractcourt: a deadline needs a budget")

	// ErrNotSweepable is returned for an output the sweeper does not
	// spend: one spent by our pre-signed HTLC transaction.
	ErrNotSweepable = errors.New("contractcourt: output is spent by a pre-signed transaction, not a sweep")
)

// closed and fullyResolved hand on a channel's close and its full
// resolution, once stored.
func (c *Court) closed(op wire.OutPoint) {
	if c.cfg.ChannelClosed != nil {
		c.cfg.ChannelClosed(op)
	}
}

func (c *Court) fullyResolved(op wire.OutPoint) {
	if c.cfg.ChannelResolved != nil {
		c.cfg.ChannelResolved(op)
	}
}

// BumpFee sets the fee parameters of the sweep of op (an output of a
// contract), stored so that a restart keeps them, and replaces the
// sweep at the next block, or at once with Immediate.
func (c *Court) BumpFee(op wire.OutPoint, req SweepRequest) error {
	if req.DeadlineDelta != 0 && req.Budget == 0 {
		return ErrDeadlineNoBudget
	}
	var err error
	if e := c.do(func() { err = c.bumpFee(op, req) }); e != nil {
		return e
	}
	return err
}

func (c *Court) bumpFee(op wire.OutPoint, req SweepRequest) error {
	rec, err := c.contractOf(op)
	if err != nil {
		return err
	}
	var o *channeldb.ContractOutput
	for _, u := range rec.Unresolved() {
		if u.OutPoint == op {
			o = u
		}
	}
	if secondLevel(o) {
		return fmt.Errorf("%w: %v", ErrNotSweepable, op)
	}
	if req.Budget != 0 {
		o.Sweep.Budget = req.Budget
	}
	if req.DeadlineDelta != 0 {
		o.Sweep.DeadlineHeight = uint32(c.height) + req.DeadlineDelta
		o.Sweep.StartHeight = uint32(c.height)
	}
	if req.StartRate != 0 {
		o.Sweep.StartRate = uint64(req.StartRate)
	}
	o.Sweep.Immediate = req.Immediate
	if err := c.put(rec); err != nil {
		return err
	}
	c.log.Info("Sweep parameters set", "outpoint", op, "budget", o.Sweep.Budget,
		"deadline", o.Sweep.DeadlineHeight, "start_sat_per_kw", o.Sweep.StartRate,
		"immediate", req.Immediate)
	c.bumps[rec.ChanPoint] = true
	if !req.Immediate {
		return nil
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
