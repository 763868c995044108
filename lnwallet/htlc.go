package lnwallet

import (
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
)

// This file builds the second-stage HTLC transactions of BOLT 3
// "HTLC-Timeout and HTLC-Success Transactions".

// newSecondLevelTx builds the unsigned HTLC-timeout (offered HTLC) or
// HTLC-success (received HTLC) transaction spending htlc's output of
// owner's commitment at prevOut. It returns the transaction and its
// output's witness script.
func newSecondLevelTx(p *ChannelParams, owner Party, keys *CommitmentKeys,
	prevOut wire.OutPoint, htlc *CommitHTLC,
	rate chain.SatPerKWeight) (*wire.MsgTx, []byte, error) {

	script, err := ToLocalScript(keys.RevocationKey, keys.ToLocalKey,
		p.config(owner).CsvDelay)
	if err != nil {
		return nil, nil, err
	}

	amount := htlc.Amount()
	tx := wire.NewMsgTx(2)
	if htlc.Offered {
		amount -= HTLCTimeoutFee(p.Type, rate)
		tx.LockTime = htlc.CltvExpiry
	} else {
		amount -= HTLCSuccessFee(p.Type, rate)
	}
	var sequence uint32
	if p.Type.HasAnchors() {
		sequence = 1
	}
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: prevOut, Sequence: sequence})
	tx.AddTxOut(wire.NewTxOut(int64(amount), WitnessScriptHash(script)))
	return tx, script, nil
}

// RemoteHTLCSigHashType is the sighash type of the signatures the
// non-owner gives for the owner's HTLC transactions: with anchors
// SIGHASH_SINGLE|SIGHASH_ANYONECANPAY, so that the owner can add inputs
// and outputs to pay the fee; otherwise SIGHASH_ALL.
func RemoteHTLCSigHashType(t ChannelType) txscript.SigHashType {
	if t.HasAnchors() {
		return txscript.SigHashSingle | txscript.SigHashAnyOneCanPay
	}
	return txscript.SigHashAll
}
