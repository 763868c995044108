package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/swarm"
)

// peersResult is a node's memory idle and with n peers connected.
type peersResult struct {
	impl      string
	n         int
	idle      sample
	loaded    sample
	connected time.Duration // time to connect the n peers
	err       error
}

// measurePeers samples t idle, connects n peers to it, waits until it
// lists them all, lets it settle, and samples it again with the peers
// still connected.
func measurePeers(ctx context.Context, cfg config, t *target, logf func(string, ...any)) *peersResult {
	r := &peersResult{impl: t.name, n: cfg.peers}
	sleep(ctx, cfg.settle)
	if r.idle, r.err = measure(ctx, t.pid(), t.pprof); r.err != nil {
		return r
	}
	logf("benchmem: %s idle: %s", t.name, r.idle)
	if cfg.profDir != "" {
		r.err = saveProfiles(ctx, t.pprof, filepath.Join(cfg.profDir, t.name+"-idle"))
		if r.err != nil {
			return r
		}
	}

	logf("benchmem: %s: connecting %d peers", t.name, cfg.peers)
	start := time.Now()
	s, err := swarm.Connect(ctx, swarm.Config{Addr: t.p2p, NodeKey: t.pubKey,
		Chain: *regtest.Params.GenesisHash, Parallel: cfg.parallel}, cfg.peers)
	if err != nil {
		r.err = err
		return r
	}
	defer s.Close()
	if r.err = waitPeers(ctx, t, cfg.peers); r.err != nil {
		return r
	}
	r.connected = time.Since(start)
	logf("benchmem: %s lists %d peers after %v; settling %v", t.name, cfg.peers,
		r.connected.Round(time.Millisecond), cfg.settle)
	sleep(ctx, cfg.settle)
	if r.loaded, r.err = measure(ctx, t.pid(), t.pprof); r.err != nil {
		return r
	}
	// The figure counts only if every peer is still there.
	if up, err := s.Connected(); up != cfg.peers {
		r.err = fmt.Errorf("%d of %d peers still connected: %v", up, cfg.peers, err)
		return r
	}
	if n, err := t.countPeers(ctx); err != nil || n != cfg.peers {
		r.err = fmt.Errorf("node lists %d peers (%v), want %d", n, err, cfg.peers)
		return r
	}
	logf("benchmem: %s with %d peers: %s", t.name, cfg.peers, r.loaded)
	if cfg.profDir != "" {
		r.err = saveProfiles(ctx, t.pprof, filepath.Join(cfg.profDir,
			fmt.Sprintf("%s-%dpeers", t.name, cfg.peers)))
	}
	return r
}

// waitPeers waits until t lists want peers.
func waitPeers(ctx context.Context, t *target, want int) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, err := t.countPeers(ctx)
		if err == nil && n == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s lists %d peers (%v), want %d", t.name, n, err, want)
		}
		if !sleep(ctx, time.Second) {
			return ctx.Err()
		}
	}
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (s sample) String() string {
	return fmt.Sprintf("RSS %s (anonymous %s, file %s; peak %s), live heap %s "+
		"(in use %s), stacks %s, runtime %s, %d goroutines", mib(s.rss),
		mib(s.rssAnon), mib(s.rssFile), mib(s.hwm), mib(s.heapAlloc),
		mib(s.heapInuse), mib(s.stack), mib(s.runtime), s.goroutines)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
