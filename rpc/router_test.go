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

	// An untried pair scores lnd's a priori 0.6; the failed one less.
	x, y := randVertex(t), randVertex(t)
	p, err := ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: x[:], ToNode: y[:], AmtMsat: 1000})
	if err != nil || p.Probability != routing.DefaultAprioriHopProbability || p.History.FailTime != 0 {
		t.Fatalf("untried pair: %v %v", p, err)
	}
	p, err = ro.QueryProbability(ctx, &routerrpc.QueryProbabilityRequest{FromNode: a[:], ToNode: b[:], AmtMsat: 2_000_000})
	if err != nil || p.Probability >= routing.DefaultAprioriHopProbability || p.History.FailAmtMsat != 2_000_000 {
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
	if resp["probability"] != 0.6 {
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
