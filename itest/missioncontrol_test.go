package itest

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestMissionControl drives the router sub-server's mission control calls
// on a real node through xlncli and gRPC: querymc on a fresh node lists
// no pair, resetmc succeeds and prints nothing, queryprob for two random
// node keys gives lnd's a priori 0.6 with no history, and the config is
// lnd's default apriori one; all of it again after a restart.
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
		if prob.Probability != 0.6 || prob.History.FailTime != "0" || prob.History.SuccessTime != "0" {
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
}
