package lnwallet

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
)

// This file is the legacy closing negotiation of BOLT 2 (closing_signed,
// with or without fee_range), without I/O: messages in, messages and the
// agreed closing transaction out.

// Conditions of a cooperative close that callers branch on.
var (
	// ErrShutdownScript is a shutdown scriptpubkey outside BOLT 2's
	// forms, or not the committed upfront_shutdown_script.
	ErrShutdownScript = errors.New("lnwallet: invalid shutdown scriptpubkey")

	// ErrCloseFee is a closing fee outside what we accept, or a
	// negotiation that cannot move any more.
	ErrCloseFee = errors.New("lnwallet: closing fee not acceptable")

	// ErrClosingSig is a closing_signed signature that verifies for no
	// variant of the closing transaction, or is not low-S.
	ErrClosingSig = errors.New("lnwallet: invalid closing_signed signature")

	// ErrChannelClosing refuses a new HTLC once shutdown was sent or
	// received.
	ErrChannelClosing = errors.New("lnwallet: channel is shutting down")
)

// ClosingWitnessSize is the size of the funding input's witness: item
// count, the empty item, two signatures of up to 73 bytes and the 71-byte
// 2-of-2 script, each with its length byte.
const ClosingWitnessSize = 1 + 1 + 1 + 73 + 1 + 73 + 1 + 71

// CheckShutdownScript checks a shutdown scriptpubkey against BOLT 2's
// forms: P2WPKH, P2WSH, and with option_shutdown_anysegwit a witness
// program of versions 1 to 16. P2PKH and P2SH, which older nodes send and
// lnd accepts, are taken too (BOLT 2 allows them for compatibility).
func CheckShutdownScript(script []byte, anySegwit bool) error {
	n := len(script)
	switch {
	case n == 22 && script[0] == txscript.OP_0 && script[1] == 20:
		return nil
	case n == 34 && script[0] == txscript.OP_0 && script[1] == 32:
		return nil
	case n >= 4 && n <= 42 && script[0] >= txscript.OP_1 &&
		script[0] <= txscript.OP_16 && int(script[1]) == n-2:
		if !anySegwit {
			return fmt.Errorf("%w: witness v%d needs "+
				"option_shutdown_anysegwit", ErrShutdownScript,
				script[0]-txscript.OP_1+1)
		}
		return nil
	case txscript.IsPayToPubKeyHash(script), txscript.IsPayToScriptHash(script):
		return nil
	}
	return fmt.Errorf("%w: %x", ErrShutdownScript, script)
}

// ClosingTxWeight is the weight of a legacy closing transaction paying to
// the given scripts (nil for an output left out).
func ClosingTxWeight(scripts ...[]byte) int64 {
	// version, input count, the input, output count, locktime.
	base := int64(4 + 1 + 36 + 1 + 4 + 1 + 4)
	for _, s := range scripts {
		if s != nil {
			base += 8 + int64(wire.VarIntSerializeSize(uint64(len(s)))) +
				int64(len(s))
		}
	}
	return base*4 + 2 + ClosingWitnessSize
}

// CloseTerms are what a closing negotiation is about: the channel, the
// final balances (before any fee, in msat) and both delivery scripts.
type CloseTerms struct {
	Params            *ChannelParams
	LocalBalanceMsat  uint64
	RemoteBalanceMsat uint64
	LocalScript       []byte
	RemoteScript      []byte
}

// CloseFees are our limits for the closing fee, in satoshis.
type CloseFees struct {
	// Ideal is what we propose first.
	Ideal btcutil.Amount
	// Min is the lowest fee we sign (one that relays).
	Min btcutil.Amount
	// Max is the highest fee we pay as the opener; as the other party we
	// accept any fee the opener can pay.
	Max btcutil.Amount
}

// FeesForRate derives CloseFees from fee rates: the ideal rate, the most
// the operator pays (0: three times the ideal, as lnd), over the weight of
// the closing transaction of t.
func FeesForRate(t *CloseTerms, ideal, maxRate chainfee.SatPerKWeight) CloseFees {
	local, remote := t.LocalScript, t.RemoteScript
	if btcutil.Amount(t.LocalBalanceMsat/1000) < t.Params.Local.DustLimit {
		local = nil
	}
	if btcutil.Amount(t.RemoteBalanceMsat/1000) < t.Params.Remote.DustLimit {
		remote = nil
	}
	w := ClosingTxWeight(local, remote)
	f := CloseFees{Ideal: feeForWeight(ideal, w),
		Min: feeForWeight(chainfee.FeePerKwFloor, w)}
	if maxRate > 0 {
		f.Max = feeForWeight(maxRate, w)
	} else {
		f.Max = 3 * f.Ideal
	}
	// A maximum below what relays could never close the channel.
	f.Max = max(f.Max, f.Min)
	f.Ideal = min(max(f.Ideal, f.Min), f.Max)
	return f
}

