package htlcswitch

import (
	"math/rand/v2"
	"time"

	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
)

// The opener's update_fee: the commitment's fee rate follows the chain's
// estimate when it moves materially, within lnd's bounds.

const (
	// DefaultFeeUpdateInterval is how often an opener's link compares
	// the commitment's fee rate with the chain's estimate (plus up to
	// as much again, at random, so that channels do not all update at
	// once), as lnd's 10 to 60 minutes.
	DefaultFeeUpdateInterval = 10 * time.Minute

	// feeUpdateThreshold: the rate changes only when the estimate is
	// this fraction above or below it (lnd's 10%), so that noise in the
	// estimate does not cost a commitment round.
	feeUpdateThreshold = 0.1

	// MaxAnchorCommitFeeRate bounds the rate of an anchor channel's
	// commitment (lnd's --max-commit-fee-rate-anchors, 10 sat/vB): with
	// anchors the fee can be raised on chain by CPFP when needed.
	MaxAnchorCommitFeeRate chainfee.SatPerKWeight = 2500
)

// feeInterval is the next wait before comparing fee rates.
func (l *Link) feeInterval() time.Duration {
	d := DefaultFeeUpdateInterval
	if l.sw != nil && l.sw.cfg.FeeUpdateInterval > 0 {
		d = l.sw.cfg.FeeUpdateInterval
	}
	return d + time.Duration(rand.Int64N(int64(d)))
}

// targetFeeRate is the commitment fee rate the chain's estimate asks
// for, and whether it differs enough from the current one to update.
func targetFeeRate(est, cur chainfee.SatPerKWeight, anchors bool) (chainfee.SatPerKWeight, bool) {
	if anchors && est > MaxAnchorCommitFeeRate {
		est = MaxAnchorCommitFeeRate
	}
	if est < chainfee.FeePerKwFloor {
		est = chainfee.FeePerKwFloor
	}
	diff := float64(est) - float64(cur)
	if diff < 0 {
		diff = -diff
	}
	return est, cur == 0 || diff > feeUpdateThreshold*float64(cur)
}

// checkFee proposes update_fee when we opened the channel and the
// chain's estimate moved materially from the commitment's rate.
func (l *Link) checkFee() {
	if l.sw == nil || l.sw.cfg.FeeEstimate == nil || !l.active.Load() {
		return
	}
	st := l.ch.State()
	if !st.IsInitiator {
		return
	}
	est, err := l.sw.cfg.FeeEstimate()
	if err != nil {
		l.log.Debug("No fee estimate; commitment fee left", "err", err)
		return
	}
	cur := chainfee.SatPerKWeight(st.LocalCommit.FeeRate)
	if st.PendingRemote != nil {
		cur = chainfee.SatPerKWeight(st.PendingRemote.Commitment.FeeRate)
	}
	rate, move := targetFeeRate(est, cur,
		lnwallet.ChannelType(st.ChanType).HasAnchors())
	if !move {
		return
	}
	msg, err := l.ch.UpdateFee(uint32(rate))
	if err != nil {
		l.log.Info("Commitment fee not updated", "from", cur, "to", rate,
			"err", err)
		return
	}
	l.log.Info("Commitment fee updated", "from", cur, "to", rate)
	l.ops.outbox = append(l.ops.outbox, msg)
	l.schedule()
}
