package routing

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// Defaults of AnnouncerConfig: lnd's.
const (
	// DefaultChanDisableTimeout is how long a channel's peer must be
	// offline before we announce the channel disabled (lnd's
	// --chan-disable-timeout).
	DefaultChanDisableTimeout = 20 * time.Minute

	// DefaultChanEnableTimeout is how long a peer must stay connected
	// before a channel we disabled is enabled again (lnd's
	// --chan-enable-timeout).
	DefaultChanEnableTimeout = 19 * time.Minute

	// DefaultChanStatusSampleInterval is how often peers' presence is
	// checked against those timeouts (lnd's
	// --chan-status-sample-interval).
	DefaultChanStatusSampleInterval = time.Minute

	// DefaultRebroadcastInterval is the age at which our updates and
	// node announcement are signed anew, so that no peer ever sees them
	// two weeks old and prunes our channels (lnd: a day).
	DefaultRebroadcastInterval = 24 * time.Hour

	// DefaultRetransmitInterval is how often ages are checked (lnd: 30
	// minutes).
	DefaultRetransmitInterval = 30 * time.Minute
)

// ChannelPolicy is the forwarding policy of one of our channels as its
// channel_update announces it.
type ChannelPolicy struct {
	BaseFee       lnwire.MilliSatoshi
	FeeRate       uint32 // fee_proportional_millionths
	TimeLockDelta uint16

	// MinHTLC is raised to what the peer accepts; MaxHTLC (0: no limit
	// of the policy) is lowered to what the channel carries.
	MinHTLC lnwire.MilliSatoshi
	MaxHTLC lnwire.MilliSatoshi
}

// NodeInfo is what our node_announcement says of us.
type NodeInfo struct {
	Alias     lnwire.NodeAlias
	Color     lnwire.RGB
	Addresses []net.Addr
	Features  *lnwire.RawFeatureVector
}

// LocalChannel is one of our open channels as the announcer needs it.
type LocalChannel struct {
	ChanPoint wire.OutPoint
	SCID      lnwire.ShortChannelID
	Aliases   []lnwire.ShortChannelID
	Capacity  btcutil.Amount
	Peer      [33]byte
	Private   bool

	// MinHTLC is the smallest HTLC the peer accepts; MaxHTLC the most
	// one HTLC may carry (the peer's max_htlc_value_in_flight_msat, the
	// capacity less the reserve we keep).
	MinHTLC, MaxHTLC lnwire.MilliSatoshi
}

// AnnouncerConfig is what an Announcer is built from.
type AnnouncerConfig struct {
	ChainHash chainhash.Hash
	Self      [33]byte
	Graph     *ChannelGraph

	// SignNode signs a digest with the node key.
	SignNode func(digest [32]byte) (*ecdsa.Signature, error)

	// Broadcast queues gossip for every peer (the Syncer's trickle);
	// SendToPeer sends to one peer now and fails if it is offline.
	Broadcast  func(msg lnwire.Message)
	SendToPeer func(peer [33]byte, msgs ...lnwire.Message) error

	// Policy is a channel's forwarding policy; Node our node's
	// description.
	Policy func(chanPoint wire.OutPoint) (ChannelPolicy, error)
	Node   func() NodeInfo

	DisableTimeout      time.Duration
	EnableTimeout       time.Duration
	SampleInterval      time.Duration
	RebroadcastInterval time.Duration
	RetransmitInterval  time.Duration

	Now func() time.Time
	Log *slog.Logger
}

