package routing

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// testNode is one side of two syncers wired to each other: its graph,
// gossiper and syncer, fed through Syncer.Enqueue as a peer's read loop
// feeds it.
type testNode struct {
	pub    [33]byte
	graph  *ChannelGraph
	gs     *Gossiper
	syncer *Syncer

	mu   sync.Mutex
	sent map[lnwire.MessageType]int
}

type inMsg struct {
	from [33]byte
	msg  lnwire.Message
}

func newTestNode(t *testing.T, pub byte, c *fakeChain, now func() time.Time, route func(to [33]byte, m inMsg)) *testNode {
	g, _ := openTestGraph(t)
	n := &testNode{pub: [33]byte{2, pub}, graph: g, sent: make(map[lnwire.MessageType]int)}
	n.gs = NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c, Now: now})
	n.syncer = NewSyncer(SyncerConfig{ChainHash: testChain, Graph: g, Gossiper: n.gs, Now: now,
		TrickleDelay: time.Hour, QueryBatch: 7,
		Send: func(to [33]byte, msgs ...lnwire.Message) error {
			for _, m := range msgs {
				// Through the wire encoding, as a peer sees it.
				b, err := lnwire.Serialize(m)
				if err != nil {
					t.Errorf("encode %v: %v", m.MsgType(), err)
					continue
				}
				dm, err := lnwire.ParseMessage(b)
				if err != nil {
					t.Errorf("decode %v: %v", m.MsgType(), err)
					continue
				}
				n.mu.Lock()
				n.sent[m.MsgType()]++
				n.mu.Unlock()
				route(to, inMsg{from: n.pub, msg: dm})
			}
			return nil
		}})
	if err := n.syncer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.syncer.Stop() })
	return n
}

func (n *testNode) sentCount(t lnwire.MessageType) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[t]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSyncersHistoricalSync wires two syncers to each other over the
// wire encoding. A holds 25 channels (one of them with a newer update
// than B's copy); B comes online to A, runs a historical sync
// (query_channel_range, query_short_channel_ids in batches) and ends
// with A's graph; then a new update reaching A trickles to B and not
// back to its sender.
func TestSyncersHistoricalSync(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	c := newFakeChain()
	var nodes map[[33]byte]*testNode
	route := func(to [33]byte, m inMsg) {
		if n := nodes[to]; n != nil {
			if !n.syncer.Enqueue(m.from, m.msg) {
				t.Errorf("%v to %x dropped", m.msg.MsgType(), to)
			}
		}
	}
	a := newTestNode(t, 0xa, c, clock, route)
	b := newTestNode(t, 0xb, c, clock, route)
	nodes = map[[33]byte]*testNode{a.pub: a, b.pub: b}

	ts := uint32(now.Unix()) - 100
	var chans []*testChannel
	for i := range 25 {
		tc := fundChannel(t, c, byte(2*i+1), byte(2*i+2), 1_000_000+int64(i))
		chans = append(chans, tc)
		mustProcess(t, a.gs, tc.ann, tc.update(t, 0, ts, uint32(i)), tc.update(t, 1, ts, 7),
			nodeAnn(t, tc.node1, ts, "n"))
	}
	// B already holds channel 0, with an older update.
	mustProcess(t, b.gs, chans[0].ann, chans[0].update(t, 0, ts-50, 99))

	a.syncer.PeerOnline(b.pub, true)
	b.syncer.PeerOnline(a.pub, true)
	waitFor(t, "both historical syncs", func() bool {
		return a.syncer.SyncedPeers() == 1 && b.syncer.SyncedPeers() == 1
	})
	if !b.syncer.Synced() {
		t.Error("B not synced after its historical sync")
	}
	if n := b.graph.Cache().NumChannels(); n != 25 {
		t.Fatalf("B has %d channels, want 25", n)
	}
	for i, tc := range chans {
		_, pols, err := b.graph.Cache().Channel(tc.ann.ShortChannelID)
		if err != nil || pols[0] == nil || pols[1] == nil || pols[0].FeeBaseMsat != uint32(i) {
			t.Fatalf("channel %d on B: %+v %v", i, pols, err)
		}
		if _, err := b.graph.Node(tc.ann.NodeID1); err != nil {
			t.Errorf("node of channel %d: %v", i, err)
		}
	}
	// 24 unknown plus channel 0 (newer timestamps), 7 a query.
	if q := b.sentCount(lnwire.MsgQueryShortChanIDs); q != 4 {
		t.Errorf("B sent %d query_short_channel_ids, want 4", q)
	}
	if f := b.sentCount(lnwire.MsgGossipTimestampRange); f != 1 {
		t.Errorf("B sent %d gossip_timestamp_filter", f)
	}
	// A asked B too and fetched nothing new.
	if q := a.sentCount(lnwire.MsgQueryShortChanIDs); q != 0 {
		t.Errorf("A sent %d query_short_channel_ids, want 0", q)
	}

	waitFor(t, "B's gossip_timestamp_filter on A", func() bool {
		a.syncer.mu.Lock()
		defer a.syncer.mu.Unlock()
		return a.syncer.peers[b.pub].filter != nil
	})
	// A new update of channel 3 comes to A from a third peer: the
	// trickle sends it to B, whose filter admits it.
	third := [33]byte{2, 0xc}
	a.syncer.PeerOnline(third, true)
	a.syncer.HandleMessage(context.Background(), third, &lnwire.GossipTimestampRange{
		ChainHash: testChain, FirstTimestamp: uint32(now.Unix()), TimestampRange: math.MaxUint32})
	fresh := chans[3].update(t, 1, uint32(now.Unix()), 555)
	a.syncer.HandleMessage(context.Background(), third, fresh)
	before := a.sentCount(lnwire.MsgChannelUpdate)
	a.syncer.Flush()
	waitFor(t, "the trickled update on B", func() bool {
		_, pols, _ := b.graph.Cache().Channel(chans[3].ann.ShortChannelID)
		return pols[1] != nil && pols[1].FeeBaseMsat == 555
	})
	// Sent once: to B, not back to the third peer.
	if n := a.sentCount(lnwire.MsgChannelUpdate) - before; n != 1 {
		t.Errorf("trickle sent the update %d times, want 1", n)
	}
}

