package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// Defaults of SyncerConfig.
const (
	// DefaultTrickleDelay is lnd's --trickledelay default (90,000 ms):
	// how long new gossip is gathered before it goes out in one batch.
	DefaultTrickleDelay = 90 * time.Second

	// DefaultHistoricalSyncs is how many peers we ask for the whole
	// graph after a start (lnd keeps three active syncers).
	DefaultHistoricalSyncs = 3

	// DefaultSyncTimeout is how long a peer may take to answer one of
	// our queries before its historical sync is abandoned.
	DefaultSyncTimeout = 5 * time.Minute

	// DefaultInboxSize is how many messages of one peer may wait for
	// the syncer: a reply to one query_short_channel_ids of 500
	// channels is about 2,000.
	DefaultInboxSize = 10_000

	// DefaultQueryBatch is how many short channel IDs one
	// query_short_channel_ids asks for (lnd asks for 500).
	DefaultQueryBatch = 500
)

// SyncerConfig is what a Syncer is built from. Send hands messages to a
// peer's write queue; it must not block on the network.
type SyncerConfig struct {
	ChainHash chainhash.Hash
	Graph     *ChannelGraph
	Gossiper  *Gossiper
	Send      func(peer [33]byte, msgs ...lnwire.Message) error

	TrickleDelay    time.Duration
	SyncTimeout     time.Duration
	HistoricalSyncs int
	QueryBatch      int
	InboxSize       int

	Now func() time.Time
	Log *slog.Logger
}

