package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

// graphLine is a graph a - b - c stored in a real channeldb and served by
// the graph calls. Gossip validation is routing's; the store takes the
// records as given.
type graphLine struct {
	keys [3][33]byte
	ids  [2]lnwire.ShortChannelID
	ops  [2]wire.OutPoint
}

func newGraphHarness(t *testing.T) (*harness, *graphLine, *routing.ChannelGraph) {
	t.Helper()
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g, err := routing.OpenChannelGraph(db)
	if err != nil {
		t.Fatal(err)
	}
	var gl graphLine
	for i := range gl.keys {
		priv, _ := btcec.PrivKeyFromBytes([]byte{byte(i + 1), 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
			9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
		copy(gl.keys[i][:], priv.PubKey().SerializeCompressed())
	}
	for i := range 2 {
		n1, n2 := gl.keys[i], gl.keys[i+1]
		if bytes.Compare(n1[:], n2[:]) > 0 {
			n1, n2 = n2, n1
		}
		gl.ids[i] = lnwire.ShortChannelID{BlockHeight: 100 + uint32(i), TxIndex: 1}
		gl.ops[i] = wire.OutPoint{Hash: chainhash.Hash{byte(i + 1)}, Index: 0}
		ann := &lnwire.ChannelAnnouncement{Features: lnwire.NewRawFeatureVector(),
			ShortChannelID: gl.ids[i], NodeID1: n1, NodeID2: n2, BitcoinKey1: n1, BitcoinKey2: n2}
		if err := g.AddChannel(&channeldb.GraphChannel{ID: gl.ids[i], ChanPoint: gl.ops[i],
			Capacity: 1_000_000, Node1: n1, Node2: n2, Announcement: ann}); err != nil {
			t.Fatal(err)
		}
		for d := range 2 {
			u := &lnwire.ChannelUpdate{ShortChannelID: gl.ids[i], Timestamp: 1_700_000_000,
				MessageFlags: lnwire.MsgFlagMustBeOne, ChannelFlags: lnwire.ChanUpdateChanFlags(d),
				TimeLockDelta: 40 + uint16(d), HtlcMinimumMsat: 1000, BaseFee: 1000 * uint32(i+1),
				FeeRate: 100, HtlcMaximumMsat: 500_000_000}
			if err := g.UpdatePolicy(u); err != nil {
				t.Fatal(err)
			}
		}
	}
	alias, _ := lnwire.NewNodeAlias("bob")
	if err := g.AddNode(&lnwire.NodeAnnouncement{Features: lnwire.NewRawFeatureVector(lnwire.GossipQueriesOptional),
		Timestamp: 1_700_000_001, NodeID: gl.keys[1], Alias: alias, RGBColor: lnwire.RGB{0x33, 0x99, 0xff}}); err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, true)
	if _, err := lnrpc.NewWalletUnlockerClient(h.conn(nil)).UnlockWallet(t.Context(),
		&lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)}); err != nil {
		t.Fatal(err)
	}
	b := h.node.backend()
	b.Graph = g
	b.Router = routing.NewFinder(g.Cache(), routing.DefaultPathFindingConfig())
	if err := h.srv.Activate(b); err != nil {
		t.Fatal(err)
	}
	return h, &gl, g
}

