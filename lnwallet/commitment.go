package lnwallet

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/chainfee"
)

// HTLC is one HTLC committed to in a channel, described from our node's
// point of view.
type HTLC struct {
	// Incoming is true for an HTLC the peer offered us, false for one
	// we offered.
	Incoming bool

	// AmountMsat is amount_msat; outputs round it down to satoshis.
	AmountMsat uint64

	// PaymentHash is the HTLC's payment_hash.
	PaymentHash [32]byte

	// CltvExpiry is cltv_expiry.
	CltvExpiry uint32

	// ID is opaque to this package (the state machine's update id); it
	// is carried through to the commitment's HTLC list.
	ID uint64
}

// Amount returns the HTLC's value in whole satoshis, rounded down.
func (h *HTLC) Amount() btcutil.Amount {
	return btcutil.Amount(h.AmountMsat / 1000)
}

// CommitmentSpec is the channel state a commitment transaction encodes.
type CommitmentSpec struct {
	// Number is the 48-bit commitment number.
	Number uint64

	// FeeRate is feerate_per_kw.
	FeeRate chainfee.SatPerKWeight

	// LocalBalanceMsat and RemoteBalanceMsat are each party's balance
	// (our node = Local), not counting HTLCs in flight, before the
	// commitment fee and anchors are taken from the opener.
	LocalBalanceMsat  uint64
	RemoteBalanceMsat uint64

	// HTLCs are the HTLCs in flight.
	HTLCs []HTLC
}

// CommitmentKeys are the per-commitment keys of one commitment
// transaction. As in BOLT 3, "local" and "remote" here are relative to the
// commitment's owner, which need not be our node.
type CommitmentKeys struct {
	// CommitPoint is the owner's per_commitment_point.
	CommitPoint *btcec.PublicKey

	// ToLocalKey is local_delayedpubkey.
	ToLocalKey *btcec.PublicKey

	// ToRemoteKey is remotepubkey.
	ToRemoteKey *btcec.PublicKey

	// RevocationKey is revocationpubkey.
	RevocationKey *btcec.PublicKey

	// LocalHtlcKey and RemoteHtlcKey are local_htlcpubkey and
	// remote_htlcpubkey.
	LocalHtlcKey  *btcec.PublicKey
	RemoteHtlcKey *btcec.PublicKey

	// LocalFundingKey and RemoteFundingKey lock the two anchors.
	LocalFundingKey  *btcec.PublicKey
	RemoteFundingKey *btcec.PublicKey
}

// DeriveCommitmentKeys returns the keys of owner's commitment built with
// owner's per_commitment_point. p must have passed Validate and
// commitPoint must not be nil.
func DeriveCommitmentKeys(p *ChannelParams, owner Party,
	commitPoint *btcec.PublicKey) *CommitmentKeys {

	own, other := p.config(owner), p.config(owner.Other())
	k := &CommitmentKeys{
		CommitPoint:   commitPoint,
		ToLocalKey:    TweakPubKey(own.DelayedPaymentBasePoint, commitPoint),
		RevocationKey: DeriveRevocationPubKey(other.RevocationBasePoint, commitPoint),
		LocalHtlcKey:  TweakPubKey(own.HtlcBasePoint, commitPoint),
		RemoteHtlcKey: TweakPubKey(other.HtlcBasePoint, commitPoint),

		LocalFundingKey:  own.FundingKey,
		RemoteFundingKey: other.FundingKey,
	}
	if p.Type.StaticRemoteKey() {
		k.ToRemoteKey = other.PaymentBasePoint
	} else {
		k.ToRemoteKey = TweakPubKey(other.PaymentBasePoint, commitPoint)
	}
	return k
}

// CommitHTLC is an untrimmed HTLC output of a commitment transaction.
type CommitHTLC struct {
	HTLC

	// Offered is true if the commitment's owner offered the HTLC: its
	// output is then spent by an HTLC-timeout transaction, otherwise by
	// an HTLC-success transaction.
	Offered bool

	// OutputIndex is the HTLC's output in the commitment transaction.
	OutputIndex uint32

	// WitnessScript is the output's offered or received HTLC script.
	WitnessScript []byte

	// SecondLevelTx is the unsigned HTLC-timeout or HTLC-success
	// transaction that spends the output.
	SecondLevelTx *wire.MsgTx

	// SecondLevelScript is the witness script of SecondLevelTx's
	// output (revocation or the owner's delayed key).
	SecondLevelScript []byte
}

