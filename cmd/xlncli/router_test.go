package main

import (
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc"
	"lnd.xprv/sphinx"
)

func cliVertex(t *testing.T) routing.Vertex {
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	var v routing.Vertex
	copy(v[:], k.PubKey().SerializeCompressed())
	return v
}

// TestMissionControlCommands runs querymc, queryprob and resetmc against
// mission control over a bbolt file, checking lncli's JSON.
func TestMissionControlCommands(t *testing.T) {
	e := newEnv(t)
	e.mustCLI("", "create", "--password_file", writePw(t))
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Unix(1_800_000_000, 0)
	mc, err := routing.NewMissionControl(routing.MissionControlConfig{
		Apriori: routing.DefaultAprioriConfig(), Store: routing.NewDBStore(db, 0),
		Clock: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.srv.Activate(&rpc.Backend{Info: e.node, Chain: e.node, Peers: e.node, Wallet: e.node,
		MissionControl: mc, Stop: func() {}})
	if err != nil {
		t.Fatal(err)
	}

	if out := e.mustCLI("", "querymc"); !strings.Contains(out, `"pairs": []`) {
		t.Fatalf("querymc empty: %s", out)
	}
	s, a, b := cliVertex(t), cliVertex(t), cliVertex(t)
	rt := &routing.Route{SourcePubKey: s, TotalAmount: 5_000_000, Hops: []routing.Hop{
		{PubKey: a, ChannelID: lnwire.NewShortChanIDFromInt(1), AmtToForward: 5_000_000},
		{PubKey: b, ChannelID: lnwire.NewShortChanIDFromInt(2), AmtToForward: 5_000_000},
	}}
	if err := mc.ReportFailure(rt, 0, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	out := e.mustCLI("", "querymc")
	if !strings.Contains(out, `"node_from": "`+hex.EncodeToString(a[:])+`"`) ||
		!strings.Contains(out, `"fail_amt_msat": "5000000"`) || !strings.Contains(out, `"fail_time": "1800000000"`) {
		t.Fatalf("querymc: %s", out)
	}

	x, y := cliVertex(t), cliVertex(t)
	var prob struct {
		Probability float64 `json:"probability"`
		History     struct {
			FailAmtMsat string `json:"fail_amt_msat"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(e.mustCLI("", "queryprob", x.String(), y.String(), "1000")), &prob); err != nil {
		t.Fatal(err)
	}
	if prob.Probability != routing.DefaultAprioriHopProbability || prob.History.FailAmtMsat != "0" {
		t.Fatalf("queryprob untried: %+v", prob)
	}
	if err := json.Unmarshal([]byte(e.mustCLI("", "queryprob", a.String(), b.String(), "5000")), &prob); err != nil {
		t.Fatal(err)
	}
	if prob.Probability >= routing.DefaultAprioriHopProbability || prob.History.FailAmtMsat != "5000000" {
		t.Fatalf("queryprob failed pair: %+v", prob)
	}
	if _, _, code := e.cli("", "queryprob", "zz", y.String(), "1"); code == 0 {
		t.Fatal("queryprob took a bad key")
	}

	if out := e.mustCLI("", "resetmc"); strings.TrimSpace(out) != "" {
		t.Fatalf("resetmc printed %q", out)
	}
	if n := len(mc.QueryPairs()); n != 0 {
		t.Fatalf("%d pairs after resetmc", n)
	}
}
