package rpc

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/netparams"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
)

// selfInfo is NodeInfo for a node with key key.
type selfInfo struct{ key *btcec.PublicKey }

func (s selfInfo) NodeInfo(context.Context) (*Info, error) {
	return &Info{IdentityKey: s.key}, nil
}
func (s selfInfo) IdentityKey(context.Context) (*btcec.PublicKey, error) { return s.key, nil }

// listChannels is Channels answering List with a fixed list.
type listChannels struct{ chans []ChannelInfo }

func (c listChannels) Open(context.Context, *OpenChannelParams) (<-chan OpenEvent, [32]byte, error) {
	return nil, [32]byte{}, nil
}
func (c listChannels) Pending(context.Context) ([]PendingChannel, error) { return nil, nil }
func (c listChannels) List(context.Context) ([]ChannelInfo, error)       { return c.chans, nil }

// aliasGraph is a real graph of our node with two channels: to bob, who
// announced himself, and to carol, who did not.
type aliasGraph struct {
	db               *channeldb.DB
	g                *routing.ChannelGraph
	self, bob, carol *btcec.PublicKey
	toBob, toCarol   lnwire.ShortChannelID
}

func newAliasGraph(t *testing.T) *aliasGraph {
	t.Helper()
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	g, err := routing.OpenChannelGraph(db)
	if err != nil {
		t.Fatal(err)
	}
	key := func() *btcec.PublicKey {
		k, _ := btcec.NewPrivateKey()
		return k.PubKey()
	}
	a := &aliasGraph{db: db, g: g, self: key(), bob: key(), carol: key(),
		toBob: lnwire.NewShortChanIDFromInt(100 << 40), toCarol: lnwire.NewShortChanIDFromInt(101 << 40)}
	for i, c := range []struct {
		id   lnwire.ShortChannelID
		peer *btcec.PublicKey
	}{{a.toBob, a.bob}, {a.toCarol, a.carol}} {
		n1, n2 := [33]byte(a.self.SerializeCompressed()), [33]byte(c.peer.SerializeCompressed())
		if bytes.Compare(n1[:], n2[:]) > 0 {
			n1, n2 = n2, n1
		}
		if err := g.AddChannel(&channeldb.GraphChannel{ID: c.id, Capacity: 1_000_000,
			ChanPoint: wire.OutPoint{Hash: chainhash.Hash{byte(i + 1)}},
			Node1:     n1, Node2: n2}); err != nil {
			t.Fatal(err)
		}
	}
	alias, _ := lnwire.NewNodeAlias("bob")
	if err := g.AddNode(&lnwire.NodeAnnouncement{Features: lnwire.NewRawFeatureVector(),
		Timestamp: 1_700_000_001, NodeID: [33]byte(a.bob.SerializeCompressed()),
		Alias: alias}); err != nil {
		t.Fatal(err)
	}
	return a
}

func apiService(t *testing.T, b *Backend) *lightningService {
	t.Helper()
	network, err := netparams.ByName("regtest")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Network: network, TLSCertPath: "x", TLSKeyPath: "y",
		RPCListen: []string{"127.0.0.1:0"}, NoMacaroons: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.backend.Store(b)
	return &lightningService{s: srv}
}

