package contractcourt

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
)

// SecretsFunc returns our per-commitment secrets of a channel from its
// revocation root.
type SecretsFunc func(root channeldb.KeyLocator) (lnwallet.SecretSource, error)

// contract is a record with the keys of its commitment derived: what
// every input spending one of its outputs is built from.
type contract struct {
	rec  *channeldb.ContractRecord
	p    lnwallet.ChannelParams
	keys *lnwallet.CommitmentKeys

	// revSecret is the per-commitment secret of a revoked commitment:
	// the tweak of our revocation basepoint (breach only).
	revSecret *btcec.PrivateKey

	// commit is the closing commitment rebuilt from the stored state,
	// with its HTLC outputs; nil when the state is not one we know.
	commit *lnwallet.Commitment

	// preimage looks up the preimage of a payment hash.
	preimage PreimageFunc
}

// PreimageFunc returns the preimage of a payment hash, if known.
type PreimageFunc func(hash [32]byte) ([32]byte, bool)

// errNoPreimage is returned for an HTLC we cannot claim yet.
var errNoPreimage = errors.New("contractcourt: preimage unknown")

// newContract derives the keys of rec's commitment.
func newContract(rec *channeldb.ContractRecord, secrets SecretsFunc,
	preimage PreimageFunc) (*contract, error) {

	st := rec.Channel
	c := &contract{rec: rec, p: lnwallet.ParamsOf(st), preimage: preimage}
	if c.preimage == nil {
		c.preimage = func([32]byte) ([32]byte, bool) { return [32]byte{}, false }
	}
	if err := c.p.Validate(); err != nil {
		return nil, err
	}
	owner, point := lnwallet.Remote, st.RemoteCurrentPoint
	switch rec.Kind {
	case channeldb.ContractLocalCommit:
		src, err := secrets(st.RevocationRoot)
		if err != nil {
			return nil, err
		}
		s, err := src.ForCommitment(rec.CommitNum)
		if err != nil {
			return nil, err
		}
		owner, point = lnwallet.Local, lnwallet.CommitPoint(s)
	case channeldb.ContractRemotePending:
		point = st.RemoteNextPoint
	case channeldb.ContractBreach:
		idx, err := shachain.IndexForCommitment(rec.CommitNum)
		if err != nil {
			return nil, err
		}
		s, err := st.RevocationStore.LookUp(idx)
		if err != nil {
			return nil, fmt.Errorf("secret of revoked commitment %d: %w",
				rec.CommitNum, err)
		}
		c.revSecret, _ = btcec.PrivKeyFromBytes(s[:])
		point = lnwallet.CommitPoint(s)
	}
	if point == nil {
		return nil, fmt.Errorf("no per-commitment point for %v %d",
			rec.Kind, rec.CommitNum)
	}
	c.keys = lnwallet.DeriveCommitmentKeys(&c.p, owner, point)
	c.rebuild(owner, point)
	return c, nil
}

// rebuild sets c.commit to the closing commitment rebuilt from the
// stored state, if it is the one that confirmed.
func (c *contract) rebuild(owner lnwallet.Party, point *btcec.PublicKey) {
	st := c.rec.Channel
	var v *channeldb.ChannelCommitment
	switch c.rec.Kind {
	case channeldb.ContractLocalCommit:
		v = &st.LocalCommit
	case channeldb.ContractRemoteCommit:
		v = &st.RemoteCommit
	case channeldb.ContractRemotePending:
		if st.PendingRemote == nil {
			return
		}
		v = &st.PendingRemote.Commitment
	default:
		return
	}
	commit, err := lnwallet.CommitmentOf(st, owner, v, point)
	if err != nil || commit.Tx.TxHash() != c.rec.CloseTx.TxHash() {
		return
	}
	c.commit = commit
}