// Syncer keeps the graph in sync with peers over BOLT 7's gossip
// queries. It answers query_channel_range, query_short_channel_ids and
// gossip_timestamp_filter from the graph; it asks the first few peers
// for the whole graph (query_channel_range, then query_short_channel_ids
// for what we lack or hold older) and every peer for new gossip
// (gossip_timestamp_filter from now on); it hands received gossip to the
// Gossiper and trickles what was accepted to the other peers in batches.
// It sends only through cfg.Send.
type Syncer struct {
	cfg SyncerConfig
	log *slog.Logger

	mu         sync.Mutex
	peers      map[[33]byte]*syncPeer
	historical int  // peers picked for a historical sync so far
	synced     bool // a historical sync has finished
	batch      map[batchKey]batchEntry

	quit   chan struct{}
	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

type syncState uint8

const (
	syncIdle        syncState = iota
	syncWaitRange             // our query_channel_range is out
	syncWaitSCIDs             // a query_short_channel_ids is out
	syncDone                  // historical sync over
	syncPassiveOnly           // never picked for a historical sync
)

type syncPeer struct {
	pub     [33]byte
	queries bool // the peer signals gossip_queries

	// filter is what the peer asked for with gossip_timestamp_filter;
	// nil: nothing yet (a gossip_queries peer gets nothing until it
	// asks; any other peer gets everything).
	filter *lnwire.GossipTimestampRange

	state     syncState
	rangeQ    *lnwire.QueryChannelRange
	found     []RangeEntry
	toQuery   []lnwire.ShortChannelID
	requested int       // channels asked for in the historical sync
	asked     time.Time // when our outstanding query went out

	// inbox feeds the peer's worker (Enqueue); gone ends it. The
	// worker starts on the inbox once online is closed (PeerOnline):
	// before that the peer is not reachable for our replies.
	inbox    chan lnwire.Message
	gone     chan struct{}
	online   chan struct{}
	isOnline bool
	dropped  uint64

	backlogBusy bool // a filter's backlog is being sent
}

// batchKey names one piece of gossip in the trickle batch, so that a
// newer update replaces an older one.
type batchKey struct {
	kind uint8 // 0 channel_announcement, 1 channel_update, 2 node_announcement
	id   uint64
	dir  uint8
	node [33]byte
}

type batchEntry struct {
	msg  lnwire.Message
	from [33]byte
	ts   uint32
}

// NewSyncer returns a syncer; Start runs its trickle loop.
func NewSyncer(cfg SyncerConfig) *Syncer {
	if cfg.TrickleDelay <= 0 {
		cfg.TrickleDelay = DefaultTrickleDelay
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = DefaultSyncTimeout
	}
	if cfg.HistoricalSyncs <= 0 {
		cfg.HistoricalSyncs = DefaultHistoricalSyncs
	}
	if cfg.InboxSize <= 0 {
		cfg.InboxSize = DefaultInboxSize
	}
	if cfg.QueryBatch <= 0 {
		cfg.QueryBatch = DefaultQueryBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Syncer{cfg: cfg, log: cfg.Log, peers: make(map[[33]byte]*syncPeer),
		batch: make(map[batchKey]batchEntry), quit: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// Start runs the trickle loop.
func (s *Syncer) Start() error {
	s.wg.Add(1)
	go s.trickleLoop()
	return nil
}

// Stop ends the loop and waits for it. Safe to call more than once.
func (s *Syncer) Stop() error {
	s.once.Do(func() {
		close(s.quit)
		s.cancel()
	})
	s.wg.Wait()
	return nil
}

// PeerOnline starts syncing with a peer: a historical sync if it is one
// of the first few gossip_queries peers, otherwise a
// gossip_timestamp_filter for gossip from now on.
func (s *Syncer) PeerOnline(pub [33]byte, gossipQueries bool) {
	s.mu.Lock()
	p := s.peer(pub)
	p.queries = gossipQueries
	if !p.isOnline {
		p.isOnline = true
		close(p.online)
	}
	var msg lnwire.Message
	switch {
	case !gossipQueries:
	case s.historical < s.cfg.HistoricalSyncs:
		s.historical++
		p.state = syncWaitRange
		p.asked = s.cfg.Now()
		opts := lnwire.QueryOptionTimestamps
		p.rangeQ = &lnwire.QueryChannelRange{ChainHash: s.cfg.ChainHash,
			FirstBlockHeight: 0, NumBlocks: math.MaxUint32, QueryOptions: &opts}
		msg = p.rangeQ
	default:
		msg = s.timestampFilter()
	}
	s.mu.Unlock()
	s.log.Debug("Peer online", "peer", fmt.Sprintf("%x", pub), "gossip_queries", gossipQueries,
		"first", msg != nil && msg.MsgType() == lnwire.MsgQueryChannelRange)
	if msg != nil {
		s.send(pub, msg)
	}
}

// PeerOffline forgets a peer. A historical sync it had not finished is
// given to the next peer that comes online.
func (s *Syncer) PeerOffline(pub [33]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peers[pub]
	if p == nil {
		return
	}
	if p.state == syncWaitRange || p.state == syncWaitSCIDs {
		s.historical--
	}
	if p.gone != nil {
		close(p.gone)
	}
	delete(s.peers, pub)
}

// peer returns the state of a peer, new if the peer is unknown: its
// first messages may arrive before the news that it is online. Caller
// holds mu.
func (s *Syncer) peer(pub [33]byte) *syncPeer {
	p := s.peers[pub]
	if p == nil {
		p = &syncPeer{pub: pub, queries: true, state: syncPassiveOnly,
			online: make(chan struct{})}
		s.peers[pub] = p
	}
	return p
}

func (s *Syncer) timestampFilter() *lnwire.GossipTimestampRange {
	return &lnwire.GossipTimestampRange{ChainHash: s.cfg.ChainHash,
		FirstTimestamp: uint32(s.cfg.Now().Unix()), TimestampRange: math.MaxUint32}
}

func (s *Syncer) send(pub [33]byte, msgs ...lnwire.Message) {
	if err := s.cfg.Send(pub, msgs...); err != nil {
		s.log.Debug("Gossip not sent", "peer", fmt.Sprintf("%x", pub), "err", err)
	}
}

// Enqueue hands a peer's gossip message to that peer's worker, which
// handles the peer's messages in order (HandleMessage) off the caller's
// goroutine: validation reads the chain, and a peer's read loop must not
// wait for it. The worker starts once PeerOnline names the peer. It
// never blocks; a message that finds the peer's queue full is dropped
// and counted (false).
func (s *Syncer) Enqueue(from [33]byte, msg lnwire.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.quit:
		return false
	default:
	}
	p := s.peer(from)
	if p.inbox == nil {
		p.inbox = make(chan lnwire.Message, s.cfg.InboxSize)
		p.gone = make(chan struct{})
		s.wg.Add(1)
		go s.worker(from, p.inbox, p.gone, p.online)
	}
	select {
	case p.inbox <- msg:
		return true
	default:
		p.dropped++
		if p.dropped&(p.dropped-1) == 0 {
			s.log.Warn("Gossip queue full; messages dropped", "peer", fmt.Sprintf("%x", from), "dropped", p.dropped)
		}
		return false
	}
}

func (s *Syncer) worker(from [33]byte, inbox <-chan lnwire.Message, gone, online <-chan struct{}) {
	defer s.wg.Done()
	// A peer's first messages may come before the news that it is
	// online, when our replies could not reach it yet.
	select {
	case <-online:
	case <-gone:
		return
	case <-s.quit:
		return
	}
	for {
		select {
		case msg := <-inbox:
			s.HandleMessage(s.ctx, from, msg)
		case <-gone:
			return
		case <-s.quit:
			return
		}
	}
}

// HandleMessage takes a gossip message from a peer: an announcement or
// update (validated, applied, queued for relay), a query (answered), or
// a reply to our queries. Other messages are ignored.
func (s *Syncer) HandleMessage(ctx context.Context, from [33]byte, msg lnwire.Message) {
	switch m := msg.(type) {
	case *lnwire.ChannelAnnouncement, *lnwire.ChannelUpdate, *lnwire.NodeAnnouncement:
		s.handleGossip(ctx, from, m)
	case *lnwire.QueryChannelRange:
		s.answerRange(from, m)
	case *lnwire.QueryShortChanIDs:
		s.answerSCIDs(from, m)
	case *lnwire.GossipTimestampRange:
		s.handleFilter(from, m)
	case *lnwire.ReplyChannelRange:
		s.handleRangeReply(from, m)
	case *lnwire.ReplyShortChanIDsEnd:
		s.handleSCIDsEnd(from, m)
	}
}

func (s *Syncer) handleGossip(ctx context.Context, from [33]byte, msg lnwire.Message) {
	err := s.cfg.Gossiper.ProcessRemote(ctx, from, msg)
	switch {
	case err == nil && s.relayable(msg):
		s.enqueue(from, msg)
	case err == nil:
	case errors.Is(err, ErrBadGossip):
		s.log.Info("Bad gossip dropped", "peer", fmt.Sprintf("%x", from), "type", msg.MsgType(), "err", err)
	default:
		s.log.Debug("Gossip not applied", "peer", fmt.Sprintf("%x", from), "type", msg.MsgType(), "err", err)
	}
}

// relayable reports whether accepted gossip may go to other peers: not
// an update of a channel that is not announced (a peer's update of our
// private channel) or one that asks not to be (BOLT 7 dont_forward).
func (s *Syncer) relayable(msg lnwire.Message) bool {
	u, ok := msg.(*lnwire.ChannelUpdate)
	if !ok {
		return true
	}
	if u.MessageFlags&lnwire.MsgFlagDontForward != 0 {
		return false
	}
	c, _, _, err := s.cfg.Graph.Channel(u.ShortChannelID)
	return err == nil && c.Announcement != nil
}

// Broadcast queues gossip of our own (or accepted elsewhere) for the
// next trickle to every peer.
func (s *Syncer) Broadcast(msg lnwire.Message) {
	s.enqueue([33]byte{}, msg)
}

func (s *Syncer) enqueue(from [33]byte, msg lnwire.Message) {
	var (
		k  batchKey
		ts = uint32(s.cfg.Now().Unix())
	)
	switch m := msg.(type) {
	case *lnwire.ChannelAnnouncement:
		k = batchKey{kind: 0, id: m.ShortChannelID.ToUint64()}
	case *lnwire.ChannelUpdate:
		k = batchKey{kind: 1, id: m.ShortChannelID.ToUint64(), dir: uint8(m.Direction())}
		ts = m.Timestamp
	case *lnwire.NodeAnnouncement:
		k = batchKey{kind: 2, node: m.NodeID}
		ts = m.Timestamp
	default:
		return
	}
	s.mu.Lock()
	s.batch[k] = batchEntry{msg: msg, from: from, ts: ts}
	s.mu.Unlock()
}

func (s *Syncer) trickleLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TrickleDelay)
	defer t.Stop()
	stall := time.NewTicker(s.cfg.SyncTimeout / 4)
	defer stall.Stop()
	for {
		select {
		case <-t.C:
			s.Flush()
		case <-stall.C:
			s.AbandonStalled()
		case <-s.quit:
			return
		}
	}
}

// Flush sends the gossip gathered since the last trickle to every peer
// that wants it (not back to the peer it came from): announcements
// first, then updates, then node announcements, as peers need them.
func (s *Syncer) Flush() {
	s.mu.Lock()
	entries := make([]batchEntry, 0, len(s.batch))
	keys := make([]batchKey, 0, len(s.batch))
	for k := range s.batch {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.id < b.id || a.id == b.id && a.dir < b.dir
	})
	for _, k := range keys {
		entries = append(entries, s.batch[k])
	}
	s.batch = make(map[batchKey]batchEntry)
	type out struct {
		pub  [33]byte
		msgs []lnwire.Message
	}
	var outs []out
	for pub, p := range s.peers {
		var msgs []lnwire.Message
		for _, e := range entries {
			if e.from != pub && p.wants(e.ts) {
				msgs = append(msgs, e.msg)
			}
		}
		if len(msgs) > 0 {
			outs = append(outs, out{pub, msgs})
		}
	}
	s.mu.Unlock()
	for _, o := range outs {
		s.send(o.pub, o.msgs...)
	}
}

