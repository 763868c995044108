package rpc

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/netparams"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc/lnrpc"
)

// dbForwarding serves the forwarding log from a real channel database;
// its policies are a map.
type dbForwarding struct {
	db       *channeldb.DB
	policies map[wire.OutPoint]ChannelPolicy
	updated  []PolicyUpdate
}

func (f *dbForwarding) Policies(context.Context) ([]ChannelPolicy, error) {
	var out []ChannelPolicy
	for _, p := range f.policies {
		out = append(out, p)
	}
	return out, nil
}

func (f *dbForwarding) UpdatePolicies(_ context.Context, op *wire.OutPoint,
	u PolicyUpdate) ([]FailedPolicyUpdate, error) {

	if op != nil {
		if _, ok := f.policies[*op]; !ok {
			return []FailedPolicyUpdate{{ChanPoint: *op,
				Reason: lnrpc.UpdateFailure_UPDATE_FAILURE_NOT_FOUND}}, nil
		}
	}
	f.updated = append(f.updated, u)
	return nil, nil
}

func (f *dbForwarding) Forwards(_ context.Context,
	q channeldb.ForwardingLogQuery) (*channeldb.ForwardingLogPage, error) {

	var page *channeldb.ForwardingLogPage
	err := f.db.View(func(tx kvdb.RTx) error {
		var err error
		page, err = channeldb.QueryForwardingLog(tx, q)
		return err
	})
	return page, err
}

func forwardingService(t *testing.T) (*lightningService, *dbForwarding) {
	t.Helper()
	network, err := netparams.ByName("regtest")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Network: network, TLSCertPath: "x", TLSKeyPath: "y",
		RPCListen: []string{"127.0.0.1:0"}, NoMacaroons: true})
	if err != nil {
		t.Fatal(err)
	}
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	fw := &dbForwarding{db: db, policies: map[wire.OutPoint]ChannelPolicy{}}
	srv.backend.Store(&Backend{Forwarding: fw})
	return &lightningService{s: srv}, fw
}

