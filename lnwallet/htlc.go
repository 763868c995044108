package lnwallet

import (
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/chainfee"
)

// This file builds the second-stage HTLC transactions of BOLT 3
// "HTLC-Timeout and HTLC-Success Transactions".

// newSecondLevelTx builds the unsigned HTLC-timeout (offered HTLC) or
// HTLC-success (received HTLC) transaction spending htlc's output at
// prevOut, paying to pkScript: the P2WSH of the owner's to_local-style
// script, which is the same for every HTLC of a commitment.
func newSecondLevelTx(t ChannelType, prevOut wire.OutPoint, htlc *CommitHTLC,
	rate chainfee.SatPerKWeight, pkScript []byte) *wire.MsgTx {

	amount := htlc.Amount()
	tx := wire.NewMsgTx(2)
	if htlc.Offered {
		amount -= HTLCTimeoutFee(t, rate)
		tx.LockTime = htlc.CltvExpiry
	} else {
		amount -= HTLCSuccessFee(t, rate)
	}
	var sequence uint32
	if t.HasAnchors() {
		sequence = 1
	}
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: prevOut, Sequence: sequence})
	tx.AddTxOut(wire.NewTxOut(int64(amount), pkScript))
	return tx
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
