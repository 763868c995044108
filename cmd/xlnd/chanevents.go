package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/rpc"
)

// chanEventQueue is how many events a slow SubscribeChannelEvents client
// may lag behind before it misses some.
const chanEventQueue = 256

// chanEvents fans channel events out to SubscribeChannelEvents clients.
type chanEvents struct {
	log  *slog.Logger
	mu   sync.Mutex
	next uint64
	subs map[uint64]chan rpc.ChannelEvent

	// active is the activity last published per link (under mu).
	active map[wire.OutPoint]bool
}

func newChanEvents(log *slog.Logger) *chanEvents {
	return &chanEvents{log: log, subs: map[uint64]chan rpc.ChannelEvent{},
		active: map[wire.OutPoint]bool{}}
}

// subscribe streams events until ctx ends.
func (e *chanEvents) subscribe(ctx context.Context) <-chan rpc.ChannelEvent {
	ch := make(chan rpc.ChannelEvent, chanEventQueue)
	e.mu.Lock()
	id := e.next
	e.next++
	e.subs[id] = ch
	e.mu.Unlock()
	go func() {
		<-ctx.Done()
		e.mu.Lock()
		delete(e.subs, id)
		close(ch)
		e.mu.Unlock()
	}()
	return ch
}

// publish hands ev to every client; one whose queue is full misses it.
func (e *chanEvents) publish(ev rpc.ChannelEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publishLocked(ev)
}

func (e *chanEvents) publishLocked(ev rpc.ChannelEvent) {
	for _, ch := range e.subs {
		select {
		case ch <- ev:
		default:
			e.log.Warn("Channel event dropped for a slow subscriber",
				"type", ev.Type, "chan_point", ev.ChanPoint)
		}
	}
}

// activityPoll is how often link activity is sampled for events.
const activityPoll = 250 * time.Millisecond

// followActivity publishes active and inactive events as links come and
// go, until quit. Links report their own changes at once (activity); the
// sample catches what they do not report (a channel starting to wait for
// its close), and a link removed for a close is reported by linkGone.
func (e *chanEvents) followActivity(links *htlcswitch.Links, quit <-chan struct{}) {
	t := time.NewTicker(activityPoll)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-quit:
			return
		}
		e.sample(links)
	}
}

// sample publishes the changes of activity since the last sample. It
// holds mu throughout, so that a linkGone cannot fall between reading
// the links and recording what was read.
func (e *chanEvents) sample(links *htlcswitch.Links) {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[wire.OutPoint]bool{}
	for _, l := range links.All() {
		op := l.ChanPoint()
		active := l.Active() && !l.WaitingClose()
		seen[op] = true
		if was, ok := e.active[op]; ok && was == active {
			continue
		} else if !ok && !active {
			e.active[op] = false
			continue
		}
		e.active[op] = active
		typ := rpc.EventInactive
		if active {
			typ = rpc.EventActive
		}
		e.publishLocked(rpc.ChannelEvent{Type: typ, ChanPoint: op})
	}
	for op, was := range e.active {
		if !seen[op] {
			if was {
				e.publishLocked(rpc.ChannelEvent{Type: rpc.EventInactive, ChanPoint: op})
			}
			delete(e.active, op)
		}
	}
}

// activity publishes a link's change of activity as it happens (the
// link's OnActivity); a link first seen inactive publishes nothing, as
// in sample.
func (e *chanEvents) activity(op wire.OutPoint, active bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	was, ok := e.active[op]
	if ok && was == active {
		return
	}
	e.active[op] = active
	if !ok && !active {
		return
	}
	typ := rpc.EventInactive
	if active {
		typ = rpc.EventActive
	}
	e.publishLocked(rpc.ChannelEvent{Type: typ, ChanPoint: op})
}

// linkGone reports at once that the link of op was removed (its channel
// is closing): inactive if it was active, before the close's own events.
// wasActive is the link's own state at removal: a link whose activity was
// never published is reported too.
func (e *chanEvents) linkGone(op wire.OutPoint, wasActive bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	was, known := e.active[op]
	if was || (!known && wasActive) {
		e.publishLocked(rpc.ChannelEvent{Type: rpc.EventInactive, ChanPoint: op})
	}
	delete(e.active, op)
}

// pendingOpen and opened publish the funding manager's steps.
func (e *chanEvents) pendingOpen(st *channeldb.OpenChannel) {
	e.publish(rpc.ChannelEvent{Type: rpc.EventPendingOpen, ChanPoint: st.FundingOutpoint})
}

func (e *chanEvents) opened(info rpc.ChannelInfo) {
	e.publish(rpc.ChannelEvent{Type: rpc.EventOpen, ChanPoint: info.ChanPoint, Open: &info})
}