// Commitment is one party's commitment transaction at a given height, with
// everything needed to sign it, check signatures and spend its outputs.
type Commitment struct {
	// Owner is the party that can broadcast this transaction.
	Owner Party

	// Number is the commitment number.
	Number uint64

	// FeeRate is the feerate the transaction was built with.
	FeeRate chainfee.SatPerKWeight

	// Tx is the unsigned commitment transaction.
	Tx *wire.MsgTx

	// Keys are the per-commitment keys.
	Keys *CommitmentKeys

	// Fee is what the transaction actually pays: the base fee plus
	// trimmed HTLCs, dust balances and rounded-off millisatoshis.
	Fee btcutil.Amount

	// BaseFee is the BOLT 3 base fee the opener owes (anchors not
	// included).
	BaseFee btcutil.Amount

	// OpenerShortfall is how much the opener's balance fell short of
	// the base fee plus anchors; the state machine must not accept a
	// state where it is non-zero.
	OpenerShortfall btcutil.Amount

	// ToLocal and ToRemote are the owner's and the other party's
	// outputs; an index of -1 means the output was below the dust limit
	// and omitted.
	ToLocal, ToRemote           btcutil.Amount
	ToLocalIndex, ToRemoteIndex int
	ToLocalScript               []byte
	// ToRemoteScript is the witness script with anchors, the P2WPKH
	// output script otherwise.
	ToRemoteScript []byte

	// LocalAnchorIndex and RemoteAnchorIndex are the anchors of the
	// owner and the other party (-1 if absent); AnchorScripts holds
	// their witness scripts in the same order.
	LocalAnchorIndex, RemoteAnchorIndex int
	AnchorScripts                       [2][]byte

	// HTLCs are the untrimmed HTLC outputs in output order, which is the
	// order of htlc_signatures in commitment_signed.
	HTLCs []CommitHTLC

	// Trimmed are the HTLCs left out as dust.
	Trimmed []HTLC
}

// ErrBalanceOverflow is returned when balances and HTLCs exceed the
// channel capacity.
var ErrBalanceOverflow = errors.New("lnwallet: balances exceed capacity")

// output is a commitment output before sorting.
type output struct {
	txOut *wire.TxOut
	cltv  uint32
	kind  int // one of the outKind constants
	htlc  int // index into the untrimmed HTLC list for kindHTLC
}

const (
	kindToLocal = iota
	kindToRemote
	kindLocalAnchor
	kindRemoteAnchor
	kindHTLC
)

// sortOutputs orders outputs by BOLT 3 "Transaction Output Ordering":
// value, then script bytes, then cltv_expiry for HTLCs. The sort is stable
// so that fully identical HTLC outputs keep a deterministic order.
func sortOutputs(outs []output) {
	sort.SliceStable(outs, func(i, j int) bool {
		a, b := outs[i], outs[j]
		if a.txOut.Value != b.txOut.Value {
			return a.txOut.Value < b.txOut.Value
		}
		if c := bytes.Compare(a.txOut.PkScript, b.txOut.PkScript); c != 0 {
			return c < 0
		}
		return a.cltv < b.cltv
	})
}

// offeredBy reports whether the owner of a commitment offered h: we offer
// our outgoing HTLCs on our commitment; on theirs the roles flip.
func offeredBy(owner Party, h *HTLC) bool {
	if owner == Local {
		return !h.Incoming
	}
	return h.Incoming
}

// CommitCost is what owner's commitment for a state costs, computed
// without building it (no elliptic-curve work), for checking updates.
type CommitCost struct {
	// BaseFee is the BOLT 3 base fee the opener pays.
	BaseFee btcutil.Amount

	// Anchors is what the opener pays for anchor outputs (0 or 660).
	Anchors btcutil.Amount

	// Untrimmed is the number of HTLC outputs.
	Untrimmed int

	// TrimmedMsat is the value of the HTLCs trimmed as dust, which goes
	// to fees if the commitment confirms (BOLT 2 dust exposure).
	TrimmedMsat uint64
}

// CommitmentCost returns the cost of owner's commitment for spec, the
// same figures NewCommitment uses.
func CommitmentCost(p *ChannelParams, owner Party,
	spec *CommitmentSpec) CommitCost {

	var c CommitCost
	dust := p.config(owner).DustLimit
	for i := range spec.HTLCs {
		c.add(p.Type, owner, spec.FeeRate, dust, &spec.HTLCs[i])
	}
	c.settle(p.Type, spec.FeeRate)
	return c
}

