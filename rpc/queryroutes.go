package rpc

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
)

// RouteFinder finds routes through the graph (routing.Finder).
type RouteFinder interface {
	FindRoute(q *routing.Query) (*routing.Route, error)
}

// queryRoutesFinalCLTVDelta is the final hop's delta QueryRoutes uses
// when none is given: lnd's default --bitcoin.timelockdelta (80), which
// its QueryRoutes takes.
const queryRoutesFinalCLTVDelta = 80

// feeLimit100PercentUpTo is the amount up to which lnd's default fee
// limit is the whole amount (base fees dominate small payments); above
// it, 5%.
const feeLimit100PercentUpTo = 1_000_000

func (l *lightningService) QueryRoutes(ctx context.Context, req *lnrpc.QueryRoutesRequest) (*lnrpc.QueryRoutesResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	g, err := l.graph()
	if err != nil {
		return nil, err
	}
	if b.Router == nil {
		return nil, status.Error(codes.Unavailable, "path finding not available")
	}
	q, err := l.routeQuery(ctx, b, g, req)
	if err != nil {
		return nil, err
	}
	r, err := b.Router.FindRoute(q)
	switch {
	case errors.Is(err, routing.ErrNoPath):
		return nil, status.Error(codes.NotFound, msgNoPath)
	case errors.Is(err, routing.ErrBadQuery):
		return nil, invalidf("%v", err)
	case err != nil:
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.QueryRoutesResponse{Routes: []*lnrpc.Route{marshalRoute(g, r)}, SuccessProb: r.Probability}, nil
}

// routeQuery turns a QueryRoutesRequest into a path-finding query with
// lnd's defaults.
func (l *lightningService) routeQuery(ctx context.Context, b *Backend, g Graph, req *lnrpc.QueryRoutesRequest) (*routing.Query, error) {
	target, err := vertexArg("pub_key", req.PubKey)
	if err != nil {
		return nil, err
	}
	var source routing.Vertex
	if req.SourcePubKey != "" {
		if source, err = vertexArg("source_pub_key", req.SourcePubKey); err != nil {
			return nil, err
		}
	} else {
		self, err := b.Info.IdentityKey(ctx)
		if err != nil {
			return nil, l.s.toStatus(err)
		}
		copy(source[:], self.SerializeCompressed())
	}
	switch {
	case req.Amt != 0 && req.AmtMsat != 0:
		return nil, invalidf("amt and amt_msat are mutually exclusive")
	case req.Amt < 0 || req.AmtMsat < 0:
		return nil, invalidf("amount cannot be negative")
	case req.Amt > int64(btcutil.MaxSatoshi) || req.AmtMsat > int64(btcutil.MaxSatoshi)*1000:
		return nil, invalidf("amount too large")
	}
	amt := lnwire.MilliSatoshi(req.AmtMsat)
	if req.Amt != 0 {
		amt = lnwire.NewMSatFromSatoshis(btcutil.Amount(req.Amt))
	}
	if amt == 0 {
		return nil, invalidf("amt or amt_msat is required")
	}
	if req.FinalCltvDelta < 0 || req.FinalCltvDelta > 0xffff {
		return nil, invalidf("final_cltv_delta %d out of range", req.FinalCltvDelta)
	}
	tip, err := b.Chain.BestBlock(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	q := routing.DefaultQuery(source, target, amt, tip.Height)
	q.FinalCLTVDelta = queryRoutesFinalCLTVDelta
	if req.FinalCltvDelta != 0 {
		q.FinalCLTVDelta = uint16(req.FinalCltvDelta)
	}
	if req.CltvLimit != 0 {
		q.CLTVLimit = req.CltvLimit
	}
	q.FeeLimit, err = feeLimit(req.FeeLimit, amt)
	if err != nil {
		return nil, err
	}
	for _, n := range req.IgnoredNodes {
		v, err := vertexBytes("ignored_nodes", n)
		if err != nil {
			return nil, err
		}
		q.IgnoredNodes = append(q.IgnoredNodes, v)
	}
	for _, p := range req.IgnoredPairs {
		from, err := vertexBytes("ignored_pairs.from", p.From)
		if err != nil {
			return nil, err
		}
		to, err := vertexBytes("ignored_pairs.to", p.To)
		if err != nil {
			return nil, err
		}
		q.IgnoredPairs = append(q.IgnoredPairs, routing.NodePair{From: from, To: to})
	}
	//lint:ignore SA1019 deprecated in lnd, but old clients still send it.
	for _, e := range req.IgnoredEdges {
		c, _, _, err := g.Channel(lnwire.NewShortChanIDFromInt(e.ChannelId))
		if err != nil {
			continue
		}
		p := routing.NodePair{From: c.Node1, To: c.Node2}
		if e.DirectionReverse {
			p.From, p.To = p.To, p.From
		}
		q.IgnoredPairs = append(q.IgnoredPairs, p)
	}
	if len(req.LastHopPubkey) != 0 {
		v, err := vertexBytes("last_hop_pubkey", req.LastHopPubkey)
		if err != nil {
			return nil, err
		}
		q.LastHop = &v
	}
	for _, id := range req.OutgoingChanIds {
		q.OutgoingChannels = append(q.OutgoingChannels, lnwire.NewShortChanIDFromInt(id))
	}
	if req.TimePref < -1 || req.TimePref > 1 {
		return nil, invalidf("time_pref %v must be in [-1, 1]", req.TimePref)
	}
	q.TimePref = req.TimePref
	hints, err := routeHintEdges(req.RouteHints, target)
	if err != nil {
		return nil, err
	}
	q.ExtraEdges = hints
	// Without mission control lnd scores every hop as certain; with it,
	// by what payments taught.
	if req.UseMissionControl && b.MissionControl != nil {
		q.Estimator = b.MissionControl.Snapshot()
	}
	return &q, nil
}

// routeHintEdges turns route hints into private channels: each hint is
// a chain of hops ending at target.
func routeHintEdges(hints []*lnrpc.RouteHint, target routing.Vertex) ([]routing.ExtraEdge, error) {
	var edges []routing.ExtraEdge
	for _, h := range hints {
		for i, hop := range h.HopHints {
			from, err := vertexArg("route_hints.hop_hints.node_id", hop.NodeId)
			if err != nil {
				return nil, err
			}
			to := target
			if i+1 < len(h.HopHints) {
				if to, err = vertexArg("route_hints.hop_hints.node_id", h.HopHints[i+1].NodeId); err != nil {
					return nil, err
				}
			}
			if hop.CltvExpiryDelta > 0xffff {
				return nil, invalidf("route hint cltv_expiry_delta %d out of range", hop.CltvExpiryDelta)
			}
			edges = append(edges, routing.ExtraEdge{
				From: from, To: to, ChannelID: lnwire.NewShortChanIDFromInt(hop.ChanId),
				Policy: routing.Policy{FeeBaseMsat: hop.FeeBaseMsat, FeeRatePPM: hop.FeeProportionalMillionths,
					CLTVDelta: uint16(hop.CltvExpiryDelta)},
			})
		}
	}
	return edges, nil
}

// feeLimit is lnd's reading of FeeLimit: fixed sat, fixed msat, a
// percentage of the amount, or by default the whole amount up to 1,000
// sat and 5% above.
func feeLimit(f *lnrpc.FeeLimit, amt lnwire.MilliSatoshi) (lnwire.MilliSatoshi, error) {
	switch l := f.GetLimit().(type) {
	case *lnrpc.FeeLimit_Fixed:
		if l.Fixed < 0 || l.Fixed > int64(btcutil.MaxSatoshi) {
			return 0, invalidf("fee_limit.fixed %d out of range", l.Fixed)
		}
		return lnwire.NewMSatFromSatoshis(btcutil.Amount(l.Fixed)), nil
	case *lnrpc.FeeLimit_FixedMsat:
		if l.FixedMsat < 0 {
			return 0, invalidf("fee_limit.fixed_msat %d out of range", l.FixedMsat)
		}
		return lnwire.MilliSatoshi(l.FixedMsat), nil
	case *lnrpc.FeeLimit_Percent:
		if l.Percent < 0 || l.Percent > 1_000_000 {
			return 0, invalidf("fee_limit.percent %d out of range", l.Percent)
		}
		return amt * lnwire.MilliSatoshi(l.Percent) / 100, nil
	}
	if amt <= feeLimit100PercentUpTo {
		return amt, nil
	}
	return amt * routing.DefaultFeeLimitPercent / 100, nil
}

func vertexArg(field, s string) (routing.Vertex, error) {
	pub, err := parsePubKey(field, s)
	if err != nil {
		return routing.Vertex{}, err
	}
	var v routing.Vertex
	copy(v[:], pub.SerializeCompressed())
	return v, nil
}

func vertexBytes(field string, b []byte) (routing.Vertex, error) {
	if _, err := btcec.ParsePubKey(b); err != nil || len(b) != 33 {
		return routing.Vertex{}, invalidf("%s: not a 33-byte compressed public key", field)
	}
	var v routing.Vertex
	copy(v[:], b)
	return v, nil
}

func marshalRoute(g Graph, r *routing.Route) *lnrpc.Route {
	out := &lnrpc.Route{
		TotalTimeLock: r.TotalTimeLock,
		TotalFeesMsat: int64(r.TotalFees()),
		TotalAmtMsat:  int64(r.TotalAmount),
	}
	// The sat fields are deprecated in lnd, but apps still read them.
	//lint:ignore SA1019 see above
	out.TotalFees = int64(r.TotalFees().ToSatoshis())
	//lint:ignore SA1019 see above
	out.TotalAmt = int64(r.TotalAmount.ToSatoshis())
	for i, h := range r.Hops {
		hop := &lnrpc.Hop{
			ChanId:           h.ChannelID.ToUint64(),
			Expiry:           h.OutgoingTimeLock,
			AmtToForwardMsat: int64(h.AmtToForward),
			FeeMsat:          int64(r.HopFee(i)),
			PubKey:           hex.EncodeToString(h.PubKey[:]),
		}
		//lint:ignore SA1019 see above
		hop.AmtToForward = int64(h.AmtToForward.ToSatoshis())
		//lint:ignore SA1019 see above
		hop.Fee = int64(r.HopFee(i).ToSatoshis())
		//lint:ignore SA1019 see above
		hop.TlvPayload = true
		if g == nil {
			// No graph to ask the capacity of (BuildRoute's caller
			// may have none).
		} else if info, _, err := g.Cache().Channel(h.ChannelID); err == nil {
			//lint:ignore SA1019 see above
			hop.ChanCapacity = int64(info.Capacity)
		}
		out.Hops = append(out.Hops, hop)
	}
	return out
}