// TestRangeReplies checks the replies to query_channel_range as lnd and
// CLN check them: contiguous, covering the query exactly, no block split,
// within the size limit, timestamps aligned with their IDs.
func TestRangeReplies(t *testing.T) {
	var entries []RangeEntry
	for h := uint32(100); h < 3100; h++ {
		for i := range 3 {
			entries = append(entries, RangeEntry{ID: lnwire.ShortChannelID{BlockHeight: h, TxIndex: uint32(i)},
				Timestamps: lnwire.ChanUpdateTimestamps{Timestamp1: h, Timestamp2: uint32(i)}})
		}
	}
	opts := lnwire.QueryOptionTimestamps
	for _, q := range []*lnwire.QueryChannelRange{
		{ChainHash: testChain, FirstBlockHeight: 0, NumBlocks: math.MaxUint32, QueryOptions: &opts},
		{ChainHash: testChain, FirstBlockHeight: 50, NumBlocks: 5000},
		{ChainHash: testChain, FirstBlockHeight: 5000, NumBlocks: 10},
	} {
		var in []RangeEntry
		for _, e := range entries {
			if e.ID.BlockHeight >= q.FirstBlockHeight && e.ID.BlockHeight <= q.LastBlockHeight() {
				in = append(in, e)
			}
		}
		replies := RangeReplies(q, in)
		next, total := q.FirstBlockHeight, 0
		for i, r := range replies {
			if r.FirstBlockHeight != next {
				t.Fatalf("%d+%d: reply %d starts at %d, want %d", q.FirstBlockHeight, q.NumBlocks, i, r.FirstBlockHeight, next)
			}
			for j, id := range r.ShortChanIDs {
				if id.BlockHeight < r.FirstBlockHeight || id.BlockHeight > r.LastBlockHeight() {
					t.Fatalf("reply %d: %v outside %d+%d", i, id, r.FirstBlockHeight, r.NumBlocks)
				}
				if q.WantsTimestamps() && r.Timestamps[j].Timestamp1 != id.BlockHeight {
					t.Fatalf("timestamps misaligned")
				}
			}
			if !q.WantsTimestamps() && r.Timestamps != nil {
				t.Error("timestamps not asked for")
			}
			b, err := lnwire.Serialize(r)
			if err != nil || len(b) > 65535 {
				t.Fatalf("reply %d: %d bytes, %v", i, len(b), err)
			}
			total += len(r.ShortChanIDs)
			next = r.LastBlockHeight() + 1
		}
		if last := replies[len(replies)-1]; last.LastBlockHeight() != q.LastBlockHeight() {
			t.Errorf("%d+%d: ends at %d", q.FirstBlockHeight, q.NumBlocks, last.LastBlockHeight())
		}
		if total != len(in) {
			t.Errorf("%d channels reported, want %d", total, len(in))
		}
	}
}

