package funding

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
)

// refuse builds a refusal: the text is what the peer reads.
func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// The channel_type vectors we serve (BOLT 2 "Defined Channel Types").
func staticRemoteKeyType() *lnwire.RawFeatureVector {
	return lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired)
}

func anchorsType() *lnwire.RawFeatureVector {
	return lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired,
		lnwire.AnchorsZeroFeeHtlcTxRequired)
}

// TypeBits returns the channel_type vector of a channel type.
func TypeBits(t lnwallet.ChannelType) *lnwire.RawFeatureVector {
	if t.HasAnchors() {
		return anchorsType()
	}
	return staticRemoteKeyType()
}

// typeFromBits maps a channel_type vector to a channel type we serve,
// and whether it adds option_scid_alias (an alias-only channel, BOLT 2).
func typeFromBits(v *lnwire.RawFeatureVector) (lnwallet.ChannelType, bool, error) {
	aliasOnly := v.IsSet(lnwire.ScidAliasRequired)
	base := v
	if aliasOnly {
		base = v.Clone()
		base.Unset(lnwire.ScidAliasRequired)
	}
	switch {
	case base.Equals(anchorsType()):
		return lnwallet.ChannelTypeAnchors, aliasOnly, nil
	case base.Equals(staticRemoteKeyType()):
		return lnwallet.ChannelTypeStaticRemoteKey, aliasOnly, nil
	}
	return 0, false, refuse("channel_type %v not supported (we support "+
		"option_anchors_zero_fee_htlc_tx and option_static_remotekey, "+
		"each optionally with option_scid_alias)", v.Bits())
}

// checkAliasOnly refuses an alias-only channel type that is announced
// (BOLT 2 forbids it) or that the peers did not both negotiate
// option_scid_alias for (without it neither side sends an alias, and
// the channel could not be used).
func checkAliasOnly(f *flow) error {
	switch {
	case !f.aliasOnly:
		return nil
	case !f.private:
		return refuse("channel_type with option_scid_alias requires an " +
			"unannounced channel (announce_channel is set)")
	case !f.alias:
		return refuse("channel_type with option_scid_alias but " +
			"option_scid_alias was not negotiated")
	}
	return nil
}

// bothSupport reports whether a feature is offered by both sides.
func bothSupport(ours, theirs *lnwire.FeatureVector, b lnwire.FeatureBit) bool {
	return ours.HasFeature(b) && theirs.HasFeature(b)
}

// defaultType is the channel type both sides' features allow, anchors
// preferred.
func defaultType(ours, theirs *lnwire.FeatureVector) (lnwallet.ChannelType, error) {
	switch {
	case bothSupport(ours, theirs, lnwire.AnchorsZeroFeeHtlcTxRequired):
		return lnwallet.ChannelTypeAnchors, nil
	case bothSupport(ours, theirs, lnwire.StaticRemoteKeyRequired):
		return lnwallet.ChannelTypeStaticRemoteKey, nil
	}
	return 0, refuse("peer supports neither option_anchors_zero_fee_htlc_tx " +
		"nor option_static_remotekey")
}

// maxChanSize is the largest channel allowed with this peer.
func (m *Manager) maxChanSize(theirs *lnwire.FeatureVector) btcutil.Amount {
	if bothSupport(m.cfg.LocalFeatures, theirs, lnwire.WumboChannelsRequired) {
		return m.cfg.MaxChanSize
	}
	return MaxChanSizeNoWumbo
}

// checkAmount applies the channel size limits.
func (m *Manager) checkAmount(amt btcutil.Amount, push lnwire.MilliSatoshi,
	theirs *lnwire.FeatureVector) error {

	if amt < MinChanSize {
		return fmt.Errorf("funding amount %v below the minimum %v", amt,
			MinChanSize)
	}
	if limit := m.maxChanSize(theirs); amt > limit {
		return fmt.Errorf("funding amount %v above the maximum %v "+
			"(option_support_large_channel negotiated: %v)", amt, limit,
			limit != MaxChanSizeNoWumbo)
	}
	if push > lnwire.NewMSatFromSatoshis(amt) {
		return fmt.Errorf("push_msat %v exceeds the funding amount %v",
			push, amt)
	}
	return nil
}

