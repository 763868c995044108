package rpc

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"google.golang.org/grpc/codes"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/rpc/macaroons"
	"lnd.xprv/sphinx"
)

// withMissionControl activates the harness's backend with real mission
// control over a bbolt file, its clock at now.
func (h *harness) withMissionControl(now time.Time) *routing.MissionControl {
	h.t.Helper()
	db, err := channeldb.Open(filepath.Join(h.dir, "channel.db"), channeldb.WithNoSync())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	mc, err := routing.NewMissionControl(routing.MissionControlConfig{
		Apriori: routing.DefaultAprioriConfig(),
		Store:   routing.NewDBStore(db, 0),
		Clock:   func() time.Time { return now },
	})
	if err != nil {
		h.t.Fatal(err)
	}
	_, err = lnrpc.NewWalletUnlockerClient(h.conn(nil)).UnlockWallet(h.t.Context(),
		&lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	if err != nil {
		h.t.Fatalf("unlock: %v", err)
	}
	b := h.node.backend()
	b.MissionControl = mc
	if err := h.srv.Activate(b); err != nil {
		h.t.Fatal(err)
	}
	return mc
}

func randVertex(t *testing.T) routing.Vertex {
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	var v routing.Vertex
	copy(v[:], k.PubKey().SerializeCompressed())
	return v
}

func TestRouterMissionControlRPCs(t *testing.T) {
	h := newHarness(t, true)
	now := time.Unix(1_800_000_000, 0)
	mc := h.withMissionControl(now)
	ctx := t.Context()
	admin := routerrpc.NewRouterClient(h.conn(h.macaroon(macaroons.AdminFile)))
	ro := routerrpc.NewRouterClient(h.conn(h.macaroon(macaroons.ReadOnlyFile)))

	got, err := ro.QueryMissionControl(ctx, &routerrpc.QueryMissionControlRequest{})
	if err != nil || len(got.Pairs) != 0 {
		t.Fatalf("empty mission control: %v %v", got, err)
	}

	// On s -> a -> b, a fails to forward 2,000,000 msat to b.
	s, a, b := randVertex(t), randVertex(t), randVertex(t)
	rt := &routing.Route{SourcePubKey: s, TotalAmount: 2_001_000, Hops: []routing.Hop{
		{PubKey: a, ChannelID: lnwire.NewShortChanIDFromInt(1), AmtToForward: 2_000_000},
		{PubKey: b, ChannelID: lnwire.NewShortChanIDFromInt(2), AmtToForward: 2_000_000},
	}}
	if err := mc.ReportFailure(rt, 0, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	got, err = ro.QueryMissionControl(ctx, &routerrpc.QueryMissionControlRequest{})
	if err != nil || len(got.Pairs) != 2 {
		t.Fatalf("after a failure: %v %v", got, err)
	}
	var failed *routerrpc.PairHistory
	for _, p := range got.Pairs {
		if string(p.NodeFrom) == string(a[:]) && string(p.NodeTo) == string(b[:]) {
			failed = p
		}
	}
	if failed == nil || failed.History.FailTime != now.Unix() || failed.History.FailAmtMsat != 2_000_000 ||
		failed.History.FailAmtSat != 2_000 || failed.History.SuccessTime != 0 {
		t.Fatalf("failed pair %v", failed)
	}

	// With no channel between them in the graph (here no graph at all)
	// a pair scores 0, as in lnd; the history is still given.
	x, y := randVertex(t), randVertex(t)
	p, err := ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: x[:], ToNode: y[:], AmtMsat: 1000})
	if err != nil || p.Probability != 0 || p.History.FailTime != 0 {
		t.Fatalf("untried pair: %v %v", p, err)
	}
	p, err = ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: a[:], ToNode: b[:], AmtMsat: 2_000_000})
	if err != nil || p.Probability != 0 || p.History.FailAmtMsat != 2_000_000 || p.History.FailTime != now.Unix() {
		t.Fatalf("failed pair: %v %v", p, err)
	}
	_, err = ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: x[:5], ToNode: y[:], AmtMsat: 1})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: x[:], ToNode: y[:], AmtMsat: -1})
	wantCode(t, err, codes.InvalidArgument)

	cfg, err := ro.GetMissionControlConfig(ctx, &routerrpc.GetMissionControlConfigRequest{})
	if err != nil || cfg.Config.Model != routerrpc.MissionControlConfig_APRIORI ||
		cfg.Config.MaximumPaymentResults != 1000 || cfg.Config.GetApriori().GetHopProbability() != 0.6 ||
		cfg.Config.GetApriori().GetHalfLifeSeconds() != 3600 || cfg.Config.GetApriori().GetCapacityFraction() != 0.9999 {
		t.Fatalf("config %v %v", cfg, err)
	}

	// Resetting needs offchain:write.
	_, err = ro.ResetMissionControl(ctx, &routerrpc.ResetMissionControlRequest{})
	wantCode(t, err, codes.PermissionDenied)
	if _, err := admin.ResetMissionControl(ctx, &routerrpc.ResetMissionControlRequest{}); err != nil {
		t.Fatal(err)
	}
	if n := len(mc.QueryPairs()); n != 0 {
		t.Fatalf("%d pairs after reset", n)
	}

	// REST: lnd's paths and JSON; node keys in the path are base64.
	if err := mc.ReportFailure(rt, 0, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	mac := h.macaroon(macaroons.AdminFile)
	resp := readJSON(t, h.rest("GET", "/v2/router/mc", "", mac))
	if pairs, _ := resp["pairs"].([]any); len(pairs) != 2 {
		t.Fatalf("REST querymc %v", resp)
	}
	resp = readJSON(t, h.rest("GET", "/v2/router/mc/probability/"+base64.URLEncoding.EncodeToString(x[:])+"/"+
		base64.URLEncoding.EncodeToString(y[:])+"/1000", "", mac))
	if resp["probability"] != float64(0) {
		t.Fatalf("REST queryprob %v", resp)
	}
	resp = readJSON(t, h.rest("GET", "/v2/router/mc/probability/"+base64.URLEncoding.EncodeToString(a[:])+"/"+
		base64.URLEncoding.EncodeToString(b[:])+"/2000000", "", mac))
	if hist, _ := resp["history"].(map[string]any); hist["fail_amt_msat"] != "2000000" {
		t.Fatalf("REST queryprob of the failed pair %v", resp)
	}
	resp = readJSON(t, h.rest("GET", "/v2/router/mccfg", "", mac))
	if c, _ := resp["config"].(map[string]any); c["maximum_payment_results"] != float64(1000) || c["model"] != "APRIORI" {
		t.Fatalf("REST getmccfg %v", resp)
	}
	readJSON(t, h.rest("POST", "/v2/router/mc/reset", "{}", mac))
	if n := len(mc.QueryPairs()); n != 0 {
		t.Fatalf("%d pairs after REST reset", n)
	}
}

