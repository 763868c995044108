package htlcswitch

import (
	"sync"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
)

// Links is the switch's set of running links, found by channel, by short
// channel id and by peer. The daemon routes peer events and channel
// messages through it.
type Links struct {
	sw     *Switch
	mu     sync.Mutex
	byID   map[lnwire.ChannelID]*Link
	bySCID map[lnwire.ShortChannelID]*Link
	byPeer map[[33]byte]map[lnwire.ChannelID]*Link
	held   map[lnwire.ChannelID]heldReest
}

// heldReest is a channel_reestablish that came before its channel's link.
type heldReest struct {
	peer Peer
	msg  *lnwire.ChannelReestablish
}

// newLinks returns the empty set of switch sw.
func newLinks(sw *Switch) *Links {
	return &Links{sw: sw, byID: map[lnwire.ChannelID]*Link{},
		bySCID: map[lnwire.ShortChannelID]*Link{},
		byPeer: map[[33]byte]map[lnwire.ChannelID]*Link{},
		held:   map[lnwire.ChannelID]heldReest{}}
}

// Add starts l and adds it. It reports false, and leaves l unstarted, if
// the channel already has a link.
func (s *Links) Add(l *Link) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[l.chanID]; ok {
		return false
	}
	l.sw = s.sw
	l.Start()
	s.byID[l.chanID] = l
	s.bySCID[l.scid] = l
	for _, a := range l.aliases {
		if _, taken := s.bySCID[a]; !taken {
			s.bySCID[a] = l
		}
	}
	m := s.byPeer[l.remote]
	if m == nil {
		m = map[lnwire.ChannelID]*Link{}
		s.byPeer[l.remote] = m
	}
	m[l.chanID] = l
	if s.sw != nil && s.sw.started.Load() {
		l.mbox.push(resumeItem{})
		sw := s.sw
		l.mbox.push(func() { sw.replaySettles(l) })
	}
	return true
}

// Hold keeps the channel_reestablish a peer sent on connection p for a
// channel whose funding is completing (no link yet), for AddReady. The
// caller holds only for channels it knows; one message per channel.
func (s *Links) Hold(p Peer, m *lnwire.ChannelReestablish) {
	s.mu.Lock()
	l := s.byID[m.ChanID]
	if l == nil {
		s.held[m.ChanID] = heldReest{peer: p, msg: m}
	}
	s.mu.Unlock()
	if l != nil {
		// The link arrived meanwhile.
		_ = l.HandleMessage(p, m)
	}
}

// AddReady adds the link of a channel the funding flow just opened on
// connection p (nil: the peer is away): the channel is in sync on it,
// unless the peer already sent a channel_reestablish there, which the
// link then answers.
func (s *Links) AddReady(l *Link, p Peer) bool {
	if !s.Add(l) {
		return false
	}
	s.mu.Lock()
	h, ok := s.held[l.chanID]
	delete(s.held, l.chanID)
	s.mu.Unlock()
	if p == nil {
		return true
	}
	_ = l.PeerInSync(p)
	if ok && h.peer == p {
		_ = l.HandleMessage(p, h.msg)
	}
	return true
}

// Get returns the link of a channel, or nil.
func (s *Links) Get(id lnwire.ChannelID) *Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// ByShortID returns the link of the channel scid (its real short channel
// id or an alias we gave its peer), or nil.
func (s *Links) ByShortID(scid lnwire.ShortChannelID) *Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySCID[scid]
}

// ForwardTarget returns the link an incoming HTLC forwarded to scid
// goes to, or nil: ByShortID, except that the real scid of an alias-only
// channel names no channel to a forward.
func (s *Links) ForwardTarget(scid lnwire.ShortChannelID) *Link {
	l := s.ByShortID(scid)
	if l != nil && l.cfg.AliasOnly && scid == l.scid {
		return nil
	}
	return l
}

// Remove stops the link of a channel (closed, or closing) and forgets it.
func (s *Links) Remove(id lnwire.ChannelID) {
	s.mu.Lock()
	l := s.byID[id]
	if l != nil {
		delete(s.byID, id)
		delete(s.bySCID, l.scid)
		for _, a := range l.aliases {
			if s.bySCID[a] == l {
				delete(s.bySCID, a)
			}
		}
		delete(s.byPeer[l.remote], id)
	}
	s.mu.Unlock()
	if l != nil {
		l.Stop()
	}
}

// All returns every link.
func (s *Links) All() []*Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Link, 0, len(s.byID))
	for _, l := range s.byID {
		out = append(out, l)
	}
	return out
}

// Active reports whether the channel at op has an active link.
func (s *Links) Active(op wire.OutPoint) bool {
	l := s.Get(lnwire.NewChanIDFromOutPoint(op))
	return l != nil && l.Active()
}

// ForPeer returns the links of a peer's channels.
func (s *Links) ForPeer(pub [33]byte) []*Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Link, 0, len(s.byPeer[pub]))
	for _, l := range s.byPeer[pub] {
		out = append(out, l)
	}
	return out
}

// PeerConnected tells every link of the peer of connection p.
func (s *Links) PeerConnected(pub [33]byte, p Peer) {
	for _, l := range s.ForPeer(pub) {
		_ = l.PeerConnected(p)
	}
}

// PeerDisconnected tells every link of the peer that p ended.
func (s *Links) PeerDisconnected(pub [33]byte, p Peer) {
	for _, l := range s.ForPeer(pub) {
		_ = l.PeerDisconnected(p)
	}
}

// Stop stops every link and empties the set.
func (s *Links) Stop() {
	s.mu.Lock()
	links := s.byID
	s.byID = map[lnwire.ChannelID]*Link{}
	s.bySCID = map[lnwire.ShortChannelID]*Link{}
	s.byPeer = map[[33]byte]map[lnwire.ChannelID]*Link{}
	s.mu.Unlock()
	for _, l := range links {
		l.Stop()
	}
}