// wants reports whether the peer's filter admits gossip of time ts.
func (p *syncPeer) wants(ts uint32) bool {
	if !p.queries {
		return true
	}
	if p.filter == nil {
		return false
	}
	end := uint64(p.filter.FirstTimestamp) + uint64(p.filter.TimestampRange)
	return ts >= p.filter.FirstTimestamp && uint64(ts) < end
}

// answerRange replies to a query_channel_range with the announced
// channels of the range.
func (s *Syncer) answerRange(from [33]byte, q *lnwire.QueryChannelRange) {
	if q.ChainHash != s.cfg.ChainHash {
		s.send(from, &lnwire.ReplyChannelRange{ChainHash: q.ChainHash, FirstBlockHeight: q.FirstBlockHeight,
			NumBlocks: max(q.NumBlocks, 1), SyncComplete: 0})
		return
	}
	var entries []RangeEntry
	err := s.cfg.Graph.ForEachChannel(q.FirstBlockHeight, q.LastBlockHeight(),
		func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
			if c.Announcement != nil {
				entries = append(entries, rangeEntry(c.ID, ups))
			}
			return nil
		})
	if err != nil {
		s.log.Error("Graph read failed", "err", err)
		return
	}
	for _, r := range RangeReplies(q, entries) {
		s.send(from, r)
	}
}

