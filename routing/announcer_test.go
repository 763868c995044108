package routing

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
)

// announcerHarness is an Announcer over a real graph, with what it
// broadcast and sent recorded, a clock the test moves, and a policy the
// test sets.
type announcerHarness struct {
	t     *testing.T
	a     *Announcer
	g     *ChannelGraph
	tc    *testChannel
	chain *fakeChain
	self  *btcec.PrivateKey
	peer  [33]byte
	alias lnwire.ShortChannelID

	mu      sync.Mutex
	now     time.Time
	policy  ChannelPolicy
	online  bool
	bcast   []lnwire.Message
	toPeer  []lnwire.Message
	private bool
}

func newAnnouncerHarness(t *testing.T, private bool) *announcerHarness {
	t.Helper()
	g, _ := openTestGraph(t)
	c := newFakeChain()
	h := &announcerHarness{t: t, g: g, tc: fundChannel(t, c, 1, 2, 1_000_000), chain: c,
		now: time.Unix(1_800_000_000, 0), online: true, private: private,
		policy: ChannelPolicy{BaseFee: 1000, FeeRate: 1, TimeLockDelta: 80, MinHTLC: 1000},
		alias:  lnwire.ShortChannelID{BlockHeight: 16_000_123, TxIndex: 5, TxPosition: 1}}
	// We are node 2 of the channel: direction 1.
	h.self, h.peer = h.tc.node2, raw33(h.tc.node1)
	h.start()
	return h
}

func (h *announcerHarness) start() {
	h.t.Helper()
	alias, _ := lnwire.NewNodeAlias("xlnd-test")
	h.a = NewAnnouncer(AnnouncerConfig{
		ChainHash: testChain, Self: raw33(h.self), Graph: h.g,
		SignNode: func(d [32]byte) (*ecdsa.Signature, error) { return ecdsa.Sign(h.self, d[:]), nil },
		Broadcast: func(m lnwire.Message) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.bcast = append(h.bcast, m)
		},
		SendToPeer: func(p [33]byte, msgs ...lnwire.Message) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if p != h.peer || !h.online {
				return errors.New("not connected")
			}
			h.toPeer = append(h.toPeer, msgs...)
			return nil
		},
		Policy: func(wire.OutPoint) (ChannelPolicy, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.policy, nil
		},
		Node: func() NodeInfo {
			return NodeInfo{Alias: alias, Color: lnwire.RGB{0x33, 0x99, 0xff},
				Addresses: []net.Addr{
					&lnwire.DNSAddr{Hostname: "node.example.com", Port: 9735},
					&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 9735},
					&net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 9735},
				},
				Features: lnwire.NewRawFeatureVector(lnwire.GossipQueriesOptional)}
		},
		Now: func() time.Time {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.now
		},
	})
	if err := h.a.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(h.a.Stop)
	err := h.a.AddChannel(LocalChannel{ChanPoint: h.tc.chanPoint(), SCID: h.tc.ann.ShortChannelID,
		Aliases: []lnwire.ShortChannelID{h.alias}, Capacity: 1_000_000, Peer: h.peer,
		Private: h.private, MinHTLC: 1, MaxHTLC: 990_000_000})
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *announcerHarness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// take returns and clears what was broadcast and sent to the peer.
func (h *announcerHarness) take() (bcast, toPeer []lnwire.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	bcast, toPeer = h.bcast, h.toPeer
	h.bcast, h.toPeer = nil, nil
	return bcast, toPeer
}

// ours checks u is a valid update of our direction and returns it.
func (h *announcerHarness) ours(m lnwire.Message) *lnwire.ChannelUpdate {
	h.t.Helper()
	u, ok := m.(*lnwire.ChannelUpdate)
	if !ok {
		h.t.Fatalf("%v, want channel_update", m.MsgType())
	}
	if u.Direction() != 1 {
		h.t.Fatalf("direction %d, want ours (1)", u.Direction())
	}
	if err := VerifyChannelUpdate(u, raw33(h.self), 1_000_000); err != nil {
		h.t.Fatal(err)
	}
	return u
}

