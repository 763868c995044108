package itest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// wantFeature is a feature bit a peer's init must carry, as ListPeers
// reports it.
type wantFeature struct {
	bit      uint32
	name     string
	required bool
}

// xlndFeatures are some of the bits xlnd sends in init: the five it
// requires (even) and some it offers (odd). BOLT 9 numbers, with the names
// lnd's API gives them (what apps built on lnd read).
var xlndFeatures = []wantFeature{
	{0, "data-loss-protect", true},
	{8, "tlv-onion", true},
	{12, "static-remote-key", true},
	{14, "payment-addr", true},
	{44, "explicit-commitment-type", true},
	{7, "gossip-queries", false},
	{23, "anchors-zero-fee-htlc-tx", false},
	{27, "shutdown-any-segwit", false},
}

// checkPeerFeatures checks that p lists every feature of xlndFeatures,
// known, with the right requiredness, and not its pair bit.
func checkPeerFeatures(p *lnrpc.Peer) error {
	for _, want := range xlndFeatures {
		f, ok := p.Features[want.bit]
		if !ok {
			return fmt.Errorf("feature bit %d (%s) missing from %v", want.bit, want.name, p.Features)
		}
		if f.Name != want.name {
			return fmt.Errorf("feature bit %d named %q, want lnd's %q", want.bit, f.Name, want.name)
		}
		if !f.IsKnown || f.IsRequired != want.required {
			return fmt.Errorf("feature bit %d (%s): known %v required %v, want known, required %v",
				want.bit, want.name, f.IsKnown, f.IsRequired, want.required)
		}
		if _, both := p.Features[want.bit^1]; both {
			return fmt.Errorf("feature %s set as both bit %d and %d", want.name, want.bit, want.bit^1)
		}
	}
	return nil
}

