package itest

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// announceArgs make gossip move in test time: a trickle every 200 ms.
var announceArgs = []string{"--trickledelay=200"}

// lnd's policy defaults, which xlnd announces until the switch's policy
// store says otherwise.
const (
	wantBaseFee = 1000
	wantFeePPM  = 1
	wantDelta   = 80
	wantMinHTLC = 1000
)

// edge is a channel between two of the test's nodes, by name.
type edge struct{ a, b string }

// openPublic opens a public channel from a to b and waits until both
// list it pending; the caller mines.
func openPublic(t *testing.T, nw *harness.Network, a, b *harness.Node) string {
	t.Helper()
	_, point := openChannel(t, nw, a, b, lnrpc.CommitmentType_ANCHORS)
	waitPending(t, b, point)
	return point
}

// graphShape is what a node's DescribeGraph says, in names: nodes with
// their aliases, and for each channel point the two ends' policies.
type graphShape struct {
	aliases map[string]string // pubkey -> alias
	edges   map[string]*lnrpc.ChannelEdge
}

func describe(n *harness.Node) (*graphShape, error) {
	g, err := n.RPC.DescribeGraph(context.Background(), &lnrpc.ChannelGraphRequest{})
	if err != nil {
		return nil, err
	}
	s := &graphShape{aliases: map[string]string{}, edges: map[string]*lnrpc.ChannelEdge{}}
	for _, nd := range g.Nodes {
		s.aliases[nd.PubKey] = nd.Alias
	}
	for _, e := range g.Edges {
		s.edges[e.ChanPoint] = e
	}
	return s, nil
}

// checkPolicy checks one end's announced policy: lnd's defaults, a
// maximum within the capacity, enabled.
func checkPolicy(p *lnrpc.RoutingPolicy, capacity int64) error {
	switch {
	case p == nil:
		return fmt.Errorf("no policy")
	case p.FeeBaseMsat != wantBaseFee || p.FeeRateMilliMsat != wantFeePPM ||
		p.TimeLockDelta != wantDelta || p.MinHtlc != wantMinHTLC:
		return fmt.Errorf("policy %v", p)
	case p.MaxHtlcMsat == 0 || p.MaxHtlcMsat > uint64(capacity)*1000:
		return fmt.Errorf("max_htlc_msat %d for a capacity of %d sat", p.MaxHtlcMsat, capacity)
	case p.Disabled:
		return fmt.Errorf("disabled")
	}
	return nil
}

// waitFullGraph waits until every node's graph holds exactly the given
// nodes (with their names as aliases) and channels, each with both
// ends' policies.
func waitFullGraph(t *testing.T, nodes []*harness.Node, points map[string]edge) {
	t.Helper()
	byName := map[string]*harness.Node{}
	for _, n := range nodes {
		byName[n.Name()] = n
	}
	for _, n := range nodes {
		err := harness.WaitFor(func() error {
			s, err := describe(n)
			if err != nil {
				return err
			}
			if len(s.aliases) != len(nodes) {
				return fmt.Errorf("%s knows %d nodes: %v", n.Name(), len(s.aliases), s.aliases)
			}
			for _, o := range nodes {
				if s.aliases[o.PubKey()] != o.Name() {
					return fmt.Errorf("%s: node %s has alias %q", n.Name(), o.Name(), s.aliases[o.PubKey()])
				}
			}
			if len(s.edges) != len(points) {
				return fmt.Errorf("%s knows %d channels, want %d", n.Name(), len(s.edges), len(points))
			}
			for point, ends := range points {
				e := s.edges[point]
				if e == nil {
					return fmt.Errorf("%s lacks %s-%s (%s)", n.Name(), ends.a, ends.b, point)
				}
				want := []string{byName[ends.a].PubKey(), byName[ends.b].PubKey()}
				sort.Strings(want)
				if e.Node1Pub != want[0] || e.Node2Pub != want[1] || e.Capacity != chanCap {
					return fmt.Errorf("%s: channel %s is %v", n.Name(), point, e)
				}
				for i, p := range []*lnrpc.RoutingPolicy{e.Node1Policy, e.Node2Policy} {
					if err := checkPolicy(p, e.Capacity); err != nil {
						return fmt.Errorf("%s: channel %s-%s, node %d: %w", n.Name(), ends.a, ends.b, i+1, err)
					}
				}
			}
			return nil
		}, 2*harness.SyncTimeout)
		check(t, err)
	}
}