// TestSyncerAbandonsStalledPeer: a peer that never answers our
// query_channel_range loses its historical sync after the timeout, gets
// a gossip_timestamp_filter, and the next peer gets the historical sync.
func TestSyncerAbandonsStalledPeer(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g, _ := openTestGraph(t)
	var mu sync.Mutex
	sent := make(map[[33]byte][]lnwire.MessageType)
	s := NewSyncer(SyncerConfig{ChainHash: testChain, Graph: g,
		Gossiper:        NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: newFakeChain()}),
		HistoricalSyncs: 1, SyncTimeout: time.Minute, Now: func() time.Time { return now },
		Send: func(to [33]byte, msgs ...lnwire.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				sent[to] = append(sent[to], m.MsgType())
			}
			return nil
		}})
	silent, next := [33]byte{2, 1}, [33]byte{2, 2}
	s.PeerOnline(silent, true)
	now = now.Add(30 * time.Second)
	s.AbandonStalled()
	if len(sent[silent]) != 1 {
		t.Fatalf("abandoned before the timeout: %v", sent[silent])
	}
	now = now.Add(time.Minute)
	s.AbandonStalled()
	if got := sent[silent]; len(got) != 2 || got[0] != lnwire.MsgQueryChannelRange || got[1] != lnwire.MsgGossipTimestampRange {
		t.Fatalf("silent peer got %v", got)
	}
	s.PeerOnline(next, true)
	if got := sent[next]; len(got) != 1 || got[0] != lnwire.MsgQueryChannelRange {
		t.Fatalf("next peer got %v, want a historical sync", got)
	}
}

// TestSyncerInboxFull: a peer whose queue is full loses the message,
// counted, and the caller is never blocked.
func TestSyncerInboxFull(t *testing.T) {
	g, _ := openTestGraph(t)
	s := NewSyncer(SyncerConfig{ChainHash: testChain, Graph: g, InboxSize: 2,
		Gossiper: NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: newFakeChain()}),
		Send:     func([33]byte, ...lnwire.Message) error { return nil }})
	// A queue with no worker behind it stands for a worker busy with
	// a slow message.
	s.mu.Lock()
	p := s.peer([33]byte{2})
	p.inbox = make(chan lnwire.Message, 2) // no worker yet: nothing drains it
	p.gone = make(chan struct{})
	s.mu.Unlock()
	ok := 0
	for range 5 {
		if s.Enqueue([33]byte{2}, &lnwire.GossipTimestampRange{ChainHash: testChain}) {
			ok++
		}
	}
	if ok != 2 || p.dropped != 3 {
		t.Errorf("%d queued, %d dropped; want 2 and 3", ok, p.dropped)
	}
	s.PeerOffline([33]byte{2})
	s.Stop()
}

// TestSyncerFilterBacklog: a gossip_timestamp_filter gets the gossip we
// hold in its range (announcement before its updates, then node
// announcements); a filter repeated while that backlog is still going
// out sends no second copy.
func TestSyncerFilterBacklog(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	g, _ := openTestGraph(t)
	c := newFakeChain()
	gs := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c, Now: clock})
	tc := fundChannel(t, c, 1, 2, 1_000_000)
	ts := uint32(now.Unix())
	mustProcess(t, gs, tc.ann, tc.update(t, 0, ts-10, 1), tc.update(t, 1, ts-1000, 1), nodeAnn(t, tc.node1, ts-5, "n"))
	// A node with only a private channel: its announcement is not
	// served.
	priv := fundChannel(t, c, 3, 4, 1_000_000)
	if err := g.AddChannel(&channeldb.GraphChannel{ID: priv.ann.ShortChannelID, ChanPoint: priv.chanPoint(),
		Capacity: 1_000_000, Node1: priv.ann.NodeID1, Node2: priv.ann.NodeID2}); err != nil {
		t.Fatal(err)
	}
	if err := g.AddNode(nodeAnn(t, priv.node1, ts-5, "private")); err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	var mu sync.Mutex
	var got []lnwire.Message
	s := NewSyncer(SyncerConfig{ChainHash: testChain, Graph: g, Gossiper: gs, Now: clock,
		Send: func(_ [33]byte, msgs ...lnwire.Message) error {
			<-release
			mu.Lock()
			defer mu.Unlock()
			got = append(got, msgs...)
			return nil
		}})
	peer := [33]byte{2, 9}
	filter := &lnwire.GossipTimestampRange{ChainHash: testChain, FirstTimestamp: ts - 100, TimestampRange: 200}
	s.HandleMessage(context.Background(), peer, filter)
	s.HandleMessage(context.Background(), peer, filter) // while the first backlog waits
	close(release)
	// Not started: the wait group counts only backlog senders, which
	// end once they have sent everything.
	s.wg.Wait()
	want := []lnwire.MessageType{lnwire.MsgChannelAnnouncement, lnwire.MsgChannelUpdate, lnwire.MsgNodeAnnouncement}
	if len(got) != len(want) {
		t.Fatalf("sent %d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		if m.MsgType() != want[i] {
			t.Errorf("message %d is %v, want %v", i, m.MsgType(), want[i])
		}
	}
	if u := got[1].(*lnwire.ChannelUpdate); u.Timestamp != ts-10 {
		t.Errorf("update outside the range sent (timestamp %d)", u.Timestamp)
	}
}

