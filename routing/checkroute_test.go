package routing

import (
	"math/big"
	"slices"
	"testing"

	"lnd.xprv/lnwire"
)

// bolt7FeeBig is BOLT 7's fee in arbitrary precision, to check the path
// finder's 64-bit arithmetic against: fee_base_msat + amount *
// fee_proportional_millionths / 1000000, rounded down.
func bolt7FeeBig(p Policy, amt lnwire.MilliSatoshi) lnwire.MilliSatoshi {
	f := new(big.Int).SetUint64(uint64(amt))
	f.Mul(f, big.NewInt(int64(p.FeeRatePPM)))
	f.Quo(f, big.NewInt(1_000_000))
	f.Add(f, big.NewInt(int64(p.FeeBaseMsat)))
	return lnwire.MilliSatoshi(f.Uint64())
}

// verifyRoute checks, independently of the path finder, that r is a route
// the query allows: every hop's channel exists, is open in that
// direction and can carry what crosses it, every amount and expiry is
// what BOLT 7 and BOLT 4 make it, and every limit of q holds.
func verifyRoute(t testing.TB, g *Graph, q *Query, r *Route) {
	t.Helper()
	n := len(r.Hops)
	if n == 0 {
		t.Fatalf("empty route")
	}
	if r.SourcePubKey != q.Source || r.Hops[n-1].PubKey != q.Target {
		t.Fatalf("route from %v to %v", r.SourcePubKey, r.Hops[n-1].PubKey)
	}

	// Each hop's channel and the policy of its direction.
	pols := make([]Policy, n)
	caps := make([]lnwire.MilliSatoshi, n)
	prev := q.Source
	seen := map[Vertex]bool{q.Source: true}
	for i, h := range r.Hops {
		if seen[h.PubKey] {
			t.Fatalf("hop %d: %v visited twice", i, h.PubKey)
		}
		seen[h.PubKey] = true
		p, capMsat, ok := hopPolicy(g, q, prev, h)
		if !ok {
			t.Fatalf("hop %d: no usable channel %v from %v to %v", i, h.ChannelID, prev, h.PubKey)
		}
		if p.Disabled && !(i == 0 && q.LocalBandwidth != nil) {
			t.Fatalf("hop %d: channel %v disabled", i, h.ChannelID)
		}
		if slices.Contains(q.IgnoredNodes, h.PubKey) {
			t.Fatalf("hop %d: ignored node %v", i, h.PubKey)
		}
		if slices.Contains(q.IgnoredPairs, NodePair{From: prev, To: h.PubKey}) {
			t.Fatalf("hop %d: ignored pair", i)
		}
		pols[i], caps[i] = p, capMsat
		prev = h.PubKey
	}

	// Amounts and expiries, backwards from the recipient: what crosses
	// channel i is what crosses channel i+1 plus the fee its sender
	// (hop i's node) charges on it by channel i+1's policy.
	amts := make([]lnwire.MilliSatoshi, n) // crossing channel i
	exps := make([]uint32, n)              // expiry of the HTLC on channel i
	amts[n-1] = q.Amount
	exps[n-1] = q.CurrentHeight + uint32(q.FinalCLTVDelta)
	for i := n - 2; i >= 0; i-- {
		amts[i] = amts[i+1] + bolt7FeeBig(pols[i+1], amts[i+1])
		exps[i] = exps[i+1] + uint32(pols[i+1].CLTVDelta)
	}
	if r.TotalAmount != amts[0] || r.TotalTimeLock != exps[0] {
		t.Fatalf("route sends %v expiring %d, want %v expiring %d",
			r.TotalAmount, r.TotalTimeLock, amts[0], exps[0])
	}
	for i, h := range r.Hops {
		wantAmt, wantExp := q.Amount, exps[n-1]
		if i < n-1 {
			wantAmt, wantExp = amts[i+1], exps[i+1]
		}
		if h.AmtToForward != wantAmt || h.OutgoingTimeLock != wantExp {
			t.Fatalf("hop %d forwards %v expiring %d, want %v expiring %d",
				i, h.AmtToForward, h.OutgoingTimeLock, wantAmt, wantExp)
		}
		// The channel carries what crosses it.
		p := pols[i]
		switch {
		case caps[i] > 0 && amts[i] > caps[i]:
			t.Fatalf("hop %d: %v over capacity %v", i, amts[i], caps[i])
		case p.MaxHTLC != 0 && amts[i] > p.MaxHTLC:
			t.Fatalf("hop %d: %v over htlc_maximum_msat %v", i, amts[i], p.MaxHTLC)
		case amts[i] < p.MinHTLC:
			t.Fatalf("hop %d: %v under htlc_minimum_msat %v", i, amts[i], p.MinHTLC)
		}
	}

	// The query's limits.
	if fees := amts[0] - q.Amount; fees > q.FeeLimit {
		t.Fatalf("fees %v over the limit %v", fees, q.FeeLimit)
	}
	if tl := exps[0] - q.CurrentHeight; tl > q.CLTVLimit {
		t.Fatalf("time lock %d over the limit %d", tl, q.CLTVLimit)
	}
	if len(q.OutgoingChannels) > 0 && !slices.Contains(q.OutgoingChannels, r.Hops[0].ChannelID) {
		t.Fatalf("first channel %v not allowed", r.Hops[0].ChannelID)
	}
	if q.LastHop != nil {
		last := q.Source
		if n > 1 {
			last = r.Hops[n-2].PubKey
		}
		if last != *q.LastHop {
			t.Fatalf("last hop %v, want %v", last, *q.LastHop)
		}
	}
	if r.Probability <= 0 || r.Probability > 1 {
		t.Fatalf("probability %v", r.Probability)
	}
}

// hopPolicy finds the channel of hop h, from prev, in the graph or among
// the query's extra edges.
func hopPolicy(g *Graph, q *Query, prev Vertex, h Hop) (Policy, lnwire.MilliSatoshi, bool) {
	for _, e := range q.ExtraEdges {
		if e.ChannelID == h.ChannelID && e.From == prev && e.To == h.PubKey {
			c := e.Capacity
			if c == 0 {
				c = hintCapacity
			}
			return e.Policy, lnwire.NewMSatFromSatoshis(c), true
		}
	}
	info, pols, err := g.Channel(h.ChannelID)
	if err != nil {
		return Policy{}, 0, false
	}
	var d int
	switch {
	case info.Node1 == prev && info.Node2 == h.PubKey:
		d = 0
	case info.Node2 == prev && info.Node1 == h.PubKey:
		d = 1
	default:
		return Policy{}, 0, false
	}
	if pols[d] == nil {
		return Policy{}, 0, false
	}
	return *pols[d], lnwire.NewMSatFromSatoshis(info.Capacity), true
}
