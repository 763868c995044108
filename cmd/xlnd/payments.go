package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
)

// maxHopHints bounds the route hints of a private invoice (lnd's 20).
const maxHopHints = 20

// newPaymentRouter builds the payment router over the switch: routing
// takes the switch's calls as closures (it does not import htlcswitch).
// done ends the goroutines that relay attempt results.
func (d *daemon) newPaymentRouter(self routing.Vertex, mc *routing.MissionControl,
	done <-chan struct{}) *routing.PaymentRouter {

	sw := d.sw
	return routing.NewPaymentRouter(routing.PaymentRouterConfig{
		DB:             d.chanDB,
		Self:           self,
		Graph:          d.graph.Cache(),
		PathFinding:    routing.DefaultPathFindingConfig(),
		MissionControl: mc,
		Dispatcher: routing.Dispatcher{
			SendHTLC: func(first lnwire.ShortChannelID, id uint64, htlc *lnwire.UpdateAddHTLC) error {
				err := sw.SendHTLC(first, id, htlc)
				if errors.Is(err, htlcswitch.ErrDuplicateAttempt) {
					return fmt.Errorf("%w: %w", routing.ErrDuplicateAttempt, err)
				}
				return err
			},
			GetAttemptResult: func(id uint64) (<-chan routing.AttemptResult, error) {
				in, err := sw.GetAttemptResult(id)
				if err != nil {
					return nil, err
				}
				out := make(chan routing.AttemptResult, 1)
				go func() {
					select {
					case r, ok := <-in:
						if ok {
							out <- routing.AttemptResult(r)
						}
					case <-done:
					}
				}()
				return out, nil
			},
			CleanAttemptResults: sw.CleanAttemptResults,
			Bandwidth:           sw.Bandwidth,
		},
		LocalChannels: d.localChannels(self),
		BestHeight: func() (uint32, error) {
			h, _, err := d.wallet.SyncedTo()
			if err != nil || h < 0 {
				return 0, err
			}
			return uint32(h), nil
		},
		Log: d.logs.Logger("CRTR"),
	})
}

// localChannels lists our open channels for the path finder (those the
// graph lacks are used as edges from us).
func (d *daemon) localChannels(self routing.Vertex) func() []routing.ExtraEdge {
	return func() []routing.ExtraEdge {
		// Only the records' heads: this runs for every payment.
		open, err := d.chanDB.ListChannelHeads()
		if err != nil {
			d.log.Error("Open channels not listed for path finding", "err", err)
			return nil
		}
		var out []routing.ExtraEdge
		for _, h := range open {
			if h.ShortChannelID.ToUint64() == 0 {
				continue
			}
			out = append(out, routing.ExtraEdge{From: self, To: routing.Vertex(h.RemoteNode),
				ChannelID: h.ShortChannelID, Capacity: h.Capacity})
		}
		return out
	}
}

// privateRouteHints are the route hints of a private invoice of amt, as
// lnd selects them: our private channels whose link is active and whose
// peer's channel_update (its policy towards us, sent under the real scid
// or an alias we gave it) we hold, each named by the peer's alias if it
// gave one, most inbound balance first, until they cover twice the
// amount (all, for an invoice of any amount), at most 20 with the
// caller's own, none twice; in random order.
func (d *daemon) privateRouteHints(chans *privateChannels, amt lnwire.MilliSatoshi,
	forced []bolt11.RouteHint) []bolt11.RouteHint {

	if d.graph == nil || d.chanDB == nil || d.links == nil {
		return nil
	}
	list, err := chans.get()
	if err != nil {
		d.log.Error("Open channels not listed for route hints", "err", err)
		return nil
	}
	var cands []hintCandidate
	for _, c := range list {
		if !d.links.Active(c.op) {
			continue
		}
		// The peer knows the channel by the alias it gave us (BOLT
		// 2: the one for our invoices' r fields; the real scid must
		// not be used for an option_scid_alias channel).
		name, ok := c.hintScid()
		if !ok {
			continue
		}
		h, ok := d.peerPolicyHint(c.scid, c.remote)
		if !ok {
			continue
		}
		h.ChannelID = bolt11.ShortChannelID(name.ToUint64())
		cands = append(cands, hintCandidate{h, c.inbound})
	}
	return selectHopHints(cands, amt, forced)
}

// listPrivateChannels lists our private channels that have a short
// channel ID, for route hints.
func (d *daemon) listPrivateChannels() ([]privateChannel, error) {
	open, err := d.chanDB.ListOpenChannels()
	if err != nil {
		return nil, err
	}
	list := []privateChannel{}
	for _, st := range open {
		if st.ShortChannelID.ToUint64() == 0 {
			continue
		}
		info, err := d.openInfo(st.FundingOutpoint)
		if err != nil || !info.Private {
			continue
		}
		list = append(list, privateChannel{op: st.FundingOutpoint,
			scid: st.ShortChannelID, remote: st.RemoteNode,
			inbound:   lnwire.MilliSatoshi(st.LocalCommit.RemoteBalanceMsat),
			peerAlias: info.PeerAlias, aliasOnly: info.AliasOnly})
	}
	return list, nil
}

// hintCandidate is a private channel that can be hinted, with the
// balance the peer can send us over it.
type hintCandidate struct {
	hint    bolt11.HopHint
	inbound lnwire.MilliSatoshi
}

// hopHintFactor is how much inbound the hints should cover, as a multiple
// of the amount (lnd's 2, leeway for peers gone offline).
const hopHintFactor = 2

// selectHopHints applies lnd's selection to the candidates.
func selectHopHints(cands []hintCandidate, amt lnwire.MilliSatoshi, forced []bolt11.RouteHint) []bolt11.RouteHint {
	left := maxHopHints - len(forced)
	named := make(map[bolt11.ShortChannelID]bool)
	for _, h := range forced {
		if len(h) > 0 {
			named[h[0].ChannelID] = true
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].inbound > cands[j].inbound })
	target := amt * hopHintFactor
	var covered lnwire.MilliSatoshi
	var hints []bolt11.RouteHint
	for _, c := range cands {
		if left <= 0 || (target != 0 && covered >= target) {
			break
		}
		if named[c.hint.ChannelID] {
			continue
		}
		named[c.hint.ChannelID] = true
		hints = append(hints, bolt11.RouteHint{c.hint})
		covered += c.inbound
		left--
	}
	rand.Shuffle(len(hints), func(i, j int) { hints[i], hints[j] = hints[j], hints[i] })
	return hints
}

// peerPolicyHint is the hop hint of our channel scid from peer's side:
// the peer's channel_update in the graph (the direction it signs).
func (d *daemon) peerPolicyHint(scid lnwire.ShortChannelID, peer *btcec.PublicKey) (bolt11.HopHint, bool) {
	c, ups, _, err := d.graph.Channel(scid)
	if err != nil {
		if !errors.Is(err, channeldb.ErrGraphChannelNotFound) {
			d.log.Warn("Channel not read for a route hint", "scid", scid, "err", err)
		}
		return bolt11.HopHint{}, false
	}
	dir := 0
	if c.Node2 == [33]byte(peer.SerializeCompressed()) {
		dir = 1
	}
	u := ups[dir]
	if u == nil {
		return bolt11.HopHint{}, false
	}
	return bolt11.HopHint{NodeID: peer, ChannelID: bolt11.ShortChannelID(scid.ToUint64()),
		FeeBaseMSat: u.BaseFee, FeeProportionalMillionths: u.FeeRate,
		CLTVExpiryDelta: u.TimeLockDelta}, true
}