// TestSyncerKeepsPrivateUpdates: a peer's update of a channel that is
// not announced (our private channel), or one marked dont_forward, is
// taken into the graph and never relayed; a public one is.
func TestSyncerKeepsPrivateUpdates(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newFakeChain()
	var mu sync.Mutex
	relayed := 0
	n := newTestNode(t, 1, c, func() time.Time { return now }, func(to [33]byte, m inMsg) {
		if m.msg.MsgType() == lnwire.MsgChannelUpdate {
			mu.Lock()
			relayed++
			mu.Unlock()
		}
	})
	other := [33]byte{2, 0x77}
	n.syncer.PeerOnline(other, false) // wants everything

	priv := fundChannel(t, c, 1, 2, 1_000_000)
	err := n.graph.AddChannel(&channeldb.GraphChannel{ID: priv.ann.ShortChannelID,
		ChanPoint: priv.chanPoint(), Capacity: 1_000_000, Node1: priv.ann.NodeID1, Node2: priv.ann.NodeID2})
	if err != nil {
		t.Fatal(err)
	}
	ts := uint32(now.Unix())
	u := priv.update(t, 0, ts, 1000)
	n.syncer.HandleMessage(context.Background(), peerA, u)
	pub := fundChannel(t, c, 3, 4, 1_000_000)
	dontFwd := pub.update(t, 0, ts, 1000)
	dontFwd.MessageFlags |= lnwire.MsgFlagDontForward
	resign(t, dontFwd, pub.node1)
	for _, m := range []lnwire.Message{pub.ann, dontFwd} {
		n.syncer.HandleMessage(context.Background(), peerA, m)
	}
	n.syncer.Flush()
	_, ups, _, err := n.graph.Channel(priv.ann.ShortChannelID)
	if err != nil || ups[0] == nil {
		t.Fatalf("private update not taken: %v", err)
	}
	mu.Lock()
	if relayed != 0 {
		t.Fatalf("%d private updates relayed", relayed)
	}
	mu.Unlock()
	n.syncer.HandleMessage(context.Background(), peerA, pub.update(t, 1, ts, 1000))
	n.syncer.Flush()
	mu.Lock()
	defer mu.Unlock()
	if relayed != 1 {
		t.Fatalf("%d public updates relayed, want 1", relayed)
	}
}

// TestSyncerWaitsForPeerOnline: a peer's query that arrives before the
// news that the peer is online (when, as in the server, nothing can be
// sent to it yet) is answered once the news comes, so both historical
// syncs finish.
func TestSyncerWaitsForPeerOnline(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	c := newFakeChain()
	var (
		mu      sync.Mutex
		nodes   map[[33]byte]*testNode
		online  = map[[2][33]byte]bool{} // {node, peer}: node knows peer online
		dropped int
	)
	route := func(to [33]byte, m inMsg) {
		mu.Lock()
		n, up := nodes[to], online[[2][33]byte{m.from, to}]
		if !up {
			dropped++
		}
		mu.Unlock()
		if n != nil && up {
			n.syncer.Enqueue(m.from, m.msg)
		}
	}
	a := newTestNode(t, 0xa, c, clock, route)
	b := newTestNode(t, 0xb, c, clock, route)
	mu.Lock()
	nodes = map[[33]byte]*testNode{a.pub: a, b.pub: b}
	online[[2][33]byte{a.pub, b.pub}] = true
	mu.Unlock()
	a.syncer.PeerOnline(b.pub, true)
	time.Sleep(50 * time.Millisecond) // B's worker would answer now, and fail
	mu.Lock()
	online[[2][33]byte{b.pub, a.pub}] = true
	mu.Unlock()
	b.syncer.PeerOnline(a.pub, true)
	waitFor(t, "both historical syncs", func() bool {
		return a.syncer.SyncedPeers() == 1 && b.syncer.SyncedPeers() == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if dropped != 0 {
		t.Fatalf("%d messages sent to a peer not known online", dropped)
	}
}
