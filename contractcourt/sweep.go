package contractcourt

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet"
)

// ErrUneconomical is returned when the outputs of a sweep are worth less
// than its fee plus the dust limit of the output.
var ErrUneconomical = errors.New("contractcourt: sweep worth less than its fee")

// errNoReplacement is returned when the fee a sweep may pay (its budget)
// is too low to replace the one it would replace.
var errNoReplacement = errors.New("contractcourt: budget too low to replace the sweep")

// sweepDustLimit is the smallest output a sweep creates (P2WSH dust,
// enough for any script the wallet hands out).
const sweepDustLimit btcutil.Amount = 330

// dummySigLen is the longest DER signature plus the sighash byte, for
// weighing a transaction before it is signed.
const dummySigLen = 73

// feeFunc returns the fee of a sweep of the given weight, or an error
// when no acceptable fee exists.
type feeFunc func(weight int64) (btcutil.Amount, error)

// buildSweep spends inputs to pkScript, paying fee(weight), signed with
// signer. lockTime is the current height (no input needs more).
func buildSweep(inputs []*input, pkScript []byte, fee feeFunc,
	lockTime uint32, signer lnwallet.Signer) (*wire.MsgTx, btcutil.Amount, error) {

	if len(inputs) == 0 {
		return nil, 0, errors.New("contractcourt: nothing to sweep")
	}
	tx := wire.NewMsgTx(2)
	tx.LockTime = lockTime
	var total btcutil.Amount
	for _, in := range inputs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: in.out.OutPoint,
			Sequence: in.sequence})
		total += in.out.Amount
	}
	tx.AddTxOut(wire.NewTxOut(0, pkScript))

	// Weigh it with signatures of the longest length.
	for i, in := range inputs {
		tx.TxIn[i].Witness = in.witness(make([]byte, dummySigLen))
	}
	paid, err := fee(weight(tx))
	if err != nil {
		return nil, 0, err
	}
	if total-paid < sweepDustLimit {
		return nil, 0, fmt.Errorf("%w: %v in, fee %v", ErrUneconomical,
			total, paid)
	}
	tx.TxOut[0].Value = int64(total - paid)

	for i, in := range inputs {
		desc := *in.desc
		desc.InputIndex = i
		desc.HashType = txscript.SigHashAll
		desc.Value = in.out.Amount
		sig, err := signer.SignOutputRaw(tx, &desc)
		if err != nil {
			return nil, 0, fmt.Errorf("sign %v input %v: %w",
				in.out.Kind, in.out.OutPoint, err)
		}
		tx.TxIn[i].Witness = in.witness(lnwallet.ScriptSig(sig,
			txscript.SigHashAll))
	}
	return tx, paid, nil
}

// inputWeight is the weight in adds to a transaction: its outpoint,
// sequence and empty script, and its witness with a signature of the
// longest length.
func inputWeight(in *input) int64 {
	const nonWitness = 32 + 4 + 1 + 4
	return nonWitness*4 + int64(in.witness(make([]byte, dummySigLen)).SerializeSize())
}