// outputs lists what is ours to take from the closing transaction. The
// balances are found by their scripts, rebuilt from our keys, and HTLCs
// by their recorded index checked against the script: nothing stored
// about the layout is trusted blindly (the first commitment's layout is
// not recorded by every funding flow).
func (c *contract) outputs(revoked *channeldb.RevocationLogEntry) ([]channeldb.ContractOutput, error) {
	outs, err := c.commitOutputs(revoked)
	if err != nil || !c.p.Type.HasAnchors() {
		return outs, err
	}
	// Our anchor, on whichever commitment confirmed (both carry one
	// keyed to our funding key, when we have an output or HTLCs).
	return c.byScript(outs, channeldb.OutputAnchor, 0)
}

// commitOutputs lists the balances and HTLCs of the closing transaction
// that are ours to take.
func (c *contract) commitOutputs(revoked *channeldb.RevocationLogEntry) ([]channeldb.ContractOutput, error) {
	st := c.rec.Channel
	var remoteCSV uint32
	if c.p.Type.HasAnchors() {
		remoteCSV = 1
	}
	switch c.rec.Kind {
	case channeldb.ContractLocalCommit:
		outs, err := c.byScript(nil, channeldb.OutputToLocal,
			uint32(st.LocalConfig.CsvDelay))
		if err != nil {
			return nil, err
		}
		return c.htlcOutputs(outs, channeldb.OutputLocalHTLCTimeout,
			channeldb.OutputLocalHTLCSuccess, 0)
	case channeldb.ContractRemoteCommit, channeldb.ContractRemotePending:
		outs, err := c.byScript(nil, channeldb.OutputToRemote, remoteCSV)
		if err != nil {
			return nil, err
		}
		return c.htlcOutputs(outs, channeldb.OutputHTLCTimeout,
			channeldb.OutputHTLCSuccess, remoteCSV)
	case channeldb.ContractBreach:
		return c.breachOutputs(revoked, remoteCSV)
	}
	return nil, fmt.Errorf("unknown %v", c.rec.Kind)
}

// htlcOutputs appends the HTLC outputs of the rebuilt commitment: ours
// to time out (offered) or to claim (received), each checked against the
// transaction.
func (c *contract) htlcOutputs(outs []channeldb.ContractOutput, timeout,
	success channeldb.OutputKind, csv uint32) ([]channeldb.ContractOutput, error) {

	if c.commit == nil {
		return outs, nil
	}
	tx := c.rec.CloseTx
	for _, h := range c.commit.HTLCs {
		kind := timeout
		if h.Incoming {
			kind = success
		}
		o := channeldb.ContractOutput{
			OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: h.OutputIndex},
			Amount:   h.Amount(), Kind: kind, CSV: csv, Incoming: h.Incoming,
			PaymentHash: h.PaymentHash, CltvExpiry: h.CltvExpiry,
		}
		if int(h.OutputIndex) >= len(tx.TxOut) ||
			!equalScript(tx.TxOut[h.OutputIndex].PkScript,
				lnwallet.WitnessScriptHash(h.WitnessScript)) {

			return nil, fmt.Errorf("HTLC output %d does not match "+
				"the commitment", h.OutputIndex)
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// byScript appends to outs the output of the closing transaction paying
// kind's script, if there is one.
func (c *contract) byScript(outs []channeldb.ContractOutput, kind channeldb.OutputKind,
	csv uint32) ([]channeldb.ContractOutput, error) {

	tx := c.rec.CloseTx
	probe := channeldb.ContractOutput{Kind: kind, CSV: csv}
	in, err := c.input(&probe)
	if err != nil {
		return nil, err
	}
	for i, out := range tx.TxOut {
		if equalScript(out.PkScript, in.pkScript) {
			probe.OutPoint = wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}
			probe.Amount = btcutil.Amount(out.Value)
			return append(outs, probe), nil
		}
	}
	return outs, nil
}

// breachOutputs lists every output of a revoked commitment.
func (c *contract) breachOutputs(e *channeldb.RevocationLogEntry,
	remoteCSV uint32) ([]channeldb.ContractOutput, error) {

	if e == nil {
		return nil, fmt.Errorf("breach of commitment %d without its "+
			"revocation log", c.rec.CommitNum)
	}
	outs, err := c.byScript(nil, channeldb.OutputToRemote, remoteCSV)
	if err != nil {
		return nil, err
	}
	if outs, err = c.byScript(outs, channeldb.OutputRevokedToLocal, 0); err != nil {
		return nil, err
	}
	tx := c.rec.CloseTx
	for i := range e.HTLCs {
		h := &e.HTLCs[i]
		o := channeldb.ContractOutput{
			OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: h.OutputIndex},
			Amount:   h.Amount, Kind: channeldb.OutputRevokedHTLC,
			Incoming: h.Incoming, PaymentHash: h.PaymentHash,
			CltvExpiry: h.CltvExpiry,
		}
		in, err := c.input(&o)
		if err != nil {
			return nil, err
		}
		idx := int(h.OutputIndex)
		if idx >= len(tx.TxOut) || tx.TxOut[idx].Value != int64(h.Amount) ||
			!equalScript(tx.TxOut[idx].PkScript, in.pkScript) {

			return nil, fmt.Errorf("revoked HTLC output %d does not "+
				"match the commitment", idx)
		}
		outs = append(outs, o)
	}
	return outs, nil
}

