package routing

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

var peerA = [33]byte{2, 0xaa}

func newTestGossiper(t *testing.T, now time.Time) (*Gossiper, *ChannelGraph, *fakeChain, string) {
	t.Helper()
	g, path := openTestGraph(t)
	c := newFakeChain()
	gs := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c,
		Now: func() time.Time { return now }})
	return gs, g, c, path
}

func mustProcess(t *testing.T, gs *Gossiper, msgs ...lnwire.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := gs.ProcessRemote(context.Background(), peerA, m); err != nil {
			t.Fatalf("%v: %v", m.MsgType(), err)
		}
	}
}

// TestGossipAcceptsAndRestarts feeds a valid announcement, both updates
// and both node announcements, then reopens the database: the cache
// rebuilt from the store holds the channel with both policies.
func TestGossipAcceptsAndRestarts(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	gs, g, c, path := newTestGossiper(t, now)
	tc := fundChannel(t, c, 1, 2, 1_000_000)
	ts := uint32(now.Unix())
	mustProcess(t, gs, tc.ann, tc.update(t, 0, ts, 1000), tc.update(t, 1, ts, 2000),
		nodeAnn(t, tc.node1, ts, "one"), nodeAnn(t, tc.node2, ts, "two"))

	check := func(g *ChannelGraph) {
		t.Helper()
		info, pols, err := g.Cache().Channel(tc.ann.ShortChannelID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Capacity != 1_000_000 || info.Node1 != Vertex(tc.ann.NodeID1) {
			t.Errorf("channel %+v", info)
		}
		if pols[0] == nil || pols[1] == nil || pols[0].FeeBaseMsat != 1000 || pols[1].FeeBaseMsat != 2000 {
			t.Fatalf("policies %+v %+v", pols[0], pols[1])
		}
		if pols[0].MaxHTLC != 500_000_000 || pols[0].CLTVDelta != 40 {
			t.Errorf("policy 0 %+v", *pols[0])
		}
		n, err := g.Node(tc.ann.NodeID2)
		if err != nil || n.Alias.String() != "two" {
			t.Errorf("node 2: %v %v", n, err)
		}
		if id, ok := g.ChannelByPoint(tc.chanPoint()); !ok || id != tc.ann.ShortChannelID {
			t.Errorf("by point %v %v", id, ok)
		}
	}
	check(g)
	g.db.Close()
	db, err := channeldb.Open(path, channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g2, err := OpenChannelGraph(db)
	if err != nil {
		t.Fatal(err)
	}
	check(g2)
}

// TestGossipRefuses covers each refusal: bad signatures, wrong script,
// spent output, stale timestamps, insane policies, orphans; the peer's
// count of bad gossip grows only with the ones that are its fault.
func TestGossipRefuses(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := uint32(now.Unix())
	gs, g, c, _ := newTestGossiper(t, now)
	good := fundChannel(t, c, 1, 2, 1_000_000)
	mustProcess(t, gs, good.ann, good.update(t, 0, ts, 1000))

	// Four bad signatures: each signer's signature made by another key.
	badSig := func(i int) lnwire.Message {
		tc := fundChannel(t, c, byte(10+2*i), byte(11+2*i), 500_000)
		sigs := []*lnwire.Sig{&tc.ann.NodeSig1, &tc.ann.NodeSig2, &tc.ann.BitcoinSig1, &tc.ann.BitcoinSig2}
		*sigs[i] = *sigs[(i+1)%4]
		return tc.ann
	}
	wrongScript := fundChannel(t, c, 30, 31, 500_000)
	wrongScript.ann.BitcoinKey1 = raw33(testKey(t, 99))
	wrongScript.btc1 = testKey(t, 99)
	wrongScript.signAnn(t)

	spent := fundChannel(t, c, 32, 33, 500_000)
	spender := wire.NewMsgTx(2)
	spender.AddTxIn(wire.NewTxIn(func() *wire.OutPoint { op := spent.chanPoint(); return &op }(), nil, nil))
	c.mine(spender)

	noTx := fundChannel(t, c, 34, 35, 500_000)
	noTx.ann.ShortChannelID.TxIndex = 7
	noTx.signAnn(t)

	overCap := good.update(t, 1, ts, 1000)
	overCap.HtlcMaximumMsat = 1_000_000_001
	resign(t, overCap, good.node2)
	minOverMax := good.update(t, 1, ts, 1000)
	minOverMax.HtlcMinimumMsat = minOverMax.HtlcMaximumMsat + 1
	resign(t, minOverMax, good.node2)
	wrongSigner := good.update(t, 1, ts, 1000)
	resign(t, wrongSigner, good.node1)
	otherChain := good.update(t, 1, ts, 1000)
	otherChain.ChainHash[0] ^= 1
	resign(t, otherChain, good.node2)
	orphan := good.update(t, 1, ts, 1000)
	orphan.ShortChannelID.TxIndex = 9
	resign(t, orphan, good.node2)
	lonely := nodeAnn(t, testKey(t, 77), ts, "lonely")
	forgedNode := nodeAnn(t, good.node1, ts, "forged")
	forgedNode.Alias[0] ^= 1

	cases := []struct {
		name string
		msg  lnwire.Message
		want error
		bad  bool
	}{
		{"node_signature_1", badSig(0), ErrBadSignature, true},
		{"node_signature_2", badSig(1), ErrBadSignature, true},
		{"bitcoin_signature_1", badSig(2), ErrBadSignature, true},
		{"bitcoin_signature_2", badSig(3), ErrBadSignature, true},
		{"wrong script", wrongScript.ann, ErrFundingScript, true},
		{"spent output", spent.ann, ErrFundingSpent, false},
		{"no such transaction", noTx.ann, ErrNoFunding, true},
		{"known announcement", good.ann, ErrStale, false},
		{"stale update", good.update(t, 0, ts, 5), ErrStale, false},
		{"older update", good.update(t, 0, ts-1, 5), ErrStale, false},
		{"htlc max over capacity", overCap, ErrBadPolicy, true},
		{"htlc min over max", minOverMax, ErrBadPolicy, true},
		{"update signed by the other node", wrongSigner, ErrBadSignature, true},
		{"other chain", otherChain, ErrWrongChain, false},
		{"update of unknown channel", orphan, ErrOrphan, false},
		{"node without channel", lonely, ErrOrphan, false},
		{"node_announcement bad signature", forgedNode, ErrBadSignature, true},
		{"update far in the future", good.update(t, 1, ts+15*24*3600, 5), ErrFarFuture, true},
	}
	var wantBad uint64
	for _, tc := range cases {
		err := gs.ProcessRemote(context.Background(), peerA, tc.msg)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if errors.Is(err, ErrBadGossip) != tc.bad {
			t.Errorf("%s: counted as bad = %v", tc.name, !tc.bad)
		}
		if tc.bad {
			wantBad++
		}
	}
	if bad, _ := gs.BadGossip(peerA); bad != wantBad {
		t.Errorf("bad gossip count %d, want %d", bad, wantBad)
	}
	if n := g.Cache().NumChannels(); n != 1 {
		t.Errorf("%d channels in the cache, want 1", n)
	}
	_, pols, _ := g.Cache().Channel(good.ann.ShortChannelID)
	if pols[0].FeeBaseMsat != 1000 || pols[1] != nil {
		t.Errorf("refused updates changed the policies: %+v %+v", pols[0], pols[1])
	}
}

// TestGossipRateLimit: a peer past its burst is refused and counted; the
// bucket refills with time.
func TestGossipRateLimit(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g, _ := openTestGraph(t)
	c := newFakeChain()
	gs := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c,
		PeerRate: 1, PeerBurst: 3, Now: func() time.Time { return now }})
	tc := fundChannel(t, c, 1, 2, 1_000_000)
	mustProcess(t, gs, tc.ann)
	for i := range 2 {
		if err := gs.ProcessRemote(context.Background(), peerA, tc.ann); !errors.Is(err, ErrStale) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := gs.ProcessRemote(context.Background(), peerA, tc.ann); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("over the burst: %v", err)
	}
	if _, limited := gs.BadGossip(peerA); limited != 1 {
		t.Errorf("limited %d", limited)
	}
	other := [33]byte{3}
	if err := gs.ProcessRemote(context.Background(), other, tc.ann); !errors.Is(err, ErrStale) {
		t.Errorf("another peer is limited too: %v", err)
	}
	now = now.Add(2 * time.Second)
	if err := gs.ProcessRemote(context.Background(), peerA, tc.ann); !errors.Is(err, ErrStale) {
		t.Errorf("after refill: %v", err)
	}
}

