package rpc

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc/lnrpc"
)

// Forwarding is the switch as the forwarding calls use it: the
// forwarding policy of our channels and the forwarding log.
type Forwarding interface {
	// Policies lists the forwarding policy of every open channel.
	Policies(ctx context.Context) ([]ChannelPolicy, error)

	// UpdatePolicies applies u to the channel at op, or to every open
	// channel when op is nil. It returns the channels it could not
	// update; an unknown op is one of them (NOT_FOUND).
	UpdatePolicies(ctx context.Context, op *wire.OutPoint, u PolicyUpdate) ([]FailedPolicyUpdate, error)

	// Forwards answers a query of the forwarding log.
	Forwards(ctx context.Context, q channeldb.ForwardingLogQuery) (*channeldb.ForwardingLogPage, error)
}

// ChannelPolicy is one channel's forwarding policy.
type ChannelPolicy struct {
	ChanPoint     wire.OutPoint
	ChanID        uint64
	BaseFeeMsat   uint64
	FeeRatePPM    uint32
	TimeLockDelta uint32
	MinHTLCMsat   uint64
	MaxHTLCMsat   uint64
}

// PolicyUpdate is an UpdateChannelPolicy request, checked. MinHTLCMsat
// nil keeps each channel's minimum; MaxHTLCMsat 0 keeps its maximum.
type PolicyUpdate struct {
	BaseFeeMsat   uint64
	FeeRatePPM    uint32
	TimeLockDelta uint32
	MinHTLCMsat   *uint64
	MaxHTLCMsat   uint64
}

// FailedPolicyUpdate is a channel UpdatePolicies left as it was.
type FailedPolicyUpdate struct {
	ChanPoint wire.OutPoint
	Reason    lnrpc.UpdateFailure
	Err       string
}

// MinTimeLockDelta is the smallest time_lock_delta UpdateChannelPolicy
// accepts, as lnd.
const MinTimeLockDelta = 18

// defaultForwardingEvents is ForwardingHistory's page size when the
// request names none, as lnd.
const defaultForwardingEvents = 100

func (l *lightningService) forwarding() (Forwarding, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Forwarding == nil {
		return nil, status.Error(codes.Unimplemented, "forwarding is not served")
	}
	return b.Forwarding, nil
}