// TestListChannelsHTLCs: pending_htlcs carry each HTLC of our commitment
// as lnd fills them, unsettled_balance sums their whole satoshis, and
// lifetime and uptime are in seconds.
func TestListChannelsHTLCs(t *testing.T) {
	a := newAliasGraph(t)
	hash := [32]byte{9, 9}
	ch := ChannelInfo{RemotePubKey: a.bob, ChanID: a.toBob.ToUint64(),
		Lifetime: 90*time.Second + 500*time.Millisecond, Uptime: 60 * time.Second,
		PendingHTLCs: []CommitHTLC{
			{Incoming: true, AmountMsat: 10_999, Hash: hash, Expiry: 500, Index: 3,
				ForwardChan: 77, ForwardIndex: 4, LockedIn: true},
			{AmountMsat: 20_000, Hash: hash, Expiry: 510, Index: 8},
		}}
	l := apiService(t, &Backend{Channels: listChannels{[]ChannelInfo{ch}}, Graph: a.g})
	resp, err := l.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{})
	if err != nil || len(resp.Channels) != 1 {
		t.Fatalf("%v %v", resp, err)
	}
	c := resp.Channels[0]
	if c.UnsettledBalance != 30 || c.Lifetime != 90 || c.Uptime != 60 || c.PeerAlias != "" {
		t.Errorf("unsettled %d lifetime %d uptime %d alias %q", c.UnsettledBalance,
			c.Lifetime, c.Uptime, c.PeerAlias)
	}
	want := []*lnrpc.HTLC{
		{Incoming: true, Amount: 10, HashLock: hash[:], ExpirationHeight: 500, HtlcIndex: 3,
			ForwardingChannel: 77, ForwardingHtlcIndex: 4, LockedIn: true},
		{Amount: 20, HashLock: hash[:], ExpirationHeight: 510, HtlcIndex: 8},
	}
	if len(c.PendingHtlcs) != len(want) {
		t.Fatalf("%d HTLCs", len(c.PendingHtlcs))
	}
	for i, w := range want {
		g := c.PendingHtlcs[i]
		if g.Incoming != w.Incoming || g.Amount != w.Amount || !bytes.Equal(g.HashLock, w.HashLock) ||
			g.ExpirationHeight != w.ExpirationHeight || g.HtlcIndex != w.HtlcIndex ||
			g.ForwardingChannel != w.ForwardingChannel ||
			g.ForwardingHtlcIndex != w.ForwardingHtlcIndex || g.LockedIn != w.LockedIn {

			t.Errorf("HTLC %d: %v, want %v", i, g, w)
		}
	}
}

// TestListChannelsPeerAlias: with peer_alias_lookup each channel names
// its peer's alias, or lnd's text for a peer that never announced itself.
func TestListChannelsPeerAlias(t *testing.T) {
	a := newAliasGraph(t)
	l := apiService(t, &Backend{Graph: a.g, Channels: listChannels{[]ChannelInfo{
		{RemotePubKey: a.bob}, {RemotePubKey: a.carol}}}})
	resp, err := l.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{PeerAliasLookup: true})
	if err != nil || len(resp.Channels) != 2 {
		t.Fatalf("%v %v", resp, err)
	}
	if got := resp.Channels[0].PeerAlias; got != "bob" {
		t.Errorf("bob: %q", got)
	}
	if got := resp.Channels[1].PeerAlias; got != "unable to lookup peer alias: alias for node not found" {
		t.Errorf("carol: %q", got)
	}
}

// TestForwardingHistoryPeerAlias: peer_alias_in and peer_alias_out name
// the peers of the channels from the graph as lnd does: the alias, "" for
// a peer without node announcement, lnd's error text for a channel the
// graph does not know.
func TestForwardingHistoryPeerAlias(t *testing.T) {
	a := newAliasGraph(t)
	fw := &dbForwarding{db: a.db}
	l := apiService(t, &Backend{Graph: a.g, Forwarding: fw, Info: selfInfo{a.self}})
	now := time.Now()
	unknown := lnwire.NewShortChanIDFromInt(999 << 40)
	evs := []channeldb.ForwardingEvent{
		{Timestamp: now.Add(-2 * time.Minute), IncomingChanID: a.toBob,
			OutgoingChanID: a.toCarol, AmtIn: 2000, AmtOut: 1000},
		{Timestamp: now.Add(-time.Minute), IncomingChanID: unknown,
			OutgoingChanID: unknown, AmtIn: 2000, AmtOut: 1000},
	}
	if err := a.db.Update(func(tx kvdb.RwTx) error {
		return channeldb.AddForwardingEvents(tx, evs)
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := l.ForwardingHistory(t.Context(), &lnrpc.ForwardingHistoryRequest{PeerAliasLookup: true})
	if err != nil || len(resp.ForwardingEvents) != 2 {
		t.Fatalf("%v %v", resp, err)
	}
	e := resp.ForwardingEvents
	if e[0].PeerAliasIn != "bob" || e[0].PeerAliasOut != "" {
		t.Errorf("known channels: %q %q", e[0].PeerAliasIn, e[0].PeerAliasOut)
	}
	if e[1].PeerAliasIn != "unable to lookup peer alias: edge not found" ||
		e[1].PeerAliasOut != "unable to lookup peeralias: edge not found" {

		t.Errorf("unknown channel: %q %q", e[1].PeerAliasIn, e[1].PeerAliasOut)
	}
	resp, err = l.ForwardingHistory(t.Context(), &lnrpc.ForwardingHistoryRequest{})
	if err != nil || resp.ForwardingEvents[0].PeerAliasIn != "" {
		t.Fatalf("without lookup: %v %v", resp, err)
	}
}
