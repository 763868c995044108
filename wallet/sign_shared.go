package wallet

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"
)

// SignedInput is the wallet's signature for one input of a transaction it
// shares with other signers (a PSBT funded in part by another wallet).
type SignedInput struct {
	Index int
	Type  AddressType
	// PrevOut is the wallet output the input spends.
	PrevOut *wire.TxOut
	// Witness spends the input: [signature, public key] for P2WPKH and
	// nested P2WPKH, [Schnorr signature] for a P2TR key path.
	Witness wire.TxWitness
	// RedeemScript is, for nested P2WPKH, the P2WPKH program the
	// input's scriptSig pushes; nil otherwise.
	RedeemScript []byte
}

// SignOwnInputs signs the inputs of msg that spend the wallet's unspent
// outputs and leaves the others alone; msg is not changed. prevOuts gives
// the output every other input spends: taproot signatures commit to all of
// them, so one missing is ErrMissingPrevOut. A given previous output of a
// wallet input must match the wallet's record (ErrPrevOutMismatch). Each
// signature is verified before it is returned.
func (w *Wallet) SignOwnInputs(msg *wire.MsgTx,
	prevOuts map[wire.OutPoint]*wire.TxOut) ([]SignedInput, error) {

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keys == nil {
		return nil, ErrLocked
	}
	var out []SignedInput
	err := w.db.View(func(tx kvdb.RTx) error {
		prevs, recs, err := w.sharedPrevOuts(tx, msg, prevOuts)
		if err != nil {
			return err
		}
		fetcher := txscript.NewMultiPrevOutFetcher(prevs)
		hashes := txscript.NewTxSigHashes(msg, fetcher)
		signed := msg.Copy()
		for i, u := range recs {
			if u == nil {
				continue
			}
			wit, sigScript, err := w.signInput(msg, hashes, i, u)
			if err != nil {
				return err
			}
			signed.TxIn[i].Witness, signed.TxIn[i].SignatureScript = wit, sigScript
			in := SignedInput{Index: i, Type: u.Deriv.Type, Witness: wit,
				PrevOut: wire.NewTxOut(int64(u.Value), u.PkScript)}
			if sigScript != nil {
				pushes, err := txscript.PushedData(sigScript)
				if err != nil || len(pushes) != 1 {
					return fmt.Errorf("input %d: scriptSig %x is not one push", i, sigScript)
				}
				in.RedeemScript = pushes[0]
			}
			out = append(out, in)
		}
		for _, s := range out {
			if err := verifyInput(signed, hashes, fetcher, s.Index, recs[s.Index]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sharedPrevOuts returns the previous output of every input of msg, and
// the wallet's record for each input that spends a wallet output (nil for
// the others).
func (w *Wallet) sharedPrevOuts(tx kvdb.RTx, msg *wire.MsgTx,
	given map[wire.OutPoint]*wire.TxOut) (map[wire.OutPoint]*wire.TxOut, []*utxoRec, error) {

	prevs := make(map[wire.OutPoint]*wire.TxOut, len(msg.TxIn))
	recs := make([]*utxoRec, len(msg.TxIn))
	for i, in := range msg.TxIn {
		op := in.PreviousOutPoint
		if _, dup := prevs[op]; dup {
			return nil, nil, fmt.Errorf("input %d spends %v twice", i, op)
		}
		theirs := given[op]
		v := tx.ReadBucket(bucketUtxos).Get(outpointKey(op))
		if v == nil {
			if theirs == nil {
				return nil, nil, fmt.Errorf("%w: input %d spends %v",
					ErrMissingPrevOut, i, op)
			}
			prevs[op] = theirs
			continue
		}
		u, err := decodeUtxo(v, false)
		if err != nil {
			return nil, nil, err
		}
		if theirs != nil && (theirs.Value != int64(u.Value) ||
			!bytes.Equal(theirs.PkScript, u.PkScript)) {
			return nil, nil, fmt.Errorf("%w: input %d spends %v", ErrPrevOutMismatch, i, op)
		}
		prevs[op] = wire.NewTxOut(int64(u.Value), u.PkScript)
		recs[i] = u
	}
	return prevs, recs, nil
}