// checkTheirConstraints checks the limits the peer sets, on its side and
// on ours (BOLT 2 open_channel and accept_channel requirements).
func (m *Manager) checkTheirConstraints(theirDust, theirReserveForUs,
	ourDust, ourReserveForThem btcutil.Amount, csv uint16, maxHtlcs uint16,
	minHtlc, maxInFlight lnwire.MilliSatoshi, capacity btcutil.Amount) error {

	switch {
	case theirDust < MinDustLimit:
		return refuse("dust_limit_satoshis %d below %d", theirDust, MinDustLimit)
	case theirDust > MaxDustLimit:
		return refuse("dust_limit_satoshis %d above %d", theirDust, MaxDustLimit)
	case theirReserveForUs < theirDust:
		return refuse("channel_reserve_satoshis %d below dust_limit_satoshis %d",
			theirReserveForUs, theirDust)
	case theirReserveForUs < ourDust:
		return refuse("channel_reserve_satoshis %d below our dust_limit_satoshis %d",
			theirReserveForUs, ourDust)
	case ourReserveForThem < theirDust:
		return refuse("dust_limit_satoshis %d above the channel reserve %d "+
			"we require", theirDust, ourReserveForThem)
	case theirReserveForUs > capacity/5:
		return refuse("channel_reserve_satoshis %d above 20%% of the "+
			"channel", theirReserveForUs)
	case csv > m.cfg.MaxLocalCsv:
		return refuse("to_self_delay %d above our maximum %d", csv,
			m.cfg.MaxLocalCsv)
	case csv == 0:
		return refuse("to_self_delay of zero")
	case maxHtlcs > lnwallet.MaxAcceptedHTLCsLimit:
		return refuse("max_accepted_htlcs %d above %d", maxHtlcs,
			lnwallet.MaxAcceptedHTLCsLimit)
	case maxHtlcs < minAcceptedHtlcs:
		return refuse("max_accepted_htlcs %d below %d", maxHtlcs,
			minAcceptedHtlcs)
	case minHtlc > maxInFlight:
		return refuse("htlc_minimum_msat %v above "+
			"max_htlc_value_in_flight_msat %v", minHtlc, maxInFlight)
	case maxInFlight < minAcceptedHtlcs*max(minHtlc, 1):
		return refuse("max_htlc_value_in_flight_msat %v too small", maxInFlight)
	}
	return nil
}

// checkFeeRate checks the opener's feerate_per_kw.
func checkFeeRate(rate uint32) error {
	if rate < uint32(chainfee.FeePerKwFloor) {
		return refuse("feerate_per_kw %d below %d", rate, chainfee.FeePerKwFloor)
	}
	if rate > uint32(lnwallet.DefaultMaxFeeRate) {
		return refuse("feerate_per_kw %d above %d", rate, lnwallet.DefaultMaxFeeRate)
	}
	return nil
}

// checkInitialBalances checks that the opener can pay the first
// commitment's fee and anchors, and that the channel is not useless: at
// least one side above the reserve the other requires (BOLT 2).
func checkInitialBalances(t lnwallet.ChannelType, capacity btcutil.Amount,
	push lnwire.MilliSatoshi, rate uint32, openerReserve,
	accepterReserve btcutil.Amount) error {

	cost := lnwallet.CommitFee(t, chainfee.SatPerKWeight(rate), 0)
	if t.HasAnchors() {
		cost += 2 * lnwallet.AnchorValue
	}
	opener := capacity - push.ToSatoshis()
	if opener < cost {
		return refuse("opener's balance %v cannot pay the commitment fee %v",
			opener, cost)
	}
	if opener-cost <= openerReserve && push.ToSatoshis() <= accepterReserve {
		return refuse("both balances at or below the channel reserve")
	}
	return nil
}

// ourConstraints are the limits we set for the peer in a channel of
// capacity; ours.DustLimit is our own dust limit.
func ourConstraints(capacity, theirDust btcutil.Amount) channeldb.ChannelConstraints {
	return channeldb.ChannelConstraints{
		DustLimit:                MinDustLimit,
		ChanReserve:              reserveFor(capacity, MinDustLimit, theirDust),
		HtlcMinimumMsat:          1,
		MaxHtlcValueInFlightMsat: uint64(lnwire.NewMSatFromSatoshis(capacity)),
		MaxAcceptedHtlcs:         lnwallet.MaxAcceptedHTLCsLimit,
		CsvDelay:                 remoteCsvFor(capacity),
	}
}