func equalScript(a, b []byte) bool { return string(a) == string(b) }

// input is how one output is spent.
type input struct {
	out      *channeldb.ContractOutput
	pkScript []byte
	desc     *lnwallet.SignDescriptor
	witness  func(sig []byte) wire.TxWitness
	sequence uint32
}

// input describes how to spend o with our keys.
func (c *contract) input(o *channeldb.ContractOutput) (*input, error) {
	st, k := c.rec.Channel, c.keys
	local := &c.p.Local
	in := &input{out: o, sequence: o.CSV}
	var (
		script []byte
		err    error
	)
	switch o.Kind {
	case channeldb.OutputToLocal, channeldb.OutputSecondLevel:
		script, err = lnwallet.ToLocalScript(k.RevocationKey, k.ToLocalKey,
			st.LocalConfig.CsvDelay)
		in.desc = &lnwallet.SignDescriptor{PubKey: local.DelayedPaymentBasePoint,
			SingleTweak: lnwallet.SingleTweak(k.CommitPoint,
				local.DelayedPaymentBasePoint)}
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.ToLocalDelayedWitness(script, sig)
		}
	case channeldb.OutputToRemote:
		return c.toRemoteInput(in)
	case channeldb.OutputRevokedToLocal, channeldb.OutputRevokedSecondLevel:
		script, err = lnwallet.ToLocalScript(k.RevocationKey, k.ToLocalKey,
			st.RemoteConfig.CsvDelay)
		in.desc = c.revocationDesc()
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.ToLocalRevokeWitness(script, sig)
		}
	case channeldb.OutputRevokedHTLC:
		anchors := c.p.Type.HasAnchors()
		// On the peer's commitment, an HTLC it offered is one we
		// received.
		if o.Incoming {
			script, err = lnwallet.OfferedHTLCScript(k.RevocationKey,
				k.LocalHtlcKey, k.RemoteHtlcKey, o.PaymentHash, anchors)
		} else {
			script, err = lnwallet.ReceivedHTLCScript(k.RevocationKey,
				k.LocalHtlcKey, k.RemoteHtlcKey, o.PaymentHash,
				o.CltvExpiry, anchors)
		}
		in.desc = c.revocationDesc()
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.HTLCRevokeWitness(script, sig, k.RevocationKey)
		}
	case channeldb.OutputHTLCTimeout, channeldb.OutputHTLCSuccess:
		return c.remoteHTLCInput(in)
	case channeldb.OutputAnchor:
		// Our funding key's path, which has no delay.
		script, err = lnwallet.AnchorScript(local.FundingKey)
		in.desc = &lnwallet.SignDescriptor{PubKey: local.FundingKey}
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.AnchorWitness(script, sig)
		}
	default:
		return nil, fmt.Errorf("cannot spend %v", o.Kind)
	}
	if err != nil {
		return nil, err
	}
	if (o.Kind == channeldb.OutputRevokedToLocal ||
		o.Kind == channeldb.OutputRevokedHTLC ||
		o.Kind == channeldb.OutputRevokedSecondLevel) && c.revSecret == nil {

		return nil, fmt.Errorf("%v outside a breach", o.Kind)
	}
	in.desc.WitnessScript = script
	in.desc.Value = o.Amount
	in.pkScript = lnwallet.WitnessScriptHash(script)
	return in, nil
}

