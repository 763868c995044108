package channeldb

import (
	"bytes"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// The channel graph as gossip builds it. Signed messages are kept as
// received (their wire encoding, type included) so that they can be
// served to peers unchanged; what callers read is parsed from them.

var (
	graphNodeBucket   = []byte("graph-nodes")
	graphChanBucket   = []byte("graph-channels")
	graphPolicyBucket = []byte("graph-policies")
	graphPointBucket  = []byte("graph-channels-by-point")
	graphZombieBucket = []byte("graph-zombies")
	graphMetaBucket   = []byte("graph-meta")

	pruneTipKey = []byte("prune-tip")
)

const (
	graphNodeVersion    = 1
	graphChanVersion    = 1
	graphPolicyVersion  = 1
	graphZombieVersion  = 1
	graphPruneVersion   = 1
	graphChanAnnounced  = 1 // flag: the channel_announcement is present
	maxGossipMsg        = 65535
	graphPolicyKeyLen   = 9
	graphChanRecordBase = 1 + 36 + 8 + 33 + 33 + 1
)

// GraphNode is a node of the graph: its signed node_announcement.
type GraphNode struct {
	Announcement *lnwire.NodeAnnouncement
}

// PubKey is the node's identity.
func (n *GraphNode) PubKey() [33]byte { return n.Announcement.NodeID }

// GraphChannel is a channel of the graph: where its funding output is,
// its capacity, its two nodes and, for a public channel, the signed
// channel_announcement. A channel with no announcement (one of ours not
// yet announced, or private) is kept for path finding and not served to
// peers.
type GraphChannel struct {
	ID        lnwire.ShortChannelID
	ChanPoint wire.OutPoint
	Capacity  btcutil.Amount
	Node1     [33]byte // BOLT 7 order: the lesser key
	Node2     [33]byte

	// Announcement is nil for a channel not announced.
	Announcement *lnwire.ChannelAnnouncement
}

// PruneTip is the last block whose spends the graph was pruned for.
type PruneTip struct {
	Height int32
	Hash   chainhash.Hash
}

// PutGraphNode stores a node's announcement, replacing any older one.
// Checking that it is newer is the caller's.
func PutGraphNode(tx kvdb.RwTx, ann *lnwire.NodeAnnouncement) error {
	v, err := encodeGraphNode(&GraphNode{Announcement: ann})
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(graphNodeBucket)
	if err != nil {
		return err
	}
	return b.Put(ann.NodeID[:], v)
}

// FetchGraphNode returns the node pub, or ErrGraphNodeNotFound.
func FetchGraphNode(tx kvdb.RTx, pub [33]byte) (*GraphNode, error) {
	b := tx.ReadBucket(graphNodeBucket)
	if b == nil {
		return nil, ErrGraphNodeNotFound
	}
	v := b.Get(pub[:])
	if v == nil {
		return nil, ErrGraphNodeNotFound
	}
	return DecodeGraphNode(pub[:], v)
}

// ForEachGraphNode calls fn with every node, in key order. An error from
// fn stops the walk and is returned.
func ForEachGraphNode(tx kvdb.RTx, fn func(*GraphNode) error) error {
	b := tx.ReadBucket(graphNodeBucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		n, err := DecodeGraphNode(k, v)
		if err != nil {
			return err
		}
		return fn(n)
	})
}

// DeleteGraphNode removes a node (one left with no channel).
func DeleteGraphNode(tx kvdb.RwTx, pub [33]byte) error {
	if b := tx.ReadWriteBucket(graphNodeBucket); b != nil {
		return b.Delete(pub[:])
	}
	return nil
}

func encodeGraphNode(n *GraphNode) ([]byte, error) {
	if n.Announcement == nil {
		return nil, fmt.Errorf("graph node: no announcement")
	}
	raw, err := lnwire.Serialize(n.Announcement)
	if err != nil {
		return nil, fmt.Errorf("graph node %x: %w", n.Announcement.NodeID, err)
	}
	w := recWriter{b: make([]byte, 0, 4+len(raw))}
	w.u8(graphNodeVersion)
	w.bytes(raw)
	return w.b, nil
}