func (l *lightningService) FeeReport(ctx context.Context,
	_ *lnrpc.FeeReportRequest) (*lnrpc.FeeReportResponse, error) {

	fw, err := l.forwarding()
	if err != nil {
		return nil, err
	}
	pols, err := fw.Policies(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.FeeReportResponse{
		ChannelFees: make([]*lnrpc.ChannelFeeReport, 0, len(pols))}
	for _, p := range pols {
		resp.ChannelFees = append(resp.ChannelFees, &lnrpc.ChannelFeeReport{
			ChanId:       p.ChanID,
			ChannelPoint: p.ChanPoint.String(),
			BaseFeeMsat:  int64(p.BaseFeeMsat),
			FeePerMil:    int64(p.FeeRatePPM),
			FeeRate:      float64(p.FeeRatePPM) / 1e6,
		})
	}
	now := time.Now()
	events, err := allForwards(ctx, fw, now.Add(-30*24*time.Hour), now)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	var day, week, month uint64
	for _, e := range events {
		fee := uint64(e.Fee())
		month += fee
		if now.Sub(e.Timestamp) <= 7*24*time.Hour {
			week += fee
		}
		if now.Sub(e.Timestamp) <= 24*time.Hour {
			day += fee
		}
	}
	resp.DayFeeSum, resp.WeekFeeSum, resp.MonthFeeSum =
		day/1000, week/1000, month/1000
	return resp, nil
}

// allForwards reads every forwarding event between start and end.
func allForwards(ctx context.Context, fw Forwarding, start,
	end time.Time) ([]channeldb.ForwardingEvent, error) {

	var out []channeldb.ForwardingEvent
	q := channeldb.ForwardingLogQuery{Start: start, End: end, NumMax: 10_000}
	for {
		page, err := fw.Forwards(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Events...)
		if len(page.Events) < int(q.NumMax) {
			return out, nil
		}
		q.IndexOffset = page.LastIndexOffset
	}
}

func (l *lightningService) UpdateChannelPolicy(ctx context.Context,
	req *lnrpc.PolicyUpdateRequest) (*lnrpc.PolicyUpdateResponse, error) {

	fw, err := l.forwarding()
	if err != nil {
		return nil, err
	}
	var op *wire.OutPoint
	switch scope := req.Scope.(type) {
	case *lnrpc.PolicyUpdateRequest_Global:
		if !scope.Global {
			return nil, invalidf("set global or chan_point")
		}
	case *lnrpc.PolicyUpdateRequest_ChanPoint:
		p, err := chanPointFromProto(scope.ChanPoint)
		if err != nil {
			return nil, err
		}
		op = &p
	default:
		return nil, invalidf("set global or chan_point")
	}
	u, err := policyUpdate(req)
	if err != nil {
		return nil, err
	}
	failed, err := fw.UpdatePolicies(ctx, op, *u)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.PolicyUpdateResponse{
		FailedUpdates: make([]*lnrpc.FailedUpdate, 0, len(failed))}
	for _, f := range failed {
		resp.FailedUpdates = append(resp.FailedUpdates, &lnrpc.FailedUpdate{
			Outpoint: &lnrpc.OutPoint{TxidBytes: f.ChanPoint.Hash[:],
				TxidStr: f.ChanPoint.Hash.String(), OutputIndex: f.ChanPoint.Index},
			Reason:      f.Reason,
			UpdateError: f.Err,
		})
	}
	return resp, nil
}

// policyUpdate checks an UpdateChannelPolicy request as lnd does.
func policyUpdate(req *lnrpc.PolicyUpdateRequest) (*PolicyUpdate, error) {
	if req.BaseFeeMsat < 0 {
		return nil, invalidf("base_fee_msat must not be negative")
	}
	if req.FeeRate < 0 {
		return nil, invalidf("fee_rate must not be negative")
	}
	if req.FeeRatePpm != 0 && req.FeeRate != 0 {
		return nil, invalidf("set fee_rate or fee_rate_ppm, not both")
	}
	if req.TimeLockDelta < MinTimeLockDelta {
		return nil, invalidf("time_lock_delta %d below the minimum %d",
			req.TimeLockDelta, MinTimeLockDelta)
	}
	if in := req.InboundFee; in != nil && (in.BaseFeeMsat != 0 || in.FeeRatePpm != 0) {
		return nil, status.Error(codes.Unimplemented, "inbound fees are not supported")
	}
	ppm := req.FeeRatePpm
	if req.FeeRate != 0 {
		r := math.Round(req.FeeRate * 1e6)
		if r > math.MaxUint32 {
			return nil, invalidf("fee_rate %v too large", req.FeeRate)
		}
		ppm = uint32(r)
	}
	u := &PolicyUpdate{BaseFeeMsat: uint64(req.BaseFeeMsat), FeeRatePPM: ppm,
		TimeLockDelta: req.TimeLockDelta, MaxHTLCMsat: req.MaxHtlcMsat}
	if req.MinHtlcMsatSpecified {
		m := req.MinHtlcMsat
		u.MinHTLCMsat = &m
	}
	if u.MaxHTLCMsat != 0 && u.MinHTLCMsat != nil && *u.MinHTLCMsat > u.MaxHTLCMsat {
		return nil, invalidf("min_htlc_msat above max_htlc_msat")
	}
	return u, nil
}

// chanPointFromProto reads a ChannelPoint (txid as bytes or as the
// reversed hex string).
func chanPointFromProto(cp *lnrpc.ChannelPoint) (wire.OutPoint, error) {
	if cp == nil {
		return wire.OutPoint{}, invalidf("chan_point missing")
	}
	var h chainhash.Hash
	switch t := cp.FundingTxid.(type) {
	case *lnrpc.ChannelPoint_FundingTxidBytes:
		if len(t.FundingTxidBytes) != chainhash.HashSize {
			return wire.OutPoint{}, invalidf("funding_txid_bytes of %d bytes",
				len(t.FundingTxidBytes))
		}
		copy(h[:], t.FundingTxidBytes)
	case *lnrpc.ChannelPoint_FundingTxidStr:
		p, err := chainhash.NewHashFromStr(t.FundingTxidStr)
		if err != nil {
			return wire.OutPoint{}, invalidf("funding_txid_str: %v", err)
		}
		h = *p
	default:
		return wire.OutPoint{}, invalidf("chan_point has no funding txid")
	}
	return wire.OutPoint{Hash: h, Index: cp.OutputIndex}, nil
}

func (l *lightningService) ForwardingHistory(ctx context.Context,
	req *lnrpc.ForwardingHistoryRequest) (*lnrpc.ForwardingHistoryResponse, error) {

	fw, err := l.forwarding()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	end := now
	if req.EndTime != 0 {
		end = unixTime(req.EndTime)
	}
	start := now.Add(-24 * time.Hour)
	if req.StartTime != 0 {
		start = unixTime(req.StartTime)
	}
	if end.Before(start) {
		return nil, invalidf("end_time before start_time")
	}
	num := req.NumMaxEvents
	if num == 0 {
		num = defaultForwardingEvents
	}
	var page *channeldb.ForwardingLogPage
	if len(req.IncomingChanIds) == 0 && len(req.OutgoingChanIds) == 0 {
		page, err = fw.Forwards(ctx, channeldb.ForwardingLogQuery{Start: start,
			End: end, IndexOffset: req.IndexOffset, NumMax: num})
	} else {
		page, err = filteredForwards(ctx, fw, start, end, req, num)
	}
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.ForwardingHistoryResponse{
		ForwardingEvents: make([]*lnrpc.ForwardingEvent, 0, len(page.Events)),
		LastOffsetIndex:  page.LastIndexOffset,
	}
	var aliases *chanPeerAliases
	if req.PeerAliasLookup {
		if aliases, err = l.newChanPeerAliases(ctx); err != nil {
			return nil, err
		}
	}
	for i := range page.Events {
		e := forwardingEventProto(&page.Events[i])
		if aliases != nil {
			// lnd's texts, its missing space included.
			e.PeerAliasIn = aliases.lookup(page.Events[i].IncomingChanID,
				"unable to lookup peer alias: ")
			e.PeerAliasOut = aliases.lookup(page.Events[i].OutgoingChanID,
				"unable to lookup peeralias: ")
		}
		resp.ForwardingEvents = append(resp.ForwardingEvents, e)
	}
	return resp, nil
}

// chanPeerAliases finds the alias of a channel's peer as lnd's
// ForwardingHistory does: the channel from the graph (ours are there,
// private ones too), its other node, that node's alias, "" for a node
// that never announced itself. Answers are cached for one call.
type chanPeerAliases struct {
	g     Graph
	self  [33]byte
	cache map[lnwire.ShortChannelID]string
}

func (l *lightningService) newChanPeerAliases(ctx context.Context) (*chanPeerAliases, error) {
	g, err := l.graph()
	if err != nil {
		return nil, err
	}
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	self, err := b.Info.IdentityKey(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &chanPeerAliases{g: g, self: [33]byte(self.SerializeCompressed()),
		cache: map[lnwire.ShortChannelID]string{}}, nil
}

// lookup returns the alias of the peer on channel id, or prefix and
// why there is none.
func (a *chanPeerAliases) lookup(id lnwire.ShortChannelID, prefix string) string {
	if alias, ok := a.cache[id]; ok {
		return alias
	}
	c, _, zombie, err := a.g.Channel(id)
	switch {
	case errors.Is(err, channeldb.ErrGraphChannelNotFound) || (err == nil && zombie):
		return prefix + msgEdgeNotFound
	case err != nil:
		return prefix + err.Error()
	}
	peer := c.Node1
	if peer == a.self {
		peer = c.Node2
	}
	n, err := a.g.Node(peer)
	switch {
	case errors.Is(err, channeldb.ErrGraphNodeNotFound) || (err == nil && n == nil):
		// lnd keeps a node without announcement for each channel
		// end, whose alias is empty.
		a.cache[id] = ""
		return ""
	case err != nil:
		return prefix + err.Error()
	}
	alias := n.Alias.String()
	a.cache[id] = alias
	return alias
}

// filteredForwards pages through the events of the given channels:
// index_offset counts matching events only, as lnd's does.
func filteredForwards(ctx context.Context, fw Forwarding, start, end time.Time,
	req *lnrpc.ForwardingHistoryRequest, num uint32) (*channeldb.ForwardingLogPage, error) {

	in, out := idSet(req.IncomingChanIds), idSet(req.OutgoingChanIds)
	events, err := allForwards(ctx, fw, start, end)
	if err != nil {
		return nil, err
	}
	page := &channeldb.ForwardingLogPage{LastIndexOffset: req.IndexOffset}
	var seen uint32
	for _, e := range events {
		if (in != nil && !in[e.IncomingChanID.ToUint64()]) ||
			(out != nil && !out[e.OutgoingChanID.ToUint64()]) {
			continue
		}
		seen++
		if seen <= req.IndexOffset {
			continue
		}
		page.Events = append(page.Events, e)
		page.LastIndexOffset = seen
		if uint32(len(page.Events)) == num {
			break
		}
	}
	return page, nil
}

func idSet(ids []uint64) map[uint64]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func unixTime(sec uint64) time.Time {
	if sec > uint64(math.MaxInt64/int64(time.Second)) {
		return time.Unix(0, math.MaxInt64)
	}
	return time.Unix(int64(sec), 0)
}

func forwardingEventProto(e *channeldb.ForwardingEvent) *lnrpc.ForwardingEvent {
	fee := e.Fee()
	return &lnrpc.ForwardingEvent{
		//lint:ignore SA1019 deprecated in lnd, still read by its clients.
		Timestamp:   uint64(e.Timestamp.Unix()),
		TimestampNs: uint64(e.Timestamp.UnixNano()),
		ChanIdIn:    e.IncomingChanID.ToUint64(),
		ChanIdOut:   e.OutgoingChanID.ToUint64(),
		AmtIn:       uint64(e.AmtIn / 1000),
		AmtOut:      uint64(e.AmtOut / 1000),
		Fee:         uint64(fee / 1000),
		FeeMsat:     uint64(fee),
		AmtInMsat:   uint64(e.AmtIn),
		AmtOutMsat:  uint64(e.AmtOut),
	}
}
