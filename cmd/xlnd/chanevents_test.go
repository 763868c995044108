package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/rpc"
)

// TestLinkGone: a link removed for a close is reported inactive at once
// if it was active, once only, and not at all if it was not.
func TestLinkGone(t *testing.T) {
	e := newChanEvents(slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := e.subscribe(ctx)
	active := wire.OutPoint{Hash: chainhash.Hash{1}}
	idle := wire.OutPoint{Hash: chainhash.Hash{2}}
	e.mu.Lock()
	e.active[active], e.active[idle] = true, false
	e.mu.Unlock()

	e.linkGone(active, true)
	e.linkGone(active, false) // removed already: no link to ask
	e.linkGone(idle, false)
	e.publish(rpc.ChannelEvent{Type: rpc.EventClosed, ChanPoint: active})
	if ev := <-sub; ev.Type != rpc.EventInactive || ev.ChanPoint != active {
		t.Fatalf("first event %+v", ev)
	}
	if ev := <-sub; ev.Type != rpc.EventClosed {
		t.Fatalf("second event %+v, want the close: inactive sent twice", ev)
	}
	if len(e.active) != 0 {
		t.Fatalf("activity still tracked: %v", e.active)
	}
}

// TestLinkGoneUnsampled: a link that became active since the last sample
// and is removed for a close is still reported inactive before the close
// (a breach can confirm within one sampling period of the channel opening).
func TestLinkGoneUnsampled(t *testing.T) {
	e := newChanEvents(slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := e.subscribe(ctx)
	op := wire.OutPoint{Hash: chainhash.Hash{3}}
	e.linkGone(op, true)
	e.publish(rpc.ChannelEvent{Type: rpc.EventClosed, ChanPoint: op})
	if ev := <-sub; ev.Type != rpc.EventInactive || ev.ChanPoint != op {
		t.Fatalf("first event %+v, want inactive", ev)
	}
	if ev := <-sub; ev.Type != rpc.EventClosed {
		t.Fatalf("second event %+v, want the close", ev)
	}
}

// TestActivity: a link's own reports publish each change once, a link
// first seen inactive publishes nothing, and its removal after it went
// inactive adds nothing.
func TestActivity(t *testing.T) {
	e := newChanEvents(slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := e.subscribe(ctx)
	op := wire.OutPoint{Hash: chainhash.Hash{4}}
	e.activity(op, false)
	e.activity(op, true)
	e.activity(op, true)
	e.activity(op, false)
	e.linkGone(op, false)
	e.publish(rpc.ChannelEvent{Type: rpc.EventClosed, ChanPoint: op})
	for _, want := range []rpc.ChannelEventType{rpc.EventActive, rpc.EventInactive, rpc.EventClosed} {
		if ev := <-sub; ev.Type != want {
			t.Fatalf("event %+v, want %v", ev, want)
		}
	}
}
