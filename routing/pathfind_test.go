package routing

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// vtx is a test node key: 02 followed by b repeated.
func vtx(b byte) Vertex {
	var v Vertex
	v[0] = 2
	for i := 1; i < len(v); i++ {
		v[i] = b
	}
	return v
}

// scid is a test channel ID.
func scid(n uint32) lnwire.ShortChannelID { return lnwire.ShortChannelID{BlockHeight: n} }

// pol is a policy with the given fees and delta, no HTLC bounds.
func pol(base, ppm uint32, delta uint16) *Policy {
	return &Policy{FeeBaseMsat: base, FeeRatePPM: ppm, CLTVDelta: delta}
}

// testGraph builds a graph of channels a-b, each with its two
// directions' policies (nil: no update).
type testChan struct {
	id     uint32
	a, b   byte
	capSat btcutil.Amount
	ab, ba *Policy
}

func buildGraph(t *testing.T, chans ...testChan) *Graph {
	t.Helper()
	g := NewGraph()
	for _, c := range chans {
		if err := g.AddChannel(ChannelInfo{ID: scid(c.id), Node1: vtx(c.a), Node2: vtx(c.b), Capacity: c.capSat}); err != nil {
			t.Fatal(err)
		}
		for d, p := range []*Policy{c.ab, c.ba} {
			if p != nil {
				if err := g.UpdatePolicy(scid(c.id), d, *p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return g
}

// query is a default query from a to b for amt msat at height 100.
func query(a, b byte, amt lnwire.MilliSatoshi) Query {
	return DefaultQuery(vtx(a), vtx(b), amt, 100)
}

func find(t *testing.T, g *Graph, q Query) (*Route, error) {
	t.Helper()
	r, err := NewFinder(g, DefaultPathFindingConfig()).FindRoute(&q)
	if err == nil {
		verifyRoute(t, g, &q, r)
	}
	return r, err
}

// path lists the channel IDs of a route.
func path(r *Route) []uint32 {
	var out []uint32
	for _, h := range r.Hops {
		out = append(out, h.ChannelID.BlockHeight)
	}
	return out
}

func wantPath(t *testing.T, r *Route, err error, want ...uint32) {
	t.Helper()
	if err != nil {
		t.Fatalf("no route: %v; want %v", err, want)
	}
	got := path(r)
	if len(got) != len(want) {
		t.Fatalf("route over %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("route over %v, want %v", got, want)
		}
	}
}

func wantNoPath(t *testing.T, r *Route, err error) {
	t.Helper()
	if !errors.Is(err, ErrNoPath) {
		t.Fatalf("got route %v (err %v), want ErrNoPath", r, err)
	}
}

const bigCap = btcutil.Amount(10_000_000)

func TestFindRouteAmountsAndExpiries(t *testing.T) {
	// s -1- a -2- b -3- d. Fees are charged by a on channel 2 and by b
	// on channel 3; the source's own channel 1 costs it nothing.
	g := buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: pol(5000, 5000, 99)},
		testChan{id: 2, a: 'a', b: 'b', capSat: bigCap, ab: pol(1000, 100, 40)},
		testChan{id: 3, a: 'b', b: 'd', capSat: bigCap, ab: pol(2000, 2500, 30)},
	)
	q := query('s', 'd', 1_000_000)
	r, err := find(t, g, q)
	wantPath(t, r, err, 1, 2, 3)

	// b forwards 1,000,000 and charges 2000 + 1,000,000*2500/1e6 = 4500;
	// a forwards 1,004,500 and charges 1000 + 1,004,500*100/1e6 = 1100
	// (100.45 rounded down).
	want := []Hop{
		{PubKey: vtx('a'), ChannelID: scid(1), AmtToForward: 1_004_500, OutgoingTimeLock: 100 + 83 + 30},
		{PubKey: vtx('b'), ChannelID: scid(2), AmtToForward: 1_000_000, OutgoingTimeLock: 100 + 83},
		{PubKey: vtx('d'), ChannelID: scid(3), AmtToForward: 1_000_000, OutgoingTimeLock: 100 + 83},
	}
	for i := range want {
		if r.Hops[i] != want[i] {
			t.Errorf("hop %d: %+v, want %+v", i, r.Hops[i], want[i])
		}
	}
	if r.TotalAmount != 1_005_600 || r.TotalFees() != 5600 || r.TotalTimeLock != 100+83+30+40 {
		t.Errorf("total %v fees %v time lock %d", r.TotalAmount, r.TotalFees(), r.TotalTimeLock)
	}
	if r.HopFee(0) != 1100 || r.HopFee(1) != 4500 || r.HopFee(2) != 0 {
		t.Errorf("hop fees %v %v %v", r.HopFee(0), r.HopFee(1), r.HopFee(2))
	}
	// Remote source, no history: every hop at the a priori chance.
	if r.Probability != 1 {
		t.Errorf("probability %v without an estimator", r.Probability)
	}
}

func TestFindRoutePrefersCheaper(t *testing.T) {
	// s-a-d pays 10 sat at a; s-b-d pays 1 sat at b.
	g := buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: pol(0, 0, 40)},
		testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: pol(10_000, 0, 40)},
		testChan{id: 3, a: 's', b: 'b', capSat: bigCap, ab: pol(0, 0, 40)},
		testChan{id: 4, a: 'b', b: 'd', capSat: bigCap, ab: pol(1000, 0, 40)},
	)
	r, err := find(t, g, query('s', 'd', 1_000_000))
	wantPath(t, r, err, 3, 4)
}