// remoteHTLCInput spends an HTLC of the peer's commitment with our HTLC
// key: one we offered after it expired, one they offered with its
// preimage.
func (c *contract) remoteHTLCInput(in *input) (*input, error) {
	o, k := in.out, c.keys
	anchors := c.p.Type.HasAnchors()
	base := c.p.Local.HtlcBasePoint
	in.desc = &lnwallet.SignDescriptor{PubKey: base,
		SingleTweak: lnwallet.SingleTweak(k.CommitPoint, base), Value: o.Amount}
	var (
		script []byte
		err    error
	)
	if o.Kind == channeldb.OutputHTLCTimeout {
		// Ours, so received by the commitment's owner.
		script, err = lnwallet.ReceivedHTLCScript(k.RevocationKey,
			k.LocalHtlcKey, k.RemoteHtlcKey, o.PaymentHash, o.CltvExpiry,
			anchors)
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.ReceivedHTLCRemoteTimeoutWitness(script, sig)
		}
	} else {
		script, err = lnwallet.OfferedHTLCScript(k.RevocationKey,
			k.LocalHtlcKey, k.RemoteHtlcKey, o.PaymentHash, anchors)
		pre, ok := c.preimage(o.PaymentHash)
		if !ok {
			return nil, errNoPreimage
		}
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.OfferedHTLCRemoteSuccessWitness(script, sig, pre)
		}
	}
	if err != nil {
		return nil, err
	}
	in.desc.WitnessScript = script
	in.pkScript = lnwallet.WitnessScriptHash(script)
	return in, nil
}

// payFee adds what pays an HTLC transaction's fee (zero-fee HTLC
// transactions of option_anchors) to tx, whose expected weight is
// weight, and returns finish, which completes and publishes tx once our
// HTLC signature is in.
type payFee func(tx *wire.MsgTx, weight int64) (finish func(*wire.MsgTx) error, err error)

// htlcTx returns our signed HTLC-timeout or HTLC-success transaction of
// an HTLC output of our commitment. With pay (anchors), it adds the
// inputs paying the fee before our SIGHASH_ALL signature, the peer's
// SINGLE|ANYONECANPAY one allowing it, and publishes the result through
// pay's finish.
func (c *contract) htlcTx(o *channeldb.ContractOutput, signer lnwallet.Signer,
	pay payFee) (*wire.MsgTx, error) {

	if c.commit == nil {
		return nil, errors.New("commitment not rebuilt")
	}
	st := c.rec.Channel
	for i, h := range c.commit.HTLCs {
		if h.OutputIndex != o.OutPoint.Index {
			continue
		}
		if i >= len(st.LocalCommit.HtlcSigs) {
			return nil, fmt.Errorf("no peer signature for HTLC output %d",
				h.OutputIndex)
		}
		remote, err := st.LocalCommit.HtlcSigs[i].ToSignature()
		if err != nil {
			return nil, err
		}
		var pre [32]byte
		if h.Incoming {
			var ok bool
			if pre, ok = c.preimage(h.PaymentHash); !ok {
				return nil, errNoPreimage
			}
		}
		if pay == nil {
			local, err := lnwallet.SignHTLC(signer, &c.p, c.commit, i)
			if err != nil {
				return nil, err
			}
			return lnwallet.SignedHTLCTx(&c.p, c.commit, i, remote, local, pre)
		}
		return c.fundedHTLCTx(&c.commit.HTLCs[i], remote, pre, signer, pay)
	}
	return nil, fmt.Errorf("no HTLC at output %d", o.OutPoint.Index)
}

