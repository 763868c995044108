package lnwallet

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
)

var (
	simSeed  = flag.Int64("sim.seed", 0, "seed of TestChannelSim (0: fixed default)")
	simSteps = flag.Int("sim.steps", 100_000, "operations of TestChannelSim's "+
		"anchors run (the static_remotekey run does a tenth)")
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
		{ChannelTypeStaticRemoteKey, *simSteps / 10},
	} {
		t.Run(run.ct.String(), func(t *testing.T) {
			runSim(t, run.ct, seed, run.steps, boltStores(t))
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
	stats, failedAt, err := runOpsStats(t, ct, ops, newStore, true)
	if err == nil {
		t.Logf("%d operations, seed %d, in %v: %v", steps, seed,
			time.Since(start).Round(time.Millisecond), stats)
		return
	}
	t.Errorf("seed %d (rerun with -sim.seed %d): %v", seed, seed, err)
	reportShrunk(t, ct, ops[:min(failedAt+1, len(ops))], newStore)
}

// reportShrunk shrinks a failing operation list (for at most a minute)
// and prints the result as a Go literal.
func reportShrunk(t testing.TB, ct ChannelType, ops []simOp,
	stores func(int) simStore) {

	deadline := time.Now().Add(time.Minute)
	fails := func(o []simOp) bool {
		if time.Now().After(deadline) {
			return false
		}
		return runOps(t, ct, o, stores, true) != nil
	}
	short := shrink(ops, fails, 2000)
	var b strings.Builder
	for _, o := range short {
		fmt.Fprintf(&b, "\t%v,\n", o)
	}
	t.Errorf("shortest failing list (%d ops): %v\n%s", len(short),
		runOps(t, ct, short, stores, true), b.String())
}

// TestChannelSimCases replays short operation lists that once exposed
// bugs (found by shrinking failing runs of TestChannelSim under injected
// faults), on both channel types.
func TestChannelSimCases(t *testing.T) {
	cases := map[string][]simOp{
		// Both sides sign concurrently, then reconnect: the
		// retransmission must keep revoke_and_ack and
		// commitment_signed in their original order.
		"concurrent sign, reconnect": {
			{opAdd, 0, 75437248, 1033},
			{opAdd, 1, 84826, 551},
			{opSign, 1, 0, 0},
			{opSign, 0, 0, 0},
			{opDeliver, 1, 2, 0},
		},
		// A crash right after persisting a commitment_signed that
		// was never sent.
		"crash before send": {
			{opAdd, 0, 5_000_000, 700},
			{opSignCrash, 0, 0, 0},
			{opDeliver, 1, 3, 0},
			{opDeliver, 0, 3, 0},
			{opSign, 1, 0, 0},
		},
		// Settle, fail and fee update racing a commitment.
		"removals and fee": {
			{opAdd, 0, 9_000_000, 700},
			{opAdd, 1, 3_000_000, 700},
			{opSign, 0, 0, 0}, {opSign, 1, 0, 0},
			{opDeliver, 0, 3, 0}, {opDeliver, 1, 3, 0},
			{opDeliver, 0, 3, 0}, {opDeliver, 1, 3, 0},
			{opSign, 0, 0, 0}, {opSign, 1, 0, 0},
			{opDeliver, 0, 3, 0}, {opDeliver, 1, 3, 0},
			{opSettle, 1, 0, 0}, {opFail, 0, 0, 1},
			{opFee, 0, 5000, 0},
			{opSign, 0, 0, 0}, {opRestart, 1, 0, 0},
			{opSign, 1, 0, 0},
		},
	}
	for _, ct := range []ChannelType{ChannelTypeStaticRemoteKey,
		ChannelTypeAnchors} {

		for name, ops := range cases {
			t.Run(ct.String()+"/"+name, func(t *testing.T) {
				err := runOps(t, ct, ops, func(int) simStore {
					return &memSimStore{}
				}, true)
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// FuzzChannelSim drives the simulation with operations decoded from the
// input, four bytes each: kind and side, two parameters.
func FuzzChannelSim(f *testing.F) {
	f.Add([]byte{1, 0, 200, 10, 5, 0, 0, 0, 0, 1, 3, 0, 0, 0, 3, 0})
	f.Add([]byte{1, 0, 255, 10, 1, 1, 40, 20, 5, 1, 0, 0, 5, 0, 0, 0,
		0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 9, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*400 {
			return
		}
		var ops []simOp
		for i := 0; i+4 <= len(data); i += 4 {
			ops = append(ops, decodeOp(data[i:i+4]))
		}
		err := runOps(t, ChannelTypeAnchors, ops, func(int) simStore {
			return &memSimStore{}
		}, true)
		if err != nil {
			var b strings.Builder
			for _, o := range ops {
				fmt.Fprintf(&b, "\t%v,\n", o)
			}
			t.Fatalf("%v\n%s", err, b.String())
		}
	})
}

// decodeOp turns four fuzz bytes into an operation, with parameters in
// the ranges genOp draws from.
func decodeOp(b []byte) simOp {
	op := simOp{Kind: opKind(b[0]&0x7f) % numOps, Side: b[0] >> 7}
	a, p := uint64(b[1]), uint64(b[2])<<8|uint64(b[3])
	switch op.Kind {
	case opDeliver:
		op.A = 1 + a%4
	case opAdd:
		op.A = 1000 + a*a*a*5 // up to ~83M msat, dust below ~1.2M
		op.B = 100 + p%2000
		if p == 0xffff {
			op.B = MaxCltvExpiry
		}
	case opSettle, opFail:
		op.A, op.B = a, p%2
	case opFee:
		op.A = 200 + p*4
	}
	return op
}

// boltSimStore keeps a side's channel in a real bbolt file (fsync off:
// this test simulates process restarts, not power loss). Load closes and
// reopens the file, as a restarted node does.
type boltSimStore struct {
	t    testing.TB
	path string
	db   *channeldb.DB
	op   wire.OutPoint
}

// boltStores returns a factory of bbolt stores in t's temporary
// directory; each call (each replay) gets fresh files.
func boltStores(t testing.TB) func(int) simStore {
	dir := t.TempDir()
	n := 0
	return func(side int) simStore {
		n++
		s := &boltSimStore{t: t,
			path: fmt.Sprintf("%s/side%d-%d.db", dir, side, n)}
		s.open()
		t.Cleanup(func() { s.db.Close() })
		return s
	}
}

func (s *boltSimStore) open() {
	db, err := channeldb.Open(s.path, channeldb.WithNoSync())
	if err != nil {
		s.t.Fatal(err)
	}
	s.db = db
}

func (s *boltSimStore) PersistChannel(ctx context.Context,
	u *channeldb.ChannelUpdate) error {

	s.op = u.State.FundingOutpoint
	return s.db.PersistChannel(ctx, u)
}

func (s *boltSimStore) Load() (*channeldb.OpenChannel, error) {
	if err := s.db.Close(); err != nil {
		return nil, err
	}
	s.open()
	return s.db.FetchOpenChannel(s.op)
}