// Announcer signs and publishes our own gossip: our node_announcement,
// the channel_announcement of each public channel once funding has both
// halves, and a channel_update for each channel from its forwarding
// policy: broadcast for public channels, sent to the peer alone for the
// others (BOLT 7). It disables a channel whose peer has been offline a
// while and enables it again once the peer is back for a while (lnd's
// timings), and signs updates anew before peers would prune them.
// Everything goes into our own graph too.
type Announcer struct {
	cfg AnnouncerConfig
	log *slog.Logger

	// signing orders every signing of an update or node announcement
	// with its storing and publishing: two signed in the same second
	// from the same predecessor would share a timestamp with different
	// contents, which BOLT 7 lets peers punish.
	signing sync.Mutex

	mu      sync.Mutex
	chans   map[wire.OutPoint]*ownChan
	byID    map[lnwire.ShortChannelID]*ownChan // real scid and aliases
	peers   map[[33]byte]peerPresence
	started time.Time
	nodeAnn *lnwire.NodeAnnouncement
	// nodeUnsent: signed anew at Start, to go out with the first
	// public channel added.
	nodeUnsent bool

	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type ownChan struct {
	LocalChannel
	announced bool
	closing   bool                  // disabled for good: a close began
	update    *lnwire.ChannelUpdate // latest signed, nil before the first
}

type peerPresence struct {
	online bool
	since  time.Time
}

// NewAnnouncer returns an announcer; Start signs our node announcement.
func NewAnnouncer(cfg AnnouncerConfig) *Announcer {
	if cfg.DisableTimeout <= 0 {
		cfg.DisableTimeout = DefaultChanDisableTimeout
	}
	if cfg.EnableTimeout <= 0 {
		cfg.EnableTimeout = DefaultChanEnableTimeout
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = DefaultChanStatusSampleInterval
	}
	if cfg.RebroadcastInterval <= 0 {
		cfg.RebroadcastInterval = DefaultRebroadcastInterval
	}
	if cfg.RetransmitInterval <= 0 {
		cfg.RetransmitInterval = DefaultRetransmitInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Announcer{cfg: cfg, log: cfg.Log, chans: make(map[wire.OutPoint]*ownChan),
		byID: make(map[lnwire.ShortChannelID]*ownChan), peers: make(map[[33]byte]peerPresence),
		quit: make(chan struct{})}
}

// Start puts our node_announcement into our graph (signed anew if what
// it says changed) and runs the status and refresh loop.
func (a *Announcer) Start() error {
	a.mu.Lock()
	a.started = a.cfg.Now()
	a.mu.Unlock()
	signed, err := a.refreshNode(false)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.nodeUnsent = signed
	a.mu.Unlock()
	a.wg.Add(1)
	go a.loop()
	return nil
}

// Stop ends the loop. Safe to call more than once.
func (a *Announcer) Stop() {
	a.once.Do(func() { close(a.quit) })
	a.wg.Wait()
}

func (a *Announcer) loop() {
	defer a.wg.Done()
	sample := time.NewTicker(a.cfg.SampleInterval)
	defer sample.Stop()
	retransmit := time.NewTicker(a.cfg.RetransmitInterval)
	defer retransmit.Stop()
	for {
		select {
		case <-sample.C:
			a.SampleStatus()
		case <-retransmit.C:
			a.RefreshStale()
		case <-a.quit:
			return
		}
	}
}

// NodeAnnouncement is our latest node_announcement.
func (a *Announcer) NodeAnnouncement() *lnwire.NodeAnnouncement {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodeAnn
}

// refreshNode signs our node_announcement if there is none, what it
// says changed, or (force) it is to be refreshed; it goes into our
// graph. It reports whether a new one was signed.
func (a *Announcer) refreshNode(force bool) (bool, error) {
	a.signing.Lock()
	defer a.signing.Unlock()
	info := a.cfg.Node()
	want := &lnwire.NodeAnnouncement{
		Features: info.Features, NodeID: a.cfg.Self, RGBColor: info.Color,
		Alias: info.Alias, Addresses: sortAddrs(info.Addresses),
	}
	if want.Features == nil {
		want.Features = lnwire.NewRawFeatureVector()
	}
	a.mu.Lock()
	old := a.nodeAnn
	a.mu.Unlock()
	if old == nil {
		if stored, err := a.cfg.Graph.Node(a.cfg.Self); err == nil {
			old = stored
		} else if !errors.Is(err, channeldb.ErrGraphNodeNotFound) {
			return false, err
		}
	}
	if old != nil && !force && sameNodeInfo(old, want) {
		a.mu.Lock()
		a.nodeAnn = old
		a.mu.Unlock()
		return false, nil
	}
	var prev uint32
	if old != nil {
		prev = old.Timestamp
	}
	want.Timestamp = a.timestamp(prev)
	data, err := want.DataToSign()
	if err != nil {
		return false, fmt.Errorf("node announcement: %w", err)
	}
	if want.Signature, err = a.sign(data); err != nil {
		return false, fmt.Errorf("node announcement: %w", err)
	}
	if err := a.cfg.Graph.AddNode(want); err != nil {
		return false, err
	}
	a.mu.Lock()
	a.nodeAnn = want
	a.mu.Unlock()
	return true, nil
}

func sameNodeInfo(a, b *lnwire.NodeAnnouncement) bool {
	var x, y bytes.Buffer
	c, d := *a, *b
	c.Signature, d.Signature, c.Timestamp, d.Timestamp = lnwire.Sig{}, lnwire.Sig{}, 0, 0
	return c.Encode(&x) == nil && d.Encode(&y) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

// sortAddrs orders addresses by descriptor type, as BOLT 7 requires:
// IPv4, IPv6, Tor v3, DNS.
func sortAddrs(addrs []net.Addr) []net.Addr {
	rank := func(a net.Addr) int {
		switch a := a.(type) {
		case *net.TCPAddr:
			if a.IP.To4() != nil {
				return 1
			}
			return 2
		case *lnwire.OnionAddr:
			return 4
		case *lnwire.DNSAddr:
			return 5
		}
		return 6
	}
	out := append([]net.Addr(nil), addrs...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

func (a *Announcer) sign(data []byte) (lnwire.Sig, error) {
	sig, err := a.cfg.SignNode(chainhash.DoubleHashH(data))
	if err != nil {
		return lnwire.Sig{}, err
	}
	return lnwire.NewSigFromSignature(sig)
}

// timestamp is now, or one past prev if now is not later (BOLT 7:
// strictly increasing).
func (a *Announcer) timestamp(prev uint32) uint32 {
	return max(uint32(a.cfg.Now().Unix()), prev+1)
}

// direction is our end of a channel with peer: 0 if our key is the
// lesser.
func (a *Announcer) direction(peer [33]byte) int {
	if bytes.Compare(a.cfg.Self[:], peer[:]) < 0 {
		return 0
	}
	return 1
}

// AddChannel takes one of our open channels: at start for each, and
// when one opens. The channel enters our graph (unannounced until
// Announce), and its channel_update is signed unless the one we hold
// says the same; the peer gets it.
func (a *Announcer) AddChannel(lc LocalChannel) error {
	c := &ownChan{LocalChannel: lc}
	n1, n2 := a.cfg.Self, lc.Peer
	if a.direction(lc.Peer) == 1 {
		n1, n2 = n2, n1
	}
	gc, ups, _, err := a.cfg.Graph.Channel(lc.SCID)
	switch {
	case errors.Is(err, channeldb.ErrGraphChannelNotFound):
		err = a.cfg.Graph.AddChannel(&channeldb.GraphChannel{ID: lc.SCID, ChanPoint: lc.ChanPoint,
			Capacity: lc.Capacity, Node1: n1, Node2: n2})
		if err != nil {
			return fmt.Errorf("channel %v into the graph: %w", lc.SCID, err)
		}
	case err != nil:
		return err
	default:
		c.announced = gc.Announcement != nil
		c.update = ups[a.direction(lc.Peer)]
	}
	a.mu.Lock()
	a.chans[lc.ChanPoint] = c
	a.byID[lc.SCID] = c
	for _, al := range lc.Aliases {
		a.byID[al] = c
	}
	disabled := c.update != nil && c.update.IsDisabled()
	var node *lnwire.NodeAnnouncement
	if c.announced && a.nodeUnsent {
		node, a.nodeUnsent = a.nodeAnn, false
	}
	a.mu.Unlock()
	if node != nil {
		a.cfg.Broadcast(node)
	}
	return a.resign(c, disabled, false)
}

// RemoveChannel forgets a channel that closed; the graph prunes it when
// its funding output is spent.
func (a *Announcer) RemoveChannel(op wire.OutPoint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.chans[op]
	if c == nil {
		return
	}
	delete(a.chans, op)
	for id, cc := range a.byID {
		if cc == c {
			delete(a.byID, id)
		}
	}
}

// ChannelClosing disables a channel for good once its close has begun
// (BOLT 7: an update with the disable bit before the on-chain
// settlement): no status change enables it again.
func (a *Announcer) ChannelClosing(op wire.OutPoint) {
	a.mu.Lock()
	c := a.chans[op]
	if c == nil || c.closing {
		a.mu.Unlock()
		return
	}
	c.closing = true
	a.mu.Unlock()
	if err := a.resign(c, true, false); err != nil {
		a.log.Error("Closing channel not disabled", "chan_point", op, "err", err)
	}
}

// Announce makes a channel public with its complete
// channel_announcement: stored in our graph, and broadcast with our
// channel_update (signed anew for the public) and node_announcement.
// Announcing a channel already announced does nothing.
func (a *Announcer) Announce(op wire.OutPoint, ann *lnwire.ChannelAnnouncement) error {
	a.mu.Lock()
	c := a.chans[op]
	a.mu.Unlock()
	if c == nil {
		return fmt.Errorf("announce %v: not one of our open channels", op)
	}
	if ann.ShortChannelID != c.SCID {
		return fmt.Errorf("announce %v: announcement of %v, channel at %v", op, ann.ShortChannelID, c.SCID)
	}
	gc, _, _, err := a.cfg.Graph.Channel(c.SCID)
	if err != nil {
		return err
	}
	if gc.Announcement != nil {
		a.mu.Lock()
		c.announced = true
		a.mu.Unlock()
		return nil
	}
	gc.Announcement = ann
	if err := a.cfg.Graph.AddChannel(gc); err != nil {
		return err
	}
	a.mu.Lock()
	first := true
	for _, o := range a.chans {
		first = first && !o.announced
	}
	c.announced = true
	disabled := c.update != nil && c.update.IsDisabled()
	a.mu.Unlock()
	a.log.Info("Announcing our channel", "chan_point", op, "scid", c.SCID)
	a.cfg.Broadcast(ann)
	if err := a.resign(c, disabled, true); err != nil {
		return err
	}
	// With our first public channel our node announcement is signed
	// anew: peers filter gossip by timestamp (gossip_timestamp_filter)
	// from when they connected, and one signed at our start would not
	// reach them.
	if first {
		if _, err := a.refreshNode(true); err != nil {
			return err
		}
	}
	if node := a.NodeAnnouncement(); node != nil {
		a.cfg.Broadcast(node)
	}
	return nil
}

// buildUpdate is the channel_update of our end of c under policy p.
func (a *Announcer) buildUpdate(c *ownChan, p ChannelPolicy, disabled bool) *lnwire.ChannelUpdate {
	minHTLC := max(p.MinHTLC, c.MinHTLC)
	maxHTLC := lnwire.NewMSatFromSatoshis(c.Capacity)
	if c.MaxHTLC > 0 {
		maxHTLC = min(maxHTLC, c.MaxHTLC)
	}
	if p.MaxHTLC > 0 {
		maxHTLC = min(maxHTLC, p.MaxHTLC)
	}
	maxHTLC = max(maxHTLC, minHTLC) // BOLT 7: never below the minimum
	u := &lnwire.ChannelUpdate{
		ChainHash:       a.cfg.ChainHash,
		ShortChannelID:  c.SCID,
		MessageFlags:    lnwire.MsgFlagMustBeOne,
		ChannelFlags:    lnwire.ChanUpdateChanFlags(a.direction(c.Peer)),
		TimeLockDelta:   p.TimeLockDelta,
		HtlcMinimumMsat: minHTLC,
		BaseFee:         uint32(p.BaseFee),
		FeeRate:         p.FeeRate,
		HtlcMaximumMsat: maxHTLC,
	}
	if !c.announced {
		u.MessageFlags |= lnwire.MsgFlagDontForward
	}
	if disabled {
		u.ChannelFlags |= lnwire.ChanFlagDisabled
	}
	return u
}

// sameUpdate reports whether two updates say the same, timestamps and
// signatures aside.
func sameUpdate(x, y *lnwire.ChannelUpdate) bool {
	if x == nil || y == nil {
		return false
	}
	c, d := *x, *y
	c.Signature, d.Signature, c.Timestamp, d.Timestamp = lnwire.Sig{}, lnwire.Sig{}, 0, 0
	c.ExtraTLV, d.ExtraTLV = nil, nil
	return c.ChainHash == d.ChainHash && c.ShortChannelID == d.ShortChannelID &&
		c.MessageFlags == d.MessageFlags && c.ChannelFlags == d.ChannelFlags &&
		c.TimeLockDelta == d.TimeLockDelta && c.HtlcMinimumMsat == d.HtlcMinimumMsat &&
		c.BaseFee == d.BaseFee && c.FeeRate == d.FeeRate && c.HtlcMaximumMsat == d.HtlcMaximumMsat
}

// resign signs c's update with its current policy and the disable bit
// unless (force false) the one held says the same; a new one is stored
// in our graph and published.
func (a *Announcer) resign(c *ownChan, disabled, force bool) error {
	a.signing.Lock()
	defer a.signing.Unlock()
	p, err := a.cfg.Policy(c.ChanPoint)
	if err != nil {
		return fmt.Errorf("policy of %v: %w", c.ChanPoint, err)
	}
	a.mu.Lock()
	u := a.buildUpdate(c, p, disabled)
	old := c.update
	a.mu.Unlock()
	if !force && sameUpdate(u, old) {
		return nil
	}
	var prev uint32
	if old != nil {
		prev = old.Timestamp
	}
	u.Timestamp = a.timestamp(prev)
	data, err := u.DataToSign()
	if err != nil {
		return err
	}
	if u.Signature, err = a.sign(data); err != nil {
		return fmt.Errorf("sign update of %v: %w", c.SCID, err)
	}
	// Into our graph before it leaves: what we tell peers is what we
	// hold after a restart.
	if err := a.cfg.Graph.UpdatePolicy(u); err != nil {
		return fmt.Errorf("store update of %v: %w", c.SCID, err)
	}
	a.mu.Lock()
	c.update = u
	announced := c.announced
	a.mu.Unlock()
	a.publish(c, u, announced)
	return nil
}

// publish sends an update: to everyone for an announced channel, to the
// peer alone otherwise (BOLT 7: an unannounced channel's update is for
// the peer only).
func (a *Announcer) publish(c *ownChan, u *lnwire.ChannelUpdate, announced bool) {
	if announced {
		a.cfg.Broadcast(u)
		return
	}
	if err := a.cfg.SendToPeer(c.Peer, u); err != nil {
		a.log.Debug("Channel update not sent to the peer", "scid", c.SCID, "err", err)
	}
}

// ChannelUpdate is our latest signed channel_update of a channel named
// by its short channel ID or one of its aliases, for failure messages
// (BOLT 4). ErrUnknownChannel if it is not ours or not signed yet.
func (a *Announcer) ChannelUpdate(scid lnwire.ShortChannelID) (*lnwire.ChannelUpdate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.byID[scid]
	if c == nil || c.update == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownChannel, scid)
	}
	u := *c.update
	return &u, nil
}

// PolicyChanged signs and publishes anew the updates of the channels
// whose forwarding policy changed (the switch's OnPolicyUpdate).
func (a *Announcer) PolicyChanged(chanPoints []wire.OutPoint) {
	for _, op := range chanPoints {
		a.mu.Lock()
		c := a.chans[op]
		disabled := c != nil && c.update != nil && c.update.IsDisabled()
		a.mu.Unlock()
		if c == nil {
			continue
		}
		if err := a.resign(c, disabled, false); err != nil {
			a.log.Error("Channel update not signed", "chan_point", op, "err", err)
		}
	}
}

// PeerOnline notes a peer's connection and sends it our latest update of
// each channel we have with it, and our node announcement if one of them
// is public (as lnd does on each connection).
func (a *Announcer) PeerOnline(peer [33]byte) {
	a.mu.Lock()
	if p := a.peers[peer]; !p.online {
		a.peers[peer] = peerPresence{online: true, since: a.cfg.Now()}
	}
	var msgs []lnwire.Message
	public := false
	for _, c := range a.chans {
		if c.Peer != peer || c.update == nil {
			continue
		}
		msgs = append(msgs, c.update)
		public = public || c.announced
	}
	if public && a.nodeAnn != nil {
		msgs = append(msgs, a.nodeAnn)
	}
	a.mu.Unlock()
	if len(msgs) > 0 {
		if err := a.cfg.SendToPeer(peer, msgs...); err != nil {
			a.log.Debug("Updates not sent to the peer", "peer", fmt.Sprintf("%x", peer), "err", err)
		}
	}
}

// PeerOffline notes a peer's disconnection.
func (a *Announcer) PeerOffline(peer [33]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.peers[peer] = peerPresence{online: false, since: a.cfg.Now()}
}

// SampleStatus disables the channels whose peer has been offline longer
// than the disable timeout, and enables those whose peer has been back
// longer than the enable timeout.
func (a *Announcer) SampleStatus() {
	now := a.cfg.Now()
	type change struct {
		c       *ownChan
		disable bool
	}
	var changes []change
	a.mu.Lock()
	for _, c := range a.chans {
		if c.update == nil || c.closing {
			continue
		}
		p, seen := a.peers[c.Peer]
		if !seen {
			p = peerPresence{since: a.started}
		}
		switch {
		case p.online && c.update.IsDisabled() && now.Sub(p.since) >= a.cfg.EnableTimeout:
			changes = append(changes, change{c, false})
		case !p.online && !c.update.IsDisabled() && now.Sub(p.since) >= a.cfg.DisableTimeout:
			changes = append(changes, change{c, true})
		}
	}
	a.mu.Unlock()
	for _, ch := range changes {
		a.log.Info("Channel status changes", "scid", ch.c.SCID, "disabled", ch.disable)
		if err := a.resign(ch.c, ch.disable, false); err != nil {
			a.log.Error("Channel update not signed", "scid", ch.c.SCID, "err", err)
		}
	}
}

// RefreshStale signs anew the updates of our public channels and our
// node announcement once they are RebroadcastInterval old, so that
// peers never prune them as stale (BOLT 7: two weeks).
func (a *Announcer) RefreshStale() {
	now := a.cfg.Now()
	var stale []*ownChan
	public := false
	a.mu.Lock()
	for _, c := range a.chans {
		if !c.announced || c.update == nil {
			continue
		}
		public = true
		if now.Sub(time.Unix(int64(c.update.Timestamp), 0)) >= a.cfg.RebroadcastInterval {
			stale = append(stale, c)
		}
	}
	node := a.nodeAnn
	a.mu.Unlock()
	for _, c := range stale {
		a.mu.Lock()
		disabled := c.update.IsDisabled()
		a.mu.Unlock()
		if err := a.resign(c, disabled, true); err != nil {
			a.log.Error("Channel update not refreshed", "scid", c.SCID, "err", err)
		}
	}
	if public && node != nil && now.Sub(time.Unix(int64(node.Timestamp), 0)) >= a.cfg.RebroadcastInterval {
		if _, err := a.refreshNode(true); err != nil {
			a.log.Error("Node announcement not refreshed", "err", err)
			return
		}
		a.cfg.Broadcast(a.NodeAnnouncement())
	}
}
