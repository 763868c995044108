package routing

import (
	"context"
	"errors"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// TestGossipAliasUpdate: the peer's channel_update of our private
// channel under an SCID alias we gave it is kept as the channel's policy
// in its direction (stored under the real scid), with the checks of any
// update: signature of that direction's node, freshness; an alias we
// never gave is an orphan, and the update is not relayed.
func TestGossipAliasUpdate(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := uint32(now.Unix())
	g, _ := openTestGraph(t)
	c := newFakeChain()
	tc := fundChannel(t, c, 1, 2, 1_000_000)
	base := tc.ann.ShortChannelID
	alias := lnwire.NewShortChanIDFromInt(16_000_000<<40 | 5)
	gs := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c,
		Now: func() time.Time { return now },
		AliasBase: func(a lnwire.ShortChannelID) (lnwire.ShortChannelID, bool) {
			return base, a == alias
		}})
	// Our private channel: in the graph, unannounced.
	if err := g.AddChannel(&channeldb.GraphChannel{ID: base, ChanPoint: tc.chanPoint(),
		Capacity: 1_000_000, Node1: tc.ann.NodeID1, Node2: tc.ann.NodeID2}); err != nil {
		t.Fatal(err)
	}
	process := func(u *lnwire.ChannelUpdate) error {
		return gs.ProcessRemote(context.Background(), peerA, u)
	}
	aliased := func(dir int, ts, fee uint32) *lnwire.ChannelUpdate {
		u := tc.update(t, dir, ts, fee)
		u.ShortChannelID = alias
		u.MessageFlags |= lnwire.MsgFlagDontForward
		resign(t, u, tc.node2)
		if dir == 0 {
			resign(t, u, tc.node1)
		}
		return u
	}
	u := aliased(1, ts, 1234)
	if err := process(u); err != nil {
		t.Fatal(err)
	}
	_, ups, _, err := g.Channel(base)
	if err != nil || ups[1] == nil || ups[1].BaseFee != 1234 || ups[1].ShortChannelID != base {
		t.Fatalf("stored: %+v %v", ups[1], err)
	}
	_, pols, err := g.Cache().Channel(base)
	if err != nil || pols[1] == nil || pols[1].FeeBaseMsat != 1234 {
		t.Fatalf("cached policy %+v %v", pols[1], err)
	}
	s := NewSyncer(SyncerConfig{ChainHash: testChain, Graph: g, Gossiper: gs})
	if s.relayable(u) {
		t.Error("an alias update would be relayed")
	}

	if err := process(aliased(1, ts, 999)); !errors.Is(err, ErrStale) {
		t.Errorf("same timestamp: %v", err)
	}
	forged := aliased(1, ts+10, 5)
	resign(t, forged, tc.node1)
	if err := process(forged); !errors.Is(err, ErrBadGossip) {
		t.Errorf("signed by the other node: %v", err)
	}
	if err := process(aliased(1, ts+20, 4321)); err != nil {
		t.Fatal(err)
	}
	if _, ups, _, _ = g.Channel(base); ups[1].BaseFee != 4321 {
		t.Errorf("newer update not kept: %+v", ups[1])
	}
	other := aliased(1, ts+30, 1)
	other.ShortChannelID = lnwire.NewShortChanIDFromInt(16_000_000<<40 | 6)
	resign(t, other, tc.node2)
	if err := process(other); !errors.Is(err, ErrOrphan) {
		t.Errorf("unknown alias: %v", err)
	}
}