// CloseStep is what one received closing_signed produced.
type CloseStep struct {
	// Reply is to be sent to the peer (nil: nothing). When Tx is set,
	// the caller persists Tx before sending Reply.
	Reply *lnwire.ClosingSigned

	// Tx is the agreed closing transaction, signed by both, once the
	// negotiation is over.
	Tx *wire.MsgTx
}

// CloseNegotiation runs the legacy closing_signed exchange of one channel
// for one connection: BOLT 2 restarts it on reconnection. It does no I/O
// and is not safe for concurrent use.
type CloseNegotiation struct {
	terms  CloseTerms
	fees   CloseFees
	signer Signer
	chanID lnwire.ChannelID
	opener btcutil.Amount // the opener's balance, the most any fee can be

	lastSent  *lnwire.ClosingSigned
	sentOmit  bool // lastSent is for the variant without the peer's output
	lastRecv  btcutil.Amount
	prevRecv  btcutil.Amount // the one received before lastRecv
	recvCount int
	sentRange *lnwire.FeeRange

	final    *wire.MsgTx
	finalFee btcutil.Amount
}

// NewCloseNegotiation starts a negotiation.
func NewCloseNegotiation(t CloseTerms, f CloseFees,
	s Signer) (*CloseNegotiation, error) {

	if t.Params == nil || s == nil {
		return nil, errors.New("lnwallet: close negotiation needs the " +
			"channel and a signer")
	}
	if err := t.Params.Validate(); err != nil {
		return nil, err
	}
	if len(t.LocalScript) == 0 || len(t.RemoteScript) == 0 {
		return nil, fmt.Errorf("%w: empty delivery script", ErrShutdownScript)
	}
	opener := btcutil.Amount(t.LocalBalanceMsat / 1000)
	if !t.Params.LocalIsOpener {
		opener = btcutil.Amount(t.RemoteBalanceMsat / 1000)
	}
	if f.Min < 0 || f.Max < f.Min {
		return nil, fmt.Errorf("%w: range %v..%v", ErrCloseFee, f.Min, f.Max)
	}
	f.Max = min(f.Max, opener)
	f.Ideal = min(max(f.Ideal, f.Min), f.Max)
	return &CloseNegotiation{terms: t, fees: f, signer: s,
		chanID: lnwire.NewChanIDFromOutPoint(t.Params.FundingOutpoint),
		opener: opener}, nil
}

// Done reports whether a closing transaction was agreed.
func (n *CloseNegotiation) Done() bool { return n.final != nil }

// Final returns the agreed transaction and fee (nil before).
func (n *CloseNegotiation) Final() (*wire.MsgTx, btcutil.Amount) {
	return n.final, n.finalFee
}

// Start returns the opener's first closing_signed (BOLT 2: the funder
// sends first); the other party gets nil and waits.
func (n *CloseNegotiation) Start() (*lnwire.ClosingSigned, error) {
	if !n.terms.Params.LocalIsOpener || n.lastSent != nil || n.final != nil {
		return nil, nil
	}
	return n.offer(n.fees.Ideal, false)
}

// ourRange is the fee_range we send: the opener's limits, or, for the
// other party, anything from our minimum up to what the opener can pay.
func (n *CloseNegotiation) ourRange() lnwire.FeeRange {
	if n.sentRange != nil {
		return *n.sentRange
	}
	if n.terms.Params.LocalIsOpener {
		return lnwire.FeeRange{MinFeeSats: n.fees.Min, MaxFeeSats: n.fees.Max}
	}
	return lnwire.FeeRange{MinFeeSats: min(n.fees.Min, n.opener),
		MaxFeeSats: n.opener}
}

// offer signs the closing transaction at fee and records it as sent.
func (n *CloseNegotiation) offer(fee btcutil.Amount,
	omitRemote bool) (*lnwire.ClosingSigned, error) {

	tx, err := n.closingTx(fee, omitRemote)
	if err != nil {
		return nil, err
	}
	sig, err := SignFundingSpend(n.signer, n.terms.Params, tx)
	if err != nil {
		return nil, err
	}
	wsig, err := lnwire.NewSigFromSignature(sig)
	if err != nil {
		return nil, err
	}
	r := n.ourRange()
	msg := &lnwire.ClosingSigned{ChanID: n.chanID, FeeSatoshis: fee,
		Signature: wsig, FeeRange: &r}
	n.lastSent, n.sentOmit, n.sentRange = msg, omitRemote, &r
	return msg, nil
}

