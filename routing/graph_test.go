package routing

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// modelChan is a channel as a plain model of the graph keeps it.
type modelChan struct {
	info ChannelInfo
	pols [2]*Policy
}

// TestGraphIncrementalUpdates applies random additions, policy updates and
// removals to a graph and checks it against a plain model after each
// step: every channel's description and policies, and the routes found
// against those of a graph built afresh from the model.
func TestGraphIncrementalUpdates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := NewGraph()
	model := map[uint32]*modelChan{}
	nodes := 12
	randPolicy := func() *Policy {
		return &Policy{
			FeeBaseMsat: uint32(rng.IntN(2000)),
			FeeRatePPM:  uint32(rng.IntN(3000)),
			CLTVDelta:   uint16(18 + rng.IntN(150)),
			MinHTLC:     lnwire.MilliSatoshi(rng.IntN(2000)),
			MaxHTLC:     lnwire.MilliSatoshi(rng.IntN(3)) * 2_000_000,
			Disabled:    rng.IntN(6) == 0,
		}
	}
	next := uint32(1)
	routes := 0
	for step := range 600 {
		ids := make([]uint32, 0, len(model))
		for id := range model {
			ids = append(ids, id)
		}
		switch op := rng.IntN(10); {
		case op < 5 || len(ids) == 0:
			a, b := byte('a'+rng.IntN(nodes)), byte('a'+rng.IntN(nodes))
			if a == b {
				continue
			}
			capacity := btcutil.Amount(rng.IntN(5_000_000))
			if rng.IntN(8) == 0 {
				capacity = 0 // unknown, as for a light client
			}
			c := &modelChan{info: ChannelInfo{ID: scid(next), Node1: vtx(a), Node2: vtx(b),
				Capacity: capacity}}
			next++
			if err := g.AddChannel(c.info); err != nil {
				t.Fatal(err)
			}
			model[c.info.ID.BlockHeight] = c
		case op < 8:
			id := ids[rng.IntN(len(ids))]
			d := rng.IntN(2)
			p := randPolicy()
			if err := g.UpdatePolicy(scid(id), d, *p); err != nil {
				t.Fatal(err)
			}
			model[id].pols[d] = p
		default:
			id := ids[rng.IntN(len(ids))]
			if err := g.RemoveChannel(scid(id)); err != nil {
				t.Fatal(err)
			}
			delete(model, id)
		}
		routes += checkModel(t, step, g, model)
	}
	if routes == 0 {
		t.Fatal("no route compared")
	}
}

