package server

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/brontide"
	"lnd.xprv/lnwire"
	"lnd.xprv/peer"
)

// testFeatures is what xlnd advertises, minus anything a test changes.
func testFeatures(extra ...lnwire.FeatureBit) *lnwire.RawFeatureVector {
	bits := append([]lnwire.FeatureBit{
		lnwire.DataLossProtectRequired,
		lnwire.TLVOnionPayloadRequired,
		lnwire.StaticRemoteKeyRequired,
		lnwire.PaymentAddrRequired,
		lnwire.ChannelTypeRequired,
		lnwire.GossipQueriesOptional,
	}, extra...)
	return lnwire.NewRawFeatureVector(bits...)
}

var testRequired = []lnwire.FeatureBit{
	lnwire.DataLossProtectRequired,
	lnwire.TLVOnionPayloadRequired,
	lnwire.StaticRemoteKeyRequired,
	lnwire.PaymentAddrRequired,
	lnwire.ChannelTypeRequired,
}

type testNode struct {
	t      *testing.T
	key    *btcec.PrivateKey
	srv    *Server
	listen string
	mod    func(*Config)
}

func newTestNode(t *testing.T, key *btcec.PrivateKey, listen string, mod func(*Config)) *testNode {
	t.Helper()
	if key == nil {
		var err error
		if key, err = btcec.NewPrivateKey(); err != nil {
			t.Fatal(err)
		}
	}
	n := &testNode{t: t, key: key, listen: listen, mod: mod}
	n.start()
	t.Cleanup(func() { n.srv.Stop() })
	return n
}