func TestGraphCalls(t *testing.T) {
	h, gl, g := newGraphHarness(t)
	ctx := t.Context()
	ln := h.lightning(macaroons.ReadOnlyFile)
	hexKey := func(i int) string { return hex.EncodeToString(gl.keys[i][:]) }

	graph, err := ln.DescribeGraph(ctx, &lnrpc.ChannelGraphRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(graph.Nodes) != 3 || len(graph.Edges) != 2 {
		t.Fatalf("%d nodes, %d edges", len(graph.Nodes), len(graph.Edges))
	}
	e := graph.Edges[0]
	if e.ChannelId != gl.ids[0].ToUint64() || e.ChanPoint != gl.ops[0].String() || e.Capacity != 1_000_000 {
		t.Errorf("edge %v", e)
	}
	if p := e.Node2Policy; p == nil || p.TimeLockDelta != 41 || p.FeeBaseMsat != 1000 ||
		p.FeeRateMilliMsat != 100 || p.MaxHtlcMsat != 500_000_000 || p.MinHtlc != 1000 || p.LastUpdate != 1_700_000_000 {
		t.Errorf("node 2 policy %v", p)
	}

	edge, err := ln.GetChanInfo(ctx, &lnrpc.ChanInfoRequest{ChanPoint: gl.ops[1].String()})
	if err != nil || edge.ChannelId != gl.ids[1].ToUint64() {
		t.Fatalf("by chan point: %v %v", edge, err)
	}
	_, err = ln.GetChanInfo(ctx, &lnrpc.ChanInfoRequest{ChanId: 12345})
	if status.Code(err) != codes.NotFound || status.Convert(err).Message() != msgEdgeNotFound {
		t.Errorf("unknown channel: %v", err)
	}

	node, err := ln.GetNodeInfo(ctx, &lnrpc.NodeInfoRequest{PubKey: hexKey(1), IncludeChannels: true})
	if err != nil {
		t.Fatal(err)
	}
	if node.Node.Alias != "bob" || node.Node.Color != "#3399ff" || node.NumChannels != 2 ||
		node.TotalCapacity != 2_000_000 || len(node.Channels) != 2 {
		t.Errorf("node info %v", node)
	}

	info, err := ln.GetNetworkInfo(ctx, &lnrpc.NetworkInfoRequest{})
	if err != nil || info.NumNodes != 3 || info.NumChannels != 2 || info.MaxOutDegree != 2 ||
		info.TotalNetworkCapacity != 2_000_000 || info.MedianChannelSizeSat != 1_000_000 {
		t.Errorf("network info %v %v", info, err)
	}

	// a to c over b: b charges its fee on the second channel's policy
	// (1000 base per direction i=1 is 2000 msat + 100 ppm).
	routes, err := ln.QueryRoutes(ctx, &lnrpc.QueryRoutesRequest{PubKey: hexKey(2), Amt: 10_000,
		SourcePubKey: hexKey(0)})
	if err != nil {
		t.Fatal(err)
	}
	r := routes.Routes[0]
	wantFee := int64(2000 + 10_000_000*100/1_000_000)
	if len(r.Hops) != 2 || r.Hops[1].PubKey != hexKey(2) || r.TotalFeesMsat != wantFee ||
		r.TotalAmtMsat != 10_000_000+wantFee || r.Hops[1].AmtToForwardMsat != 10_000_000 {
		t.Errorf("route %v", r)
	}
	_, err = ln.QueryRoutes(ctx, &lnrpc.QueryRoutesRequest{PubKey: hexKey(2), Amt: 10_000,
		SourcePubKey: hexKey(0), IgnoredNodes: [][]byte{gl.keys[1][:]}})
	if status.Code(err) != codes.NotFound {
		t.Errorf("route around the only hop: %v", err)
	}
	_, err = ln.QueryRoutes(ctx, &lnrpc.QueryRoutesRequest{PubKey: hexKey(2), Amt: 1, AmtMsat: 1})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("amt and amt_msat: %v", err)
	}

	// A new policy reaches a SubscribeChannelGraph stream.
	stream, err := ln.SubscribeChannelGraph(ctx, &lnrpc.GraphTopologySubscription{})
	if err != nil {
		t.Fatal(err)
	}
	// The subscription starts when the server handles the call; keep
	// updating until one arrives.
	got := make(chan *lnrpc.GraphTopologyUpdate, 1)
	go func() {
		u, err := stream.Recv()
		if err == nil {
			got <- u
		}
		close(got)
	}()
	var upd *lnrpc.GraphTopologyUpdate
	deadline := time.Now().Add(20 * time.Second)
	for ts := uint32(1_700_000_100); upd == nil; ts++ {
		if time.Now().After(deadline) {
			t.Fatal("no graph update on the stream")
		}
		if err := g.UpdatePolicy(&lnwire.ChannelUpdate{ShortChannelID: gl.ids[0], Timestamp: ts,
			MessageFlags: lnwire.MsgFlagMustBeOne, TimeLockDelta: 99, HtlcMaximumMsat: 1000}); err != nil {
			t.Fatal(err)
		}
		select {
		case upd = <-got:
			if upd == nil {
				t.Fatal("stream ended")
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
	if len(upd.ChannelUpdates) != 1 || upd.ChannelUpdates[0].ChanId != gl.ids[0].ToUint64() ||
		upd.ChannelUpdates[0].RoutingPolicy.TimeLockDelta != 99 {
		t.Errorf("graph update %v", upd)
	}

	// lnd's REST path.
	resp := h.rest(http.MethodGet, "/v1/graph/info", "", h.macaroon(macaroons.ReadOnlyFile))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rest struct {
		NumChannels int `json:"num_channels"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &rest) != nil || rest.NumChannels != 2 {
		t.Errorf("REST /v1/graph/info: %d %s", resp.StatusCode, body)
	}
}