// diamond: s to d over a (channels 1, 2) or over b (3, 4), b's way the
// cheaper.
func diamond(t *testing.T) *Graph {
	return buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: pol(0, 0, 40), ba: pol(0, 0, 40)},
		testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: pol(10_000, 0, 40), ba: pol(0, 0, 40)},
		testChan{id: 3, a: 's', b: 'b', capSat: bigCap, ab: pol(0, 0, 40), ba: pol(0, 0, 40)},
		testChan{id: 4, a: 'b', b: 'd', capSat: bigCap, ab: pol(1000, 0, 40), ba: pol(0, 0, 40)},
	)
}

func TestFindRouteRestrictions(t *testing.T) {
	g := diamond(t)
	a, b := vtx('a'), vtx('b')

	t.Run("ignored node", func(t *testing.T) {
		q := query('s', 'd', 1_000_000)
		q.IgnoredNodes = []Vertex{b}
		r, err := find(t, g, q)
		wantPath(t, r, err, 1, 2)
		q.IgnoredNodes = []Vertex{a, b}
		r, err = find(t, g, q)
		wantNoPath(t, r, err)
	})
	t.Run("ignored pair", func(t *testing.T) {
		q := query('s', 'd', 1_000_000)
		q.IgnoredPairs = []NodePair{{From: b, To: vtx('d')}}
		r, err := find(t, g, q)
		wantPath(t, r, err, 1, 2)
		// The reverse pair is another pair.
		q.IgnoredPairs = []NodePair{{From: vtx('d'), To: b}}
		r, err = find(t, g, q)
		wantPath(t, r, err, 3, 4)
	})
	t.Run("outgoing channel", func(t *testing.T) {
		q := query('s', 'd', 1_000_000)
		q.OutgoingChannels = []lnwire.ShortChannelID{scid(1)}
		r, err := find(t, g, q)
		wantPath(t, r, err, 1, 2)
		q.OutgoingChannels = []lnwire.ShortChannelID{scid(2)}
		r, err = find(t, g, q)
		wantNoPath(t, r, err)
	})
	t.Run("last hop", func(t *testing.T) {
		q := query('s', 'd', 1_000_000)
		q.LastHop = &a
		r, err := find(t, g, q)
		wantPath(t, r, err, 1, 2)
		q.LastHop = &b
		r, err = find(t, g, q)
		wantPath(t, r, err, 3, 4)
	})
	t.Run("fee limit", func(t *testing.T) {
		q := query('s', 'd', 1_000_000)
		q.FeeLimit = 1000
		r, err := find(t, g, q)
		wantPath(t, r, err, 3, 4)
		q.FeeLimit = 999
		r, err = find(t, g, q)
		wantNoPath(t, r, err)
	})
}

func TestFindRouteCLTVLimit(t *testing.T) {
	// The cheap way (b) holds the HTLC 500 blocks; the dear way (a) 40.
	g := buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: pol(0, 0, 40)},
		testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: pol(3000, 0, 40)},
		testChan{id: 3, a: 's', b: 'b', capSat: bigCap, ab: pol(0, 0, 40)},
		testChan{id: 4, a: 'b', b: 'd', capSat: bigCap, ab: pol(1000, 0, 500)},
	)
	q := query('s', 'd', 1_000_000)
	r, err := find(t, g, q)
	wantPath(t, r, err, 3, 4)

	q.CLTVLimit = 83 + 499
	r, err = find(t, g, q)
	wantPath(t, r, err, 1, 2)
	if r.TotalTimeLock-q.CurrentHeight != 83+40 {
		t.Errorf("time lock %d above height", r.TotalTimeLock-q.CurrentHeight)
	}
	q.CLTVLimit = 83 + 39
	r, err = find(t, g, q)
	wantNoPath(t, r, err)
}