// buildTopology starts the named nodes, funds each opener, connects the
// ends of each channel, opens the channels and mines them 6 deep. It
// returns the nodes and the channels by funding point.
func buildTopology(t *testing.T, nw *harness.Network, names []string, chans []edge) ([]*harness.Node, map[string]edge) {
	t.Helper()
	byName := map[string]*harness.Node{}
	var nodes []*harness.Node
	for _, name := range names {
		n := startNode(t, nw, name, announceArgs...)
		byName[name] = n
		nodes = append(nodes, n)
	}
	funded := map[string]bool{}
	for _, c := range chans {
		if !funded[c.a] {
			check(t, nw.Fund(byName[c.a], 5_000_000))
			funded[c.a] = true
		}
	}
	points := map[string]edge{}
	for _, c := range chans {
		check(t, nw.ConnectNodes(byName[c.a], byName[c.b], true))
		points[openPublic(t, nw, byName[c.a], byName[c.b])] = c
		// One block each, so that each opener's change confirms
		// before its next opening.
		_, err := nw.Mine(1)
		check(t, err)
	}
	_, err := nw.Mine(6)
	check(t, err)
	for point, c := range points {
		waitActive(t, byName[c.a], point)
		waitActive(t, byName[c.b], point)
	}
	return nodes, points
}

// TestAnnounceLine: four nodes in a line, each connected to its
// neighbours only. Once the channels are 6 deep every node's graph holds
// every node (with its alias) and every channel with both ends' policies,
// relayed hop by hop; GetNodeInfo agrees; a restart keeps the graph; a
// channel closed cooperatively leaves every graph once its closing
// transaction is mined.
func TestAnnounceLine(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	nodes, points := buildTopology(t, nw, []string{"alice", "bob", "carol", "dave"},
		[]edge{{"alice", "bob"}, {"bob", "carol"}, {"carol", "dave"}})
	waitFullGraph(t, nodes, points)

	// GetNodeInfo on the far end.
	info, err := nodes[3].RPC.GetNodeInfo(context.Background(), &lnrpc.NodeInfoRequest{
		PubKey: nodes[0].PubKey(), IncludeChannels: true})
	check(t, err)
	if info.Node.Alias != "alice" || info.NumChannels != 1 || info.TotalCapacity != chanCap ||
		len(info.Node.Addresses) != 1 || info.Node.Addresses[0].Addr != nodes[0].P2PAddr() {
		t.Fatalf("dave's view of alice: %v", info)
	}

	// A restart keeps the graph: it is there before any peer is back.
	dave := nodes[3]
	check(t, dave.Stop())
	check(t, dave.Start())
	s, err := describe(dave)
	check(t, err)
	if len(s.edges) != len(points) || len(s.aliases) != len(nodes) {
		t.Fatalf("after a restart dave knows %d channels and %d nodes", len(s.edges), len(s.aliases))
	}
	for point := range points {
		if e := s.edges[point]; e == nil || e.Node1Policy == nil || e.Node2Policy == nil {
			t.Fatalf("after a restart dave's %s is %v", point, e)
		}
	}

	// bob closes his channel with carol: once the closing transaction
	// is mined, the channel is gone from every graph.
	var closed string
	for point, e := range points {
		if e == (edge{"bob", "carol"}) {
			closed = point
		}
	}
	stream, err := nodes[1].RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, closed)})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	if up.GetClosePending() == nil {
		t.Fatalf("first update %v, want close_pending", up)
	}
	txid, err := chainhash.NewHash(up.GetClosePending().Txid)
	check(t, err)
	_, err = nw.WaitTx(txid.String())
	check(t, err)
	_, err = nw.Mine(1)
	check(t, err)
	delete(points, closed)
	for _, n := range nodes {
		err := harness.WaitFor(func() error {
			s, err := describe(n)
			if err != nil {
				return err
			}
			if s.edges[closed] != nil || len(s.edges) != len(points) {
				return fmt.Errorf("%s still has %d channels, the closed one: %v", n.Name(), len(s.edges), s.edges[closed] != nil)
			}
			return nil
		}, harness.SyncTimeout)
		check(t, err)
	}
}

