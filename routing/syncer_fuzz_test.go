package routing

import (
	"context"
	"testing"
	"time"

	"lnd.xprv/lnwire"
)

// FuzzSyncerMessages hands the syncer arbitrary peer messages (parsed as
// a peer's read loop parses them) over a graph holding one real channel:
// it must never panic, whatever the queries, replies and gossip say.
func FuzzSyncerMessages(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	seedChain := newFakeChain()
	tc := fundChannel(f, seedChain, 1, 2, 1_000_000)
	opts := lnwire.QueryOptionTimestamps | lnwire.QueryOptionChecksums
	seeds := []lnwire.Message{
		tc.ann, tc.update(f, 0, uint32(now.Unix()), 1), nodeAnn(f, tc.node1, 5, "n"),
		&lnwire.QueryChannelRange{ChainHash: testChain, NumBlocks: 1 << 31, QueryOptions: &opts},
		&lnwire.QueryShortChanIDs{ChainHash: testChain, ShortChanIDs: []lnwire.ShortChannelID{tc.ann.ShortChannelID},
			QueryFlags: []uint64{31}},
		&lnwire.ReplyChannelRange{ChainHash: testChain, NumBlocks: 10, SyncComplete: 1,
			ShortChanIDs: []lnwire.ShortChannelID{{BlockHeight: 3}}},
		&lnwire.ReplyShortChanIDsEnd{ChainHash: testChain, Complete: 1},
		&lnwire.GossipTimestampRange{ChainHash: testChain, TimestampRange: 1 << 31},
	}
	for _, m := range seeds {
		b, err := lnwire.Serialize(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := lnwire.ParseMessage(data)
		if err != nil {
			return
		}
		g, _ := openTestGraph(t)
		c := newFakeChain()
		tc := fundChannel(t, c, 1, 2, 1_000_000)
		gs := NewGossiper(GossiperConfig{ChainHash: testChain, Graph: g, Chain: c,
			Now: func() time.Time { return now }})
		if err := gs.ProcessRemote(context.Background(), peerA, tc.ann); err != nil {
			t.Fatal(err)
		}
		s := NewSyncer(SyncerConfig{ChainHash: testChain, Graph: g, Gossiper: gs,
			Now:  func() time.Time { return now },
			Send: func([33]byte, ...lnwire.Message) error { return nil }})
		s.PeerOnline(peerA, true)
		s.HandleMessage(context.Background(), peerA, msg)
		s.HandleMessage(context.Background(), peerA, msg)
		s.Flush()
		s.Stop()
	})
}
