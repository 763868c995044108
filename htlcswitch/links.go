package htlcswitch

import (
	"sync"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
)

// Links is the set of running links, found by channel and by peer. The
// switch will own it; today the daemon routes peer events and channel
// messages through it.
type Links struct {
	mu     sync.Mutex
	byID   map[lnwire.ChannelID]*Link
	byPeer map[[33]byte]map[lnwire.ChannelID]*Link
}

// NewLinks returns an empty set.
func NewLinks() *Links {
	return &Links{byID: map[lnwire.ChannelID]*Link{},
		byPeer: map[[33]byte]map[lnwire.ChannelID]*Link{}}
}

// Add starts l and adds it. It reports false, and leaves l unstarted, if
// the channel already has a link.
func (s *Links) Add(l *Link) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[l.chanID]; ok {
		return false
	}
	l.Start()
	s.byID[l.chanID] = l
	m := s.byPeer[l.remote]
	if m == nil {
		m = map[lnwire.ChannelID]*Link{}
		s.byPeer[l.remote] = m
	}
	m[l.chanID] = l
	return true
}

// Get returns the link of a channel, or nil.
func (s *Links) Get(id lnwire.ChannelID) *Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
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
	s.byPeer = map[[33]byte]map[lnwire.ChannelID]*Link{}
	s.mu.Unlock()
	for _, l := range links {
		l.Stop()
	}
}
