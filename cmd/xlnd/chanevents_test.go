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

	e.linkGone(active)
	e.linkGone(active)
	e.linkGone(idle)
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