func TestFindRoutePolicyLimits(t *testing.T) {
	disabled := pol(0, 0, 40)
	disabled.Disabled = true
	minHTLC := pol(0, 0, 40)
	minHTLC.MinHTLC = 2_000_000
	maxHTLC := pol(0, 0, 40)
	maxHTLC.MaxHTLC = 999_999

	tests := []struct {
		name string
		mid  testChan // the channel a-d; s-a is open
	}{
		{"disabled", testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: disabled}},
		{"only the other direction", testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ba: pol(0, 0, 40)}},
		{"no update", testChan{id: 2, a: 'a', b: 'd', capSat: bigCap}},
		{"htlc_minimum_msat", testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: minHTLC}},
		{"htlc_maximum_msat", testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: maxHTLC}},
		{"capacity", testChan{id: 2, a: 'a', b: 'd', capSat: 999, ab: pol(0, 0, 40)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := buildGraph(t,
				testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: pol(0, 0, 40)},
				tc.mid,
			)
			r, err := find(t, g, query('s', 'd', 1_000_000))
			wantNoPath(t, r, err)
		})
	}

	// The limits count the fees of later hops: 1,000,000 to d needs
	// a to receive 1,001,000 over channel 1, above its maximum.
	max1 := pol(0, 0, 40)
	max1.MaxHTLC = 1_000_999
	g := buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: max1},
		testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: pol(1000, 0, 40)},
	)
	r, err := find(t, g, query('s', 'd', 1_000_000))
	wantNoPath(t, r, err)
	r, err = find(t, g, query('s', 'd', 999_999))
	wantPath(t, r, err, 1, 2)
}

func TestFindRouteHints(t *testing.T) {
	// d is private: only the hint b -> d (channel 9) reaches it.
	g := buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: pol(0, 0, 40)},
		testChan{id: 2, a: 'a', b: 'b', capSat: bigCap, ab: pol(0, 0, 40)},
	)
	q := query('s', 'd', 1_000_000)
	r, err := find(t, g, q)
	wantNoPath(t, r, err)

	q.ExtraEdges = []ExtraEdge{{From: vtx('b'), To: vtx('d'), ChannelID: scid(9),
		Policy: Policy{FeeBaseMsat: 1000, FeeRatePPM: 1000, CLTVDelta: 144}}}
	r, err = find(t, g, q)
	wantPath(t, r, err, 1, 2, 9)
	if r.HopFee(1) != 2000 || r.TotalTimeLock != 100+83+144+40 {
		t.Errorf("hint fee %v, time lock %d", r.HopFee(1), r.TotalTimeLock)
	}

	// A hint is a channel like any other: its limits hold.
	q.ExtraEdges[0].Policy.MaxHTLC = 999_999
	r, err = find(t, g, q)
	wantNoPath(t, r, err)
}

func TestFindRouteLocalSource(t *testing.T) {
	// Our channels 1 (disabled by its own update: the bit means
	// nothing for our own channel) and 3; both routes cost the same.
	off := pol(0, 0, 40)
	off.Disabled = true
	g := buildGraph(t,
		testChan{id: 1, a: 's', b: 'a', capSat: bigCap, ab: off},
		testChan{id: 2, a: 'a', b: 'd', capSat: bigCap, ab: pol(1000, 0, 40)},
		testChan{id: 3, a: 's', b: 'b', capSat: bigCap, ab: pol(0, 0, 40)},
		testChan{id: 4, a: 'b', b: 'd', capSat: bigCap, ab: pol(1000, 0, 40)},
	)
	balance := map[uint32]lnwire.MilliSatoshi{1: 5_000_000, 3: 1_000_000}
	q := query('s', 'd', 2_000_000)
	q.LocalBandwidth = func(id lnwire.ShortChannelID, _ lnwire.MilliSatoshi) (lnwire.MilliSatoshi, bool) {
		bw, ok := balance[id.BlockHeight]
		return bw, ok
	}
	r, err := find(t, g, q)
	wantPath(t, r, err, 1, 2)

	balance[1] = 0
	r, err = find(t, g, q)
	wantNoPath(t, r, err)

	// As a remote node, s's disabled channel 1 is closed to it.
	q = query('s', 'd', 2_000_000)
	q.IgnoredNodes = []Vertex{vtx('b')}
	r, err = find(t, g, q)
	wantNoPath(t, r, err)
}

