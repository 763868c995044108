package contractcourt

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
)

// ErrUneconomical is returned when the outputs of a sweep are worth less
// than its fee plus the dust limit of the output.
var ErrUneconomical = errors.New("contractcourt: sweep worth less than its fee")

// sweepDustLimit is the smallest output a sweep creates (P2WSH dust,
// enough for any script the wallet hands out).
const sweepDustLimit btcutil.Amount = 330

// dummySigLen is the longest DER signature plus the sighash byte, for
// weighing a transaction before it is signed.
const dummySigLen = 73

// buildSweep spends inputs to pkScript at rate, signed with signer.
// lockTime is the current height (no input needs more).
func buildSweep(inputs []*input, pkScript []byte, rate chainfee.SatPerKWeight,
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
	weight := int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize())
	fee := rate.FeeForWeight(weight)
	if total-fee < sweepDustLimit {
		return nil, 0, fmt.Errorf("%w: %v in, fee %v at %v", ErrUneconomical,
			total, fee, rate)
	}
	tx.TxOut[0].Value = int64(total - fee)

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
	return tx, fee, nil
}