// TestConnectPeers: two nodes connect; each lists the other with the
// features negotiated in init, the right direction and address, and
// streams PEER_ONLINE then, after a disconnect, PEER_OFFLINE.
func TestConnectPeers(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")

	// GetInfo advertises the URI built from --externalip.
	for _, n := range []*harness.Node{alice, bob} {
		info, err := n.Info()
		check(t, err)
		if !slices.Contains(info.Uris, n.URI()) {
			t.Errorf("%s: uris %v, want %s", n.Name(), info.Uris, n.URI())
		}
		if info.Alias != n.Name() || info.NumPeers != 0 {
			t.Errorf("%s: alias %q, num_peers %d", n.Name(), info.Alias, info.NumPeers)
		}
		// GetInfo's features are the ones the node sends in init.
		if err := checkPeerFeatures(&lnrpc.Peer{Features: info.Features}); err != nil {
			t.Errorf("%s: GetInfo features: %v", n.Name(), err)
		}
	}

	// Peer events on both sides, from before the connection.
	evCtx, evCancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer evCancel()
	events := make(map[*harness.Node]lnrpc.Lightning_SubscribePeerEventsClient)
	for _, n := range []*harness.Node{alice, bob} {
		stream, err := n.RPC.SubscribePeerEvents(evCtx, &lnrpc.PeerEventSubscription{})
		check(t, err)
		events[n] = stream
	}
	// nextEvent returns the next event of n's stream about other.
	nextEvent := func(n, other *harness.Node) lnrpc.PeerEvent_EventType {
		t.Helper()
		for {
			ev, err := events[n].Recv()
			if err != nil {
				t.Fatalf("%s: SubscribePeerEvents: %v", n.Name(), err)
			}
			if ev.PubKey == other.PubKey() {
				return ev.Type
			}
		}
	}

	check(t, nw.ConnectNodes(alice, bob, false))
	for _, pair := range [][2]*harness.Node{{alice, bob}, {bob, alice}} {
		if ev := nextEvent(pair[0], pair[1]); ev != lnrpc.PeerEvent_PEER_ONLINE {
			t.Errorf("%s's first event about %s: %v, want PEER_ONLINE", pair[0].Name(), pair[1].Name(), ev)
		}
	}

	tests := []struct {
		node, other *harness.Node
		inbound     bool
	}{
		{alice, bob, false},
		{bob, alice, true},
	}
	for _, tc := range tests {
		p, err := tc.node.Peer(tc.other.PubKey())
		check(t, err)
		if p == nil {
			t.Fatalf("%s does not list %s", tc.node.Name(), tc.other.Name())
		}
		if p.Inbound != tc.inbound {
			t.Errorf("%s lists %s with inbound %v, want %v", tc.node.Name(),
				tc.other.Name(), p.Inbound, tc.inbound)
		}
		if !tc.inbound && p.Address != tc.other.P2PAddr() {
			t.Errorf("%s lists %s at %q, want %q", tc.node.Name(),
				tc.other.Name(), p.Address, tc.other.P2PAddr())
		}
		if err := checkPeerFeatures(p); err != nil {
			t.Errorf("%s's view of %s: %v", tc.node.Name(), tc.other.Name(), err)
		}
		// init went both ways over the encrypted transport.
		if p.BytesSent == 0 || p.BytesRecv == 0 {
			t.Errorf("%s: bytes sent %d, received %d to %s", tc.node.Name(),
				p.BytesSent, p.BytesRecv, tc.other.Name())
		}
		info, err := tc.node.Info()
		check(t, err)
		if info.NumPeers != 1 {
			t.Errorf("%s: num_peers %d, want 1", tc.node.Name(), info.NumPeers)
		}
	}

	// A disconnect is seen on both sides.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := alice.RPC.DisconnectPeer(ctx, &lnrpc.DisconnectPeerRequest{PubKey: bob.PubKey()})
	check(t, err)
	check(t, alice.WaitNoPeer(bob.PubKey()))
	check(t, bob.WaitNoPeer(alice.PubKey()))
	for _, pair := range [][2]*harness.Node{{alice, bob}, {bob, alice}} {
		if ev := nextEvent(pair[0], pair[1]); ev != lnrpc.PeerEvent_PEER_OFFLINE {
			t.Errorf("%s's next event about %s: %v, want PEER_OFFLINE", pair[0].Name(), pair[1].Name(), ev)
		}
	}
}

// TestReconnectPersistentPeer: a connects to b as a persistent peer; b
// restarts on the same ports; a dials it again and both list each other.
func TestReconnectPersistentPeer(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.ConnectNodes(alice, bob, true))
	bobKey := bob.PubKey()

	check(t, bob.Stop())
	check(t, alice.WaitNoPeer(bobKey))

	check(t, bob.Start())
	if bob.PubKey() != bobKey {
		t.Fatalf("bob's identity changed across restart: %s, was %s", bob.PubKey(), bobKey)
	}
	check(t, alice.WaitPeer(bobKey))
	check(t, bob.WaitPeer(alice.PubKey()))

	// alice dialled again: bob sees her inbound.
	p, err := bob.Peer(alice.PubKey())
	check(t, err)
	if p == nil || !p.Inbound {
		t.Fatalf("bob's entry for alice after the reconnect: %v, want inbound", p)
	}
	if err := checkPeerFeatures(p); err != nil {
		t.Errorf("after reconnect: %v", err)
	}
}

