package rpc

// lndFeatureNames are the names lnd's API gives feature bits (GetInfo and
// ListPeers `features`), which apps built on lnd's API read. They differ
// from the BOLT 9 names ("data-loss-protect", not
// "option_data_loss_protect"). Keyed by the even bit of each pair.
var lndFeatureNames = map[uint32]string{
	0:    "data-loss-protect",
	2:    "initial-routing-sync",
	4:    "upfront-shutdown-script",
	6:    "gossip-queries",
	8:    "tlv-onion",
	12:   "static-remote-key",
	14:   "payment-addr",
	16:   "multi-path-payments",
	18:   "wumbo-channels",
	20:   "anchor-commitments",
	22:   "anchors-zero-fee-htlc-tx",
	24:   "route-blinding",
	26:   "shutdown-any-segwit",
	30:   "amp",
	34:   "quiescence",
	38:   "onion-messages",
	44:   "explicit-commitment-type",
	46:   "scid-alias",
	48:   "payment-metadata",
	50:   "zero-conf",
	54:   "keysend",
	60:   "rbf-coop-close",
	80:   "simple-taproot-chans",
	160:  "rbf-coop-close-x",
	180:  "simple-taproot-chans-x",
	260:  "accountable-x",
	262:  "bolt-11-blinded-paths",
	2022: "script-enforced-lease",
	2024: "taproot-overlay-chans",
	2026: "taproot-overlay-chans",
}

// FeatureName is the name lnd's API uses for bit, or fallback (the BOLT 9
// name, or "unknown") when lnd names no such bit.
func FeatureName(bit uint32, fallback string) string {
	if name, ok := lndFeatureNames[bit&^1]; ok {
		return name
	}
	return fallback
}
