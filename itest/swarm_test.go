package itest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/itest/harness"
	"lnd.xprv/itest/swarm"
	"lnd.xprv/rpc/lnrpc"
)

// TestSwarmPeers runs the peers of make bench-mem (itest/swarm) against
// a node: 20 connections, each with its own key, are all listed by the
// node and stay up; with the node's inbound limit at 20, a 21st is
// refused and the 20 are kept.
func TestSwarmPeers(t *testing.T) {
	t.Parallel()
	const n = 20
	nw := harness.New(t)
	node := startNode(t, nw, "alice", fmt.Sprintf("--maxinboundpeers=%d", n))
	raw, err := hex.DecodeString(node.PubKey())
	check(t, err)
	key, err := btcec.ParsePubKey(raw)
	check(t, err)
	cfg := swarm.Config{Addr: node.P2PAddr(), NodeKey: key, Chain: regtestChain()}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := swarm.Connect(ctx, cfg, n)
	check(t, err)
	t.Cleanup(s.Close)
	want := s.PubKeys()
	if len(want) != n {
		t.Fatalf("swarm has %d peers, want %d", len(want), n)
	}
	slices.Sort(want)
	listed := func() ([]string, error) {
		resp, err := node.RPC.ListPeers(ctx, &lnrpc.ListPeersRequest{})
		if err != nil {
			return nil, err
		}
		var keys []string
		for _, p := range resp.Peers {
			keys = append(keys, p.PubKey)
		}
		slices.Sort(keys)
		return keys, nil
	}
	check(t, harness.WaitFor(func() error {
		got, err := listed()
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("node lists %d peers, want the swarm's %d", len(got), n)
		}
		return nil
	}, harness.SyncTimeout))

	// One over the limit: the node hangs up before init.
	err = s.Add(ctx, 1)
	if !errors.Is(err, swarm.ErrNoInit) {
		t.Fatalf("21st peer over a limit of %d: %v, want %v", n, err, swarm.ErrNoInit)
	}
	if _, err := node.WaitLogLine(harness.SyncTimeout, "Refusing inbound peer: limit reached"); err != nil {
		t.Fatal(err)
	}
	got, err := listed()
	check(t, err)
	if !slices.Equal(got, want) {
		t.Fatalf("after the refused peer the node lists %d peers, want the first %d", len(got), n)
	}
	if up, err := s.Connected(); up != n {
		t.Fatalf("%d of %d peers still connected: %v", up, n, err)
	}
}
