package main

import (
	"context"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc"
	"lnd.xprv/rpc/lnrpc"
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
		// The commitment fee aims at confirmation within 3 blocks,
		// as lnd's.
		FeeEstimate: func() (chainfee.SatPerKWeight, error) {
			ctx, cancel := context.WithTimeout(context.Background(),
				feeEstimateTimeout)
			defer cancel()
			return d.chain.EstimateFeePerKW(ctx, 3)
		},
		// Our channel_updates are the announcer's: the latest for
		// failure messages, signed anew when a policy changes.
		ChannelUpdate:  d.announcing.ann.ChannelUpdate,
		OnPolicyUpdate: d.announcing.ann.PolicyChanged,
		Logger:         d.logs.Logger("HSWC"),
	})
}

// feeEstimateTimeout bounds a link's fee estimate query.
const feeEstimateTimeout = 30 * time.Second

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

// forwardingBackend serves the forwarding calls from the switch and the
// channel database.
type forwardingBackend struct{ d *daemon }

// openChannels are the channels the funding flow handed over.
func (f *forwardingBackend) openChannels() ([]*channeldb.OpenChannel, error) {
	open, err := f.d.chanDB.ListOpenChannels()
	if err != nil {
		return nil, err
	}
	pending, err := f.d.funding.PendingChannels()
	if err != nil {
		return nil, err
	}
	isPending := make(map[wire.OutPoint]bool, len(pending))
	for _, p := range pending {
		isPending[p.ChanPoint] = true
	}
	out := open[:0]
	for _, st := range open {
		if !isPending[st.FundingOutpoint] {
			out = append(out, st)
		}
	}
	return out, nil
}

func (f *forwardingBackend) Policies(context.Context) ([]rpc.ChannelPolicy, error) {
	open, err := f.openChannels()
	if err != nil {
		return nil, err
	}
	out := make([]rpc.ChannelPolicy, 0, len(open))
	for _, st := range open {
		p := f.d.sw.Policy(st.FundingOutpoint)
		out = append(out, rpc.ChannelPolicy{
			ChanPoint: st.FundingOutpoint, ChanID: st.ShortChannelID.ToUint64(),
			BaseFeeMsat: uint64(p.BaseFee), FeeRatePPM: p.FeeRatePPM,
			TimeLockDelta: p.TimeLockDelta, MinHTLCMsat: uint64(p.MinHTLC),
			MaxHTLCMsat: uint64(p.MaxHTLC)})
	}
	return out, nil
}

func (f *forwardingBackend) UpdatePolicies(_ context.Context, op *wire.OutPoint,
	u rpc.PolicyUpdate) ([]rpc.FailedPolicyUpdate, error) {

	open, err := f.openChannels()
	if err != nil {
		return nil, err
	}
	var failed []rpc.FailedPolicyUpdate
	set := map[wire.OutPoint]htlcswitch.ForwardingPolicy{}
	for _, st := range open {
		if op != nil && st.FundingOutpoint != *op {
			continue
		}
		p := f.d.sw.Policy(st.FundingOutpoint)
		p.BaseFee = lnwire.MilliSatoshi(u.BaseFeeMsat)
		p.FeeRatePPM = u.FeeRatePPM
		p.TimeLockDelta = u.TimeLockDelta
		if u.MinHTLCMsat != nil {
			p.MinHTLC = lnwire.MilliSatoshi(*u.MinHTLCMsat)
		}
		if u.MaxHTLCMsat != 0 {
			if u.MaxHTLCMsat > uint64(st.Capacity)*1000 {
				failed = append(failed, rpc.FailedPolicyUpdate{
					ChanPoint: st.FundingOutpoint,
					Reason:    lnrpc.UpdateFailure_UPDATE_FAILURE_INVALID_PARAMETER,
					Err:       "max_htlc_msat above the channel's capacity"})
				continue
			}
			p.MaxHTLC = lnwire.MilliSatoshi(u.MaxHTLCMsat)
		}
		set[st.FundingOutpoint] = p
	}
	if op != nil && len(set) == 0 && len(failed) == 0 {
		failed = append(failed, rpc.FailedPolicyUpdate{ChanPoint: *op,
			Reason: lnrpc.UpdateFailure_UPDATE_FAILURE_NOT_FOUND,
			Err:    "not found"})
	}
	if len(set) == 0 {
		return failed, nil
	}
	if err := f.d.sw.SetPolicies(set); err != nil {
		return nil, err
	}
	return failed, nil
}

func (f *forwardingBackend) Forwards(_ context.Context,
	q channeldb.ForwardingLogQuery) (*channeldb.ForwardingLogPage, error) {

	var page *channeldb.ForwardingLogPage
	err := f.d.chanDB.View(func(tx kvdb.RTx) error {
		var err error
		page, err = channeldb.QueryForwardingLog(tx, q)
		return err
	})
	return page, err
}
