package lnwallet

import (
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

var (
	simSeed  = flag.Int64("sim.seed", 0, "seed of TestChannelSim (0: fixed default)")
	simSteps = flag.Int("sim.steps", 100_000, "operations of TestChannelSim's "+
		"anchors run (the static_remotekey run does a fifth)")
)

// TestChannelSim runs the two-party simulation for each channel type.
func TestChannelSim(t *testing.T) {
	seed := *simSeed
	if seed == 0 {
		seed = 20261206
	}
	for _, run := range []struct {
		ct    ChannelType
		steps int
	}{
		{ChannelTypeAnchors, *simSteps},
		{ChannelTypeStaticRemoteKey, *simSteps / 5},
	} {
		t.Run(run.ct.String(), func(t *testing.T) {
			runSim(t, run.ct, seed, run.steps, func(int) simStore {
				return &memSimStore{}
			})
		})
	}
}

// runSim generates and runs steps operations, and on failure shrinks
// them and prints the shortest list found.
func runSim(t *testing.T, ct ChannelType, seed int64, steps int,
	newStore func(int) simStore) {

	r := rand.New(rand.NewSource(seed))
	ops := make([]simOp, steps)
	for i := range ops {
		ops[i] = genOp(r)
	}
	start := time.Now()
	stats, err := runOpsStats(t, ct, ops, newStore, true)
	if err == nil {
		t.Logf("%d operations, seed %d, in %v: %v", steps, seed,
			time.Since(start).Round(time.Millisecond), stats)
		return
	}
	t.Errorf("seed %d: %v", seed, err)
	memStores := func(int) simStore { return &memSimStore{} }
	fails := func(o []simOp) bool {
		return runOps(t, ct, o, memStores, true) != nil
	}
	short := shrink(ops, fails, 300)
	var b strings.Builder
	for _, o := range short {
		fmt.Fprintf(&b, "\t%v,\n", o)
	}
	t.Errorf("shortest failing list (%d ops): %v\n%s", len(short),
		runOps(t, ct, short, memStores, true), b.String())
}
