package routing

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// ChannelGraph is the channel graph on disk (channeldb) with the cache
// that path finding reads (Graph), kept in step: every change is written
// to the store first, then applied to the cache, under one lock, so the
// cache never holds what a restart would lose. Zombie channels stay in
// the store and out of the cache.
type ChannelGraph struct {
	db    *channeldb.DB
	cache *Graph

	mu   sync.Mutex // orders writers: store, then cache
	subs *graphSubs
}

// OpenChannelGraph fills a cache from the graph stored in db.
func OpenChannelGraph(db *channeldb.DB) (*ChannelGraph, error) {
	g := &ChannelGraph{db: db, cache: NewGraph(), subs: newGraphSubs()}
	err := db.View(func(tx kvdb.RTx) error {
		if err := channeldb.ForEachGraphNode(tx, func(n *channeldb.GraphNode) error {
			g.cache.AddNode(Vertex(n.PubKey()))
			return nil
		}); err != nil {
			return err
		}
		return channeldb.ForEachGraphChannel(tx, func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
			if _, zombie, err := channeldb.ZombieSince(tx, c.ID); err != nil || zombie {
				return err
			}
			return g.cacheChannel(c, ups)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load channel graph: %w", err)
	}
	return g, nil
}

// Cache is the graph as path finding reads it.
func (g *ChannelGraph) Cache() *Graph { return g.cache }

func (g *ChannelGraph) cacheChannel(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
	err := g.cache.AddChannel(ChannelInfo{ID: c.ID, Node1: c.Node1, Node2: c.Node2, Capacity: c.Capacity})
	if err != nil {
		return err
	}
	for d, u := range ups {
		if u != nil {
			if err := g.cache.UpdatePolicy(c.ID, d, PolicyFromUpdate(u)); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddChannel stores a channel and adds it to the cache. This is how a
// channel of our own enters the graph too: with Announcement nil until it
// is announced, then again with it (the record is replaced; the cache
// keeps its policies).
func (g *ChannelGraph) AddChannel(c *channeldb.GraphChannel) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var existed bool
	err := g.db.Update(func(tx kvdb.RwTx) error {
		_, err := channeldb.FetchGraphChannel(tx, c.ID)
		existed = err == nil
		return channeldb.PutGraphChannel(tx, c)
	})
	if err != nil {
		return err
	}
	if !existed {
		if err := g.cacheChannel(c, [2]*lnwire.ChannelUpdate{}); err != nil && !errors.Is(err, ErrChannelExists) {
			return err
		}
		g.subs.notify(GraphUpdate{Channel: c})
	}
	return nil
}

// UpdatePolicy stores a channel_update and applies it to the cache. A
// zombie channel is resurrected by it: unmarked and put back into the
// cache with both directions' policies.
func (g *ChannelGraph) UpdatePolicy(u *lnwire.ChannelUpdate) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var (
		resurrect *channeldb.GraphChannel
		ups       [2]*lnwire.ChannelUpdate
	)
	err := g.db.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutChannelUpdate(tx, u); err != nil {
			return err
		}
		_, zombie, err := channeldb.ZombieSince(tx, u.ShortChannelID)
		if err != nil || !zombie {
			return err
		}
		if err := channeldb.UnmarkZombie(tx, u.ShortChannelID); err != nil {
			return err
		}
		if resurrect, err = channeldb.FetchGraphChannel(tx, u.ShortChannelID); err != nil {
			return err
		}
		ups, err = channeldb.FetchChannelUpdates(tx, u.ShortChannelID)
		return err
	})
	if err != nil {
		return err
	}
	if resurrect != nil {
		if err := g.cacheChannel(resurrect, ups); err != nil {
			return err
		}
	} else if err := g.cache.UpdatePolicy(u.ShortChannelID, u.Direction(), PolicyFromUpdate(u)); err != nil {
		return err
	}
	g.subs.notify(GraphUpdate{Update: u})
	return nil
}

// AddNode stores a node_announcement and makes the node known to the
// cache.
func (g *ChannelGraph) AddNode(ann *lnwire.NodeAnnouncement) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.db.Update(func(tx kvdb.RwTx) error { return channeldb.PutGraphNode(tx, ann) }); err != nil {
		return err
	}
	g.cache.AddNode(Vertex(ann.NodeID))
	g.subs.notify(GraphUpdate{Node: ann})
	return nil
}

