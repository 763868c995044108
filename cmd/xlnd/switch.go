package main

import (
	"lnd.xprv/htlcswitch"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwire"
	"lnd.xprv/wallet"
)

// newSwitch builds the HTLC switch over the channel database: onions
// are peeled with the node key, HTLCs that end here go to the invoice
// registry.
func (d *daemon) newSwitch(nodeKey *wallet.NodeKeyECDH,
	registry *invoices.Registry) *htlcswitch.Switch {

	return htlcswitch.New(htlcswitch.Config{
		DB:      d.chanDB,
		NodeKey: nodeKey,
		ExitHop: registry,
		BestHeight: func() uint32 {
			h, _, err := d.wallet.SyncedTo()
			if err != nil || h < 0 {
				return 0
			}
			return uint32(h)
		},
		DefaultPolicy: d.cfg.forwardingPolicy(),
		Logger:        d.logs.Logger("HSWC"),
	})
}

// bitcoinConfig is the forwarding policy of new channels, with lnd's
// flag names and defaults.
type bitcoinConfig struct {
	BaseFee       uint64 `long:"basefee" description:"the base fee in millisatoshi we charge for forwarding payments on our channels"`
	FeeRate       uint64 `long:"feerate" description:"the fee rate (in millionths) we charge for forwarding: basefee + amount * feerate / 1000000"`
	TimeLockDelta uint32 `long:"timelockdelta" description:"the CLTV delta we subtract from a forwarded HTLC's timelock"`
	MinHTLCOut    uint64 `long:"minhtlcout" description:"the smallest HTLC in millisatoshi we forward out over our channels"`
}

func defaultBitcoinConfig() bitcoinConfig {
	p := htlcswitch.DefaultForwardingPolicy()
	return bitcoinConfig{BaseFee: uint64(p.BaseFee),
		FeeRate: uint64(p.FeeRatePPM), TimeLockDelta: p.TimeLockDelta,
		MinHTLCOut: uint64(p.MinHTLC)}
}

// forwardingPolicy is the policy of a channel with none set by
// UpdateChannelPolicy.
func (c *config) forwardingPolicy() htlcswitch.ForwardingPolicy {
	return htlcswitch.ForwardingPolicy{
		BaseFee:       lnwire.MilliSatoshi(c.Bitcoin.BaseFee),
		FeeRatePPM:    uint32(c.Bitcoin.FeeRate),
		TimeLockDelta: c.Bitcoin.TimeLockDelta,
		MinHTLC:       lnwire.MilliSatoshi(c.Bitcoin.MinHTLCOut),
	}
}