// DecodeGraphNode decodes a node record stored under key (the node's
// compressed pubkey).
func DecodeGraphNode(key, v []byte) (*GraphNode, error) {
	name := fmt.Sprintf("%x", key)
	r := recReader{b: v}
	r.version(graphNodeVersion)
	raw := r.bytes(maxGossipMsg, "node_announcement")
	if err := r.done(); err != nil {
		return nil, NewRecordError("graph node", name, err)
	}
	ann, ok := parseGossip[*lnwire.NodeAnnouncement](raw)
	switch {
	case !ok:
		return nil, NewRecordError("graph node", name, fmt.Errorf("not a node_announcement"))
	case !bytes.Equal(ann.NodeID[:], key):
		return nil, NewRecordError("graph node", name, fmt.Errorf("announcement of node %x", ann.NodeID))
	}
	return &GraphNode{Announcement: ann}, nil
}

// parseGossip parses a stored wire message of type T.
func parseGossip[T lnwire.Message](raw []byte) (T, bool) {
	var zero T
	m, err := lnwire.ParseMessage(raw)
	if err != nil {
		return zero, false
	}
	t, ok := m.(T)
	return t, ok
}

// PutGraphChannel stores a channel, replacing any record of its short
// channel ID (as when our own channel gains its announcement), and
// indexes its channel point. A channel point that belongs to another
// channel gives ErrIndexConflict.
func PutGraphChannel(tx kvdb.RwTx, c *GraphChannel) error {
	v, err := encodeGraphChannel(c)
	if err != nil {
		return err
	}
	chans, err := tx.CreateTopLevelBucket(graphChanBucket)
	if err != nil {
		return err
	}
	points, err := tx.CreateTopLevelBucket(graphPointBucket)
	if err != nil {
		return err
	}
	key := u64Key(c.ID.ToUint64())
	pk := outpointKey(c.ChanPoint)
	if old := points.Get(pk); old != nil && !bytes.Equal(old, key) {
		return fmt.Errorf("channel %v point %v: %w", c.ID, c.ChanPoint, ErrIndexConflict)
	}
	if prev := chans.Get(key); prev != nil {
		old, err := decodeGraphChannel(key, prev)
		if err != nil {
			return err
		}
		if old.ChanPoint != c.ChanPoint {
			if err := points.Delete(outpointKey(old.ChanPoint)); err != nil {
				return err
			}
		}
	}
	if err := chans.Put(key, v); err != nil {
		return err
	}
	return points.Put(pk, key)
}

// FetchGraphChannel returns the channel id, or ErrGraphChannelNotFound.
func FetchGraphChannel(tx kvdb.RTx, id lnwire.ShortChannelID) (*GraphChannel, error) {
	b := tx.ReadBucket(graphChanBucket)
	if b == nil {
		return nil, ErrGraphChannelNotFound
	}
	key := u64Key(id.ToUint64())
	v := b.Get(key)
	if v == nil {
		return nil, ErrGraphChannelNotFound
	}
	return decodeGraphChannel(key, v)
}

// GraphChannelByPoint returns the short channel ID of the channel funded
// by op, and false if the graph holds none.
func GraphChannelByPoint(tx kvdb.RTx, op wire.OutPoint) (lnwire.ShortChannelID, bool) {
	b := tx.ReadBucket(graphPointBucket)
	if b == nil {
		return lnwire.ShortChannelID{}, false
	}
	v := b.Get(outpointKey(op))
	if len(v) != 8 {
		return lnwire.ShortChannelID{}, false
	}
	return lnwire.NewShortChanIDFromInt(beU64(v)), true
}

// ForEachGraphChannel calls fn with every channel, zombies included, in
// short channel ID order, with both directions' latest channel_update
// (nil where none). An error from fn stops the walk and is returned.
func ForEachGraphChannel(tx kvdb.RTx, fn func(c *GraphChannel, updates [2]*lnwire.ChannelUpdate) error) error {
	b := tx.ReadBucket(graphChanBucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		c, err := decodeGraphChannel(k, v)
		if err != nil {
			return err
		}
		ups, err := fetchUpdates(tx, c.ID)
		if err != nil {
			return err
		}
		return fn(c, ups)
	})
}