// fundedHTLCTx builds a zero-fee HTLC transaction with pay's inputs and
// signs it.
func (c *contract) fundedHTLCTx(h *lnwallet.CommitHTLC, remote *ecdsa.Signature,
	pre [32]byte, signer lnwallet.Signer, pay payFee) (*wire.MsgTx, error) {

	tx := h.SecondLevelTx.Copy()
	weight := int64(lnwallet.AnchorHTLCTimeoutWeight)
	if !h.Offered {
		weight = lnwallet.AnchorHTLCSuccessWeight
	}
	finish, err := pay(tx, weight)
	if err != nil {
		return nil, err
	}
	base := c.p.Local.HtlcBasePoint
	sig, err := signer.SignOutputRaw(tx, &lnwallet.SignDescriptor{
		PubKey: base, SingleTweak: lnwallet.SingleTweak(c.keys.CommitPoint, base),
		WitnessScript: h.WitnessScript, Value: h.Amount(),
		HashType: txscript.SigHashAll, InputIndex: 0,
	})
	if err != nil {
		return nil, err
	}
	rs := lnwallet.ScriptSig(remote, lnwallet.RemoteHTLCSigHashType(c.p.Type))
	ls := lnwallet.ScriptSig(sig, txscript.SigHashAll)
	if h.Offered {
		tx.TxIn[0].Witness = lnwallet.HTLCTimeoutWitness(h.WitnessScript, rs, ls)
	} else {
		tx.TxIn[0].Witness = lnwallet.HTLCSuccessWitness(h.WitnessScript, rs, ls, pre)
	}
	if err := finish(tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// revocationDesc signs with our revocation basepoint tweaked by the
// revoked commitment's secret.
func (c *contract) revocationDesc() *lnwallet.SignDescriptor {
	return &lnwallet.SignDescriptor{PubKey: c.p.Local.RevocationBasePoint,
		DoubleTweak: c.revSecret}
}

// toRemoteInput spends our to_remote of the peer's commitment: our
// payment basepoint (option_static_remotekey), behind a 1-block CSV with
// anchors.
func (c *contract) toRemoteInput(in *input) (*input, error) {
	if !c.p.Type.StaticRemoteKey() {
		return nil, fmt.Errorf("to_remote of a %v channel", c.p.Type)
	}
	key := c.p.Local.PaymentBasePoint
	in.desc = &lnwallet.SignDescriptor{PubKey: key, Value: in.out.Amount}
	if c.p.Type.HasAnchors() {
		script, err := lnwallet.ToRemoteAnchorScript(key)
		if err != nil {
			return nil, err
		}
		in.desc.WitnessScript = script
		in.pkScript = lnwallet.WitnessScriptHash(script)
		in.witness = func(sig []byte) wire.TxWitness {
			return lnwallet.ToRemoteAnchorWitness(script, sig)
		}
		return in, nil
	}
	// P2WPKH: the script code is the equivalent P2PKH script.
	hash := btcutil.Hash160(key.SerializeCompressed())
	code, err := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).
		AddOp(txscript.OP_HASH160).AddData(hash).
		AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	if err != nil {
		return nil, err
	}
	in.desc.WitnessScript = code
	in.pkScript = lnwallet.WitnessPubKeyHash(key)
	in.witness = func(sig []byte) wire.TxWitness {
		return lnwallet.ToRemoteP2WPKHWitness(key, sig)
	}
	return in, nil
}

// storedPreimages looks a payment hash up among the preimages the switch
// learnt downstream (a forwarded HTLC settled off chain or claimed on
// chain), then through next (nil: nothing more is known).
func storedPreimages(db *channeldb.DB, next PreimageFunc, log *slog.Logger) PreimageFunc {
	return func(hash [32]byte) ([32]byte, bool) {
		var (
			p  [32]byte
			ok bool
		)
		if db != nil {
			err := db.View(func(tx kvdb.RTx) error {
				var err error
				p, ok, err = channeldb.FetchPreimage(tx, hash)
				return err
			})
			if err != nil {
				log.Error("Preimage not read", "payment_hash",
					fmt.Sprintf("%x", hash), "err", err)
			}
			if ok {
				return p, true
			}
		}
		if next == nil {
			return [32]byte{}, false
		}
		return next(hash)
	}
}