// answerSCIDs sends, for each queried channel we have announced, its
// announcement, its updates and its nodes' announcements (each node
// once), as the query flags select (all when absent), then
// reply_short_channel_ids_end.
func (s *Syncer) answerSCIDs(from [33]byte, q *lnwire.QueryShortChanIDs) {
	if q.ChainHash != s.cfg.ChainHash {
		s.send(from, &lnwire.ReplyShortChanIDsEnd{ChainHash: q.ChainHash, Complete: 0})
		return
	}
	const all = lnwire.QueryFlagChannelAnnouncement | lnwire.QueryFlagChannelUpdate1 |
		lnwire.QueryFlagChannelUpdate2 | lnwire.QueryFlagNodeAnnouncement1 | lnwire.QueryFlagNodeAnnouncement2
	sentNodes := make(map[[33]byte]bool)
	var msgs []lnwire.Message
	for i, id := range q.ShortChanIDs {
		flags := all
		if q.QueryFlags != nil {
			if i >= len(q.QueryFlags) {
				break
			}
			flags = q.QueryFlags[i]
		}
		c, ups, zombie, err := s.cfg.Graph.Channel(id)
		if err != nil || zombie || c.Announcement == nil {
			continue
		}
		if flags&lnwire.QueryFlagChannelAnnouncement != 0 {
			msgs = append(msgs, c.Announcement)
		}
		for d, bit := range []uint64{lnwire.QueryFlagChannelUpdate1, lnwire.QueryFlagChannelUpdate2} {
			if ups[d] != nil && flags&bit != 0 {
				msgs = append(msgs, ups[d])
			}
		}
		for d, bit := range []uint64{lnwire.QueryFlagNodeAnnouncement1, lnwire.QueryFlagNodeAnnouncement2} {
			node := [2][33]byte{c.Node1, c.Node2}[d]
			if flags&bit == 0 || sentNodes[node] {
				continue
			}
			sentNodes[node] = true
			if ann, err := s.cfg.Graph.Node(node); err == nil {
				msgs = append(msgs, ann)
			}
		}
	}
	msgs = append(msgs, &lnwire.ReplyShortChanIDsEnd{ChainHash: q.ChainHash, Complete: 1})
	s.send(from, msgs...)
}