// RemoveChannels deletes channels (closed on chain) from the store and
// the cache, and records tip as the last block pruned for when it is not
// nil. Unknown channels are skipped.
func (g *ChannelGraph) RemoveChannels(ids []lnwire.ShortChannelID, tip *channeldb.PruneTip) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var closed []ClosedChannel
	err := g.db.Update(func(tx kvdb.RwTx) error {
		closed = closed[:0]
		for _, id := range ids {
			c, err := channeldb.FetchGraphChannel(tx, id)
			if errors.Is(err, channeldb.ErrGraphChannelNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			cc := ClosedChannel{ID: id, ChanPoint: c.ChanPoint, Capacity: c.Capacity}
			if tip != nil {
				cc.Height = tip.Height
			}
			closed = append(closed, cc)
			if err := channeldb.DeleteGraphChannel(tx, id); err != nil {
				return err
			}
		}
		if tip != nil {
			return channeldb.PutPruneTip(tx, *tip)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range closed {
		if err := g.cache.RemoveChannel(closed[i].ID); err != nil && !errors.Is(err, ErrUnknownChannel) {
			return err
		}
		g.subs.notify(GraphUpdate{Closed: &closed[i]})
	}
	return nil
}

// ClosedChannel is a channel removed from the graph because its funding
// output was spent at Height.
type ClosedChannel struct {
	ID        lnwire.ShortChannelID
	ChanPoint wire.OutPoint
	Capacity  btcutil.Amount
	Height    int32
}

// NumZombies counts the zombie channels.
func (g *ChannelGraph) NumZombies() (int, error) {
	var n int
	err := g.db.View(func(tx kvdb.RTx) (err error) {
		n, err = channeldb.CountZombies(tx)
		return err
	})
	return n, err
}

// MarkZombies marks channels as zombies: kept on disk, gone from the
// cache until a fresh update resurrects them.
func (g *ChannelGraph) MarkZombies(ids []lnwire.ShortChannelID, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.db.Update(func(tx kvdb.RwTx) error {
		for _, id := range ids {
			if err := channeldb.MarkZombie(tx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := g.cache.RemoveChannel(id); err != nil && !errors.Is(err, ErrUnknownChannel) {
			return err
		}
	}
	return nil
}

// Channel returns a channel with its latest updates, and whether it is a
// zombie; channeldb.ErrGraphChannelNotFound if the graph never had it or
// it was closed.
func (g *ChannelGraph) Channel(id lnwire.ShortChannelID) (*channeldb.GraphChannel,
	[2]*lnwire.ChannelUpdate, bool, error) {

	var (
		c      *channeldb.GraphChannel
		ups    [2]*lnwire.ChannelUpdate
		zombie bool
	)
	err := g.db.View(func(tx kvdb.RTx) error {
		var err error
		if c, err = channeldb.FetchGraphChannel(tx, id); err != nil {
			return err
		}
		if _, zombie, err = channeldb.ZombieSince(tx, id); err != nil {
			return err
		}
		ups, err = channeldb.FetchChannelUpdates(tx, id)
		return err
	})
	return c, ups, zombie, err
}

// ChannelByPoint returns the channel funded by op, and false if none.
func (g *ChannelGraph) ChannelByPoint(op wire.OutPoint) (lnwire.ShortChannelID, bool) {
	var (
		id lnwire.ShortChannelID
		ok bool
	)
	_ = g.db.View(func(tx kvdb.RTx) error {
		id, ok = channeldb.GraphChannelByPoint(tx, op)
		return nil
	})
	return id, ok
}

// Node returns a node's announcement, or channeldb.ErrGraphNodeNotFound.
func (g *ChannelGraph) Node(pub [33]byte) (*lnwire.NodeAnnouncement, error) {
	var ann *lnwire.NodeAnnouncement
	err := g.db.View(func(tx kvdb.RTx) error {
		n, err := channeldb.FetchGraphNode(tx, pub)
		if err == nil {
			ann = n.Announcement
		}
		return err
	})
	return ann, err
}

// ForEachNode calls fn with every node's announcement.
func (g *ChannelGraph) ForEachNode(fn func(*lnwire.NodeAnnouncement) error) error {
	return g.db.View(func(tx kvdb.RTx) error {
		return channeldb.ForEachGraphNode(tx, func(n *channeldb.GraphNode) error {
			return fn(n.Announcement)
		})
	})
}

// ForEachChannel calls fn with every live channel (zombies left out)
// funded in blocks first to last, with its latest updates.
func (g *ChannelGraph) ForEachChannel(first, last uint32,
	fn func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error) error {

	return g.db.View(func(tx kvdb.RTx) error {
		return channeldb.ForEachGraphChannelInRange(tx, first, last,
			func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
				if _, zombie, err := channeldb.ZombieSince(tx, c.ID); err != nil || zombie {
					return err
				}
				return fn(c, ups)
			})
	})
}

// GraphUpdate is one change of the graph, for SubscribeChannelGraph:
// exactly one field is set.
type GraphUpdate struct {
	Node    *lnwire.NodeAnnouncement
	Channel *channeldb.GraphChannel
	Update  *lnwire.ChannelUpdate
	Closed  *ClosedChannel
}

// GraphSubscription streams graph changes until Cancel.
type GraphSubscription struct {
	Updates <-chan GraphUpdate
	Cancel  func()
}

// Subscribe streams every change of the graph from now on. A subscriber
// that falls more than a few thousand changes behind loses the oldest.
func (g *ChannelGraph) Subscribe() *GraphSubscription {
	return g.subs.add()
}

// graphSubs fans graph changes out to subscribers without ever blocking
// a writer.
type graphSubs struct {
	mu   sync.Mutex
	next uint64
	subs map[uint64]chan GraphUpdate
}

const graphSubQueue = 4096

func newGraphSubs() *graphSubs {
	return &graphSubs{subs: make(map[uint64]chan GraphUpdate)}
}

func (s *graphSubs) add() *GraphSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next
	s.next++
	ch := make(chan GraphUpdate, graphSubQueue)
	s.subs[id] = ch
	var once sync.Once
	return &GraphSubscription{Updates: ch, Cancel: func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, id)
			s.mu.Unlock()
			close(ch)
		})
	}}
}

func (s *graphSubs) notify(u GraphUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs {
		select {
		case ch <- u:
		default:
			// Drop the oldest to make room: a slow subscriber
			// must not stall gossip.
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- u:
			default:
			}
		}
	}
}
