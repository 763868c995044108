package lnwire

import (
	"errors"
	"fmt"
	"sort"
)

// Feature bits of BOLT 9 ("Assigned features flags"). Each feature is a
// pair: the even bit requires it, the odd bit offers it.
const (
	DataLossProtectRequired FeatureBit = 0 // option_data_loss_protect
	DataLossProtectOptional FeatureBit = 1

	// InitialRoutingSync (bit 3, init only) is no longer in BOLT 9; kept
	// so that it is named when old peers set it.
	InitialRoutingSync FeatureBit = 3

	UpfrontShutdownScriptRequired FeatureBit = 4 // option_upfront_shutdown_script
	UpfrontShutdownScriptOptional FeatureBit = 5

	GossipQueriesRequired FeatureBit = 6 // gossip_queries
	GossipQueriesOptional FeatureBit = 7

	TLVOnionPayloadRequired FeatureBit = 8 // var_onion_optin
	TLVOnionPayloadOptional FeatureBit = 9

	GossipQueriesExRequired FeatureBit = 10 // gossip_queries_ex
	GossipQueriesExOptional FeatureBit = 11

	StaticRemoteKeyRequired FeatureBit = 12 // option_static_remotekey
	StaticRemoteKeyOptional FeatureBit = 13

	PaymentAddrRequired FeatureBit = 14 // payment_secret
	PaymentAddrOptional FeatureBit = 15

	MPPRequired FeatureBit = 16 // basic_mpp
	MPPOptional FeatureBit = 17

	WumboChannelsRequired FeatureBit = 18 // option_support_large_channel
	WumboChannelsOptional FeatureBit = 19

	// AnchorOutputs (20/21, option_anchor_outputs) was replaced by
	// option_anchors and is no longer in BOLT 9; kept for naming.
	AnchorOutputsRequired FeatureBit = 20
	AnchorOutputsOptional FeatureBit = 21

	AnchorsZeroFeeHtlcTxRequired FeatureBit = 22 // option_anchors
	AnchorsZeroFeeHtlcTxOptional FeatureBit = 23

	RouteBlindingRequired FeatureBit = 24 // option_route_blinding
	RouteBlindingOptional FeatureBit = 25

	ShutdownAnySegwitRequired FeatureBit = 26 // option_shutdown_anysegwit
	ShutdownAnySegwitOptional FeatureBit = 27

	DualFundRequired FeatureBit = 28 // option_dual_fund
	DualFundOptional FeatureBit = 29

	QuiesceRequired FeatureBit = 34 // option_quiesce
	QuiesceOptional FeatureBit = 35

	AttributionDataRequired FeatureBit = 36 // option_attribution_data
	AttributionDataOptional FeatureBit = 37

	OnionMessagesRequired FeatureBit = 38 // option_onion_messages
	OnionMessagesOptional FeatureBit = 39

	ProvideStorageRequired FeatureBit = 42 // option_provide_storage
	ProvideStorageOptional FeatureBit = 43

	ChannelTypeRequired FeatureBit = 44 // option_channel_type
	ChannelTypeOptional FeatureBit = 45

	ScidAliasRequired FeatureBit = 46 // option_scid_alias
	ScidAliasOptional FeatureBit = 47

	PaymentMetadataRequired FeatureBit = 48 // option_payment_metadata
	PaymentMetadataOptional FeatureBit = 49

	ZeroConfRequired FeatureBit = 50 // option_zeroconf
	ZeroConfOptional FeatureBit = 51

	SimpleCloseRequired FeatureBit = 60 // option_simple_close
	SimpleCloseOptional FeatureBit = 61

	SpliceRequired FeatureBit = 62 // option_splice
	SpliceOptional FeatureBit = 63
)

// FeatureContext is a place where feature bits are presented (the BOLT 9
// "Context" column).
type FeatureContext uint8

// The BOLT 9 contexts.
const (
	ContextInit        FeatureContext = 1 << iota // I: init
	ContextNodeAnn                                // N: node_announcement
	ContextChanAnn                                // C: channel_announcement
	ContextInvoice                                // 9: BOLT 11 invoices
	ContextBlindedPath                            // B: blinded path allowed_features
	ContextChannelType                            // T: channel_type
)