// handleFilter sends what we hold in the filter's time range, then
// records the filter for the trickles to come. The backlog is read
// before the filter is set: gossip accepted meanwhile waits in the batch,
// and the next trickle, which sees the filter, sends it.
func (s *Syncer) handleFilter(from [33]byte, f *lnwire.GossipTimestampRange) {
	if f.ChainHash != s.cfg.ChainHash {
		return
	}
	fc := *f
	// One backlog at a time per peer: a peer repeating its filter
	// must not have the graph sent to it over and over at once.
	s.mu.Lock()
	busy := s.peer(from).backlogBusy
	s.mu.Unlock()
	var backlog []lnwire.Message
	if f.TimestampRange != 0 && !busy {
		var err error
		if backlog, err = s.backlog(&fc); err != nil {
			s.log.Error("Graph read failed", "err", err)
		}
	}
	s.mu.Lock()
	p := s.peer(from)
	p.filter = &fc
	if len(backlog) > 0 {
		p.backlogBusy = true
	}
	s.mu.Unlock()
	if len(backlog) == 0 {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			p.backlogBusy = false
			s.mu.Unlock()
		}()
		for len(backlog) > 0 {
			select {
			case <-s.quit:
				return
			default:
			}
			n := min(len(backlog), 500)
			s.send(from, backlog[:n]...)
			backlog = backlog[n:]
		}
	}()
}

