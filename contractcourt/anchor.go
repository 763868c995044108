package contractcourt

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
)

// This file bumps our commitment with its anchor (option_anchors): a
// commitment's fee is fixed when it is signed, and may be too low when we
// need it confirmed. If ours stays unconfirmed for BumpAfter blocks below
// the fee rate the estimator asks now, a child spending our anchor and a
// wallet coin pays for both (CPFP).

// weight is a transaction's weight.
func weight(tx *wire.MsgTx) int64 {
	return int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize())
}

// cpfpAll bumps every commitment of ours still waiting.
func (c *Court) cpfpAll() {
	if c.cfg.AttachFee == nil {
		return
	}
	recs, err := c.Contracts()
	if err != nil {
		return
	}
	for _, rec := range recs {
		if rec.Resolved || rec.CloseHeight != 0 || rec.Kind != channeldb.ContractLocalCommit ||
			!lnwallet.ChannelType(rec.Channel.ChanType).HasAnchors() {
			continue
		}
		first, ok := c.waiting[rec.ChanPoint]
		if !ok {
			c.waiting[rec.ChanPoint] = c.height
			continue
		}
		if c.height-first < c.cfg.BumpAfter || c.height-c.cpfpAt[rec.ChanPoint] < c.cfg.BumpAfter {
			continue
		}
		if err := c.cpfp(rec); err != nil {
			c.log.Warn("Commitment not bumped", "chan_point", rec.ChanPoint, "err", err)
		}
	}
}

// cpfp spends our anchor of rec's commitment in a child that brings the
// package to the estimator's rate, if the commitment alone is below it.
func (c *Court) cpfp(rec *channeldb.ContractRecord) error {
	commit := rec.CloseTx
	p := lnwallet.ParamsOf(rec.Channel)
	script, err := lnwallet.AnchorScript(p.Local.FundingKey)
	if err != nil {
		return err
	}
	pkScript := lnwallet.WitnessScriptHash(script)
	idx := -1
	for i, o := range commit.TxOut {
		if equalScript(o.PkScript, pkScript) {
			idx = i
		}
	}
	if idx < 0 {
		return errors.New("our commitment has no anchor of ours")
	}
	ctx, cancel := context.WithTimeout(context.Background(), broadcastTimeout)
	defer cancel()
	rate, err := c.cfg.Fees.EstimateFeePerKW(ctx, c.cfg.ConfTarget)
	if err != nil {
		return err
	}
	rate = max(rate, c.cpfpRate[rec.ChanPoint]*5/4)
	var outSum btcutil.Amount
	for _, o := range commit.TxOut {
		outSum += btcutil.Amount(o.Value)
	}
	commitFee := rec.Channel.Capacity - outSum
	commitW := weight(commit)
	if commitFee >= rate.FeeForWeight(commitW) {
		return nil
	}
	// The child's own anchor input and output, weighed with a
	// signature; the wallet's part is priced by the wallet.
	anchorOut := commit.TxOut[idx]
	child := wire.NewMsgTx(2)
	child.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: commit.TxHash(),
		Index: uint32(idx)}, Sequence: wire.MaxTxInSequenceNum,
		Witness: lnwallet.AnchorWitness(script, make([]byte, dummySigLen))})
	need := rate.FeeForWeight(commitW+weight(child)) - commitFee - btcutil.Amount(anchorOut.Value)
	child.TxIn[0].Witness = nil
	finish, err := c.cfg.AttachFee(ctx, child, anchorOut, max(need, 0), rate)
	if err != nil {
		return err
	}
	if len(child.TxOut) == 0 {
		return errors.New("the wallet left no change output for the child")
	}
	sig, err := c.cfg.Signer.SignOutputRaw(child, &lnwallet.SignDescriptor{
		PubKey: p.Local.FundingKey, WitnessScript: script,
		Value: btcutil.Amount(anchorOut.Value), HashType: txscript.SigHashAll})
	if err != nil {
		return err
	}
	child.TxIn[0].Witness = lnwallet.AnchorWitness(script,
		lnwallet.ScriptSig(sig, txscript.SigHashAll))
	if err := finish(child); err != nil {
		return fmt.Errorf("publish anchor child: %w", err)
	}
	c.cpfpRate[rec.ChanPoint], c.cpfpAt[rec.ChanPoint] = rate, c.height
	c.log.Info("Commitment bumped through our anchor", "chan_point", rec.ChanPoint,
		"commitment_fee", commitFee, "sat_per_kw", rate, "child", child.TxHash())
	return nil
}
