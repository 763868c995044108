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

// initFeatures is the feature vector xlnd sends in init, plus any bits a
// test asks it to require (--dev.requirefeature).
func initFeatures(extraRequired []uint16) *lnwire.RawFeatureVector {
	fv := lnwire.NewRawFeatureVector(requiredFeatures...)
	for _, b := range optionalFeatures {
		fv.Set(b)
	}
	for _, b := range extraRequired {
		fv.Set(lnwire.FeatureBit(b).Required())
	}
	return fv
}