// add counts h, trimmed or not, on owner's commitment at rate.
func (c *CommitCost) add(t ChannelType, owner Party,
	rate chainfee.SatPerKWeight, dust btcutil.Amount, h *HTLC) {

	if HTLCIsDust(t, offeredBy(owner, h), h.Amount(), rate, dust) {
		c.TrimmedMsat += h.AmountMsat
		return
	}
	c.Untrimmed++
}

// settle sets the fee and anchors once every HTLC is counted.
func (c *CommitCost) settle(t ChannelType, rate chainfee.SatPerKWeight) {
	c.BaseFee = CommitFee(t, rate, c.Untrimmed)
	if t.HasAnchors() {
		c.Anchors = 2 * AnchorValue
	}
}

// NewCommitment builds owner's commitment transaction for spec, using
// owner's per_commitment_point, following BOLT 3 "Commitment Transaction
// Construction". If the fee and anchors exceed the opener's balance the
// opener's output is dropped and OpenerShortfall says by how much (the
// "fee greater than funder amount" vector); whether such a state is
// acceptable is the state machine's decision.
func NewCommitment(p *ChannelParams, owner Party, commitPoint *btcec.PublicKey,
	spec *CommitmentSpec) (*Commitment, error) {

	if err := checkCommitmentInput(p, owner, commitPoint, spec); err != nil {
		return nil, err
	}
	return buildCommitment(p, owner, DeriveCommitmentKeys(p, owner,
		commitPoint), spec)
}

// newCommitment is NewCommitment with the keys already derived, as the
// Channel does with its precomputed tables (Channel.commitKeys).
func newCommitment(p *ChannelParams, owner Party, keys *CommitmentKeys,
	spec *CommitmentSpec) (*Commitment, error) {

	err := checkCommitmentInput(p, owner, keys.CommitPoint, spec)
	if err != nil {
		return nil, err
	}
	return buildCommitment(p, owner, keys, spec)
}