// ForEachGraphChannelInRange is ForEachGraphChannel over the channels
// funded in blocks firstBlock to lastBlock, both included.
func ForEachGraphChannelInRange(tx kvdb.RTx, firstBlock, lastBlock uint32,
	fn func(c *GraphChannel, updates [2]*lnwire.ChannelUpdate) error) error {

	b := tx.ReadBucket(graphChanBucket)
	if b == nil || firstBlock > lastBlock {
		return nil
	}
	end := uint64(lastBlock)<<40 | (1<<40 - 1)
	cur := b.ReadCursor()
	for k, v := cur.Seek(u64Key(uint64(firstBlock) << 40)); k != nil; k, v = cur.Next() {
		if len(k) != 8 || beU64(k) > end {
			break
		}
		c, err := decodeGraphChannel(k, v)
		if err != nil {
			return err
		}
		ups, err := fetchUpdates(tx, c.ID)
		if err != nil {
			return err
		}
		if err := fn(c, ups); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGraphChannel removes a channel, its policies, its channel-point
// index entry and any zombie mark. Removing an absent channel is not an
// error.
func DeleteGraphChannel(tx kvdb.RwTx, id lnwire.ShortChannelID) error {
	key := u64Key(id.ToUint64())
	chans := tx.ReadWriteBucket(graphChanBucket)
	if chans == nil {
		return nil
	}
	if v := chans.Get(key); v != nil {
		c, err := decodeGraphChannel(key, v)
		if err != nil {
			return err
		}
		if points := tx.ReadWriteBucket(graphPointBucket); points != nil {
			if err := points.Delete(outpointKey(c.ChanPoint)); err != nil {
				return err
			}
		}
		if err := chans.Delete(key); err != nil {
			return err
		}
	}
	if pols := tx.ReadWriteBucket(graphPolicyBucket); pols != nil {
		for d := byte(0); d < 2; d++ {
			if err := pols.Delete(append(bytes.Clone(key), d)); err != nil {
				return err
			}
		}
	}
	if z := tx.ReadWriteBucket(graphZombieBucket); z != nil {
		return z.Delete(key)
	}
	return nil
}

func encodeGraphChannel(c *GraphChannel) ([]byte, error) {
	if c.Capacity < 0 || c.Capacity > btcutil.MaxSatoshi {
		return nil, fmt.Errorf("graph channel %v: capacity %d", c.ID, c.Capacity)
	}
	w := recWriter{b: make([]byte, 0, graphChanRecordBase+440)}
	w.u8(graphChanVersion)
	w.outpoint(c.ChanPoint)
	w.u64(uint64(c.Capacity))
	w.raw(c.Node1[:])
	w.raw(c.Node2[:])
	if c.Announcement == nil {
		w.u8(0)
		return w.b, nil
	}
	if c.Announcement.ShortChannelID != c.ID || c.Announcement.NodeID1 != c.Node1 ||
		c.Announcement.NodeID2 != c.Node2 {
		return nil, fmt.Errorf("graph channel %v: announcement does not match", c.ID)
	}
	raw, err := lnwire.Serialize(c.Announcement)
	if err != nil {
		return nil, fmt.Errorf("graph channel %v: %w", c.ID, err)
	}
	w.u8(graphChanAnnounced)
	w.bytes(raw)
	return w.b, nil
}

// DecodeGraphChannel decodes a channel record stored under key (the
// short channel ID, 8 bytes).
func DecodeGraphChannel(key, v []byte) (*GraphChannel, error) {
	return decodeGraphChannel(key, v)
}

func decodeGraphChannel(key, v []byte) (*GraphChannel, error) {
	name := fmt.Sprintf("%x", key)
	if len(key) != 8 {
		return nil, NewRecordError("graph channel", name, fmt.Errorf("key of %d bytes", len(key)))
	}
	c := &GraphChannel{ID: lnwire.NewShortChanIDFromInt(beU64(key))}
	name = c.ID.String()
	r := recReader{b: v}
	r.version(graphChanVersion)
	c.ChanPoint = r.outpoint("channel point")
	c.Capacity = r.amount("capacity")
	copy(c.Node1[:], r.take(33, "node 1"))
	copy(c.Node2[:], r.take(33, "node 2"))
	var raw []byte
	switch f := r.u8("flags"); {
	case r.err != nil:
	case f == graphChanAnnounced:
		raw = r.bytes(maxGossipMsg, "channel_announcement")
	case f != 0:
		r.fail(fmt.Errorf("unknown flags %#x", f))
	}
	if err := r.done(); err != nil {
		return nil, NewRecordError("graph channel", name, err)
	}
	if raw != nil {
		ann, ok := parseGossip[*lnwire.ChannelAnnouncement](raw)
		switch {
		case !ok:
			return nil, NewRecordError("graph channel", name, fmt.Errorf("not a channel_announcement"))
		case ann.ShortChannelID != c.ID || ann.NodeID1 != c.Node1 || ann.NodeID2 != c.Node2:
			return nil, NewRecordError("graph channel", name, fmt.Errorf("announcement does not match the record"))
		}
		c.Announcement = ann
	}
	return c, nil
}

// PutChannelUpdate stores the latest channel_update of one direction of a
// channel the graph holds (ErrGraphChannelNotFound otherwise). Checking
// that it is newer is the caller's.
func PutChannelUpdate(tx kvdb.RwTx, u *lnwire.ChannelUpdate) error {
	chans := tx.ReadBucket(graphChanBucket)
	if chans == nil || chans.Get(u64Key(u.ShortChannelID.ToUint64())) == nil {
		return fmt.Errorf("update of %v: %w", u.ShortChannelID, ErrGraphChannelNotFound)
	}
	raw, err := lnwire.Serialize(u)
	if err != nil {
		return fmt.Errorf("update of %v: %w", u.ShortChannelID, err)
	}
	w := recWriter{b: make([]byte, 0, 4+len(raw))}
	w.u8(graphPolicyVersion)
	w.bytes(raw)
	b, err := tx.CreateTopLevelBucket(graphPolicyBucket)
	if err != nil {
		return err
	}
	return b.Put(policyKey(u.ShortChannelID, u.Direction()), w.b)
}

// FetchChannelUpdates returns the latest channel_update of each
// direction of a channel, nil where none is stored.
func FetchChannelUpdates(tx kvdb.RTx, id lnwire.ShortChannelID) ([2]*lnwire.ChannelUpdate, error) {
	return fetchUpdates(tx, id)
}

func fetchUpdates(tx kvdb.RTx, id lnwire.ShortChannelID) ([2]*lnwire.ChannelUpdate, error) {
	var ups [2]*lnwire.ChannelUpdate
	b := tx.ReadBucket(graphPolicyBucket)
	if b == nil {
		return ups, nil
	}
	for d := range 2 {
		k := policyKey(id, d)
		if v := b.Get(k); v != nil {
			u, err := DecodeChannelUpdate(k, v)
			if err != nil {
				return ups, err
			}
			ups[d] = u
		}
	}
	return ups, nil
}

func policyKey(id lnwire.ShortChannelID, dir int) []byte {
	return append(u64Key(id.ToUint64()), byte(dir))
}

// DecodeChannelUpdate decodes a policy record stored under key (short
// channel ID, direction).
func DecodeChannelUpdate(key, v []byte) (*lnwire.ChannelUpdate, error) {
	name := fmt.Sprintf("%x", key)
	if len(key) == graphPolicyKeyLen {
		name = fmt.Sprintf("%v/%d", lnwire.NewShortChanIDFromInt(beU64(key)), key[8])
	}
	r := recReader{b: v}
	r.version(graphPolicyVersion)
	raw := r.bytes(maxGossipMsg, "channel_update")
	if err := r.done(); err != nil {
		return nil, NewRecordError("channel policy", name, err)
	}
	u, ok := parseGossip[*lnwire.ChannelUpdate](raw)
	switch {
	case len(key) != graphPolicyKeyLen:
		return nil, NewRecordError("channel policy", name, fmt.Errorf("key of %d bytes", len(key)))
	case !ok:
		return nil, NewRecordError("channel policy", name, fmt.Errorf("not a channel_update"))
	case u.ShortChannelID.ToUint64() != beU64(key) || u.Direction() != int(key[8]):
		return nil, NewRecordError("channel policy", name, fmt.Errorf("update of %v direction %d",
			u.ShortChannelID, u.Direction()))
	}
	return u, nil
}

// MarkZombie marks a channel a zombie (no fresh update for too long) as
// of at. Its records stay, so that a fresh update can resurrect it.
func MarkZombie(tx kvdb.RwTx, id lnwire.ShortChannelID, at time.Time) error {
	b, err := tx.CreateTopLevelBucket(graphZombieBucket)
	if err != nil {
		return err
	}
	w := recWriter{}
	w.u8(graphZombieVersion)
	w.u64(uint64(at.Unix()))
	return b.Put(u64Key(id.ToUint64()), w.b)
}

// ZombieSince reports whether a channel is a zombie and since when.
func ZombieSince(tx kvdb.RTx, id lnwire.ShortChannelID) (time.Time, bool, error) {
	b := tx.ReadBucket(graphZombieBucket)
	if b == nil {
		return time.Time{}, false, nil
	}
	key := u64Key(id.ToUint64())
	v := b.Get(key)
	if v == nil {
		return time.Time{}, false, nil
	}
	at, err := DecodeZombie(key, v)
	return at, err == nil, err
}

// DecodeZombie decodes a zombie record: when the channel was marked.
func DecodeZombie(key, v []byte) (time.Time, error) {
	r := recReader{b: v}
	r.version(graphZombieVersion)
	at := r.u64("marked at")
	if err := r.finish("zombie", fmt.Sprintf("%x", key)); err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(at), 0), nil
}

// CountZombies counts the channels marked zombies.
func CountZombies(tx kvdb.RTx) (int, error) {
	b := tx.ReadBucket(graphZombieBucket)
	if b == nil {
		return 0, nil
	}
	n := 0
	err := b.ForEach(func(_, _ []byte) error {
		n++
		return nil
	})
	return n, err
}

// UnmarkZombie resurrects a channel.
func UnmarkZombie(tx kvdb.RwTx, id lnwire.ShortChannelID) error {
	if b := tx.ReadWriteBucket(graphZombieBucket); b != nil {
		return b.Delete(u64Key(id.ToUint64()))
	}
	return nil
}

// PutPruneTip records the last block the graph was pruned for.
func PutPruneTip(tx kvdb.RwTx, tip PruneTip) error {
	b, err := tx.CreateTopLevelBucket(graphMetaBucket)
	if err != nil {
		return err
	}
	w := recWriter{}
	w.u8(graphPruneVersion)
	w.u32(uint32(tip.Height))
	w.raw(tip.Hash[:])
	return b.Put(pruneTipKey, w.b)
}

// FetchPruneTip returns the last block the graph was pruned for, and
// false before the first.
func FetchPruneTip(tx kvdb.RTx) (PruneTip, bool, error) {
	b := tx.ReadBucket(graphMetaBucket)
	if b == nil {
		return PruneTip{}, false, nil
	}
	v := b.Get(pruneTipKey)
	if v == nil {
		return PruneTip{}, false, nil
	}
	tip, err := DecodePruneTip(v)
	return tip, err == nil, err
}

// DecodePruneTip decodes the prune-tip record.
func DecodePruneTip(v []byte) (PruneTip, error) {
	r := recReader{b: v}
	r.version(graphPruneVersion)
	h := r.u32("height")
	tip := PruneTip{Height: int32(h), Hash: r.hash("block hash")}
	if r.err == nil && h > 1<<31-1 {
		r.fail(fmt.Errorf("height %d", h))
	}
	if err := r.finish("prune tip", string(pruneTipKey)); err != nil {
		return PruneTip{}, err
	}
	return tip, nil
}

func beU64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}