// String names the context by its BOLT 9 letter.
func (c FeatureContext) String() string {
	switch c {
	case ContextInit:
		return "init(I)"
	case ContextNodeAnn:
		return "node_announcement(N)"
	case ContextChanAnn:
		return "channel_announcement(C)"
	case ContextInvoice:
		return "invoice(9)"
	case ContextBlindedPath:
		return "blinded_path(B)"
	case ContextChannelType:
		return "channel_type(T)"
	}
	return fmt.Sprintf("context(%d)", uint8(c))
}

const (
	ctxI = ContextInit
	ctxN = ContextNodeAnn
	ctx9 = ContextInvoice
	ctxT = ContextChannelType
)

// featureDef is one row of the BOLT 9 table.
type featureDef struct {
	bit      FeatureBit // the even bit of the pair
	name     string
	contexts FeatureContext
	// assumed marks features BOLT 9 lists as ASSUMED.
	assumed bool
	// priorContext marks rows whose BOLT 9 context column is empty
	// (ASSUMED features, gossip_queries) or that BOLT 9 no longer lists
	// (initial_routing_sync, option_anchor_outputs): their contexts are
	// those of the last revision that gave them, where real nodes still
	// set them.
	priorContext bool
	// oddOnly marks a feature that only has an odd bit.
	oddOnly bool
	deps    []FeatureBit
}

// featureTable is the BOLT 9 table (09-features.md), sorted by bit. It is
// read-only.
var featureTable = [...]featureDef{
	{bit: 0, name: "option_data_loss_protect", contexts: ctxI | ctxN, assumed: true, priorContext: true},
	{bit: 2, name: "initial_routing_sync", contexts: ctxI, priorContext: true, oddOnly: true},
	{bit: 4, name: "option_upfront_shutdown_script", contexts: ctxI | ctxN},
	{bit: 6, name: "gossip_queries", contexts: ctxI | ctxN, priorContext: true},
	{bit: 8, name: "var_onion_optin", contexts: ctxI | ctxN | ctx9, assumed: true, priorContext: true},
	{bit: 10, name: "gossip_queries_ex", contexts: ctxI | ctxN},
	{bit: 12, name: "option_static_remotekey", contexts: ctxI | ctxN | ctxT, assumed: true, priorContext: true},
	{bit: 14, name: "payment_secret", contexts: ctxI | ctxN | ctx9, assumed: true, priorContext: true,
		deps: []FeatureBit{TLVOnionPayloadRequired}},
	{bit: 16, name: "basic_mpp", contexts: ctxI | ctxN | ctx9,
		deps: []FeatureBit{PaymentAddrRequired}},
	{bit: 18, name: "option_support_large_channel", contexts: ctxI | ctxN},
	{bit: 20, name: "option_anchor_outputs", contexts: ctxI | ctxN | ctxT, priorContext: true,
		deps: []FeatureBit{StaticRemoteKeyRequired}},
	{bit: 22, name: "option_anchors", contexts: ctxI | ctxN | ctxT},
	{bit: 24, name: "option_route_blinding", contexts: ctxI | ctxN | ctx9},
	{bit: 26, name: "option_shutdown_anysegwit", contexts: ctxI | ctxN},
	{bit: 28, name: "option_dual_fund", contexts: ctxI | ctxN},
	{bit: 34, name: "option_quiesce", contexts: ctxI | ctxN},
	{bit: 36, name: "option_attribution_data", contexts: ctxI | ctxN | ctx9},
	{bit: 38, name: "option_onion_messages", contexts: ctxI | ctxN},
	{bit: 42, name: "option_provide_storage", contexts: ctxI | ctxN},
	{bit: 44, name: "option_channel_type", contexts: ctxI | ctxN, assumed: true, priorContext: true},
	{bit: 46, name: "option_scid_alias", contexts: ctxI | ctxN | ctxT},
	{bit: 48, name: "option_payment_metadata", contexts: ctx9},
	{bit: 50, name: "option_zeroconf", contexts: ctxI | ctxN | ctxT,
		deps: []FeatureBit{ScidAliasRequired}},
	{bit: 60, name: "option_simple_close", contexts: ctxI | ctxN,
		deps: []FeatureBit{ShutdownAnySegwitRequired}},
	{bit: 62, name: "option_splice", contexts: ctxI | ctxN},
}