func (n *testNode) start() {
	n.t.Helper()
	cfg := Config{
		NodeKey:     &brontide.PrivKeyECDH{PrivKey: n.key},
		ChainHash:   *chaincfg.RegressionNetParams.GenesisHash,
		Features:    testFeatures(),
		Required:    testRequired,
		ListenAddrs: []string{n.listen},
		MaxInbound:  10,
		ConnTimeout: 5 * time.Second,
		MinBackoff:  50 * time.Millisecond,
		MaxBackoff:  500 * time.Millisecond,
	}
	if n.mod != nil {
		n.mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.srv = srv
	n.listen = srv.ListenAddrs()[0].String()
}

func (n *testNode) pub() [33]byte {
	var p [33]byte
	copy(p[:], n.key.PubKey().SerializeCompressed())
	return p
}

func (n *testNode) addr() *brontide.NetAddress {
	a, err := net.ResolveTCPAddr("tcp", n.listen)
	if err != nil {
		n.t.Fatal(err)
	}
	return &brontide.NetAddress{IdentityKey: n.key.PubKey(), Address: a}
}

func (n *testNode) connect(other *testNode, perm bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return n.srv.ConnectToPeer(ctx, other.addr(), perm)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func peerKeys(s *Server) [][33]byte {
	var keys [][33]byte
	for _, p := range s.Peers() {
		keys = append(keys, p.PubKey())
	}
	return keys
}

func hasOnlyPeer(s *Server, pub [33]byte) bool {
	keys := peerKeys(s)
	return len(keys) == 1 && keys[0] == pub
}

func TestConnectAndNegotiate(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", nil)
	b := newTestNode(t, nil, "127.0.0.1:0", nil)

	if err := a.connect(b, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to list a", func() bool { return hasOnlyPeer(b.srv, a.pub()) })
	if !hasOnlyPeer(a.srv, b.pub()) {
		t.Fatalf("a lists %x", peerKeys(a.srv))
	}
	pa := a.srv.FindPeer(b.pub())
	if pa.Inbound() || !b.srv.FindPeer(a.pub()).Inbound() {
		t.Fatal("directions wrong")
	}
	fv := pa.RemoteFeatures()
	if !fv.HasFeature(lnwire.GossipQueriesOptional) ||
		!fv.HasFeature(lnwire.PaymentAddrRequired) {
		t.Fatalf("negotiated features %v", fv)
	}

	// A second connect fails with lnd's message.
	if err := a.connect(b, false); err == nil ||
		!strings.Contains(err.Error(), "already connected") {
		t.Fatalf("second connect: %v", err)
	}

	// Messages flow both ways and are counted.
	if err := a.srv.SendToPeer(b.pub(), &lnwire.Warning{Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	pb := b.srv.FindPeer(a.pub())
	waitFor(t, "warning recorded", func() bool {
		errs := pb.Errors()
		return len(errs) == 1 && errs[0].Warning && errs[0].Message == "hello"
	})
	if st := pa.Stats(); st.MsgsSent < 2 || st.BytesSent == 0 {
		t.Fatalf("a's counters %+v", st)
	}

	if err := a.srv.DisconnectPeer(b.key.PubKey()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to drop a", func() bool { return len(b.srv.Peers()) == 0 })
	if err := a.srv.DisconnectPeer(b.key.PubKey()); err == nil ||
		!strings.Contains(err.Error(), "is not connected") {
		t.Fatalf("disconnect of a gone peer: %v", err)
	}
}

// Both nodes dial each other at once; both must end up with one
// connection, the same one.
func TestSimultaneousConnect(t *testing.T) {
	for i := 0; i < 5; i++ {
		a := newTestNode(t, nil, "127.0.0.1:0", nil)
		b := newTestNode(t, nil, "127.0.0.1:0", nil)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); a.connect(b, false) }()
		go func() { defer wg.Done(); b.connect(a, false) }()
		wg.Wait()

		// Both sides may briefly agree on the losing connection before
		// the winning one lands; wait for the state to settle.
		settled := func() bool {
			pa, pb := a.srv.FindPeer(b.pub()), b.srv.FindPeer(a.pub())
			return pa != nil && pb != nil && pa.Inbound() != pb.Inbound() &&
				len(a.srv.Peers()) == 1 && len(b.srv.Peers()) == 1
		}
		var since time.Time
		waitFor(t, "one peer each, same connection, for 500ms", func() bool {
			if !settled() {
				since = time.Time{}
				return false
			}
			if since.IsZero() {
				since = time.Now()
			}
			return time.Since(since) > 500*time.Millisecond
		})
		// The connection stays up (the loser was closed, not the winner).
		pa := a.srv.FindPeer(b.pub())
		if err := pa.SendMessage(&lnwire.Ping{NumPongBytes: 4}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "pong", func() bool { return pa.Stats().MsgsRecv >= 2 })
		select {
		case <-pa.Done():
			t.Fatal("kept connection closed")
		default:
		}
	}
}

func TestPersistentReconnect(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", nil)
	b := newTestNode(t, nil, "127.0.0.1:0", nil)
	if err := a.connect(b, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "connected", func() bool { return hasOnlyPeer(a.srv, b.pub()) })

	// b goes away and comes back on the same address.
	b.srv.Stop()
	waitFor(t, "a to notice", func() bool { return len(a.srv.Peers()) == 0 })
	b.start()
	waitFor(t, "a to reconnect", func() bool {
		return hasOnlyPeer(a.srv, b.pub()) && hasOnlyPeer(b.srv, a.pub())
	})

	// After an explicit disconnect, no more reconnects.
	if err := a.srv.DisconnectPeer(b.key.PubKey()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disconnected", func() bool { return len(b.srv.Peers()) == 0 })
	time.Sleep(300 * time.Millisecond) // several backoff periods
	if n := len(a.srv.Peers()); n != 0 {
		t.Fatalf("reconnected after DisconnectPeer: %d peers", n)
	}
}

func TestIncompatibleFeatures(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", nil)
	// b requires a feature bit nobody knows (an unassigned even bit).
	b := newTestNode(t, nil, "127.0.0.1:0", func(c *Config) {
		c.Features = testFeatures(lnwire.FeatureBit(200))
	})
	// b's connect may see a's init before a's error arrives; either way
	// the connection ends, and b keeps a's reason.
	_ = b.connect(a, false)
	waitFor(t, "b to record a's error", func() bool {
		errs := b.srv.History(a.pub()).Errors
		return len(errs) == 1 && !errs[0].Warning &&
			strings.Contains(errs[0].Message, "200")
	})
	waitFor(t, "no peers", func() bool {
		return len(a.srv.Peers()) == 0 && len(b.srv.Peers()) == 0
	})
	if h := a.srv.History(b.pub()); h.FlapCount != 0 {
		t.Fatalf("a counted a connection it refused: %+v", h)
	}

	// c lacks a feature a requires.
	c := newTestNode(t, nil, "127.0.0.1:0", func(c *Config) {
		c.Features = lnwire.NewRawFeatureVector(lnwire.TLVOnionPayloadRequired,
			lnwire.PaymentAddrRequired)
		c.Required = nil
	})
	err := c.connect(a, false)
	if err == nil || !strings.Contains(err.Error(), "option_static_remotekey") {
		t.Fatalf("peer lacking features: %v", err)
	}
}

func TestWrongChain(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", nil)
	b := newTestNode(t, nil, "127.0.0.1:0", func(c *Config) {
		c.ChainHash = *chaincfg.MainNetParams.GenesisHash
	})
	if err := b.connect(a, false); err == nil || !strings.Contains(err.Error(), "chain") {
		t.Fatalf("peer on another chain: %v", err)
	}
}

func TestInboundLimit(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", func(c *Config) { c.MaxInbound = 1 })
	b := newTestNode(t, nil, "127.0.0.1:0", nil)
	c := newTestNode(t, nil, "127.0.0.1:0", nil)
	if err := b.connect(a, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to list b", func() bool { return hasOnlyPeer(a.srv, b.pub()) })
	if err := c.connect(a, false); err == nil {
		t.Fatal("inbound limit not enforced")
	}
	if !hasOnlyPeer(a.srv, b.pub()) {
		t.Fatalf("a lists %x", peerKeys(a.srv))
	}
	// Outbound connections are not limited.
	if err := a.connect(c, false); err != nil {
		t.Fatal(err)
	}
}

func TestPeerEvents(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", nil)
	b := newTestNode(t, nil, "127.0.0.1:0", nil)
	sub, err := a.srv.SubscribePeerEvents()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	if err := a.connect(b, false); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.DisconnectPeer(b.key.PubKey()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []PeerEventType{PeerOnline, PeerOffline} {
		select {
		case ev := <-sub.Events():
			if ev.Type != want || ev.PubKey != b.pub() {
				t.Fatalf("event %+v, want type %v", ev, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %v", want)
		}
	}
}

// TestFollowPeersSeesEarlierPeers: a peer that connected before the
// subscription is reported by FollowPeers (and not by SubscribePeerEvents,
// lnd's semantics). A daemon subsystem subscribing after Start relies on it:
// the crash test saw a restarted node miss its peer's reconnection this way,
// so a channel open on its side alone was never reestablished.
func TestFollowPeersSeesEarlierPeers(t *testing.T) {
	a := newTestNode(t, nil, "127.0.0.1:0", nil)
	b := newTestNode(t, nil, "127.0.0.1:0", nil)
	if err := a.connect(b, false); err != nil {
		t.Fatal(err)
	}
	plain, err := a.srv.SubscribePeerEvents()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Cancel()
	follow, err := a.srv.FollowPeers()
	if err != nil {
		t.Fatal(err)
	}
	defer follow.Cancel()
	select {
	case ev := <-follow.Events():
		if ev.Type != PeerOnline || ev.PubKey != b.pub() {
			t.Fatalf("first event %+v, want b online", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FollowPeers did not report the peer already online")
	}
	if err := a.srv.DisconnectPeer(b.key.PubKey()); err != nil {
		t.Fatal(err)
	}
	// Both then see the same live events; the plain one sees no online
	// event for the earlier connection.
	for name, sub := range map[string]*PeerEventSubscription{"plain": plain, "follow": follow} {
		select {
		case ev := <-sub.Events():
			if ev.Type != PeerOffline || ev.PubKey != b.pub() {
				t.Fatalf("%s: event %+v, want b offline", name, ev)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no offline event", name)
		}
	}
}

func TestStopLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		a := newTestNode(t, nil, "127.0.0.1:0", nil)
		b := newTestNode(t, nil, "127.0.0.1:0", nil)
		if err := a.connect(b, true); err != nil {
			t.Fatal(err)
		}
		sub, err := b.srv.SubscribePeerEvents()
		if err != nil {
			t.Fatal(err)
		}
		_ = sub
		a.srv.Stop()
		b.srv.Stop()
	}()
	waitFor(t, "goroutines to exit", func() bool {
		return runtime.NumGoroutine() <= before
	})
	_ = peer.ErrPeerExiting
}
