//go:build linux

package itest

import (
	"testing"
	"time"

	"lnd.xprv/itest/harness"
)

// scryptBuffer is what the wallet's key derivation allocates at its
// default cost (2^17 × 8 × 128 bytes).
const scryptBuffer = 128 << 20

// TestIdleMemory: once unlocked and idle, a node does not keep the
// scrypt buffers of its start as resident memory. Its resident size
// (with a password, so that the wallet and the macaroon store both
// derive their keys) is logged for docs/benchmarks.md and must stay
// below the wallet's scrypt buffer alone.
func TestIdleMemory(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node, err := nw.AddNode(harness.NodeConfig{Name: "alice",
		Password: []byte("correct horse battery")})
	check(t, err)
	check(t, node.Start()) // creates the wallet
	check(t, node.Restart())
	// Idle: let start-up work (sync, gossip timers) settle first.
	time.Sleep(5 * time.Second)
	rss, err := node.ResidentMemory()
	check(t, err)
	t.Logf("idle resident memory %d MiB", rss>>20)
	if rss >= scryptBuffer {
		t.Fatalf("idle resident memory %d MiB: the start-up scrypt buffers "+
			"(%d MiB) were not returned", rss>>20, scryptBuffer>>20)
	}
	lines := node.LogLines("Start-up memory returned")
	if len(lines) == 0 {
		t.Fatal("no start-up memory release logged")
	}
	t.Log(lines[len(lines)-1])
}