// lookupFeature finds the table row for either bit of b's pair.
func lookupFeature(b FeatureBit) (*featureDef, bool) {
	even := b.Required()
	i := sort.Search(len(featureTable), func(i int) bool {
		return featureTable[i].bit >= even
	})
	if i == len(featureTable) || featureTable[i].bit != even {
		return nil, false
	}
	d := &featureTable[i]
	if d.oddOnly && b.IsRequired() {
		return nil, false
	}
	return d, true
}

// IsKnownFeature reports whether b is a bit BOLT 9 defines.
func IsKnownFeature(b FeatureBit) bool {
	_, ok := lookupFeature(b)
	return ok
}

// IsAssumedFeature reports whether BOLT 9 lists b's feature as ASSUMED
// (supported by every node; the bit may or may not be set).
func IsAssumedFeature(b FeatureBit) bool {
	d, ok := lookupFeature(b)
	return ok && d.assumed
}

// FeatureDeps returns the features b's feature depends on (even bits), per
// the BOLT 9 Dependencies column. payment_secret's dependency on
// var_onion_optin and option_anchor_outputs' on option_static_remotekey come
// from the revisions that defined those features.
func FeatureDeps(b FeatureBit) []FeatureBit {
	if d, ok := lookupFeature(b); ok {
		return append([]FeatureBit(nil), d.deps...)
	}
	return nil
}

var (
	// ErrMissingFeatureDep is returned by ValidateDeps when a set feature
	// lacks one of its dependencies.
	ErrMissingFeatureDep = errors.New("lnwire: feature dependency not set")

	// ErrFeatureContext is returned by ValidateContext for a known
	// feature bit that does not belong in the context.
	ErrFeatureContext = errors.New("lnwire: feature not allowed in context")

	// ErrBadChannelType is returned by ValidateChannelType.
	ErrBadChannelType = errors.New("lnwire: not a defined channel type")
)

// ValidateDeps checks that every set feature has its dependencies set
// (either bit of each pair), transitively since each dependency is checked
// in turn. BOLT 1 requires closing the connection otherwise.
func ValidateDeps(fv *RawFeatureVector) error {
	v := NewFeatureVector(fv)
	for _, b := range fv.Bits() {
		d, ok := lookupFeature(b)
		if !ok {
			continue
		}
		for _, dep := range d.deps {
			if !v.HasFeature(dep) {
				return fmt.Errorf("%w: %v needs %v", ErrMissingFeatureDep,
					b, dep)
			}
		}
	}
	return nil
}

// ValidateContext checks that every set bit BOLT 9 defines is allowed in
// ctx. Unknown bits are left to UnknownRequiredFeatures, except in the
// channel_type context, where only the bits of defined channel types may
// appear. ContextChanAnn allows no known bit: BOLT 9 currently assigns none.
func ValidateContext(ctx FeatureContext, fv *RawFeatureVector) error {
	for _, b := range fv.Bits() {
		d, ok := lookupFeature(b)
		if !ok {
			if ctx == ContextChannelType {
				return fmt.Errorf("%w: %v in %v", ErrFeatureContext, b,
					ctx)
			}
			continue
		}
		if d.contexts&ctx == 0 {
			return fmt.Errorf("%w: %v in %v", ErrFeatureContext, b, ctx)
		}
	}
	return nil
}

// ValidateChannelType checks a channel_type against BOLT 2 "Defined Channel
// Types": option_static_remotekey (12), or option_anchors with
// option_static_remotekey (22, 12), each optionally with option_scid_alias
// (46) and/or option_zeroconf (50), all as even bits. An empty type (the
// legacy commitment format some peers still send) is accepted.
func ValidateChannelType(fv *RawFeatureVector) error {
	if fv.IsEmpty() {
		return nil
	}
	hasBase := false
	for _, b := range fv.Bits() {
		switch b {
		case StaticRemoteKeyRequired:
			hasBase = true
		case AnchorsZeroFeeHtlcTxRequired, ScidAliasRequired,
			ZeroConfRequired:
		default:
			return fmt.Errorf("%w: bit %v", ErrBadChannelType, b)
		}
	}
	if !hasBase {
		return fmt.Errorf("%w: no option_static_remotekey",
			ErrBadChannelType)
	}
	return nil
}