// TestGossipPrune: a block spending a funding output removes the
// channel from store and cache; a channel without a fresh update becomes
// a zombie and a fresh update resurrects it.
func TestGossipPrune(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	gs, g, c, _ := newTestGossiper(t, now)
	closing := fundChannel(t, c, 1, 2, 1_000_000)
	idle := fundChannel(t, c, 3, 4, 1_000_000)
	live := fundChannel(t, c, 5, 6, 1_000_000)
	old := uint32(now.Add(-15 * 24 * time.Hour).Unix())
	fresh := uint32(now.Add(-time.Hour).Unix())
	mustProcess(t, gs, closing.ann, idle.ann, idle.update(t, 0, old, 1), idle.update(t, 1, old, 1),
		live.ann, live.update(t, 0, old, 1), live.update(t, 1, fresh, 1))

	sub := g.Subscribe()
	defer sub.Cancel()
	spender := wire.NewMsgTx(2)
	op := closing.chanPoint()
	spender.AddTxIn(wire.NewTxIn(&op, nil, nil))
	h := c.mine(spender)
	n, err := gs.PruneBlock(c.blocks[h], h)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if _, _, _, err := g.Channel(closing.ann.ShortChannelID); !errors.Is(err, channeldb.ErrGraphChannelNotFound) {
		t.Errorf("closed channel still stored: %v", err)
	}
	if _, _, err := g.Cache().Channel(closing.ann.ShortChannelID); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("closed channel still cached: %v", err)
	}
	select {
	case u := <-sub.Updates:
		if u.Closed == nil || u.Closed.ID != closing.ann.ShortChannelID || u.Closed.Height != h ||
			u.Closed.ChanPoint != op || u.Closed.Capacity != 1_000_000 {
			t.Errorf("graph update %+v", u)
		}
	default:
		t.Error("no graph update for the close")
	}

	if n, err := gs.PruneZombies(); err != nil || n != 1 {
		t.Fatalf("zombies %d, %v", n, err)
	}
	if _, _, z, err := g.Channel(idle.ann.ShortChannelID); err != nil || !z {
		t.Errorf("idle channel: zombie %v, %v", z, err)
	}
	if g.Cache().NumChannels() != 1 {
		t.Errorf("%d channels cached, want only the live one", g.Cache().NumChannels())
	}
	if n, err := g.NumZombies(); err != nil || n != 1 {
		t.Errorf("%d zombies, %v", n, err)
	}
	// An update no fresher than the zombie age does not resurrect it.
	if err := gs.ProcessRemote(context.Background(), peerA, idle.update(t, 0, old+1, 2)); !errors.Is(err, ErrStale) {
		t.Errorf("old update of a zombie: %v", err)
	}
	mustProcess(t, gs, idle.update(t, 1, fresh, 3))
	_, pols, err := g.Cache().Channel(idle.ann.ShortChannelID)
	if err != nil || pols[1] == nil || pols[1].FeeBaseMsat != 3 || pols[0] == nil {
		t.Fatalf("resurrected channel: %+v %v", pols, err)
	}
	if _, _, z, _ := g.Channel(idle.ann.ShortChannelID); z {
		t.Error("still marked a zombie")
	}
}

