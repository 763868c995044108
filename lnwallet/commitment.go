package lnwallet

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
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
	FeeRate chain.SatPerKWeight

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
	FeeRate chain.SatPerKWeight

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
		h := &spec.HTLCs[i]
		if HTLCIsDust(p.Type, offeredBy(owner, h), h.Amount(),
			spec.FeeRate, dust) {

			c.TrimmedMsat += h.AmountMsat
			continue
		}
		c.Untrimmed++
	}
	c.BaseFee = CommitFee(p.Type, spec.FeeRate, c.Untrimmed)
	if p.Type.HasAnchors() {
		c.Anchors = 2 * AnchorValue
	}
	return c
}

// NewCommitment builds owner's commitment transaction for spec, using
// owner's per_commitment_point, following BOLT 3 "Commitment Transaction
// Construction". If the fee and anchors exceed the opener's balance the
// opener's output is dropped and OpenerShortfall says by how much (the
// "fee greater than funder amount" vector); whether such a state is
// acceptable is the state machine's decision.
func NewCommitment(p *ChannelParams, owner Party, commitPoint *btcec.PublicKey,
	spec *CommitmentSpec) (*Commitment, error) {

	if err := p.Validate(); err != nil {
		return nil, err
	}
	if owner != Local && owner != Remote {
		return nil, fmt.Errorf("new commitment: unknown party %d", owner)
	}
	if commitPoint == nil {
		return nil, fmt.Errorf("new commitment: %w", ErrNilKey)
	}
	if spec.Number > maxCommitNumber {
		return nil, fmt.Errorf("new commitment: number %d exceeds 48 "+
			"bits", spec.Number)
	}
	if spec.FeeRate < 0 {
		return nil, fmt.Errorf("new commitment: negative fee rate")
	}

	// Check that nothing creates money: balances plus HTLCs must not
	// exceed the capacity (the rest, if any, is fee). Each addend is
	// bounded so the running sum cannot overflow.
	const maxMsat = uint64(btcutil.MaxSatoshi) * 1000
	capMsat := uint64(p.Capacity) * 1000
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
		return nil, err
	}
	if err := add(spec.RemoteBalanceMsat); err != nil {
		return nil, err
	}
	for i := range spec.HTLCs {
		if err := add(spec.HTLCs[i].AmountMsat); err != nil {
			return nil, err
		}
	}

	t := p.Type
	anchors := t.HasAnchors()
	own := p.config(owner)
	keys := DeriveCommitmentKeys(p, owner, commitPoint)

	c := &Commitment{
		Owner:             owner,
		Number:            spec.Number,
		FeeRate:           spec.FeeRate,
		Keys:              keys,
		ToLocalIndex:      -1,
		ToRemoteIndex:     -1,
		LocalAnchorIndex:  -1,
		RemoteAnchorIndex: -1,
	}

	// Trim HTLCs with the owner's dust limit.
	type pending struct {
		htlc    HTLC
		offered bool
	}
	var untrimmed []pending
	for _, h := range spec.HTLCs {
		offered := offeredBy(owner, &h)
		if HTLCIsDust(t, offered, h.Amount(), spec.FeeRate,
			own.DustLimit) {

			c.Trimmed = append(c.Trimmed, h)
			continue
		}
		untrimmed = append(untrimmed, pending{h, offered})
	}

	// Take the base fee and the anchors from the opener.
	toLocalMsat, toRemoteMsat := spec.LocalBalanceMsat,
		spec.RemoteBalanceMsat
	if owner == Remote {
		toLocalMsat, toRemoteMsat = toRemoteMsat, toLocalMsat
	}
	toLocal := btcutil.Amount(toLocalMsat / 1000)
	toRemote := btcutil.Amount(toRemoteMsat / 1000)
	c.BaseFee = CommitFee(t, spec.FeeRate, len(untrimmed))
	charge := c.BaseFee
	if anchors {
		charge += 2 * AnchorValue
	}
	openerBal := &toLocal
	if p.opener() != owner {
		openerBal = &toRemote
	}
	*openerBal -= charge
	if *openerBal < 0 {
		c.OpenerShortfall = -*openerBal
		*openerBal = 0
	}

	var outs []output
	for i, u := range untrimmed {
		var (
			script []byte
			err    error
		)
		if u.offered {
			script, err = OfferedHTLCScript(keys.RevocationKey,
				keys.LocalHtlcKey, keys.RemoteHtlcKey,
				u.htlc.PaymentHash, anchors)
		} else {
			script, err = ReceivedHTLCScript(keys.RevocationKey,
				keys.LocalHtlcKey, keys.RemoteHtlcKey,
				u.htlc.PaymentHash, u.htlc.CltvExpiry, anchors)
		}
		if err != nil {
			return nil, err
		}
		c.HTLCs = append(c.HTLCs, CommitHTLC{
			HTLC:          u.htlc,
			Offered:       u.offered,
			WitnessScript: script,
		})
		outs = append(outs, output{
			txOut: wire.NewTxOut(int64(u.htlc.Amount()),
				WitnessScriptHash(script)),
			cltv: u.htlc.CltvExpiry,
			kind: kindHTLC,
			htlc: i,
		})
	}

	// A zero output is never produced, whatever the dust limit.
	haveLocal := toLocal > 0 && toLocal >= own.DustLimit
	haveRemote := toRemote > 0 && toRemote >= own.DustLimit
	if haveLocal {
		script, err := ToLocalScript(keys.RevocationKey,
			keys.ToLocalKey, own.CsvDelay)
		if err != nil {
			return nil, err
		}
		c.ToLocal, c.ToLocalScript = toLocal, script
		outs = append(outs, output{
			txOut: wire.NewTxOut(int64(toLocal),
				WitnessScriptHash(script)),
			kind: kindToLocal,
		})
	}
	if haveRemote {
		var pkScript []byte
		if anchors {
			script, err := ToRemoteAnchorScript(keys.ToRemoteKey)
			if err != nil {
				return nil, err
			}
			c.ToRemoteScript = script
			pkScript = WitnessScriptHash(script)
		} else {
			pkScript = WitnessPubKeyHash(keys.ToRemoteKey)
			c.ToRemoteScript = pkScript
		}
		c.ToRemote = toRemote
		outs = append(outs, output{
			txOut: wire.NewTxOut(int64(toRemote), pkScript),
			kind:  kindToRemote,
		})
	}
	if anchors {
		ls, err := AnchorScript(keys.LocalFundingKey)
		if err != nil {
			return nil, err
		}
		rs, err := AnchorScript(keys.RemoteFundingKey)
		if err != nil {
			return nil, err
		}
		c.AnchorScripts = [2][]byte{ls, rs}
		if haveLocal || len(untrimmed) > 0 {
			outs = append(outs, output{
				txOut: wire.NewTxOut(int64(AnchorValue),
					WitnessScriptHash(ls)),
				kind: kindLocalAnchor,
			})
		}
		if haveRemote || len(untrimmed) > 0 {
			outs = append(outs, output{
				txOut: wire.NewTxOut(int64(AnchorValue),
					WitnessScriptHash(rs)),
				kind: kindRemoteAnchor,
			})
		}
	}
	sortOutputs(outs)

	lockTime, sequence := ObscuredCommitmentLockTime(spec.Number,
		p.ObscuringFactor())
	tx := wire.NewMsgTx(2)
	tx.LockTime = lockTime
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: p.FundingOutpoint,
		Sequence:         sequence,
	})
	var outSum btcutil.Amount
	htlcOrder := make([]CommitHTLC, 0, len(c.HTLCs))
	for i, o := range outs {
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
	c.Fee = p.Capacity - outSum

	// The second-level transactions spend the finished commitment and
	// all pay to the owner's to_local script.
	if len(c.HTLCs) == 0 {
		return c, nil
	}
	secondScript := c.ToLocalScript
	if secondScript == nil {
		var err error
		secondScript, err = ToLocalScript(keys.RevocationKey,
			keys.ToLocalKey, own.CsvDelay)
		if err != nil {
			return nil, err
		}
	}
	secondPkScript := WitnessScriptHash(secondScript)
	commitHash := tx.TxHash()
	for i := range c.HTLCs {
		h := &c.HTLCs[i]
		h.SecondLevelTx = newSecondLevelTx(t,
			wire.OutPoint{Hash: commitHash, Index: h.OutputIndex},
			h, spec.FeeRate, secondPkScript)
		h.SecondLevelScript = secondScript
	}
	return c, nil
}
