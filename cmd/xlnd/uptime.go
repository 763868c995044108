package main

import (
	"sync"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/server"
)

// maxOnlineSpans bounds the connection spans kept per peer; when a
// flapping peer exceeds it the oldest are merged, which can only count
// the time between them as online.
const maxOnlineSpans = 1024

// span is one connection of a peer; a zero end means it is still open.
type span struct{ start, end time.Time }

// uptimeTracker is ListChannels' lifetime and uptime, as lnd's channel
// event store reckons them: a channel is monitored from the node's start,
// or from its opening if later, and its uptime is the part of that its
// peer was connected. Like lnd's it is memory only: a restart starts over.
type uptimeTracker struct {
	mu     sync.Mutex
	now    func() time.Time
	start  time.Time
	online map[[33]byte][]span
	opened map[wire.OutPoint]time.Time
}

func newUptimeTracker(now func() time.Time) *uptimeTracker {
	return &uptimeTracker{now: now, start: now(),
		online: map[[33]byte][]span{}, opened: map[wire.OutPoint]time.Time{}}
}

// follow records peers coming and going until the subscription ends.
func (u *uptimeTracker) follow(sub *server.PeerEventSubscription) {
	for ev := range sub.Events() {
		switch ev.Type {
		case server.PeerOnline:
			u.peerOnline(ev.PubKey)
		case server.PeerOffline:
			u.peerOffline(ev.PubKey)
		}
	}
}

func (u *uptimeTracker) peerOnline(pub [33]byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	spans := u.online[pub]
	if n := len(spans); n > 0 && spans[n-1].end.IsZero() {
		return
	}
	if len(spans) >= maxOnlineSpans {
		spans[1].start = spans[0].start
		spans = spans[1:]
	}
	u.online[pub] = append(spans, span{start: u.now()})
}

func (u *uptimeTracker) peerOffline(pub [33]byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	spans := u.online[pub]
	if n := len(spans); n > 0 && spans[n-1].end.IsZero() {
		spans[n-1].end = u.now()
	}
}

// channelOpened starts monitoring a channel opened while running.
func (u *uptimeTracker) channelOpened(op wire.OutPoint) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.opened[op]; !ok {
		u.opened[op] = u.now()
	}
}

// times returns a channel's lifetime and uptime.
func (u *uptimeTracker) times(op wire.OutPoint, peer [33]byte) (lifetime,
	uptime time.Duration) {

	if u == nil {
		return 0, 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	from := u.start
	if t, ok := u.opened[op]; ok && t.After(from) {
		from = t
	}
	for _, s := range u.online[peer] {
		start, end := s.start, s.end
		if end.IsZero() {
			end = now
		}
		if start.Before(from) {
			start = from
		}
		if end.After(start) {
			uptime += end.Sub(start)
		}
	}
	return now.Sub(from), uptime
}