func TestFindRouteUpdates(t *testing.T) {
	g := diamond(t)
	r, err := find(t, g, query('s', 'd', 1_000_000))
	wantPath(t, r, err, 3, 4)

	p := pol(1000, 0, 40)
	p.Disabled = true
	if err := g.UpdatePolicy(scid(4), 0, *p); err != nil {
		t.Fatal(err)
	}
	r, err = find(t, g, query('s', 'd', 1_000_000))
	wantPath(t, r, err, 1, 2)

	if err := g.RemoveChannel(scid(2)); err != nil {
		t.Fatal(err)
	}
	r, err = find(t, g, query('s', 'd', 1_000_000))
	wantNoPath(t, r, err)

	// A new channel reuses the freed slot; the search finds it.
	if err := g.AddChannel(ChannelInfo{ID: scid(7), Node1: vtx('a'), Node2: vtx('d'), Capacity: bigCap}); err != nil {
		t.Fatal(err)
	}
	if err := g.UpdatePolicy(scid(7), 0, *pol(5, 0, 40)); err != nil {
		t.Fatal(err)
	}
	r, err = find(t, g, query('s', 'd', 1_000_000))
	wantPath(t, r, err, 1, 7)

	if err := g.RemoveChannel(scid(2)); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("removing a removed channel: %v", err)
	}
	if err := g.AddChannel(ChannelInfo{ID: scid(7), Node1: vtx('a'), Node2: vtx('d')}); !errors.Is(err, ErrChannelExists) {
		t.Errorf("adding a channel twice: %v", err)
	}
	info, pols, err := g.Channel(scid(4))
	if err != nil || info.Node1 != vtx('b') || pols[0] == nil || !pols[0].Disabled || pols[1] == nil || pols[1].FeeBaseMsat != 0 {
		t.Errorf("channel 4: %+v %v %v", info, pols, err)
	}
}

func TestFindRouteBadQueries(t *testing.T) {
	g := diamond(t)
	for name, q := range map[string]Query{
		"zero amount": query('s', 'd', 0),
		"to itself":   query('s', 's', 1000),
		"time pref":   func() Query { q := query('s', 'd', 1000); q.TimePref = 2; return q }(),
		"final delta": func() Query { q := query('s', 'd', 1000); q.CLTVLimit = 82; return q }(),
	} {
		if _, err := find(t, g, q); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, q := range map[string]Query{
		"unknown source": query('x', 'd', 1000),
		"unknown target": query('s', 'x', 1000),
	} {
		if _, err := find(t, g, q); !errors.Is(err, ErrNoPath) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestFindRouteConcurrent searches from several goroutines while the graph
// is updated (run with -race).
func TestFindRouteConcurrent(t *testing.T) {
	g := diamond(t)
	f := NewFinder(g, DefaultPathFindingConfig())
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				q := query('s', 'd', 1_000_000)
				r, err := f.FindRoute(&q)
				if err != nil {
					errs <- err
					return
				}
				if p := path(r); len(p) != 2 {
					errs <- errors.New("route of the wrong length")
					return
				}
			}
		}()
	}
	for i := range 200 {
		p := pol(uint32(i), 0, 40)
		if err := g.UpdatePolicy(scid(4), 0, *p); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestFindRouteIgnoredChannels: an ignored channel is skipped, and an
// extra edge with its ID replaces its policy for the query.
func TestFindRouteIgnoredChannels(t *testing.T) {
	g := buildGraph(t,
		testChan{id: 1, a: 1, b: 2, capSat: 1e6, ab: pol(0, 0, 10), ba: pol(0, 0, 10)},
		testChan{id: 2, a: 2, b: 3, capSat: 1e6, ab: pol(100, 0, 10), ba: pol(100, 0, 10)},
		testChan{id: 3, a: 2, b: 3, capSat: 1e6, ab: pol(500, 0, 10), ba: pol(500, 0, 10)},
	)
	f := NewFinder(g, DefaultPathFindingConfig())
	q := query(1, 3, 10_000)
	r, err := f.FindRoute(&q)
	if err != nil || r.Hops[1].ChannelID != scid(2) {
		t.Fatalf("cheapest: %v %+v", err, r)
	}
	q.IgnoredChannels = []lnwire.ShortChannelID{scid(2)}
	if r, err = f.FindRoute(&q); err != nil || r.Hops[1].ChannelID != scid(3) {
		t.Fatalf("channel 2 ignored: %v %+v", err, r)
	}
	// Channel 2 at a dearer policy, for this query only.
	q.ExtraEdges = []ExtraEdge{{From: vtx(2), To: vtx(3), ChannelID: scid(2), Policy: *pol(300, 0, 10)}}
	if r, err = f.FindRoute(&q); err != nil || r.Hops[1].ChannelID != scid(2) || r.TotalFees() != 300 {
		t.Fatalf("channel 2 replaced: %v %+v", err, r)
	}
	q.ExtraEdges[0].Policy = *pol(900, 0, 10)
	if r, err = f.FindRoute(&q); err != nil || r.Hops[1].ChannelID != scid(3) {
		t.Fatalf("channel 2 replaced by a dearer policy: %v %+v", err, r)
	}
}