func types(msgs []lnwire.Message) []lnwire.MessageType {
	var out []lnwire.MessageType
	for _, m := range msgs {
		out = append(out, m.MsgType())
	}
	return out
}

// TestAnnouncerPublicChannel: our node enters our graph at start; the
// channel's update goes to the peer alone (dont_forward) until the
// channel is announced, then the announcement, a public update and our
// node announcement are broadcast, and another node's gossiper accepts
// all three.
func TestAnnouncerPublicChannel(t *testing.T) {
	h := newAnnouncerHarness(t, false)
	node, err := h.g.Node(raw33(h.self))
	if err != nil {
		t.Fatalf("our node not in our graph: %v", err)
	}
	if err := VerifyNodeAnnouncement(node); err != nil {
		t.Fatal(err)
	}
	if len(node.Addresses) != 3 || node.Addresses[0].(*net.TCPAddr).IP.To4() == nil ||
		node.Addresses[2].(*lnwire.DNSAddr) == nil {
		t.Fatalf("addresses not in BOLT 7 order: %v", node.Addresses)
	}
	bcast, toPeer := h.take()
	if len(bcast) != 0 || len(toPeer) != 1 {
		t.Fatalf("before the announcement: broadcast %v, to peer %v", types(bcast), types(toPeer))
	}
	first := h.ours(toPeer[0])
	if first.MessageFlags&lnwire.MsgFlagDontForward == 0 {
		t.Fatal("update of an unannounced channel without dont_forward")
	}
	if first.BaseFee != 1000 || first.FeeRate != 1 || first.TimeLockDelta != 80 ||
		first.HtlcMinimumMsat != 1000 || first.HtlcMaximumMsat != 990_000_000 || first.IsDisabled() {
		t.Fatalf("policy %+v", first)
	}
	if err := h.a.Announce(h.tc.chanPoint(), h.tc.ann); err != nil {
		t.Fatal(err)
	}
	bcast, _ = h.take()
	want := []lnwire.MessageType{lnwire.MsgChannelAnnouncement, lnwire.MsgChannelUpdate, lnwire.MsgNodeAnnouncement}
	if got := types(bcast); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("broadcast %v, want %v", got, want)
	}
	pub := h.ours(bcast[1])
	if pub.MessageFlags&lnwire.MsgFlagDontForward != 0 || pub.Timestamp <= first.Timestamp {
		t.Fatalf("public update flags %d timestamp %d (first %d)", pub.MessageFlags, pub.Timestamp, first.Timestamp)
	}
	c, ups, _, err := h.g.Channel(h.tc.ann.ShortChannelID)
	if err != nil || c.Announcement == nil || ups[1] == nil || ups[1].Timestamp != pub.Timestamp {
		t.Fatalf("our graph: %+v %v %v", c, ups, err)
	}
	if err := h.a.Announce(h.tc.chanPoint(), h.tc.ann); err != nil {
		t.Fatal(err)
	}
	if bcast, _ := h.take(); len(bcast) != 0 {
		t.Fatalf("announced twice: %v", types(bcast))
	}

	// What we broadcast is what another node accepts.
	og, _ := openTestGraph(t)
	other := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: og, Chain: h.chain,
		Now: func() time.Time { return h.now }})
	mustProcess(t, other, bcast[0], bcast[1], bcast[2])
}