// TestRouterUnavailable: without mission control the calls answer
// Unavailable.
func TestRouterUnavailable(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	_, err := routerrpc.NewRouterClient(h.conn(h.macaroon(macaroons.AdminFile))).
		QueryMissionControl(t.Context(), &routerrpc.QueryMissionControlRequest{})
	wantCode(t, err, codes.Unavailable)
}

// TestQueryRoutesMissionControl: QueryRoutes scores hops by mission
// control only when use_mission_control is set, as lnd does.
func TestQueryRoutesMissionControl(t *testing.T) {
	h, gl, _ := newGraphHarness(t)
	ctx := t.Context()
	db, err := channeldb.Open(filepath.Join(h.dir, "mc.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mc, err := routing.NewMissionControl(routing.MissionControlConfig{
		Apriori: routing.DefaultAprioriConfig(), Store: routing.NewDBStore(db, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := h.node.backend()
	b.Graph, b.Router = h.srv.backend.Load().Graph, h.srv.backend.Load().Router
	b.MissionControl = mc
	if err := h.srv.Activate(b); err != nil {
		t.Fatal(err)
	}
	ln := h.lightning(macaroons.ReadOnlyFile)
	key := func(i int) string { return hex.EncodeToString(gl.keys[i][:]) }
	req := &lnrpc.QueryRoutesRequest{PubKey: key(2), Amt: 10_000, SourcePubKey: key(0)}

	routes, err := ln.QueryRoutes(ctx, req)
	if err != nil || routes.SuccessProb != 1 {
		t.Fatalf("without mission control: %v %v", routes, err)
	}
	req.UseMissionControl = true
	routes, err = ln.QueryRoutes(ctx, req)
	if err != nil || math.Abs(routes.SuccessProb-0.36) > 1e-3 {
		t.Fatalf("with mission control, two untried hops: %v %v", routes, err)
	}

	// b just failed to forward this amount to c: no route is likely.
	var a, bv, c routing.Vertex
	copy(a[:], gl.keys[0][:])
	copy(bv[:], gl.keys[1][:])
	copy(c[:], gl.keys[2][:])
	r := routes.Routes[0]
	rt := &routing.Route{SourcePubKey: a, TotalAmount: lnwire.MilliSatoshi(r.TotalAmtMsat), Hops: []routing.Hop{
		{PubKey: bv, ChannelID: lnwire.NewShortChanIDFromInt(r.Hops[0].ChanId),
			AmtToForward: lnwire.MilliSatoshi(r.Hops[0].AmtToForwardMsat)},
		{PubKey: c, ChannelID: lnwire.NewShortChanIDFromInt(r.Hops[1].ChanId),
			AmtToForward: lnwire.MilliSatoshi(r.Hops[1].AmtToForwardMsat)},
	}}
	if err := mc.ReportFailure(rt, 0, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	_, err = ln.QueryRoutes(ctx, req)
	wantCode(t, err, codes.NotFound)
	req.UseMissionControl = false
	if _, err := ln.QueryRoutes(ctx, req); err != nil {
		t.Fatalf("without mission control after the failure: %v", err)
	}
}

// TestQueryProbabilityGraph: QueryProbability scores a pair by the
// channel the graph has in that direction, as lnd: the estimator's figure
// for the channel's capacity when the direction can carry the amount, 0
// otherwise.
func TestQueryProbabilityGraph(t *testing.T) {
	h, gl, g := newGraphHarness(t)
	ctx := t.Context()
	now := time.Unix(1_800_000_000, 0)
	db, err := channeldb.Open(filepath.Join(h.dir, "mc.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mc, err := routing.NewMissionControl(routing.MissionControlConfig{
		Apriori: routing.DefaultAprioriConfig(), Store: routing.NewDBStore(db, 0),
		Clock: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	b := h.node.backend()
	b.Graph, b.Router = g, h.srv.backend.Load().Router
	b.MissionControl = mc
	if err := h.srv.Activate(b); err != nil {
		t.Fatal(err)
	}
	ro := routerrpc.NewRouterClient(h.conn(h.macaroon(macaroons.ReadOnlyFile)))
	var v [3]routing.Vertex
	for i := range v {
		copy(v[i][:], gl.keys[i][:])
	}
	// update sets the direction from v[i] to v[i+1] (or back, when rev)
	// of channel i: htlc 1,000 msat up to the whole capacity.
	update := func(i int, rev, disabled bool) {
		t.Helper()
		from, to := gl.keys[i], gl.keys[i+1]
		if rev {
			from, to = to, from
		}
		var flags lnwire.ChanUpdateChanFlags
		if string(from[:]) > string(to[:]) {
			flags |= lnwire.ChanFlagDirection
		}
		if disabled {
			flags |= lnwire.ChanFlagDisabled
		}
		if err := g.UpdatePolicy(&lnwire.ChannelUpdate{ShortChannelID: gl.ids[i], Timestamp: 1_700_000_100,
			MessageFlags: lnwire.MsgFlagMustBeOne, ChannelFlags: flags, TimeLockDelta: 40,
			HtlcMinimumMsat: 1000, BaseFee: 1000, FeeRate: 100, HtlcMaximumMsat: 1_000_000_000}); err != nil {
			t.Fatal(err)
		}
	}
	prob := func(from, to routing.Vertex, amt int64) *routerrpc.QueryProbabilityResponse {
		t.Helper()
		p, err := ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: from[:], ToNode: to[:], AmtMsat: amt})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

	update(0, false, false)
	for _, c := range []struct {
		from, to routing.Vertex
		amt      int64
		want     float64
	}{
		{v[0], v[1], 10_000, 0.6},       // far below the capacity: the a priori chance
		{v[0], v[1], 999_900_000, 0.45}, // at 0.9999 of the 1,000,000 sat: capacity factor 0.75
		{v[0], v[1], 1_000_000_001, 0},  // above htlc_maximum_msat and the capacity
		{v[0], v[1], 999, 0},            // below htlc_minimum_msat
		{v[1], v[0], 600_000_000, 0},    // the other direction's htlc_maximum_msat is 500,000,000
		{v[1], v[0], 10_000, 0.6},
		{v[0], v[2], 10_000, 0}, // no channel between them
	} {
		if p := prob(c.from, c.to, c.amt); !near(p.Probability, c.want) {
			t.Errorf("%x -> %x %d msat: %v, want %v", c.from[:3], c.to[:3], c.amt, p.Probability, c.want)
		}
	}

	// v[1] just failed to forward 2,000,000 msat to v[2]: that pair
	// scores 0 for it, and v[1]'s other pair half the a priori chance
	// (weight 0.5 against one fresh failure).
	rt := &routing.Route{SourcePubKey: v[0], TotalAmount: 2_001_000, Hops: []routing.Hop{
		{PubKey: v[1], ChannelID: gl.ids[0], AmtToForward: 2_000_000},
		{PubKey: v[2], ChannelID: gl.ids[1], AmtToForward: 2_000_000},
	}}
	if err := mc.ReportFailure(rt, 0, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	if p := prob(v[1], v[2], 2_000_000); p.Probability != 0 || p.History.FailAmtMsat != 2_000_000 ||
		p.History.FailTime != now.Unix() {
		t.Errorf("failed pair: %v", p)
	}
	if p := prob(v[1], v[0], 2_000_000); !near(p.Probability, 0.3) {
		t.Errorf("failed node's other pair: %v", p)
	}

	// Disabling the direction leaves no usable channel.
	update(0, true, true)
	if p := prob(v[1], v[0], 10_000); p.Probability != 0 {
		t.Errorf("disabled direction: %v", p)
	}
}