// TestForwardingHistory: events page by index_offset as lnd's, default
// window is the last day, and the channel filters count matching events.
func TestForwardingHistory(t *testing.T) {
	l, fw := forwardingService(t)
	now := time.Now()
	var evs []channeldb.ForwardingEvent
	for i := 0; i < 5; i++ {
		evs = append(evs, channeldb.ForwardingEvent{
			Timestamp:      now.Add(-time.Duration(5-i) * time.Minute),
			IncomingChanID: lnwire.NewShortChanIDFromInt(uint64(1 + i%2)),
			OutgoingChanID: lnwire.NewShortChanIDFromInt(9),
			AmtIn:          lnwire.MilliSatoshi(10_000 + 1000*i), AmtOut: 10_000,
		})
	}
	// One two days old: outside the default window, inside the month.
	evs = append(evs, channeldb.ForwardingEvent{Timestamp: now.Add(-48 * time.Hour),
		IncomingChanID: lnwire.NewShortChanIDFromInt(1),
		OutgoingChanID: lnwire.NewShortChanIDFromInt(9), AmtIn: 7000, AmtOut: 2000})
	if err := fw.db.Update(func(tx kvdb.RwTx) error {
		return channeldb.AddForwardingEvents(tx, evs)
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := l.ForwardingHistory(ctx, &lnrpc.ForwardingHistoryRequest{NumMaxEvents: 2})
	if err != nil || len(resp.ForwardingEvents) != 2 || resp.LastOffsetIndex != 2 {
		t.Fatalf("first page: %v %v", resp, err)
	}
	e := resp.ForwardingEvents[1]
	if e.FeeMsat != 1000 || e.AmtInMsat != 11_000 || e.AmtIn != 11 || e.ChanIdIn != 2 ||
		e.TimestampNs != uint64(evs[1].Timestamp.UnixNano()) {
		t.Fatalf("event %+v", e)
	}
	resp, err = l.ForwardingHistory(ctx, &lnrpc.ForwardingHistoryRequest{
		IndexOffset: 2, NumMaxEvents: 10})
	if err != nil || len(resp.ForwardingEvents) != 3 || resp.LastOffsetIndex != 5 {
		t.Fatalf("second page: %v %v", resp, err)
	}
	resp, err = l.ForwardingHistory(ctx, &lnrpc.ForwardingHistoryRequest{
		StartTime: uint64(now.Add(-72 * time.Hour).Unix()), IncomingChanIds: []uint64{1},
		IndexOffset: 1})
	if err != nil || len(resp.ForwardingEvents) != 3 || resp.LastOffsetIndex != 4 {
		t.Fatalf("filtered: %v %v", resp, err)
	}
	rep, err := l.FeeReport(ctx, &lnrpc.FeeReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// Day: 0+1+2+3+4 sat; week and month add the old event's 5 sat.
	if rep.DayFeeSum != 10 || rep.WeekFeeSum != 15 || rep.MonthFeeSum != 15 {
		t.Fatalf("fee sums %d/%d/%d, want 10/15/15", rep.DayFeeSum, rep.WeekFeeSum,
			rep.MonthFeeSum)
	}
	if _, err := l.ForwardingHistory(ctx, &lnrpc.ForwardingHistoryRequest{
		StartTime: 100, EndTime: 50}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("end before start: %v", err)
	}
}

func TestUpdateChannelPolicy(t *testing.T) {
	l, fw := forwardingService(t)
	op := wire.OutPoint{Index: 1}
	fw.policies[op] = ChannelPolicy{ChanPoint: op, ChanID: 77, BaseFeeMsat: 1000, FeeRatePPM: 1}
	ctx := context.Background()
	global := &lnrpc.PolicyUpdateRequest_Global{Global: true}
	_, err := l.UpdateChannelPolicy(ctx, &lnrpc.PolicyUpdateRequest{Scope: global,
		BaseFeeMsat: 2000, FeeRate: 0.0005, TimeLockDelta: 40})
	if err != nil || len(fw.updated) != 1 || fw.updated[0].FeeRatePPM != 500 ||
		fw.updated[0].BaseFeeMsat != 2000 || fw.updated[0].MinHTLCMsat != nil {
		t.Fatalf("global update: %v %+v", err, fw.updated)
	}
	resp, err := l.UpdateChannelPolicy(ctx, &lnrpc.PolicyUpdateRequest{
		Scope:         &lnrpc.PolicyUpdateRequest_ChanPoint{ChanPoint: chanPointProto(wire.OutPoint{Index: 9})},
		TimeLockDelta: 40, FeeRatePpm: 3, MinHtlcMsat: 5, MinHtlcMsatSpecified: true})
	if err != nil || len(resp.FailedUpdates) != 1 ||
		resp.FailedUpdates[0].Reason != lnrpc.UpdateFailure_UPDATE_FAILURE_NOT_FOUND {
		t.Fatalf("unknown channel: %v %v", resp, err)
	}
	bad := []*lnrpc.PolicyUpdateRequest{
		{Scope: global, TimeLockDelta: 17},
		{Scope: global, TimeLockDelta: 40, FeeRate: 0.1, FeeRatePpm: 3},
		{Scope: global, TimeLockDelta: 40, BaseFeeMsat: -1},
		{TimeLockDelta: 40},
		{Scope: global, TimeLockDelta: 40, MaxHtlcMsat: 5, MinHtlcMsat: 6, MinHtlcMsatSpecified: true},
	}
	for i, r := range bad {
		if _, err := l.UpdateChannelPolicy(ctx, r); status.Code(err) != codes.InvalidArgument {
			t.Errorf("bad request %d: %v", i, err)
		}
	}
	rep, err := l.FeeReport(ctx, &lnrpc.FeeReportRequest{})
	if err != nil || len(rep.ChannelFees) != 1 || rep.ChannelFees[0].ChanId != 77 ||
		rep.ChannelFees[0].FeePerMil != 1 || rep.ChannelFees[0].ChannelPoint != op.String() {
		t.Fatalf("fee report %v %v", rep, err)
	}
}