// TestAnnouncerUpdates: ChannelUpdate by scid and alias, policy changes,
// the disable bit after the peer is away a while and its clearing after
// it is back a while, refreshes before a day passes, a restart that
// signs nothing new.
func TestAnnouncerUpdates(t *testing.T) {
	h := newAnnouncerHarness(t, false)
	if err := h.a.Announce(h.tc.chanPoint(), h.tc.ann); err != nil {
		t.Fatal(err)
	}
	h.take()
	latest := func() *lnwire.ChannelUpdate {
		t.Helper()
		u, err := h.a.ChannelUpdate(h.tc.ann.ShortChannelID)
		if err != nil {
			t.Fatal(err)
		}
		byAlias, err := h.a.ChannelUpdate(h.alias)
		if err != nil || byAlias.Timestamp != u.Timestamp {
			t.Fatalf("by alias: %v %v", byAlias, err)
		}
		return h.ours(u)
	}
	if _, err := h.a.ChannelUpdate(lnwire.ShortChannelID{BlockHeight: 9}); !errors.Is(err, ErrUnknownChannel) {
		t.Fatalf("unknown scid: %v", err)
	}

	// Policy.
	h.a.PolicyChanged([]wire.OutPoint{h.tc.chanPoint()})
	if bcast, _ := h.take(); len(bcast) != 0 {
		t.Fatalf("unchanged policy re-signed: %v", types(bcast))
	}
	h.mu.Lock()
	h.policy.BaseFee, h.policy.FeeRate = 2500, 300
	h.mu.Unlock()
	h.a.PolicyChanged([]wire.OutPoint{h.tc.chanPoint()})
	bcast, _ := h.take()
	if len(bcast) != 1 || h.ours(bcast[0]).BaseFee != 2500 || latest().FeeRate != 300 {
		t.Fatalf("after a policy change: %v", types(bcast))
	}

	// Disable and enable.
	h.a.PeerOnline(h.peer)
	h.take()
	h.a.PeerOffline(h.peer)
	h.mu.Lock()
	h.online = false
	h.mu.Unlock()
	h.advance(DefaultChanDisableTimeout - time.Second)
	h.a.SampleStatus()
	if bcast, _ := h.take(); len(bcast) != 0 {
		t.Fatal("disabled before the timeout")
	}
	h.advance(time.Second)
	h.a.SampleStatus()
	bcast, _ = h.take()
	if len(bcast) != 1 || !h.ours(bcast[0]).IsDisabled() || !latest().IsDisabled() {
		t.Fatalf("not disabled after the timeout: %v", types(bcast))
	}
	h.mu.Lock()
	h.online = true
	h.mu.Unlock()
	h.a.PeerOnline(h.peer)
	_, toPeer := h.take()
	if len(toPeer) != 2 || toPeer[0].MsgType() != lnwire.MsgChannelUpdate ||
		toPeer[1].MsgType() != lnwire.MsgNodeAnnouncement {
		t.Fatalf("on connection sent %v", types(toPeer))
	}
	h.advance(DefaultChanEnableTimeout - time.Second)
	h.a.SampleStatus()
	if bcast, _ := h.take(); len(bcast) != 0 {
		t.Fatal("enabled before the timeout")
	}
	h.advance(time.Second)
	h.a.SampleStatus()
	bcast, _ = h.take()
	if len(bcast) != 1 || h.ours(bcast[0]).IsDisabled() || h.ours(bcast[0]).BaseFee != 2500 {
		t.Fatalf("not enabled after the timeout: %v", types(bcast))
	}

	// Refresh.
	before := latest().Timestamp
	h.advance(DefaultRebroadcastInterval - time.Minute)
	h.a.RefreshStale()
	// The node announcement, signed at start, is older: it goes now.
	bcast, _ = h.take()
	if len(bcast) != 1 || bcast[0].MsgType() != lnwire.MsgNodeAnnouncement {
		t.Fatalf("refreshed early: %v", types(bcast))
	}
	if err := VerifyNodeAnnouncement(bcast[0].(*lnwire.NodeAnnouncement)); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	h.a.RefreshStale()
	bcast, _ = h.take()
	if len(bcast) != 1 || h.ours(bcast[0]).Timestamp <= before {
		t.Fatalf("refresh broadcast %v", types(bcast))
	}

	// Restart: nothing changed, nothing signed; the latest is kept.
	held := latest()
	h.a.Stop()
	h.start()
	if bcast, toPeer := h.take(); len(bcast)+len(toPeer) != 0 {
		t.Fatalf("restart published %v %v", types(bcast), types(toPeer))
	}
	if got := latest(); got.Timestamp != held.Timestamp {
		t.Fatalf("after restart the latest is %d, was %d", got.Timestamp, held.Timestamp)
	}
	// Without the peer since the restart, the channel is disabled once
	// the timeout passes.
	h.advance(DefaultChanDisableTimeout)
	h.a.SampleStatus()
	if bcast, _ := h.take(); len(bcast) != 1 || !h.ours(bcast[0]).IsDisabled() {
		t.Fatalf("not disabled after a restart without the peer: %v", types(bcast))
	}
}