// TestAnnounceDiamond: alice to dave through bob and through carol; every
// node learns the four channels and four nodes.
func TestAnnounceDiamond(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	nodes, points := buildTopology(t, nw, []string{"alice", "bob", "carol", "dave"},
		[]edge{{"alice", "bob"}, {"alice", "carol"}, {"bob", "dave"}, {"carol", "dave"}})
	waitFullGraph(t, nodes, points)
}

// TestAnnouncePrivateAndDisabled: a private channel stays out of every
// graph but its ends' (and out of DescribeGraph without
// include_unannounced); a public channel whose peer stays away past the
// disable timeout is announced disabled, and enabled again once the peer
// is back past the enable timeout.
func TestAnnouncePrivateAndDisabled(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	timeouts := append([]string{"--chan-disable-timeout=3s", "--chan-enable-timeout=2s",
		"--chan-status-sample-interval=500ms"}, announceArgs...)
	alice := startNode(t, nw, "alice", timeouts...)
	bob := startNode(t, nw, "bob", timeouts...)
	carol := startNode(t, nw, "carol", timeouts...)
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, true))
	check(t, nw.ConnectNodes(bob, carol, true))
	public := openPublic(t, nw, alice, bob)
	_, err := nw.Mine(1)
	check(t, err)

	pub, err := hexPub(carol.PubKey())
	check(t, err)
	check(t, nw.ConnectNodes(alice, carol, true))
	stream, err := alice.RPC.OpenChannel(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: chanCap, Private: true})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	if up.GetChanPending() == nil {
		t.Fatalf("update %v", up)
	}
	_, err = nw.Mine(6)
	check(t, err)
	waitFullGraph(t, []*harness.Node{alice, bob}, map[string]edge{public: {"alice", "bob"}})
	// carol knows the public channel through bob, not the private one.
	err = harness.WaitFor(func() error {
		s, err := describe(carol)
		if err != nil {
			return err
		}
		if len(s.edges) != 1 || s.edges[public] == nil {
			return fmt.Errorf("carol's channels: %v", s.edges)
		}
		return nil
	}, 2*harness.SyncTimeout)
	check(t, err)
	// alice holds the private one, shown with include_unannounced.
	err = harness.WaitFor(func() error {
		g, err := alice.RPC.DescribeGraph(context.Background(), &lnrpc.ChannelGraphRequest{IncludeUnannounced: true})
		if err != nil {
			return err
		}
		for _, e := range g.Edges {
			if e.ChanPoint != public && e.Node1Policy != nil && e.Node2Policy != nil {
				return nil
			}
		}
		return fmt.Errorf("alice's unannounced channels: %v", g.Edges)
	}, harness.SyncTimeout)
	check(t, err)

	// Bob away: alice announces her end disabled; carol sees it.
	alicePolicy := func(n *harness.Node) (*lnrpc.RoutingPolicy, error) {
		s, err := describe(n)
		if err != nil {
			return nil, err
		}
		e := s.edges[public]
		if e == nil {
			return nil, fmt.Errorf("%s lacks the channel", n.Name())
		}
		if e.Node1Pub == alice.PubKey() {
			return e.Node1Policy, nil
		}
		return e.Node2Policy, nil
	}
	check(t, bob.Stop())
	err = harness.WaitFor(func() error {
		p, err := alicePolicy(alice)
		if err != nil || !p.Disabled {
			return fmt.Errorf("alice's end not disabled: %v %v", p, err)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	check(t, bob.Start())
	err = harness.WaitFor(func() error {
		for _, n := range []*harness.Node{alice, bob, carol} {
			p, err := alicePolicy(n)
			if err != nil || p.Disabled {
				return fmt.Errorf("%s: alice's end not enabled again: %v %v", n.Name(), p, err)
			}
		}
		return nil
	}, 2*harness.SyncTimeout)
	check(t, err)
	if logCount(t, alice, "Channel status changes") < 2 {
		t.Fatal("alice logged fewer than two status changes")
	}
}
