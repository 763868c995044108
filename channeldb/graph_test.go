package channeldb

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

func sampleNodeAnn(b byte, ts uint32) *lnwire.NodeAnnouncement {
	var id [33]byte
	copy(id[:], samplePub(b).SerializeCompressed())
	alias, _ := lnwire.NewNodeAlias("node")
	return &lnwire.NodeAnnouncement{
		Signature: lnwire.Sig{b, 1},
		Features:  lnwire.NewRawFeatureVector(lnwire.GossipQueriesOptional),
		Timestamp: ts,
		NodeID:    id,
		RGBColor:  lnwire.RGB{1, 2, 3},
		Alias:     alias,
		Addresses: []net.Addr{&net.TCPAddr{IP: net.IPv4(10, 0, 0, b).To4(), Port: 9735}},
	}
}

func sampleGraphChannel(scid uint64) *GraphChannel {
	id := lnwire.NewShortChanIDFromInt(scid)
	var n1, n2, b1, b2 [33]byte
	copy(n1[:], samplePub(1).SerializeCompressed())
	copy(n2[:], samplePub(2).SerializeCompressed())
	copy(b1[:], samplePub(3).SerializeCompressed())
	copy(b2[:], samplePub(4).SerializeCompressed())
	if bytes.Compare(n1[:], n2[:]) > 0 {
		n1, n2 = n2, n1
	}
	return &GraphChannel{
		ID:        id,
		ChanPoint: sampleOutpoint(byte(scid)),
		Capacity:  1_000_000,
		Node1:     n1,
		Node2:     n2,
		Announcement: &lnwire.ChannelAnnouncement{
			NodeSig1: lnwire.Sig{1}, NodeSig2: lnwire.Sig{2},
			BitcoinSig1: lnwire.Sig{3}, BitcoinSig2: lnwire.Sig{4},
			Features:       lnwire.NewRawFeatureVector(),
			ChainHash:      chainhash.Hash{6},
			ShortChannelID: id,
			NodeID1:        n1, NodeID2: n2, BitcoinKey1: b1, BitcoinKey2: b2,
		},
	}
}

func sampleUpdate(scid uint64, dir int, ts uint32) *lnwire.ChannelUpdate {
	return &lnwire.ChannelUpdate{
		Signature:       lnwire.Sig{9},
		ChainHash:       chainhash.Hash{6},
		ShortChannelID:  lnwire.NewShortChanIDFromInt(scid),
		Timestamp:       ts,
		MessageFlags:    lnwire.MsgFlagMustBeOne,
		ChannelFlags:    lnwire.ChanUpdateChanFlags(dir),
		TimeLockDelta:   80,
		HtlcMinimumMsat: 1000,
		BaseFee:         1000,
		FeeRate:         1,
		HtlcMaximumMsat: 990_000_000,
	}
}