// buildCommitment builds owner's commitment for spec with keys, once the
// input is checked.
func buildCommitment(p *ChannelParams, owner Party, keys *CommitmentKeys,
	spec *CommitmentSpec) (*Commitment, error) {

	b := &commitBuilder{
		p:     p,
		owner: owner,
		own:   p.config(owner),
		spec:  spec,
		c: &Commitment{
			Owner:             owner,
			Number:            spec.Number,
			FeeRate:           spec.FeeRate,
			Keys:              keys,
			ToLocalIndex:      -1,
			ToRemoteIndex:     -1,
			LocalAnchorIndex:  -1,
			RemoteAnchorIndex: -1,
		},
	}
	b.trimHTLCs()
	toLocal, toRemote := b.chargeOpener()
	steps := []func() error{
		b.addHTLCOutputs,
		func() error { return b.addToLocal(toLocal) },
		func() error { return b.addToRemote(toRemote) },
		b.addAnchors,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.assemble()
	if err := b.addSecondLevel(); err != nil {
		return nil, err
	}
	return b.c, nil
}

// checkCommitmentInput rejects parameters and specs no commitment can be
// built from.
func checkCommitmentInput(p *ChannelParams, owner Party,
	commitPoint *btcec.PublicKey, spec *CommitmentSpec) error {

	if err := p.Validate(); err != nil {
		return err
	}
	if owner != Local && owner != Remote {
		return fmt.Errorf("new commitment: unknown party %d", owner)
	}
	if commitPoint == nil {
		return fmt.Errorf("new commitment: %w", ErrNilKey)
	}
	if spec.Number > maxCommitNumber {
		return fmt.Errorf("new commitment: number %d exceeds 48 bits",
			spec.Number)
	}
	if spec.FeeRate < 0 {
		return fmt.Errorf("new commitment: negative fee rate")
	}
	return checkConservation(p.Capacity, spec)
}

// checkConservation checks that nothing creates money: balances plus
// HTLCs must not exceed the capacity (the rest, if any, is fee). Each
// addend is bounded so the running sum cannot overflow.
func checkConservation(capacity btcutil.Amount, spec *CommitmentSpec) error {
	const maxMsat = uint64(btcutil.MaxSatoshi) * 1000
	capMsat := uint64(capacity) * 1000
	total := uint64(0)
	add := func(a uint64) error {
		if a > maxMsat {
			return ErrBalanceOverflow
		}
		total += a
		if total > capMsat {
			return fmt.Errorf("%w: more than %d msat",
				ErrBalanceOverflow, capMsat)
		}
		return nil
	}
	if err := add(spec.LocalBalanceMsat); err != nil {
		return err
	}
	if err := add(spec.RemoteBalanceMsat); err != nil {
		return err
	}
	for i := range spec.HTLCs {
		if err := add(spec.HTLCs[i].AmountMsat); err != nil {
			return err
		}
	}
	return nil
}

// commitBuilder carries one NewCommitment call through its steps.
type commitBuilder struct {
	p     *ChannelParams
	owner Party
	own   *ChannelConfig
	spec  *CommitmentSpec
	c     *Commitment

	untrimmed []CommitHTLC
	outs      []output
	haveLocal bool
	haveRem   bool
}

// trimHTLCs splits the spec's HTLCs by the owner's dust limit.
func (b *commitBuilder) trimHTLCs() {
	for _, h := range b.spec.HTLCs {
		offered := offeredBy(b.owner, &h)
		if HTLCIsDust(b.p.Type, offered, h.Amount(), b.spec.FeeRate,
			b.own.DustLimit) {

			b.c.Trimmed = append(b.c.Trimmed, h)
			continue
		}
		b.untrimmed = append(b.untrimmed,
			CommitHTLC{HTLC: h, Offered: offered})
	}
}

// chargeOpener returns the owner's and the other party's balances in
// satoshis after the base fee and the anchors are taken from the opener.
func (b *commitBuilder) chargeOpener() (toLocal, toRemote btcutil.Amount) {
	toLocalMsat, toRemoteMsat := b.spec.LocalBalanceMsat,
		b.spec.RemoteBalanceMsat
	if b.owner == Remote {
		toLocalMsat, toRemoteMsat = toRemoteMsat, toLocalMsat
	}
	toLocal = btcutil.Amount(toLocalMsat / 1000)
	toRemote = btcutil.Amount(toRemoteMsat / 1000)
	b.c.BaseFee = CommitFee(b.p.Type, b.spec.FeeRate, len(b.untrimmed))
	charge := b.c.BaseFee
	if b.p.Type.HasAnchors() {
		charge += 2 * AnchorValue
	}
	openerBal := &toLocal
	if b.p.opener() != b.owner {
		openerBal = &toRemote
	}
	*openerBal -= charge
	if *openerBal < 0 {
		b.c.OpenerShortfall = -*openerBal
		*openerBal = 0
	}
	return toLocal, toRemote
}

// addHTLCOutputs adds an output per untrimmed HTLC.
func (b *commitBuilder) addHTLCOutputs() error {
	keys, anchors := b.c.Keys, b.p.Type.HasAnchors()
	for i := range b.untrimmed {
		u := &b.untrimmed[i]
		var (
			script []byte
			err    error
		)
		if u.Offered {
			script, err = OfferedHTLCScript(keys.RevocationKey,
				keys.LocalHtlcKey, keys.RemoteHtlcKey,
				u.PaymentHash, anchors)
		} else {
			script, err = ReceivedHTLCScript(keys.RevocationKey,
				keys.LocalHtlcKey, keys.RemoteHtlcKey,
				u.PaymentHash, u.CltvExpiry, anchors)
		}
		if err != nil {
			return err
		}
		u.WitnessScript = script
		b.outs = append(b.outs, output{
			txOut: wire.NewTxOut(int64(u.Amount()),
				WitnessScriptHash(script)),
			cltv: u.CltvExpiry,
			kind: kindHTLC,
			htlc: i,
		})
	}
	b.c.HTLCs = b.untrimmed
	return nil
}

// addToLocal adds the owner's delayed output unless it is dust (a zero
// output is never produced, whatever the dust limit).
func (b *commitBuilder) addToLocal(amt btcutil.Amount) error {
	if amt <= 0 || amt < b.own.DustLimit {
		return nil
	}
	keys := b.c.Keys
	script, err := ToLocalScript(keys.RevocationKey, keys.ToLocalKey,
		b.own.CsvDelay)
	if err != nil {
		return err
	}
	b.haveLocal = true
	b.c.ToLocal, b.c.ToLocalScript = amt, script
	b.outs = append(b.outs, output{
		txOut: wire.NewTxOut(int64(amt), WitnessScriptHash(script)),
		kind:  kindToLocal,
	})
	return nil
}

// addToRemote adds the other party's output unless it is dust.
func (b *commitBuilder) addToRemote(amt btcutil.Amount) error {
	if amt <= 0 || amt < b.own.DustLimit {
		return nil
	}
	var pkScript []byte
	if b.p.Type.HasAnchors() {
		script, err := ToRemoteAnchorScript(b.c.Keys.ToRemoteKey)
		if err != nil {
			return err
		}
		b.c.ToRemoteScript = script
		pkScript = WitnessScriptHash(script)
	} else {
		pkScript = WitnessPubKeyHash(b.c.Keys.ToRemoteKey)
		b.c.ToRemoteScript = pkScript
	}
	b.haveRem = true
	b.c.ToRemote = amt
	b.outs = append(b.outs, output{
		txOut: wire.NewTxOut(int64(amt), pkScript),
		kind:  kindToRemote,
	})
	return nil
}

// addAnchors adds each party's anchor if that party has an output or any
// HTLC is untrimmed.
func (b *commitBuilder) addAnchors() error {
	if !b.p.Type.HasAnchors() {
		return nil
	}
	ls, err := AnchorScript(b.c.Keys.LocalFundingKey)
	if err != nil {
		return err
	}
	rs, err := AnchorScript(b.c.Keys.RemoteFundingKey)
	if err != nil {
		return err
	}
	b.c.AnchorScripts = [2][]byte{ls, rs}
	anyHTLC := len(b.untrimmed) > 0
	if b.haveLocal || anyHTLC {
		b.outs = append(b.outs, output{
			txOut: wire.NewTxOut(int64(AnchorValue),
				WitnessScriptHash(ls)),
			kind: kindLocalAnchor,
		})
	}
	if b.haveRem || anyHTLC {
		b.outs = append(b.outs, output{
			txOut: wire.NewTxOut(int64(AnchorValue),
				WitnessScriptHash(rs)),
			kind: kindRemoteAnchor,
		})
	}
	return nil
}

// assemble sorts the outputs into the transaction and records where each
// landed; HTLCs end up in output order.
func (b *commitBuilder) assemble() {
	sortOutputs(b.outs)
	lockTime, sequence := ObscuredCommitmentLockTime(b.spec.Number,
		b.p.ObscuringFactor())
	tx := wire.NewMsgTx(2)
	tx.LockTime = lockTime
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: b.p.FundingOutpoint,
		Sequence:         sequence,
	})
	c := b.c
	var outSum btcutil.Amount
	htlcOrder := make([]CommitHTLC, 0, len(c.HTLCs))
	for i, o := range b.outs {
		tx.AddTxOut(o.txOut)
		outSum += btcutil.Amount(o.txOut.Value)
		switch o.kind {
		case kindToLocal:
			c.ToLocalIndex = i
		case kindToRemote:
			c.ToRemoteIndex = i
		case kindLocalAnchor:
			c.LocalAnchorIndex = i
		case kindRemoteAnchor:
			c.RemoteAnchorIndex = i
		case kindHTLC:
			h := c.HTLCs[o.htlc]
			h.OutputIndex = uint32(i)
			htlcOrder = append(htlcOrder, h)
		}
	}
	c.HTLCs = htlcOrder
	c.Tx = tx
	c.Fee = b.p.Capacity - outSum
}

// addSecondLevel builds the HTLC transactions, which spend the finished
// commitment and all pay to the owner's to_local script.
func (b *commitBuilder) addSecondLevel() error {
	c := b.c
	if len(c.HTLCs) == 0 {
		return nil
	}
	secondScript := c.ToLocalScript
	if secondScript == nil {
		var err error
		secondScript, err = ToLocalScript(c.Keys.RevocationKey,
			c.Keys.ToLocalKey, b.own.CsvDelay)
		if err != nil {
			return err
		}
	}
	secondPkScript := WitnessScriptHash(secondScript)
	commitHash := c.Tx.TxHash()
	for i := range c.HTLCs {
		h := &c.HTLCs[i]
		h.SecondLevelTx = newSecondLevelTx(b.p.Type,
			wire.OutPoint{Hash: commitHash, Index: h.OutputIndex},
			h, b.spec.FeeRate, secondPkScript)
		h.SecondLevelScript = secondScript
	}
	return nil
}
