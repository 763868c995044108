package main

import "lnd.xprv/lnwire"

// requiredFeatures are the features xlnd insists every peer supports.
var requiredFeatures = []lnwire.FeatureBit{
	lnwire.DataLossProtectRequired,
	lnwire.TLVOnionPayloadRequired,
	lnwire.StaticRemoteKeyRequired,
	lnwire.PaymentAddrRequired,
	lnwire.ChannelTypeRequired,
}

// optionalFeatures are offered but not demanded.
var optionalFeatures = []lnwire.FeatureBit{
	lnwire.GossipQueriesOptional,
	lnwire.AnchorsZeroFeeHtlcTxOptional,
	lnwire.ShutdownAnySegwitOptional,
	lnwire.WumboChannelsOptional,
	lnwire.ScidAliasOptional,
}

// keysendOptional is bit 55, which lnd sets when it accepts keysend
// payments (not a BOLT 9 bit).
const keysendOptional lnwire.FeatureBit = 55

// initFeatures is the feature vector xlnd sends in init: keysend's bit
// with --accept-keysend, plus any bits a test asks it to require
// (--dev.requirefeature).
func initFeatures(cfg *config) *lnwire.RawFeatureVector {
	fv := lnwire.NewRawFeatureVector(requiredFeatures...)
	for _, b := range optionalFeatures {
		fv.Set(b)
	}
	if cfg.AcceptKeysend {
		fv.Set(keysendOptional)
	}
	for _, b := range cfg.Dev.RequireFeatures {
		fv.Set(lnwire.FeatureBit(b).Required())
	}
	return fv
}
