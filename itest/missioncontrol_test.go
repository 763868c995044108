package itest

import (
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestMissionControl drives the router sub-server's mission control calls
// on a real node through xlncli and gRPC: querymc on a fresh node lists
// no pair, resetmc succeeds and prints nothing, queryprob for two random
// node keys gives 0 with no history (lnd since 0.17: no channel between
// them in the graph), and the config is lnd's default apriori one; all of
// it again after a restart. A result written to the stopped node's channel
// database is there when it starts (queryprob gives its history, and 0
// for a pair with no channel), and a reset lasts across a restart.
// TestGossipFromRawPeer scores a pair with a real channel.
func TestMissionControl(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	randKey := func() string {
		k, err := btcec.NewPrivateKey()
		check(t, err)
		return hex.EncodeToString(k.PubKey().SerializeCompressed())
	}
	cli := func(args ...string) []string { return append(alice.CLIArgs(), args...) }
	probe := func() {
		t.Helper()
		var mc struct {
			Pairs []any `json:"pairs"`
		}
		cliJSON(t, alice, &mc, cli("querymc")...)
		if mc.Pairs == nil || len(mc.Pairs) != 0 {
			t.Fatalf("querymc on a node that never paid: %+v", mc)
		}
		out, err := alice.CLI(cli("resetmc")...)
		check(t, err)
		if strings.TrimSpace(string(out)) != "" {
			t.Fatalf("resetmc printed %q", out)
		}
		var prob struct {
			Probability float64 `json:"probability"`
			History     struct {
				FailTime    string `json:"fail_time"`
				SuccessTime string `json:"success_time"`
			} `json:"history"`
		}
		cliJSON(t, alice, &prob, cli("queryprob", randKey(), randKey(), "10000")...)
		if prob.Probability != 0 || prob.History.FailTime != "0" || prob.History.SuccessTime != "0" {
			t.Fatalf("queryprob of an untried pair: %+v", prob)
		}
		if _, err := alice.CLI(cli("queryprob", "02ab", randKey(), "1")...); err == nil {
			t.Fatal("queryprob took a short key")
		}

		conn, err := alice.Conn(alice.ReadOnlyMacaroonPath())
		check(t, err)
		cfg, err := routerrpc.NewRouterClient(conn).GetMissionControlConfig(t.Context(),
			&routerrpc.GetMissionControlConfigRequest{})
		check(t, err)
		ap := cfg.Config.GetApriori()
		if cfg.Config.Model != routerrpc.MissionControlConfig_APRIORI || cfg.Config.MaximumPaymentResults != 1000 ||
			ap.GetHopProbability() != 0.6 || ap.GetWeight() != 0.5 || ap.GetHalfLifeSeconds() != 3600 {
			t.Fatalf("mission control config %v", cfg.Config)
		}
		// The read-only macaroon may query but not reset.
		if _, err := routerrpc.NewRouterClient(conn).ResetMissionControl(t.Context(),
			&routerrpc.ResetMissionControlRequest{}); err == nil {
			t.Fatal("readonly macaroon reset mission control")
		}
	}
	probe()
	check(t, alice.Restart())
	probe()

	// A result in the channel database, written while the node is down,
	// is what mission control starts with.
	check(t, alice.Stop())
	db, err := channeldb.Open(filepath.Join(alice.DataDir(), "data", "graph", "regtest", "channel.db"))
	check(t, err)
	var r channeldb.MissionControlResult
	from, to := randKey(), randKey()
	fb, _ := hex.DecodeString(from)
	tb, _ := hex.DecodeString(to)
	copy(r.From[:], fb)
	copy(r.To[:], tb)
	failAt := time.Now().Add(-time.Minute).Truncate(time.Second)
	r.FailTime, r.FailAmt = failAt, 7_000_000
	check(t, db.Update(func(tx kvdb.RwTx) error {
		return channeldb.ReplaceMissionControlResults(tx, []channeldb.MissionControlResult{r}, 0)
	}))
	check(t, db.Close())
	check(t, alice.Start())
	var mc struct {
		Pairs []struct {
			NodeFrom string `json:"node_from"`
			NodeTo   string `json:"node_to"`
			History  struct {
				FailTime    string `json:"fail_time"`
				FailAmtMsat string `json:"fail_amt_msat"`
			} `json:"history"`
		} `json:"pairs"`
	}
	cliJSON(t, alice, &mc, cli("querymc")...)
	if len(mc.Pairs) != 1 || mc.Pairs[0].NodeFrom != from || mc.Pairs[0].NodeTo != to ||
		mc.Pairs[0].History.FailAmtMsat != "7000000" ||
		mc.Pairs[0].History.FailTime != strconv.FormatInt(failAt.Unix(), 10) {
		t.Fatalf("querymc after a start over a stored result: %+v", mc)
	}
	var prob struct {
		Probability float64 `json:"probability"`
		History     struct {
			FailTime    string `json:"fail_time"`
			FailAmtMsat string `json:"fail_amt_msat"`
		} `json:"history"`
	}
	cliJSON(t, alice, &prob, cli("queryprob", from, to, "7000")...)
	if prob.Probability != 0 || prob.History.FailAmtMsat != "7000000" ||
		prob.History.FailTime != strconv.FormatInt(failAt.Unix(), 10) {
		t.Fatalf("queryprob of a pair that failed a minute ago: %+v", prob)
	}
	out, err := alice.CLI(cli("resetmc")...)
	check(t, err)
	if len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("resetmc printed %q", out)
	}
	check(t, alice.Restart())
	probe()
}