// TestRequiredFeatureRefused: a node that requires a feature bit nobody
// knows (--dev.requirefeature=200) is refused by a normal node with an
// error, whichever side dials; the refusing node logs why and the other
// logs the error it received.
func TestRequiredFeatureRefused(t *testing.T) {
	t.Parallel()
	const bit = "200"
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	odd := startNode(t, nw, "odd", "--dev.requirefeature="+bit)

	refused := []string{"Peer failed to initialise", "peer requires features we do not support", bit}
	received := []string{"Received error from peer", bit}

	tests := []struct {
		name       string
		from, to   *harness.Node
		refuser    *harness.Node
		errReceive *harness.Node
	}{
		{"odd dials", odd, alice, alice, odd},
		{"alice dials", alice, odd, alice, odd},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refusedBefore := len(tc.refuser.LogLines(refused...))
			receivedBefore := len(tc.errReceive.LogLines(received...))

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := tc.from.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
				Addr: &lnrpc.LightningAddress{Pubkey: tc.to.PubKey(), Host: tc.to.P2PAddr()},
			})
			t.Logf("ConnectPeer %s -> %s: %v", tc.from.Name(), tc.to.Name(), err)

			waitMoreLines := func(n *harness.Node, before int, parts []string) {
				t.Helper()
				err := harness.WaitFor(func() error {
					if got := len(n.LogLines(parts...)); got <= before {
						return fmt.Errorf("%s: %d log lines with %q, want more than %d",
							n.Name(), got, parts, before)
					}
					return nil
				}, harness.SyncTimeout)
				if err != nil {
					t.Error(err)
					return
				}
				lines := n.LogLines(parts...)
				t.Logf("%s logged: %s", n.Name(), lines[len(lines)-1])
			}
			waitMoreLines(tc.refuser, refusedBefore, refused)
			waitMoreLines(tc.errReceive, receivedBefore, received)

			// Neither keeps the other as a peer.
			check(t, alice.WaitNoPeer(odd.PubKey()))
			check(t, odd.WaitNoPeer(alice.PubKey()))
		})
	}
}

// TestInboundLimitAndSimultaneousConnect: a node with --maxinboundpeers=1
// refuses a second inbound peer but may still dial out; and two nodes that
// dial each other at the same moment end up with one connection, which
// both see in opposite directions.
func TestInboundLimitAndSimultaneousConnect(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	hub := startNode(t, nw, "hub", "--maxinboundpeers=1")
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")

	check(t, nw.ConnectNodes(alice, hub, false))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := bob.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
		Addr:    &lnrpc.LightningAddress{Pubkey: hub.PubKey(), Host: hub.P2PAddr()},
		Timeout: 20,
	})
	t.Logf("bob -> hub beyond the limit: %v", err)
	line, err := hub.WaitLogLine(harness.SyncTimeout, "Refusing inbound peer: limit reached", bob.PubKey())
	check(t, err)
	t.Logf("hub logged: %s", line)
	check(t, hub.WaitNoPeer(bob.PubKey()))
	check(t, bob.WaitNoPeer(hub.PubKey()))
	p, err := hub.Peer(alice.PubKey())
	check(t, err)
	if p == nil {
		t.Fatal("hub dropped alice when refusing bob")
	}

	// The limit is on inbound peers only.
	check(t, nw.ConnectNodes(hub, bob, false))

	// alice and bob dial each other at once.
	errs := make(chan error, 2)
	for _, pair := range [][2]*harness.Node{{alice, bob}, {bob, alice}} {
		go func() {
			_, err := pair[0].RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
				Addr: &lnrpc.LightningAddress{Pubkey: pair[1].PubKey(), Host: pair[1].P2PAddr()},
			})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Logf("simultaneous ConnectPeer: %v", err)
		}
	}
	err = harness.WaitFor(func() error {
		a, err := alice.Peer(bob.PubKey())
		if err != nil {
			return err
		}
		b, err := bob.Peer(alice.PubKey())
		if err != nil {
			return err
		}
		if a == nil || b == nil {
			return fmt.Errorf("alice lists bob: %v, bob lists alice: %v", a != nil, b != nil)
		}
		if a.Inbound == b.Inbound {
			return fmt.Errorf("both see the connection as inbound=%v", a.Inbound)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	for _, n := range []*harness.Node{alice, bob} {
		info, err := n.Info()
		check(t, err)
		if info.NumPeers != 2 {
			t.Errorf("%s has %d peers, want 2 (hub and the other)", n.Name(), info.NumPeers)
		}
	}
}