func serial(t *testing.T, m lnwire.Message) []byte {
	t.Helper()
	b, err := lnwire.Serialize(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGraphStoreRestart writes a node, a channel with both policies, a
// zombie mark and the prune tip, closes the file, reopens it and reads
// every record back byte for byte.
func TestGraphStoreRestart(t *testing.T) {
	db, reopen := openTestDB(t)
	node := sampleNodeAnn(1, 100)
	ch := sampleGraphChannel(800_000<<40 | 5<<16 | 1)
	ups := [2]*lnwire.ChannelUpdate{sampleUpdate(ch.ID.ToUint64(), 0, 200), sampleUpdate(ch.ID.ToUint64(), 1, 201)}
	tip := PruneTip{Height: 800_010, Hash: chainhash.Hash{7}}
	update(t, db, func(tx kvdb.RwTx) error {
		if err := PutGraphNode(tx, node); err != nil {
			return err
		}
		if err := PutGraphChannel(tx, ch); err != nil {
			return err
		}
		for _, u := range ups {
			if err := PutChannelUpdate(tx, u); err != nil {
				return err
			}
		}
		if err := MarkZombie(tx, ch.ID, time.Unix(1_700_000_000, 0)); err != nil {
			return err
		}
		return PutPruneTip(tx, tip)
	})
	db.Close()
	db, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	view(t, db, func(tx kvdb.RTx) error {
		n, err := FetchGraphNode(tx, node.NodeID)
		if err != nil {
			return err
		}
		if !bytes.Equal(serial(t, n.Announcement), serial(t, node)) {
			t.Error("node announcement changed")
		}
		var seen int
		err = ForEachGraphChannel(tx, func(c *GraphChannel, got [2]*lnwire.ChannelUpdate) error {
			seen++
			if c.ChanPoint != ch.ChanPoint || c.Capacity != ch.Capacity || c.Node1 != ch.Node1 {
				t.Errorf("channel %+v, want %+v", c, ch)
			}
			if !bytes.Equal(serial(t, c.Announcement), serial(t, ch.Announcement)) {
				t.Error("channel announcement changed")
			}
			for d := range 2 {
				if got[d] == nil || !bytes.Equal(serial(t, got[d]), serial(t, ups[d])) {
					t.Errorf("direction %d: update changed", d)
				}
			}
			return nil
		})
		if err != nil || seen != 1 {
			t.Fatalf("%d channels, err %v", seen, err)
		}
		if id, ok := GraphChannelByPoint(tx, ch.ChanPoint); !ok || id != ch.ID {
			t.Errorf("by point: %v %v", id, ok)
		}
		if at, ok, err := ZombieSince(tx, ch.ID); err != nil || !ok || at.Unix() != 1_700_000_000 {
			t.Errorf("zombie: %v %v %v", at, ok, err)
		}
		if got, ok, err := FetchPruneTip(tx); err != nil || !ok || got != tip {
			t.Errorf("prune tip %+v %v %v", got, ok, err)
		}
		return nil
	})

	// Deleting the channel takes its policies, index entry and zombie
	// mark with it.
	update(t, db, func(tx kvdb.RwTx) error { return DeleteGraphChannel(tx, ch.ID) })
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchGraphChannel(tx, ch.ID); !errors.Is(err, ErrGraphChannelNotFound) {
			t.Errorf("deleted channel: %v", err)
		}
		if ups, _ := FetchChannelUpdates(tx, ch.ID); ups[0] != nil || ups[1] != nil {
			t.Error("policies left behind")
		}
		if _, ok := GraphChannelByPoint(tx, ch.ChanPoint); ok {
			t.Error("index entry left behind")
		}
		if _, ok, _ := ZombieSince(tx, ch.ID); ok {
			t.Error("zombie mark left behind")
		}
		return nil
	})
}

// TestGraphStoreRefuses covers updates for unknown channels, a channel
// point taken by another channel, and our own channel gaining its
// announcement later.
func TestGraphStoreRefuses(t *testing.T) {
	db, _ := openTestDB(t)
	a := sampleGraphChannel(1 << 40)
	err := db.Update(func(tx kvdb.RwTx) error { return PutChannelUpdate(tx, sampleUpdate(1<<40, 0, 1)) })
	if !errors.Is(err, ErrGraphChannelNotFound) {
		t.Errorf("update of unknown channel: %v", err)
	}
	own := *a
	own.Announcement = nil
	update(t, db, func(tx kvdb.RwTx) error { return PutGraphChannel(tx, &own) })
	view(t, db, func(tx kvdb.RTx) error {
		c, err := FetchGraphChannel(tx, a.ID)
		if err != nil || c.Announcement != nil {
			t.Errorf("private channel: %+v %v", c, err)
		}
		return nil
	})
	update(t, db, func(tx kvdb.RwTx) error { return PutGraphChannel(tx, a) })
	b := sampleGraphChannel(2 << 40)
	b.ChanPoint = a.ChanPoint
	err = db.Update(func(tx kvdb.RwTx) error { return PutGraphChannel(tx, b) })
	if !errors.Is(err, ErrIndexConflict) {
		t.Errorf("shared channel point: %v", err)
	}
	mismatched := sampleGraphChannel(3 << 40)
	mismatched.Announcement.ShortChannelID = lnwire.NewShortChanIDFromInt(4 << 40)
	if err := db.Update(func(tx kvdb.RwTx) error { return PutGraphChannel(tx, mismatched) }); err == nil {
		t.Error("announcement of another channel accepted")
	}
}

func TestGraphChannelRange(t *testing.T) {
	db, _ := openTestDB(t)
	heights := []uint64{99, 100, 150, 200, 201}
	update(t, db, func(tx kvdb.RwTx) error {
		for i, h := range heights {
			c := sampleGraphChannel(h<<40 | uint64(i)<<16)
			c.ChanPoint.Index = uint32(i)
			if err := PutGraphChannel(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	var got []uint32
	view(t, db, func(tx kvdb.RTx) error {
		return ForEachGraphChannelInRange(tx, 100, 200, func(c *GraphChannel, _ [2]*lnwire.ChannelUpdate) error {
			got = append(got, c.ID.BlockHeight)
			return nil
		})
	})
	if len(got) != 3 || got[0] != 100 || got[2] != 200 {
		t.Errorf("blocks %v, want [100 150 200]", got)
	}
}