// TestAnnouncerPrivateChannel: a private channel's updates go to the
// peer only, never broadcast, and its policy changes too.
func TestAnnouncerPrivateChannel(t *testing.T) {
	h := newAnnouncerHarness(t, true)
	bcast, toPeer := h.take()
	if len(bcast) != 0 || len(toPeer) != 1 {
		t.Fatalf("broadcast %v, to peer %v", types(bcast), types(toPeer))
	}
	if h.ours(toPeer[0]).MessageFlags&lnwire.MsgFlagDontForward == 0 {
		t.Fatal("private channel's update without dont_forward")
	}
	h.mu.Lock()
	h.policy.TimeLockDelta = 144
	h.mu.Unlock()
	h.a.PolicyChanged([]wire.OutPoint{h.tc.chanPoint()})
	h.a.PeerOffline(h.peer)
	h.advance(DefaultChanDisableTimeout)
	h.a.SampleStatus()
	bcast, toPeer = h.take()
	if len(bcast) != 0 || len(toPeer) != 2 || h.ours(toPeer[0]).TimeLockDelta != 144 {
		t.Fatalf("broadcast %v, to peer %v", types(bcast), types(toPeer))
	}
	h.a.RefreshStale()
	if bcast, _ := h.take(); len(bcast) != 0 {
		t.Fatalf("private channel refreshed in public: %v", types(bcast))
	}
}

// TestAnnouncerConcurrentUpdates: policy changes and status samples at
// once, all in the same second, give updates with distinct, increasing
// timestamps.
func TestAnnouncerConcurrentUpdates(t *testing.T) {
	h := newAnnouncerHarness(t, false)
	if err := h.a.Announce(h.tc.chanPoint(), h.tc.ann); err != nil {
		t.Fatal(err)
	}
	h.take()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.mu.Lock()
			h.policy.BaseFee = lnwire.MilliSatoshi(2000 + i)
			h.mu.Unlock()
			h.a.PolicyChanged([]wire.OutPoint{h.tc.chanPoint()})
		}()
	}
	wg.Wait()
	bcast, _ := h.take()
	seen := map[uint32]bool{}
	var last uint32
	for _, m := range bcast {
		u := h.ours(m)
		if seen[u.Timestamp] || u.Timestamp <= last {
			t.Fatalf("timestamp %d repeated or going back (last %d)", u.Timestamp, last)
		}
		seen[u.Timestamp], last = true, u.Timestamp
	}
	if len(bcast) == 0 {
		t.Fatal("no update signed")
	}
}

// TestAnnouncerClosing: a channel whose close began is announced
// disabled and stays so, its peer online or not.
func TestAnnouncerClosing(t *testing.T) {
	h := newAnnouncerHarness(t, false)
	if err := h.a.Announce(h.tc.chanPoint(), h.tc.ann); err != nil {
		t.Fatal(err)
	}
	h.a.PeerOnline(h.peer)
	h.take()
	h.a.ChannelClosing(h.tc.chanPoint())
	bcast, _ := h.take()
	if len(bcast) != 1 || !h.ours(bcast[0]).IsDisabled() {
		t.Fatalf("closing: broadcast %v", types(bcast))
	}
	h.advance(2 * DefaultChanEnableTimeout)
	h.a.SampleStatus()
	h.a.ChannelClosing(h.tc.chanPoint())
	if bcast, _ := h.take(); len(bcast) != 0 {
		t.Fatalf("a closing channel changed status: %v", types(bcast))
	}
}
