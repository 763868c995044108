package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc"
	"lnd.xprv/sphinx"
)

// addCLIChannel adds a 1,000,000 sat channel between a and b to g, both
// directions enabled for htlcs of 1 sat up to the whole capacity.
func addCLIChannel(t *testing.T, g *routing.ChannelGraph, a, b routing.Vertex) {
	t.Helper()
	n1, n2 := a, b
	if bytes.Compare(n1[:], n2[:]) > 0 {
		n1, n2 = n2, n1
	}
	id := lnwire.ShortChannelID{BlockHeight: 100, TxIndex: 1}
	ann := &lnwire.ChannelAnnouncement{Features: lnwire.NewRawFeatureVector(),
		ShortChannelID: id, NodeID1: n1, NodeID2: n2, BitcoinKey1: n1, BitcoinKey2: n2}
	if err := g.AddChannel(&channeldb.GraphChannel{ID: id, ChanPoint: wire.OutPoint{Hash: chainhash.Hash{1}},
		Capacity: 1_000_000, Node1: n1, Node2: n2, Announcement: ann}); err != nil {
		t.Fatal(err)
	}
	for d := range 2 {
		if err := g.UpdatePolicy(&lnwire.ChannelUpdate{ShortChannelID: id, Timestamp: 1_700_000_000,
			MessageFlags: lnwire.MsgFlagMustBeOne, ChannelFlags: lnwire.ChanUpdateChanFlags(d),
			TimeLockDelta: 40, HtlcMinimumMsat: 1000, BaseFee: 1000, FeeRate: 100,
			HtlcMaximumMsat: 1_000_000_000}); err != nil {
			t.Fatal(err)
		}
	}
}

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
	graph, err := routing.OpenChannelGraph(db)
	if err != nil {
		t.Fatal(err)
	}
	err = e.srv.Activate(&rpc.Backend{Info: e.node, Chain: e.node, Peers: e.node, Wallet: e.node,
		Graph: graph, MissionControl: mc, Stop: func() {}})
	if err != nil {
		t.Fatal(err)
	}

	if out := e.mustCLI("", "querymc"); !strings.Contains(out, `"pairs": []`) {
		t.Fatalf("querymc empty: %s", out)
	}
	s, a, b := cliVertex(t), cliVertex(t), cliVertex(t)
	addCLIChannel(t, graph, a, b)
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
	// lnd: 0 for a pair with no channel in the graph; the estimator's
	// figure for the channel's capacity otherwise.
	if prob.Probability != 0 || prob.History.FailAmtMsat != "0" {
		t.Fatalf("queryprob of a pair with no channel: %+v", prob)
	}
	if err := json.Unmarshal([]byte(e.mustCLI("", "queryprob", a.String(), b.String(), "5000")), &prob); err != nil {
		t.Fatal(err)
	}
	if prob.Probability != 0 || prob.History.FailAmtMsat != "5000000" {
		t.Fatalf("queryprob of a pair that just failed: %+v", prob)
	}
	if err := json.Unmarshal([]byte(e.mustCLI("", "queryprob", b.String(), a.String(), "5000")), &prob); err != nil {
		t.Fatal(err)
	}
	if prob.Probability != routing.DefaultAprioriHopProbability || prob.History.FailAmtMsat != "0" {
		t.Fatalf("queryprob of an untried pair with a channel: %+v", prob)
	}
	// 0.9999 of the 1,000,000 sat capacity: capacity factor 0.75.
	if err := json.Unmarshal([]byte(e.mustCLI("", "queryprob", b.String(), a.String(), "999900")), &prob); err != nil {
		t.Fatal(err)
	}
	if math.Abs(prob.Probability-0.45) > 1e-9 {
		t.Fatalf("queryprob near the capacity: %+v", prob)
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
