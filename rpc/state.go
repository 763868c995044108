package rpc

import (
	"context"
	"sync"

	"lnd.xprv/rpc/lnrpc"
)

// stateTracker holds the start-up state and lets streams follow every
// change. States only move forward, so the history stays a handful long.
type stateTracker struct {
	mu      sync.Mutex
	history []lnrpc.WalletState
	changed chan struct{} // closed and replaced on every change
}

func newStateTracker() *stateTracker {
	return &stateTracker{
		history: []lnrpc.WalletState{lnrpc.WalletState_WAITING_TO_START},
		changed: make(chan struct{}),
	}
}

func (t *stateTracker) get() lnrpc.WalletState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.history[len(t.history)-1]
}

// set records s if it differs from the current state.
func (t *stateTracker) set(s lnrpc.WalletState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.history[len(t.history)-1] == s {
		return
	}
	t.history = append(t.history, s)
	close(t.changed)
	t.changed = make(chan struct{})
}

// follow calls send with the current state and then with every later one,
// in order, until ctx ends or send fails.
func (t *stateTracker) follow(ctx context.Context, send func(lnrpc.WalletState) error) error {
	t.mu.Lock()
	next := len(t.history) - 1
	t.mu.Unlock()
	for {
		t.mu.Lock()
		pending := t.history[next:]
		next = len(t.history)
		changed := t.changed
		t.mu.Unlock()

		for _, s := range pending {
			if err := send(s); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