// backlog is the gossip we hold within a filter's range: each channel
// with an update in it (announcement and updates), then the node
// announcements in it of nodes with an announced channel (BOLT 7: no
// other node is of interest; and a node with only private channels,
// ours included, is not to be made known by us).
func (s *Syncer) backlog(f *lnwire.GossipTimestampRange) ([]lnwire.Message, error) {
	p := syncPeer{queries: true, filter: f}
	var msgs []lnwire.Message
	public := make(map[[33]byte]bool)
	err := s.cfg.Graph.ForEachChannel(0, 1<<24-1, func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
		if c.Announcement == nil {
			return nil
		}
		public[c.Node1], public[c.Node2] = true, true
		var fresh []lnwire.Message
		for _, u := range ups {
			if u != nil && p.wants(u.Timestamp) {
				fresh = append(fresh, u)
			}
		}
		if len(fresh) > 0 {
			msgs = append(append(msgs, c.Announcement), fresh...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.cfg.Graph.ForEachNode(func(a *lnwire.NodeAnnouncement) error {
		if public[a.NodeID] && p.wants(a.Timestamp) {
			msgs = append(msgs, a)
		}
		return nil
	})
	return msgs, err
}

// handleRangeReply gathers the channels a peer reports; at its last
// reply, it asks for those we lack or hold older.
func (s *Syncer) handleRangeReply(from [33]byte, r *lnwire.ReplyChannelRange) {
	s.mu.Lock()
	p := s.peers[from]
	if p == nil || p.state != syncWaitRange || r.ChainHash != s.cfg.ChainHash {
		s.mu.Unlock()
		s.log.Debug("Unexpected reply_channel_range", "peer", fmt.Sprintf("%x", from))
		return
	}
	for i, id := range r.ShortChanIDs {
		e := RangeEntry{ID: id}
		if i < len(r.Timestamps) {
			e.Timestamps = r.Timestamps[i]
		}
		p.found = append(p.found, e)
	}
	final := r.SyncComplete == 0 || r.LastBlockHeight() >= p.rangeQ.LastBlockHeight()
	if !final {
		s.mu.Unlock()
		return
	}
	found := p.found
	p.found = nil
	s.mu.Unlock()

	want := s.wanted(found)
	s.mu.Lock()
	p.toQuery = want
	p.requested = len(want)
	s.mu.Unlock()
	s.log.Info("Historical sync: channel range received", "peer", fmt.Sprintf("%x", from),
		"channels", len(found), "to fetch", len(want))
	s.queryNext(from)
}

// wanted picks the channels to ask for: unknown ones, and known ones
// (zombies too) whose peer timestamps are newer than ours.
func (s *Syncer) wanted(found []RangeEntry) []lnwire.ShortChannelID {
	var want []lnwire.ShortChannelID
	for _, e := range found {
		_, ups, _, err := s.cfg.Graph.Channel(e.ID)
		if errors.Is(err, channeldb.ErrGraphChannelNotFound) {
			want = append(want, e.ID)
			continue
		}
		if err != nil {
			continue
		}
		newer := func(ts uint32, u *lnwire.ChannelUpdate) bool {
			return ts != 0 && (u == nil || ts > u.Timestamp)
		}
		if newer(e.Timestamps.Timestamp1, ups[0]) || newer(e.Timestamps.Timestamp2, ups[1]) {
			want = append(want, e.ID)
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i].ToUint64() < want[j].ToUint64() })
	return want
}

// queryNext sends the next query_short_channel_ids, or ends the
// historical sync with a gossip_timestamp_filter.
func (s *Syncer) queryNext(from [33]byte) {
	s.mu.Lock()
	p := s.peers[from]
	if p == nil {
		s.mu.Unlock()
		return
	}
	var msg lnwire.Message
	if len(p.toQuery) == 0 {
		p.state = syncDone
		s.synced = true
		msg = s.timestampFilter()
		s.log.Info("Historical sync done", "peer", fmt.Sprintf("%x", from), "channels asked", p.requested)
	} else {
		n := min(len(p.toQuery), s.cfg.QueryBatch)
		msg = &lnwire.QueryShortChanIDs{ChainHash: s.cfg.ChainHash,
			ShortChanIDs: append([]lnwire.ShortChannelID(nil), p.toQuery[:n]...)}
		p.toQuery = p.toQuery[n:]
		p.state = syncWaitSCIDs
		p.asked = s.cfg.Now()
	}
	s.mu.Unlock()
	s.send(from, msg)
}

func (s *Syncer) handleSCIDsEnd(from [33]byte, m *lnwire.ReplyShortChanIDsEnd) {
	s.mu.Lock()
	p := s.peers[from]
	ok := p != nil && p.state == syncWaitSCIDs
	if ok && m.Complete == 0 {
		// The peer keeps nothing for our chain: stop asking.
		p.toQuery = nil
	}
	s.mu.Unlock()
	if !ok {
		s.log.Debug("Unexpected reply_short_channel_ids_end", "peer", fmt.Sprintf("%x", from))
		return
	}
	s.queryNext(from)
}

// AbandonStalled gives up the historical sync of every peer that has
// left a query of ours unanswered for longer than the sync timeout: its
// slot goes to the next peer that comes online, and it gets a
// gossip_timestamp_filter like any other peer.
func (s *Syncer) AbandonStalled() {
	now := s.cfg.Now()
	var stalled [][33]byte
	s.mu.Lock()
	for pub, p := range s.peers {
		if (p.state == syncWaitRange || p.state == syncWaitSCIDs) && now.Sub(p.asked) > s.cfg.SyncTimeout {
			p.state, p.found, p.toQuery = syncPassiveOnly, nil, nil
			s.historical--
			stalled = append(stalled, pub)
		}
	}
	s.mu.Unlock()
	for _, pub := range stalled {
		s.log.Info("Historical sync abandoned: no answer", "peer", fmt.Sprintf("%x", pub))
		s.send(pub, s.timestampFilter())
	}
}

// Synced reports whether a historical sync with a peer has finished
// since the start: GetInfo's synced_to_graph.
func (s *Syncer) Synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// SyncedPeers counts the connected peers whose historical sync is over.
func (s *Syncer) SyncedPeers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.peers {
		if p.state == syncDone {
			n++
		}
	}
	return n
}
