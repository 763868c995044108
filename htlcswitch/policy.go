package htlcswitch

import (
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// ForwardingPolicy is what we charge and demand to forward over one of
// our channels: the fields of our channel_update.
type ForwardingPolicy struct {
	BaseFee       lnwire.MilliSatoshi
	FeeRatePPM    uint32 // fee_proportional_millionths
	TimeLockDelta uint32
	MinHTLC       lnwire.MilliSatoshi
	MaxHTLC       lnwire.MilliSatoshi // 0: no bound but the channel's
}

// Fee is what the policy charges to forward amt.
func (p *ForwardingPolicy) Fee(amt lnwire.MilliSatoshi) lnwire.MilliSatoshi {
	return p.BaseFee + amt*lnwire.MilliSatoshi(p.FeeRatePPM)/1_000_000
}

// Defaults of lnd's --bitcoin.* flags.
const (
	DefaultBaseFee       = lnwire.MilliSatoshi(1000)
	DefaultFeeRatePPM    = 1
	DefaultTimeLockDelta = 80
	DefaultMinHTLC       = lnwire.MilliSatoshi(1000)
)

// DefaultForwardingPolicy is lnd's default policy.
func DefaultForwardingPolicy() ForwardingPolicy {
	return ForwardingPolicy{BaseFee: DefaultBaseFee,
		FeeRatePPM: DefaultFeeRatePPM, TimeLockDelta: DefaultTimeLockDelta,
		MinHTLC: DefaultMinHTLC}
}

// Bounds on an outgoing HTLC's expiry, as lnd's.
const (
	// OutgoingCltvRejectDelta: an HTLC whose outgoing expiry is this
	// close to the current height is refused with expiry_too_soon (we
	// would need to go on chain at once).
	OutgoingCltvRejectDelta = 13

	// MaxOutgoingCltvExpiry: an outgoing expiry more blocks ahead than
	// this is refused with expiry_too_far.
	MaxOutgoingCltvExpiry = 2016

	// HoldExpiryDelta: a held exit-hop HTLC is failed back once its
	// expiry is this close (lnd's hold invoice delta), so that the
	// channel never goes on chain for it.
	HoldExpiryDelta = 12
)

// forwardCheck is an HTLC to forward, as the policy sees it.
type forwardCheck struct {
	inAmt, outAmt       lnwire.MilliSatoshi
	inExpiry, outExpiry uint32
	height              uint32
}

// checkPolicy applies BOLT 4's forwarding checks of policy p to h;
// update is the outgoing channel's channel_update for the failure (nil
// allowed). It returns nil when the HTLC may be forwarded.
func checkPolicy(p *ForwardingPolicy, h *forwardCheck,
	update []byte) sphinx.FailureMessage {

	switch {
	case h.outAmt < p.MinHTLC:
		return &sphinx.FailAmountBelowMinimum{HtlcMsat: uint64(h.outAmt),
			ChannelUpdate: update}
	case p.MaxHTLC != 0 && h.outAmt > p.MaxHTLC:
		return &sphinx.FailTemporaryChannelFailure{ChannelUpdate: update}
	case h.inAmt < h.outAmt || h.inAmt-h.outAmt < p.Fee(h.outAmt):
		return &sphinx.FailFeeInsufficient{HtlcMsat: uint64(h.inAmt),
			ChannelUpdate: update}
	case h.outExpiry <= h.height+OutgoingCltvRejectDelta:
		return &sphinx.FailExpiryTooSoon{ChannelUpdate: update}
	case h.outExpiry > h.height+MaxOutgoingCltvExpiry:
		return &sphinx.FailExpiryTooFar{}
	case h.inExpiry < h.outExpiry ||
		h.inExpiry-h.outExpiry < p.TimeLockDelta:
		return &sphinx.FailIncorrectCltvExpiry{CltvExpiry: h.inExpiry,
			ChannelUpdate: update}
	}
	return nil
}

// policy is the forwarding policy of our channel at op.
func (s *Switch) policy(op wire.OutPoint) ForwardingPolicy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.policies[op]; ok {
		return p
	}
	return s.cfg.DefaultPolicy
}
