package lnwallet

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// This file builds the mutual close transactions of BOLT 3 "Legacy Closing
// Transaction" (closing_signed) and "Closing Transaction"
// (option_simple_close).

// ErrNoOutputs is returned when a closing transaction would have no
// output left.
var ErrNoOutputs = errors.New("lnwallet: closing transaction has no outputs")

// ClosingOutput is one party's output of a closing transaction. A nil
// PkScript omits the output.
type ClosingOutput struct {
	PkScript []byte
	Amount   btcutil.Amount
}

// sortTxOuts orders plain outputs by value, then script.
func sortTxOuts(tx *wire.MsgTx) {
	outs := make([]output, len(tx.TxOut))
	for i, o := range tx.TxOut {
		outs[i] = output{txOut: o}
	}
	sortOutputs(outs)
	for i := range outs {
		tx.TxOut[i] = outs[i].txOut
	}
}

func checkAmount(a btcutil.Amount) error {
	if a < 0 || a > btcutil.MaxSatoshi {
		return fmt.Errorf("lnwallet: invalid output amount %d", a)
	}
	return nil
}

// NewLegacyClosingTx builds a closing_signed transaction. The amounts must
// already be rounded down to satoshis and have the fee taken from the
// opener's; outputs below dustLimit (the signer's own) are dropped, as is
// an output with a nil script (a party eliminating its own output).
func NewLegacyClosingTx(fundingOutpoint wire.OutPoint, local,
	remote ClosingOutput, dustLimit btcutil.Amount) (*wire.MsgTx, error) {

	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: fundingOutpoint,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	for _, o := range []ClosingOutput{local, remote} {
		if err := checkAmount(o.Amount); err != nil {
			return nil, err
		}
		if o.PkScript == nil || o.Amount < dustLimit {
			continue
		}
		tx.AddTxOut(wire.NewTxOut(int64(o.Amount), o.PkScript))
	}
	if len(tx.TxOut) == 0 {
		return nil, ErrNoOutputs
	}
	sortTxOuts(tx)
	return tx, nil
}

// LegacyClosingAmounts splits the channel for closing_signed: each
// balance rounded down to satoshis, the fee taken from the opener.
func LegacyClosingAmounts(p *ChannelParams, localBalanceMsat,
	remoteBalanceMsat uint64, fee btcutil.Amount) (local,
	remote btcutil.Amount, err error) {

	local = btcutil.Amount(localBalanceMsat / 1000)
	remote = btcutil.Amount(remoteBalanceMsat / 1000)
	opener := &local
	if !p.LocalIsOpener {
		opener = &remote
	}
	if fee < 0 || fee > *opener {
		return 0, 0, fmt.Errorf("lnwallet: closing fee %v exceeds "+
			"opener balance %v", fee, *opener)
	}
	*opener -= fee
	return local, remote, nil
}

// isOpReturn reports whether a script is an OP_RETURN output.
func isOpReturn(pkScript []byte) bool {
	return len(pkScript) > 0 && pkScript[0] == txscript.OP_RETURN
}

// NewClosingTx builds an option_simple_close transaction (closing_complete
// and closing_sig): the closer pays fee from its output, an OP_RETURN
// output carries zero value, and a nil script omits that party's output.
// Balances are in whole satoshis, already rounded down.
func NewClosingTx(fundingOutpoint wire.OutPoint, closer,
	closee ClosingOutput, fee btcutil.Amount,
	lockTime uint32) (*wire.MsgTx, error) {

	if err := checkAmount(fee); err != nil {
		return nil, err
	}
	tx := wire.NewMsgTx(2)
	tx.LockTime = lockTime
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: fundingOutpoint,
		Sequence:         wire.MaxTxInSequenceNum - 2,
	})
	if closer.PkScript != nil {
		amt := closer.Amount - fee
		if isOpReturn(closer.PkScript) {
			amt = 0
		}
		if err := checkAmount(amt); err != nil {
			return nil, fmt.Errorf("closer output: %w", err)
		}
		tx.AddTxOut(wire.NewTxOut(int64(amt), closer.PkScript))
	}
	if closee.PkScript != nil {
		amt := closee.Amount
		if isOpReturn(closee.PkScript) {
			amt = 0
		}
		if err := checkAmount(amt); err != nil {
			return nil, fmt.Errorf("closee output: %w", err)
		}
		tx.AddTxOut(wire.NewTxOut(int64(amt), closee.PkScript))
	}
	if len(tx.TxOut) == 0 {
		return nil, ErrNoOutputs
	}
	sortTxOuts(tx)
	return tx, nil
}