// closingTx builds the closing transaction at fee: each output trimmed
// below its owner's dust_limit_satoshis (as lnd does, so that both sides
// build the same transaction), the peer's output left out if omitRemote.
func (n *CloseNegotiation) closingTx(fee btcutil.Amount,
	omitRemote bool) (*wire.MsgTx, error) {

	p := n.terms.Params
	local, remote, err := LegacyClosingAmounts(p, n.terms.LocalBalanceMsat,
		n.terms.RemoteBalanceMsat, fee)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCloseFee, err)
	}
	lo := ClosingOutput{PkScript: n.terms.LocalScript, Amount: local}
	if local < p.Local.DustLimit {
		lo.PkScript = nil
	}
	ro := ClosingOutput{PkScript: n.terms.RemoteScript, Amount: remote}
	if remote < p.Remote.DustLimit || omitRemote {
		ro.PkScript = nil
	}
	return NewLegacyClosingTx(p.FundingOutpoint, lo, ro, 0)
}

// isLowS reports whether a signature's S is in the lower half of the
// group order (BIP 62, BOLT 2's LOW-S rule).
func isLowS(sig lnwire.Sig) bool {
	var s btcec.ModNScalar
	s.SetByteSlice(sig[32:])
	return !s.IsOverHalfOrder()
}

// verifyOffer checks the peer's signature at fee on the closing
// transaction, with its output or without it (a party may leave out its
// own output), and returns the variant it signed.
func (n *CloseNegotiation) verifyOffer(m *lnwire.ClosingSigned) (
	sig *ecdsa.Signature, omitRemote bool, err error) {

	if !isLowS(m.Signature) {
		return nil, false, warnPeer(fmt.Errorf("%w: not low-S", ErrClosingSig))
	}
	sig, err = m.Signature.ToSignature()
	if err != nil {
		return nil, false, warnPeer(fmt.Errorf("%w: %v", ErrClosingSig, err))
	}
	for _, omit := range []bool{false, true} {
		tx, err := n.closingTx(m.FeeSatoshis, omit)
		if err != nil {
			continue
		}
		if VerifyFundingSpend(n.terms.Params, tx, sig) == nil {
			return sig, omit, nil
		}
	}
	return nil, false, warnPeer(fmt.Errorf("%w: fee %v", ErrClosingSig,
		m.FeeSatoshis))
}

// Receive takes the peer's closing_signed.
func (n *CloseNegotiation) Receive(m *lnwire.ClosingSigned) (*CloseStep, error) {
	if m.ChanID != n.chanID {
		return nil, warnPeer(ErrWrongChannel)
	}
	if n.final != nil {
		// The peer echoing the agreed fee, or repeating itself.
		return &CloseStep{}, nil
	}
	fee := m.FeeSatoshis
	if fee < 0 || fee > n.opener {
		return nil, warnPeer(fmt.Errorf("%w: fee %v above the opener's "+
			"balance %v", ErrCloseFee, fee, n.opener))
	}
	sig, omit, err := n.verifyOffer(m)
	if err != nil {
		return nil, err
	}
	n.prevRecv, n.lastRecv = n.lastRecv, fee
	n.recvCount++
	if n.lastSent != nil && fee == n.lastSent.FeeSatoshis {
		// Our offer accepted: sign the same variant again.
		return n.agree(fee, sig, n.sentOmit, false)
	}
	if m.FeeRange != nil {
		return n.receiveRange(m, sig, omit)
	}
	return n.receivePlain(m, sig, omit)
}

// receiveRange answers a closing_signed carrying fee_range.
func (n *CloseNegotiation) receiveRange(m *lnwire.ClosingSigned,
	sig *ecdsa.Signature, omit bool) (*CloseStep, error) {

	theirs := *m.FeeRange
	if theirs.MinFeeSats > theirs.MaxFeeSats {
		return nil, warnPeer(fmt.Errorf("%w: fee_range %v..%v is empty",
			ErrCloseFee, theirs.MinFeeSats, theirs.MaxFeeSats))
	}
	ours := n.ourRange()
	lo := max(ours.MinFeeSats, theirs.MinFeeSats)
	hi := min(ours.MaxFeeSats, theirs.MaxFeeSats)
	if lo > hi {
		return nil, warnPeer(fmt.Errorf("%w: fee_range %v..%v does not "+
			"overlap ours %v..%v", ErrCloseFee, theirs.MinFeeSats,
			theirs.MaxFeeSats, ours.MinFeeSats, ours.MaxFeeSats))
	}
	fee := m.FeeSatoshis
	in := fee >= lo && fee <= hi
	switch {
	case n.terms.Params.LocalIsOpener && !in:
		return nil, failPeer(fmt.Errorf("%w: fee %v outside the overlap "+
			"%v..%v of both fee ranges", ErrCloseFee, fee, lo, hi))
	case n.terms.Params.LocalIsOpener:
		return n.agree(fee, sig, omit, true)
	case n.lastSent != nil:
		return nil, failPeer(fmt.Errorf("%w: fee %v differs from the %v "+
			"we proposed", ErrCloseFee, fee, n.lastSent.FeeSatoshis))
	case in:
		return n.agree(fee, sig, omit, true)
	}
	// Propose the acceptable fee nearest to theirs; the opener echoes it.
	reply, err := n.offer(min(max(fee, lo), hi), false)
	if err != nil {
		return nil, err
	}
	return &CloseStep{Reply: reply}, nil
}