// checkModel compares g with the model and returns how many routes it
// compared.
func checkModel(t *testing.T, step int, g *Graph, model map[uint32]*modelChan) int {
	t.Helper()
	if g.NumChannels() != len(model) {
		t.Fatalf("step %d: %d channels, model %d", step, g.NumChannels(), len(model))
	}
	fresh := NewGraph()
	for id, c := range model {
		info, pols, err := g.Channel(scid(id))
		if err != nil {
			t.Fatalf("step %d: channel %d: %v", step, id, err)
		}
		if info != c.info {
			t.Fatalf("step %d: channel %d: %+v, want %+v", step, id, info, c.info)
		}
		for d := range 2 {
			if (pols[d] == nil) != (c.pols[d] == nil) || (pols[d] != nil && *pols[d] != *c.pols[d]) {
				t.Fatalf("step %d: channel %d direction %d: %+v, want %+v", step, id, d, pols[d], c.pols[d])
			}
		}
		if err := fresh.AddChannel(c.info); err != nil {
			t.Fatal(err)
		}
		for d, p := range c.pols {
			if p != nil {
				if err := fresh.UpdatePolicy(c.info.ID, d, *p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Every slot's in-list entries point back at their channel.
	for ci, c := range g.channels {
		if c.nodes[0] == noNode {
			continue
		}
		for d := range 2 {
			e := g.in[c.nodes[1-d]][c.pos[d]]
			if e.ci != uint32(ci) || int(e.dir) != d || e.from != c.nodes[d] {
				t.Fatalf("step %d: channel slot %d direction %d: entry %+v", step, ci, d, e)
			}
			// The forward pass's view of direction d, kept in the
			// sender's list at the place of the reverse direction.
			o := g.outs[c.nodes[d]][c.pos[1-d]]
			wantMax := uint64(0)
			if e.usable() {
				wantMax = e.maxAmt
			}
			if o.to != c.nodes[1-d] || o.maxAmt != wantMax || uint64(o.minHTLC) != min(e.minHTLC, math.MaxUint32) {
				t.Fatalf("step %d: channel slot %d direction %d: out entry %+v for %+v", step, ci, d, o, e)
			}
		}
	}
	checkPairCapacity(t, step, g, model)
	// The same routes as the fresh graph, between a few pairs.
	fi, ff := NewFinder(g, DefaultPathFindingConfig()), NewFinder(fresh, DefaultPathFindingConfig())
	found := 0
	for _, pair := range [][2]byte{{'a', 'b'}, {'c', 'h'}, {'l', 'd'}} {
		q := query(pair[0], pair[1], 1_000_000)
		r1, err1 := fi.FindRoute(&q)
		r2, err2 := ff.FindRoute(&q)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && !errors.Is(err1, ErrNoPath)) {
			t.Fatalf("step %d: %c->%c: %v, fresh graph %v", step, pair[0], pair[1], err1, err2)
		}
		if err1 == nil {
			found++
			verifyRoute(t, g, &q, r1)
			if r1.TotalAmount != r2.TotalAmount || r1.TotalTimeLock != r2.TotalTimeLock || len(r1.Hops) != len(r2.Hops) {
				t.Fatalf("step %d: %c->%c: %v over %v, fresh graph %v over %v", step, pair[0], pair[1],
					r1.TotalAmount, path(r1), r2.TotalAmount, path(r2))
			}
		}
	}
	return found
}

func TestPolicyFromUpdate(t *testing.T) {
	g := buildGraph(t, testChan{id: 1, a: 'a', b: 'b', capSat: 1_000_000})
	u := &lnwire.ChannelUpdate{
		ShortChannelID:  scid(1),
		ChannelFlags:    lnwire.ChanFlagDirection | lnwire.ChanFlagDisabled,
		TimeLockDelta:   144,
		HtlcMinimumMsat: 1000,
		BaseFee:         1000,
		FeeRate:         1,
		HtlcMaximumMsat: 990_000_000,
	}
	if err := g.UpdatePolicy(u.ShortChannelID, u.Direction(), PolicyFromUpdate(u)); err != nil {
		t.Fatal(err)
	}
	_, pols, err := g.Channel(scid(1))
	want := Policy{FeeBaseMsat: 1000, FeeRatePPM: 1, CLTVDelta: 144, MinHTLC: 1000,
		MaxHTLC: 990_000_000, Disabled: true}
	if err != nil || pols[0] != nil || pols[1] == nil || *pols[1] != want {
		t.Errorf("policies %v %v (%v), want direction 1: %+v", pols[0], pols[1], err, want)
	}

	// A payment needs the direction the update enabled: b to a.
	u.ChannelFlags = lnwire.ChanFlagDirection
	if err := g.UpdatePolicy(u.ShortChannelID, u.Direction(), PolicyFromUpdate(u)); err != nil {
		t.Fatal(err)
	}
	r, err := find(t, g, query('b', 'a', 1_000_000))
	wantPath(t, r, err, 1)
	r, err = find(t, g, query('a', 'b', 1_000_000))
	wantNoPath(t, r, err)
}

// TestInEdgeSize holds the cache's layout: one direction, one cache line.
func TestInEdgeSize(t *testing.T) {
	if n := unsafe.Sizeof(inEdge{}); n != 64 {
		t.Errorf("inEdge is %d bytes, want 64", n)
	}
}

// checkPairCapacity compares g.PairCapacity for every ordered pair of
// nodes, at a few amounts, with lnd's rule applied to the model: the
// largest capacity (htlc_maximum_msat where unknown) among enabled
// directions whose htlc range and capacity admit the amount.
func checkPairCapacity(t *testing.T, step int, g *Graph, model map[uint32]*modelChan) {
	t.Helper()
	for a := byte('a'); a < 'a'+12; a++ {
		for b := byte('a'); b < 'a'+12; b++ {
			for _, amt := range []lnwire.MilliSatoshi{1500, 1_000_000_000, 2_000_000_000} {
				var want lnwire.MilliSatoshi
				wantOK := false
				for _, c := range model {
					d := 0
					switch {
					case c.info.Node1 == vtx(a) && c.info.Node2 == vtx(b):
					case c.info.Node2 == vtx(a) && c.info.Node1 == vtx(b):
						d = 1
					default:
						continue
					}
					p := c.pols[d]
					capMsat := lnwire.NewMSatFromSatoshis(c.info.Capacity)
					if p == nil || p.Disabled || amt < p.MinHTLC || (p.MaxHTLC != 0 && amt > p.MaxHTLC) ||
						(capMsat != 0 && amt > capMsat) {
						continue
					}
					if capMsat == 0 {
						capMsat = p.MaxHTLC
					}
					want, wantOK = max(want, capMsat), true
				}
				got, ok := g.PairCapacity(vtx(a), vtx(b), amt)
				if ok != wantOK || got != want.ToSatoshis() {
					t.Fatalf("step %d: %c->%c %v: capacity %v %v, want %v %v", step, a, b, amt, got, ok,
						want.ToSatoshis(), wantOK)
				}
			}
		}
	}
}
