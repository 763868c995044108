package itest

import (
	"encoding/json"
	"net/http"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestForwardingPolicy: a channel forwards under the --bitcoin.* defaults
// until updatechanpolicy changes it; feereport shows the policy, which
// survives a restart; fwdinghistory pages an empty log.
func TestForwardingPolicy(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice", "--bitcoin.basefee=1500")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	_, point := openChannel(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	_, err := nw.Mine(3)
	check(t, err)
	waitActive(t, alice, point)

	cli := func(v any, args ...string) {
		t.Helper()
		out, err := alice.CLI(append(alice.CLIArgs(), args...)...)
		check(t, err)
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("xlncli %v: %v: %s", args, err, out)
		}
	}
	type report struct {
		ChannelFees []struct {
			ChanID       string  `json:"chan_id"`
			ChannelPoint string  `json:"channel_point"`
			BaseFeeMsat  string  `json:"base_fee_msat"`
			FeePerMil    string  `json:"fee_per_mil"`
			FeeRate      float64 `json:"fee_rate"`
		} `json:"channel_fees"`
		DayFeeSum string `json:"day_fee_sum"`
	}
	var rep report
	cli(&rep, "feereport")
	if len(rep.ChannelFees) != 1 || rep.ChannelFees[0].ChannelPoint != point ||
		rep.ChannelFees[0].BaseFeeMsat != "1500" || rep.ChannelFees[0].FeePerMil != "1" ||
		rep.DayFeeSum != "0" {
		t.Fatalf("fee report before the update: %+v", rep)
	}

	var upd struct {
		FailedUpdates []struct {
			OutPoint string `json:"outpoint"`
			Reason   string `json:"reason"`
		} `json:"failed_updates"`
	}
	cli(&upd, "updatechanpolicy", "--base_fee_msat", "2500", "--fee_rate_ppm",
		"300", "--time_lock_delta", "40")
	if len(upd.FailedUpdates) != 0 {
		t.Fatalf("global update failed: %+v", upd)
	}
	const bogus = "0000000000000000000000000000000000000000000000000000000000000001:7"
	cli(&upd, "updatechanpolicy", "10", "0.000001", "40", bogus)
	if len(upd.FailedUpdates) != 1 || upd.FailedUpdates[0].OutPoint != bogus ||
		upd.FailedUpdates[0].Reason != "UPDATE_FAILURE_NOT_FOUND" {
		t.Fatalf("update of an unknown channel: %+v", upd)
	}

	check(t, alice.Restart())
	waitActive(t, alice, point)
	cli(&rep, "feereport")
	if len(rep.ChannelFees) != 1 || rep.ChannelFees[0].BaseFeeMsat != "2500" ||
		rep.ChannelFees[0].FeePerMil != "300" || rep.ChannelFees[0].FeeRate != 0.0003 {
		t.Fatalf("fee report after the update and a restart: %+v", rep)
	}

	// The same over REST, at lnd's paths; the readonly macaroon reads
	// the report and may not change the policy.
	var restRep report
	restJSON(t, alice, http.MethodGet, "/v1/fees", nil, alice.ReadOnlyMacaroonPath(), &restRep)
	if len(restRep.ChannelFees) != 1 || restRep.ChannelFees[0].BaseFeeMsat != "2500" {
		t.Fatalf("GET /v1/fees: %+v", restRep)
	}
	update := map[string]any{"global": true, "base_fee_msat": "3000",
		"fee_rate_ppm": 10, "time_lock_delta": 40}
	code, _, err := alice.REST(http.MethodPost, "/v1/chanpolicy", update, alice.ReadOnlyMacaroonPath())
	check(t, err)
	if code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Fatalf("POST /v1/chanpolicy with the readonly macaroon: HTTP %d", code)
	}
	restJSON(t, alice, http.MethodPost, "/v1/chanpolicy", update, alice.AdminMacaroonPath(), nil)
	restJSON(t, alice, http.MethodGet, "/v1/fees", nil, alice.ReadOnlyMacaroonPath(), &restRep)
	if restRep.ChannelFees[0].BaseFeeMsat != "3000" || restRep.ChannelFees[0].FeePerMil != "10" {
		t.Fatalf("GET /v1/fees after POST /v1/chanpolicy: %+v", restRep)
	}
	var restHist struct {
		Events []any `json:"forwarding_events"`
	}
	restJSON(t, alice, http.MethodPost, "/v1/switch", map[string]any{"num_max_events": 5},
		alice.ReadOnlyMacaroonPath(), &restHist)

	var hist struct {
		Events     []any `json:"forwarding_events"`
		LastOffset int   `json:"last_offset_index"`
	}
	cli(&hist, "fwdinghistory", "--start_time", "-1w", "--max_events", "10")
	if len(hist.Events) != 0 || hist.LastOffset != 0 {
		t.Fatalf("forwarding history of a node that forwarded nothing: %+v", hist)
	}
}