// acceptable reports whether we sign fee without further negotiation.
func (n *CloseNegotiation) acceptable(fee btcutil.Amount) bool {
	if fee < n.fees.Min {
		return false
	}
	return !n.terms.Params.LocalIsOpener || fee <= n.fees.Max
}

// receivePlain answers a closing_signed without fee_range (lnd's): each
// new proposal must lie strictly between the last two, and we move toward
// theirs until one is acceptable.
func (n *CloseNegotiation) receivePlain(m *lnwire.ClosingSigned,
	sig *ecdsa.Signature, omit bool) (*CloseStep, error) {

	fee := m.FeeSatoshis
	if n.lastSent != nil && n.recvCount > 1 &&
		!strictlyBetween(fee, n.prevRecv, n.lastSent.FeeSatoshis) {

		return nil, warnPeer(fmt.Errorf("%w: fee %v not between our %v "+
			"and your previous %v", ErrCloseFee, fee,
			n.lastSent.FeeSatoshis, n.prevRecv))
	}
	if n.acceptable(fee) {
		return n.agree(fee, sig, omit, true)
	}
	next := n.fees.Ideal
	if n.lastSent != nil {
		next = n.lastSent.FeeSatoshis
	}
	// Move to the bound they are beyond.
	switch {
	case fee < n.fees.Min:
		next = n.fees.Min
	case fee > n.fees.Max:
		next = n.fees.Max
	}
	if n.lastSent != nil && next == n.lastSent.FeeSatoshis {
		return nil, warnPeer(fmt.Errorf("%w: peer insists on %v, our "+
			"limits are %v..%v", ErrCloseFee, fee, n.fees.Min, n.fees.Max))
	}
	reply, err := n.offer(next, false)
	if err != nil {
		return nil, err
	}
	return &CloseStep{Reply: reply}, nil
}

func strictlyBetween(x, a, b btcutil.Amount) bool {
	if a > b {
		a, b = b, a
	}
	return x > a && x < b
}

// agree completes the closing transaction at fee with the peer's
// signature sig, for the variant it signed; reply says whether to answer
// with our closing_signed at the same fee.
func (n *CloseNegotiation) agree(fee btcutil.Amount, theirSig *ecdsa.Signature,
	omit, reply bool) (*CloseStep, error) {

	tx, err := n.closingTx(fee, omit)
	if err != nil {
		return nil, err
	}
	p := n.terms.Params
	ourSig, err := SignFundingSpend(n.signer, p, tx)
	if err != nil {
		return nil, err
	}
	script, _, err := p.FundingScript()
	if err != nil {
		return nil, err
	}
	tx.TxIn[0].Witness = FundingWitness(script,
		p.Local.FundingKey, ScriptSig(ourSig, txscript.SigHashAll),
		p.Remote.FundingKey, ScriptSig(theirSig, txscript.SigHashAll))
	step := &CloseStep{Tx: tx}
	if reply {
		wsig, err := lnwire.NewSigFromSignature(ourSig)
		if err != nil {
			return nil, err
		}
		r := n.ourRange()
		step.Reply = &lnwire.ClosingSigned{ChanID: n.chanID,
			FeeSatoshis: fee, Signature: wsig, FeeRange: &r}
		n.lastSent, n.sentOmit = step.Reply, omit
	}
	n.final, n.finalFee = tx, fee
	return step, nil
}

// IsCooperativeClose reports whether tx, a spend of the channel's funding
// output, has the shape of a legacy closing transaction (sequence
// 0xffffffff, locktime 0) rather than a commitment (whose sequence and
// locktime carry the obscured commitment number).
func IsCooperativeClose(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.LockTime == 0 &&
		tx.TxIn[0].Sequence == wire.MaxTxInSequenceNum
}

// SettledBalance is what a closing transaction pays to our script.
func SettledBalance(tx *wire.MsgTx, ourScript []byte) btcutil.Amount {
	var sum btcutil.Amount
	for _, o := range tx.TxOut {
		if string(o.PkScript) == string(ourScript) {
			sum += btcutil.Amount(o.Value)
		}
	}
	return sum
}
