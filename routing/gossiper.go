package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// Defaults of GossiperConfig.
const (
	// DefaultZombieAge is how long a channel may go without an update
	// before it is a zombie: two weeks, as BOLT 7 and lnd say.
	DefaultZombieAge = 14 * 24 * time.Hour

	// DefaultPeerRate and DefaultPeerBurst bound the gossip messages a
	// peer may send: enough for the initial sync of a mainnet graph
	// (about 150,000 messages) in a few minutes, not for a flood.
	DefaultPeerRate  = 500.0
	DefaultPeerBurst = 20_000

	// DefaultUpdateInterval and DefaultUpdateBurst bound the updates
	// of one channel direction, whoever relays them: lnd's
	// --gossip.channel-update-interval (1 minute) and
	// --gossip.max-channel-update-burst (10).
	DefaultUpdateInterval = time.Minute
	DefaultUpdateBurst    = 10

	// maxEarlyUpdates bounds the channel_updates held for channels not
	// yet known (see Gossiper.early): a peer's update of a channel we
	// are opening with it can come before our own side has put the
	// channel in the graph.
	maxEarlyUpdates = 256
)

// GossiperConfig is what a Gossiper is built from.
type GossiperConfig struct {
	ChainHash chainhash.Hash
	Graph     *ChannelGraph
	Chain     ChainView

	// MinConf is the depth a funding transaction needs before its
	// channel is accepted (default 1: in a block).
	MinConf int32

	// ZombieAge: see DefaultZombieAge.
	ZombieAge time.Duration

	// PeerRate (messages a second) and PeerBurst rate-limit each peer.
	PeerRate  float64
	PeerBurst int

	// UpdateInterval and UpdateBurst rate-limit each channel direction.
	UpdateInterval time.Duration
	UpdateBurst    int

	// AliasBase finds the channel of ours an SCID alias names (one we
	// gave the peer, option_scid_alias), so that the peer's
	// channel_update of a private channel under that alias is kept as
	// the channel's policy; nil knows none.
	AliasBase func(alias lnwire.ShortChannelID) (lnwire.ShortChannelID, bool)

	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Gossiper validates the gossip peers send and applies what is good to
// the channel graph: signatures, the funding output on chain, freshness,
// sane policies. It counts bad gossip per peer and rate-limits peers that
// flood. It also prunes the graph: channels whose funding output is spent
// (PruneBlock) and zombies (PruneZombies).
type Gossiper struct {
	cfg GossiperConfig
	log *slog.Logger

	// process serialises validation, so that two peers relaying one
	// announcement check the chain once.
	process sync.Mutex

	mu    sync.Mutex
	peers map[[33]byte]*peerGossipStats

	// directions rate-limits updates per channel direction (short
	// channel ID << 1 | direction); guarded by process.
	directions map[uint64]*tokenBucket

	// early holds channel_updates of channels the graph does not know
	// yet, the newest of each direction, oldest channel first out past
	// maxEarlyUpdates, until ChannelAdded or the channel's announcement
	// applies them; guarded by process. A peer sends its update of a
	// new private channel right after channel_ready, which can beat our
	// own side's adding the channel to the graph (lnd keeps such
	// "premature" updates too).
	early      map[lnwire.ShortChannelID]*[2]*lnwire.ChannelUpdate
	earlyOrder []lnwire.ShortChannelID

	blocks blockCache
}

type peerGossipStats struct {
	bad     uint64
	limited uint64
	bucket  tokenBucket
}

// NewGossiper returns a gossiper over cfg.Graph.
func NewGossiper(cfg GossiperConfig) *Gossiper {
	if cfg.MinConf <= 0 {
		cfg.MinConf = 1
	}
	if cfg.ZombieAge <= 0 {
		cfg.ZombieAge = DefaultZombieAge
	}
	if cfg.PeerRate <= 0 {
		cfg.PeerRate = DefaultPeerRate
	}
	if cfg.PeerBurst <= 0 {
		cfg.PeerBurst = DefaultPeerBurst
	}
	if cfg.UpdateInterval <= 0 {
		cfg.UpdateInterval = DefaultUpdateInterval
	}
	if cfg.UpdateBurst <= 0 {
		cfg.UpdateBurst = DefaultUpdateBurst
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Gossiper{cfg: cfg, log: cfg.Log, peers: make(map[[33]byte]*peerGossipStats),
		directions: make(map[uint64]*tokenBucket), blocks: blockCache{view: cfg.Chain},
		early: make(map[lnwire.ShortChannelID]*[2]*lnwire.ChannelUpdate)}
}

// BadGossip returns how many refused messages were the peer's fault, and
// how many were dropped by its rate limit.
func (g *Gossiper) BadGossip(peer [33]byte) (bad, limited uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.peers[peer]; s != nil {
		return s.bad, s.limited
	}
	return 0, 0
}

func (g *Gossiper) stats(peer [33]byte) *peerGossipStats {
	s := g.peers[peer]
	if s == nil {
		s = &peerGossipStats{bucket: tokenBucket{rate: g.cfg.PeerRate, burst: float64(g.cfg.PeerBurst),
			tokens: float64(g.cfg.PeerBurst), last: g.cfg.Now()}}
		g.peers[peer] = s
	}
	return s
}

// ForgetPeer drops a peer's counters.
func (g *Gossiper) ForgetPeer(peer [33]byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.peers, peer)
}

// ProcessRemote validates a channel_announcement, channel_update or
// node_announcement from peer and, if good and new, applies it to the
// graph; nil means it was applied (and should be relayed). Refusals the
// peer is to blame for match ErrBadGossip and are counted.
func (g *Gossiper) ProcessRemote(ctx context.Context, peer [33]byte, msg lnwire.Message) error {
	g.mu.Lock()
	s := g.stats(peer)
	if !s.bucket.take(g.cfg.Now()) {
		s.limited++
		g.mu.Unlock()
		return ErrRateLimited
	}
	g.mu.Unlock()

	err := g.process1(ctx, msg)
	if errors.Is(err, ErrBadGossip) {
		g.mu.Lock()
		s.bad++
		g.mu.Unlock()
	}
	return err
}

func (g *Gossiper) process1(ctx context.Context, msg lnwire.Message) error {
	g.process.Lock()
	defer g.process.Unlock()
	switch m := msg.(type) {
	case *lnwire.ChannelAnnouncement:
		return g.processChanAnn(ctx, m)
	case *lnwire.ChannelUpdate:
		return g.processChanUpdate(m)
	case *lnwire.NodeAnnouncement:
		return g.processNodeAnn(m)
	}
	return fmt.Errorf("%w: %v is not gossip", ErrBadGossip, msg.MsgType())
}

func (g *Gossiper) processChanAnn(ctx context.Context, a *lnwire.ChannelAnnouncement) error {
	if a.ChainHash != g.cfg.ChainHash {
		return ErrWrongChain
	}
	switch _, _, _, err := g.cfg.Graph.Channel(a.ShortChannelID); {
	case err == nil:
		return ErrStale
	case !errors.Is(err, channeldb.ErrGraphChannelNotFound):
		return err
	}
	if err := VerifyChannelAnnouncement(a); err != nil {
		return err
	}
	op, capacity, err := FundingOutput(ctx, &g.blocks, a, g.cfg.MinConf)
	if err != nil {
		return err
	}
	err = g.cfg.Graph.AddChannel(&channeldb.GraphChannel{
		ID: a.ShortChannelID, ChanPoint: op, Capacity: capacity,
		Node1: a.NodeID1, Node2: a.NodeID2, Announcement: a,
	})
	if err != nil {
		return err
	}
	g.applyEarly(a.ShortChannelID)
	return nil
}

// ChannelAdded applies the updates held for scid (a channel of ours the
// announcer just put in the graph, by its real scid or an alias).
func (g *Gossiper) ChannelAdded(scid lnwire.ShortChannelID) {
	g.process.Lock()
	defer g.process.Unlock()
	g.applyEarly(scid)
}

// holdEarly keeps u, an update of a channel the graph does not know.
func (g *Gossiper) holdEarly(u *lnwire.ChannelUpdate) {
	held := g.early[u.ShortChannelID]
	if held == nil {
		if len(g.earlyOrder) >= maxEarlyUpdates {
			delete(g.early, g.earlyOrder[0])
			g.earlyOrder = g.earlyOrder[1:]
		}
		held = new([2]*lnwire.ChannelUpdate)
		g.early[u.ShortChannelID] = held
		g.earlyOrder = append(g.earlyOrder, u.ShortChannelID)
	}
	d := u.Direction()
	if old := held[d]; old == nil || u.Timestamp > old.Timestamp {
		held[d] = u
	}
}

// applyEarly validates and applies what holdEarly kept for scid; the
// caller holds process.
func (g *Gossiper) applyEarly(scid lnwire.ShortChannelID) {
	held := g.early[scid]
	if held == nil {
		return
	}
	delete(g.early, scid)
	for i, id := range g.earlyOrder {
		if id == scid {
			g.earlyOrder = append(g.earlyOrder[:i], g.earlyOrder[i+1:]...)
			break
		}
	}
	for _, u := range held {
		if u == nil {
			continue
		}
		err := g.processChanUpdate(u)
		g.log.Debug("Early channel update applied", "scid", scid,
			"direction", u.Direction(), "err", err)
	}
}

func (g *Gossiper) processChanUpdate(u *lnwire.ChannelUpdate) error {
	if u.ChainHash != g.cfg.ChainHash {
		return ErrWrongChain
	}
	c, ups, zombie, err := g.cfg.Graph.Channel(u.ShortChannelID)
	if errors.Is(err, channeldb.ErrGraphChannelNotFound) {
		if g.cfg.AliasBase != nil {
			if base, ok := g.cfg.AliasBase(u.ShortChannelID); ok {
				return g.processAliasUpdate(u, base)
			}
		}
		g.holdEarly(u)
		return fmt.Errorf("update of %v: %w", u.ShortChannelID, ErrOrphan)
	}
	if err != nil {
		return err
	}
	if err := g.checkUpdate(u, c, ups, "update of"); err != nil {
		return err
	}
	// A zombie comes back only with an update fresher than the zombie
	// age; an old one proves nothing about the channel being alive.
	if zombie && g.cfg.Now().Sub(time.Unix(int64(u.Timestamp), 0)) >= g.cfg.ZombieAge {
		return fmt.Errorf("update of zombie %v too old: %w", u.ShortChannelID, ErrStale)
	}
	return g.cfg.Graph.UpdatePolicy(u)
}

// checkUpdate runs the checks every channel_update of channel c passes
// before it is applied: not stamped too far ahead, newer than the one
// held (ups), signed by its direction's node with a sane policy, within
// the direction's rate. what opens the error messages.
func (g *Gossiper) checkUpdate(u *lnwire.ChannelUpdate, c *channeldb.GraphChannel,
	ups [2]*lnwire.ChannelUpdate, what string) error {

	d := u.Direction()
	// An update stamped further ahead than the zombie age would keep
	// every honest update of its direction out until then (lnd refuses
	// it too, and blames the sender).
	if ahead := time.Unix(int64(u.Timestamp), 0).Sub(g.cfg.Now()); ahead > g.cfg.ZombieAge {
		return fmt.Errorf("%s %v/%d %v ahead: %w", what, u.ShortChannelID, d, ahead, ErrFarFuture)
	}
	if old := ups[d]; old != nil && u.Timestamp <= old.Timestamp {
		return fmt.Errorf("%s %v/%d at %d, held %d: %w", what, u.ShortChannelID, d,
			u.Timestamp, old.Timestamp, ErrStale)
	}
	node := c.Node1
	if d == 1 {
		node = c.Node2
	}
	if err := VerifyChannelUpdate(u, node, c.Capacity); err != nil {
		return err
	}
	if !g.updateAllowed(u) {
		return fmt.Errorf("%s %v/%d: %w", what, u.ShortChannelID, d, ErrUpdateRateLimited)
	}
	return nil
}

// processAliasUpdate takes a channel_update the peer signed for our
// channel base under an alias we gave it (BOLT 7 lets it name the
// channel so; lnd does for zero-conf and scid-alias channels). It is the
// peer's policy for our route hints, kept as lnd keeps it: under the
// real scid, with the signature the peer made over the alias. Such an
// update is never relayed (the channel is not announced, and the syncer
// relays no update of an scid it does not know), so the stored signature
// is only the record of what the peer sent.
func (g *Gossiper) processAliasUpdate(u *lnwire.ChannelUpdate, base lnwire.ShortChannelID) error {
	c, ups, _, err := g.cfg.Graph.Channel(base)
	if errors.Is(err, channeldb.ErrGraphChannelNotFound) {
		return fmt.Errorf("update of alias %v (channel %v): %w", u.ShortChannelID, base, ErrOrphan)
	}
	if err != nil {
		return err
	}
	if err := g.checkUpdate(u, c, ups, "update of alias"); err != nil {
		return err
	}
	d := u.Direction()
	stored := *u
	stored.ShortChannelID = base
	g.log.Debug("Peer's update of our channel under its alias kept",
		"alias", u.ShortChannelID, "scid", base, "direction", d)
	return g.cfg.Graph.UpdatePolicy(&stored)
}

func (g *Gossiper) processNodeAnn(a *lnwire.NodeAnnouncement) error {
	// BOLT 7: a node is only of interest with a channel in the graph.
	if g.cfg.Graph.Cache().Degree(Vertex(a.NodeID)) == 0 {
		return fmt.Errorf("node %x: %w", a.NodeID, ErrOrphan)
	}
	old, err := g.cfg.Graph.Node(a.NodeID)
	switch {
	case err == nil && a.Timestamp <= old.Timestamp:
		return ErrStale
	case err != nil && !errors.Is(err, channeldb.ErrGraphNodeNotFound):
		return err
	}
	if err := VerifyNodeAnnouncement(a); err != nil {
		return err
	}
	return g.cfg.Graph.AddNode(a)
}

// updateAllowed takes a token from the update's direction. Caller holds
// process.
func (g *Gossiper) updateAllowed(u *lnwire.ChannelUpdate) bool {
	key := u.ShortChannelID.ToUint64()<<1 | uint64(u.Direction())
	b := g.directions[key]
	if b == nil {
		burst := float64(g.cfg.UpdateBurst)
		b = &tokenBucket{rate: 1 / g.cfg.UpdateInterval.Seconds(), burst: burst, tokens: burst, last: g.cfg.Now()}
		g.directions[key] = b
	}
	return b.take(g.cfg.Now())
}

// PruneBlock removes the channels whose funding output a block spends,
// and records the block as the prune tip. It returns how many went.
func (g *Gossiper) PruneBlock(block *wire.MsgBlock, height int32) (int, error) {
	var closed []lnwire.ShortChannelID
	for _, tx := range block.Transactions {
		for _, in := range tx.TxIn {
			if id, ok := g.cfg.Graph.ChannelByPoint(in.PreviousOutPoint); ok {
				closed = append(closed, id)
			}
		}
	}
	tip := channeldb.PruneTip{Height: height, Hash: block.BlockHash()}
	if err := g.cfg.Graph.RemoveChannels(closed, &tip); err != nil {
		return 0, err
	}
	if len(closed) > 0 {
		g.log.Info("Pruned closed channels", "height", height, "count", len(closed))
	}
	return len(closed), nil
}

// PruneZombies marks as zombies the channels whose latest update in
// both directions (a missing one counts as ancient) is older than the
// zombie age, as lnd does. Channels not announced (our own) are left
// alone. It returns how many it marked.
func (g *Gossiper) PruneZombies() (int, error) {
	now := g.cfg.Now()
	var zombies []lnwire.ShortChannelID
	err := g.cfg.Graph.ForEachChannel(0, 1<<24-1, func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
		if c.Announcement == nil {
			return nil
		}
		for _, u := range ups {
			if u != nil && now.Sub(time.Unix(int64(u.Timestamp), 0)) < g.cfg.ZombieAge {
				return nil
			}
		}
		zombies = append(zombies, c.ID)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := g.cfg.Graph.MarkZombies(zombies, now); err != nil {
		return 0, err
	}
	if len(zombies) > 0 {
		g.log.Info("Marked zombie channels", "count", len(zombies))
	}
	return len(zombies), nil
}

// tokenBucket is a plain token bucket; its owner locks it.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// blockCache keeps the last blocks validation fetched: announcements
// arrive in short channel ID order, many from one block.
type blockCache struct {
	view ChainView

	mu     sync.Mutex
	blocks map[chainhash.Hash]*wire.MsgBlock
	order  []chainhash.Hash
}

const blockCacheSize = 8

func (c *blockCache) BestBlock(ctx context.Context) (chainhash.Hash, int32, error) {
	return c.view.BestBlock(ctx)
}

func (c *blockCache) BlockHash(ctx context.Context, h int32) (chainhash.Hash, error) {
	return c.view.BlockHash(ctx, h)
}

func (c *blockCache) UnspentOutput(ctx context.Context, op wire.OutPoint, mempool bool) (*wire.TxOut, error) {
	return c.view.UnspentOutput(ctx, op, mempool)
}

func (c *blockCache) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	c.mu.Lock()
	if b, ok := c.blocks[hash]; ok {
		c.mu.Unlock()
		return b, nil
	}
	c.mu.Unlock()
	b, err := c.view.Block(ctx, hash)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks == nil {
		c.blocks = make(map[chainhash.Hash]*wire.MsgBlock)
	}
	if len(c.order) >= blockCacheSize {
		delete(c.blocks, c.order[0])
		c.order = c.order[1:]
	}
	c.blocks[hash] = b
	c.order = append(c.order, hash)
	return b, nil
}