// TestGossipUpdateRateLimit: a channel direction gets UpdateBurst
// updates at once, then one per interval; the other direction is not
// affected, and the relaying peer is not blamed.
func TestGossipUpdateRateLimit(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g, _ := openTestGraph(t)
	c := newFakeChain()
	gs := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c,
		UpdateInterval: time.Minute, UpdateBurst: 3, Now: func() time.Time { return now }})
	tc := fundChannel(t, c, 1, 2, 1_000_000)
	mustProcess(t, gs, tc.ann)
	ts := uint32(now.Unix())
	for i := range uint32(3) {
		mustProcess(t, gs, tc.update(t, 0, ts+i, 1))
	}
	if err := gs.ProcessRemote(context.Background(), peerA, tc.update(t, 0, ts+3, 1)); !errors.Is(err, ErrUpdateRateLimited) {
		t.Fatalf("fourth update: %v", err)
	}
	mustProcess(t, gs, tc.update(t, 1, ts, 1))
	if bad, _ := gs.BadGossip(peerA); bad != 0 {
		t.Errorf("peer blamed %d times", bad)
	}
	now = now.Add(time.Minute)
	mustProcess(t, gs, tc.update(t, 0, ts+4, 1))
}

// TestGossipEarlyUpdates: updates of a channel the graph does not know
// yet are refused as orphans but held, newest per direction, and applied
// once the channel's announcement comes, or once ChannelAdded says a
// channel of ours entered the graph; the holding is bounded.
func TestGossipEarlyUpdates(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	gs, g, c, _ := newTestGossiper(t, now)
	ts := uint32(now.Unix())

	// Announced channel: updates first, announcement after.
	tc := fundChannel(t, c, 1, 2, 1_000_000)
	for _, u := range []*lnwire.ChannelUpdate{tc.update(t, 0, ts-10, 900),
		tc.update(t, 0, ts, 1000), tc.update(t, 1, ts, 2000)} {
		if err := gs.ProcessRemote(context.Background(), peerA, u); !errors.Is(err, ErrOrphan) {
			t.Fatalf("early update: %v, want orphan", err)
		}
	}
	mustProcess(t, gs, tc.ann)
	_, pols, err := g.Cache().Channel(tc.ann.ShortChannelID)
	if err != nil || pols[0] == nil || pols[1] == nil ||
		pols[0].FeeBaseMsat != 1000 || pols[1].FeeBaseMsat != 2000 {
		t.Fatalf("policies after the announcement: %+v %+v (%v)", pols[0], pols[1], err)
	}

	// A channel of ours, added to the graph by our own side.
	own := fundChannel(t, c, 3, 4, 2_000_000)
	if err := gs.ProcessRemote(context.Background(), peerA, own.update(t, 1, ts, 3000)); !errors.Is(err, ErrOrphan) {
		t.Fatalf("early update: %v, want orphan", err)
	}
	err = g.AddChannel(&channeldb.GraphChannel{ID: own.ann.ShortChannelID,
		ChanPoint: own.chanPoint(), Capacity: 2_000_000,
		Node1: own.ann.NodeID1, Node2: own.ann.NodeID2})
	if err != nil {
		t.Fatal(err)
	}
	gs.ChannelAdded(own.ann.ShortChannelID)
	_, pols, err = g.Cache().Channel(own.ann.ShortChannelID)
	if err != nil || pols[1] == nil || pols[1].FeeBaseMsat != 3000 {
		t.Fatalf("policy after ChannelAdded: %+v (%v)", pols[1], err)
	}

	// Bounded: past maxEarlyUpdates channels, the oldest go.
	for i := 0; i < maxEarlyUpdates+10; i++ {
		u := *own.update(t, 0, ts, 100)
		u.ShortChannelID = lnwire.NewShortChanIDFromInt(uint64(1_000_000 + i))
		gs.holdEarly(&u)
	}
	if len(gs.early) != maxEarlyUpdates || len(gs.earlyOrder) != maxEarlyUpdates {
		t.Fatalf("held %d channels (%d in order), want %d", len(gs.early), len(gs.earlyOrder), maxEarlyUpdates)
	}
}
