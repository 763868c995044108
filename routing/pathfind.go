package routing

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// Path-finding defaults, lnd's (routerrpc and routing), so that the two
// pick routes the same way.
const (
	// DefaultAttemptCost is the fixed virtual cost of a failed attempt.
	DefaultAttemptCost = lnwire.MilliSatoshi(100_000)

	// DefaultAttemptCostPPM is the part of the amount added to it.
	DefaultAttemptCostPPM = 1000

	// DefaultMinProbability is the least success probability a route
	// may have.
	DefaultMinProbability = 0.01

	// DefaultCLTVLimit is the most a route's time lock may lie above
	// the current height, final delta included (lnd's
	// max-cltv-expiry).
	DefaultCLTVLimit = 2016

	// DefaultFinalCLTVDelta is the final hop's delta when the invoice
	// gives none: lnd's 80 plus its 3 blocks of padding.
	DefaultFinalCLTVDelta = 83

	// DefaultFeeLimitPercent is lnd's fee limit when the caller sets
	// none: 5% of the amount.
	DefaultFeeLimitPercent = 5

	// riskFactorBillionths weighs the amount a hop's CLTV delta locks
	// up against fees: 15 per billion msat-blocks.
	riskFactorBillionths = 15

	// hintCapacity stands for the unknown capacity of a route hint's
	// channel: ample, as a wallet only hints channels that can pay.
	hintCapacity = btcutil.Amount(10 * btcutil.SatoshiPerBitcoin)
)

var (
	// ErrNoPath is returned when no route satisfies the query.
	ErrNoPath = errors.New("routing: no path found")

	// ErrBadQuery is returned for a query that cannot be answered.
	ErrBadQuery = errors.New("routing: invalid query")
)

// Estimator gives the chance that from forwards amt to to over a channel
// of the given capacity. Mission control's snapshot is one.
type Estimator interface {
	PairProbability(from, to Vertex, amt lnwire.MilliSatoshi, capacity btcutil.Amount) float64
}

// NodePair is a directed pair of nodes.
type NodePair struct {
	From, To Vertex
}

// ExtraEdge is a channel the graph does not hold, known for one query: a
// route hint's private channel.
type ExtraEdge struct {
	From, To  Vertex
	ChannelID lnwire.ShortChannelID
	Policy    Policy

	// Capacity, when zero, is taken as ample (10 BTC, as lnd does).
	Capacity btcutil.Amount
}

// Query is one path-finding request, QueryRoutes' shape.
type Query struct {
	Source, Target Vertex
	Amount         lnwire.MilliSatoshi

	// CurrentHeight anchors the route's expiries.
	CurrentHeight  uint32
	FinalCLTVDelta uint16

	// FeeLimit caps the fees of the whole route.
	FeeLimit lnwire.MilliSatoshi

	// CLTVLimit caps how far the route's total time lock may lie
	// above CurrentHeight, final delta included.
	CLTVLimit uint32

	// OutgoingChannels, when set, are the only channels the source
	// may use.
	OutgoingChannels []lnwire.ShortChannelID

	// LastHop, when set, must be the node before Target.
	LastHop *Vertex

	IgnoredNodes []Vertex
	IgnoredPairs []NodePair

	// IgnoredChannels are graph channels the route may not use (in
	// either direction). An extra edge with the same ID stays usable:
	// a payment replaces a channel's policy for its retries that way.
	IgnoredChannels []lnwire.ShortChannelID

	// ExtraEdges add private channels for this query (route hints).
	ExtraEdges []ExtraEdge

	// TimePref, in [-1, 1], trades fees (-1) against reliability (1).
	TimePref float64

	// LocalBandwidth, when set, makes Source our own node: its channels
	// are judged by their live balance (ok false: unknown, assumed
	// ample) and their disable bit is ignored, as lnd does for local
	// channels. When nil, Source is treated as a remote node and its
	// channels are judged by their policies like any other.
	LocalBandwidth func(id lnwire.ShortChannelID, amt lnwire.MilliSatoshi) (bw lnwire.MilliSatoshi, ok bool)

	// Estimator scores each hop. Nil assumes every hop succeeds.
	Estimator Estimator
}

// DefaultQuery is a query with lnd's default limits for amt.
func DefaultQuery(source, target Vertex, amt lnwire.MilliSatoshi, height uint32) Query {
	return Query{
		Source:         source,
		Target:         target,
		Amount:         amt,
		CurrentHeight:  height,
		FinalCLTVDelta: DefaultFinalCLTVDelta,
		FeeLimit:       amt * DefaultFeeLimitPercent / 100,
		CLTVLimit:      DefaultCLTVLimit,
	}
}

// PathFindingConfig holds the settings shared by every query.
type PathFindingConfig struct {
	AttemptCost    lnwire.MilliSatoshi
	AttemptCostPPM int64
	MinProbability float64
}

// DefaultPathFindingConfig is lnd's.
func DefaultPathFindingConfig() PathFindingConfig {
	return PathFindingConfig{
		AttemptCost:    DefaultAttemptCost,
		AttemptCostPPM: DefaultAttemptCostPPM,
		MinProbability: DefaultMinProbability,
	}
}

// Finder finds routes through a Graph. It keeps its scratch space between
// queries; it is safe for concurrent use.
type Finder struct {
	g       *Graph
	cfg     PathFindingConfig
	scratch sync.Pool

	// dijkstra turns the A* bound off (plain Dijkstra, as lnd
	// searches), for tests that compare the two.
	dijkstra bool
}

// NewFinder searches g with cfg.
func NewFinder(g *Graph, cfg PathFindingConfig) *Finder {
	return &Finder{g: g, cfg: cfg}
}

// extraFlag marks a next-hop reference to a query's extra edge rather than
// a graph channel direction.
const extraFlag = 1 << 31

// nodeState is what a search knows of one node: the cheapest way found
// from it to the target.
type nodeState struct {
	key    int64   // lnd's cost, its probability term bounded for the hops to the source
	weight int64   // fees and time-lock penalty to the target
	amt    uint64  // what the node must receive, msat
	prob   float64 // success probability to the target
	cltv   uint32  // time lock above the height it must receive
	next   uint32  // the edge it sends over: ci<<1|dir, or extraFlag|i
	size   uint32  // onion payload bytes of the hops after it
	gen    uint32  // search that wrote this; older means unvisited
	heap   int32   // position in the heap, notQueued, or settled
}

// Heap positions of nodes out of the heap.
const (
	notQueued = -1
	settled   = -2 // popped: its way to the target is final
)

// reachMark is what the forward pass knows of a node; one array of them,
// so that a visit reads one place.
type reachMark struct {
	gen uint32
	k   uint8
}

// search is the scratch space of one query, reused by later ones.
type search struct {
	st   []nodeState
	hist []uint32 // gen where the node has mission control history

	// The forward pass from the source: reached[n].gen == gen when n
	// can be reached, with at least reached[n].k hops sent by nodes
	// without history on the way; bound[k] is 1 / (their best
	// probability)^k.
	reached []reachMark
	queue   []uint32
	queue2  []uint32
	bound   []float64
	heap    []uint32
	gen     uint32

	// Per-query sets, cleared before use.
	ignored    map[uint32]struct{}
	pairs      map[[2]uint32]struct{}
	outgoing   map[uint64]struct{}
	chans      map[uint64]struct{}
	extraIn    map[uint32][]int
	extraNodes map[Vertex]uint32
	extraEdges []inEdge
	virtual    []Vertex
}

// FindRoute returns the cheapest route for q by lnd's measure: fees plus a
// time-lock penalty plus the attempt cost divided by the success
// probability. It searches from the target back to the source, so every
// hop's amount includes the fees of the hops after it exactly.
func (f *Finder) FindRoute(q *Query) (*Route, error) {
	if q.Amount == 0 || q.Amount > lnwire.MaxMilliSatoshi {
		return nil, fmt.Errorf("%w: amount %v", ErrBadQuery, q.Amount)
	}
	if math.Abs(q.TimePref) > 1 || math.IsNaN(q.TimePref) {
		return nil, fmt.Errorf("%w: time preference %v", ErrBadQuery, q.TimePref)
	}
	if q.Source == q.Target {
		return nil, fmt.Errorf("%w: source is the target", ErrBadQuery)
	}
	if uint32(q.FinalCLTVDelta) > q.CLTVLimit {
		return nil, fmt.Errorf("%w: final CLTV delta %d over the limit %d",
			ErrBadQuery, q.FinalCLTVDelta, q.CLTVLimit)
	}

	s, _ := f.scratch.Get().(*search)
	if s == nil {
		s = &search{}
	}
	defer f.scratch.Put(s)

	f.g.mu.RLock()
	defer f.g.mu.RUnlock()
	return f.find(s, q)
}

// find runs the search; the caller holds the graph's read lock.
func (f *Finder) find(s *search, q *Query) (*Route, error) {
	s.reset(len(f.g.nodes))
	x := expander{
		f: f, s: s, q: q,
		attemptCost: attemptCost(f.cfg, q),
		lastHop:     noNode,
		self:        noNode,
	}
	if err := x.prepare(); err != nil {
		return nil, err
	}
	if !x.reach(x.hopBound()) {
		return nil, ErrNoPath
	}
	// The search starts at the target, which receives the payment.
	s.st[x.tgt] = nodeState{
		amt:  uint64(q.Amount),
		cltv: uint32(q.FinalCLTVDelta),
		prob: 1,
		next: noNode,
		size: uint32(hopPayloadSize(uint64(q.Amount), q.CurrentHeight+uint32(q.FinalCLTVDelta), true)),
		gen:  s.gen,
		heap: settled,
	}

	for pivot := x.tgt; pivot != x.src; pivot = s.pop() {
		x.expand(pivot)
		if len(s.heap) == 0 {
			return nil, ErrNoPath
		}
	}
	return x.route()
}

// hopBound bounds from above the probability of a hop sent by a node with
// no mission-control history (and not our own): the apriori estimator
// gives such hops the a priori probability at most. Hops from the other
// nodes are bounded by 1. With another estimator (the bimodal one gives
// small amounts a probability near 1), or for the tests' plain Dijkstra,
// every hop is bounded by 1 and the forward pass only prunes.
func (x *expander) hopBound() float64 {
	if x.snap == nil || x.snap.bimodal != nil || x.f.dijkstra {
		return 1
	}
	return x.snap.cfg.HopProbability
}

// reach finds the nodes the source can reach over directions that could
// carry the payment (enabled, htlc_maximum_msat and capacity at least the
// amount, htlc_minimum_msat at most the amount plus the fee limit). For
// each it counts the fewest hops on the way that are sent by nodes without
// history (k), so that best^k bounds the probability of any way from the
// source to it, and it fills the search's bound for each k.
//
// The backward search skips the nodes this pass does not reach and orders
// the others by their cost so far with the probability term divided by
// this bound (A*), so that it settles far fewer nodes than Dijkstra alone
// on a graph where three hops reach almost every node. It reports whether
// the target is reached.
func (x *expander) reach(best float64) bool {
	g, s, q := x.f.g, x.s, x.q
	maxK := maxRoutingInfo / hopPayloadSize(0, 0, false)
	if best < 1 && x.f.cfg.MinProbability > 0 {
		maxK = min(maxK, int(math.Log(x.f.cfg.MinProbability)/math.Log(best)+1e-9))
	}
	s.bound = s.bound[:0]
	for k, b := 0, 1.0; k <= maxK; k++ {
		s.bound = append(s.bound, b)
		b /= best
	}

	amt := uint64(q.Amount)
	maxAmt := amt + uint64(q.FeeLimit)
	localSrc := q.LocalBandwidth != nil
	cur, next := append(s.queue[:0], x.src), s.queue2[:0]
	s.reached[x.src] = reachMark{gen: s.gen}
	for k := 0; k <= maxK && len(cur) > 0; k++ {
		// A level grows while it is walked: hops from nodes with
		// history add to it, the others to the next level.
		for i := 0; i < len(cur); i++ {
			u := cur[i]
			if int(s.reached[u].k) != k {
				continue // lowered since it was queued
			}
			nk := uint8(k + 1)
			if best < 1 && (s.hist[u] == s.gen || u == x.self) {
				nk = uint8(k)
			}
			if int(nk) > maxK {
				continue
			}
			if int(u) < len(g.nodes) {
				if u == x.src && localSrc {
					x.reachOwn(u, nk, &cur, &next)
				} else {
					for _, o := range g.outs[u] {
						if o.maxAmt < amt || uint64(o.minHTLC) > maxAmt {
							continue
						}
						if x.visit(o.to, nk) {
							if int(nk) == k {
								cur = append(cur, o.to)
							} else {
								next = append(next, o.to)
							}
						}
					}
				}
			}
			for j := range s.extraEdges {
				e := &s.extraEdges[j]
				if e.from != u || e.flags != dirKnown || e.maxAmt < amt || e.minHTLC > maxAmt {
					continue
				}
				to, _ := x.index(q.ExtraEdges[j].To)
				if x.visit(to, nk) {
					if int(nk) == k {
						cur = append(cur, to)
					} else {
						next = append(next, to)
					}
				}
			}
		}
		if best < 1 && s.reached[x.tgt].gen == s.gen && len(next) > 0 {
			// Levels up to k are complete: every node not reached
			// yet lies at level k+1 or beyond, a bound good enough
			// for A*; walking the rest of the graph would cost
			// more than it saves. (Without a bound, the pass is
			// worth finishing for what it prunes.)
			x.partial, x.beyond = true, uint8(k+1)
			break
		}
		cur, next = next, cur[:0]
	}
	s.queue, s.queue2 = cur[:0], next[:0]
	return s.reached[x.tgt].gen == s.gen
}

// reachOwn is the forward pass's step from our own node u (the source,
// with live balances): its channels count whatever their disable bit says.
func (x *expander) reachOwn(u uint32, nk uint8, cur, next *[]uint32) {
	amt := uint64(x.q.Amount)
	maxAmt := amt + uint64(x.q.FeeLimit)
	for _, e := range x.f.g.in[u] {
		// The reverse of an in-list entry is u's own direction.
		if e.outFlags&dirKnown == 0 || e.outMaxAmt < amt || e.outMinHTLC > maxAmt {
			continue
		}
		if x.visit(e.from, nk) {
			if nk == 0 {
				*cur = append(*cur, e.from)
			} else {
				*next = append(*next, e.from)
			}
		}
	}
}

// visit records that the forward pass reached v at level k, and reports
// whether that is news: v had not been reached, or only at a higher level.
func (x *expander) visit(v uint32, k uint8) bool {
	s := x.s
	if m := s.reached[v]; m.gen == s.gen && m.k <= k {
		return false
	}
	if len(s.ignored) > 0 {
		if _, ok := s.ignored[v]; ok {
			return false
		}
	}
	s.reached[v] = reachMark{gen: s.gen, k: k}
	return true
}

// prepare numbers the query's nodes and fills the search's per-query
// sets. Nodes only route hints name get indices after the graph's.
func (x *expander) prepare() error {
	g, s, q := x.f.g, x.s, x.q
	s.extraEdges = append(s.extraEdges[:0], make([]inEdge, len(q.ExtraEdges))...)
	for i := range q.ExtraEdges {
		e := &q.ExtraEdges[i]
		// Our own channels in the graph are judged by their live
		// balances; a hint naming one is stale or malformed (lnd skips
		// them too). One of ours the graph lacks (not announced) may be
		// given as an extra edge and is judged the same way.
		if e.From == e.To {
			continue
		}
		if q.LocalBandwidth != nil && e.From == q.Source {
			if _, inGraph := g.chanIdx[e.ChannelID.ToUint64()]; inGraph {
				continue
			}
		}
		var ends [2]uint32
		for j, v := range [2]Vertex{e.From, e.To} {
			idx, ok := x.index(v)
			if !ok {
				idx = uint32(len(g.nodes) + len(s.virtual))
				s.virtual = append(s.virtual, v)
				s.extraNodes[v] = idx
				s.grow(int(idx) + 1)
			}
			ends[j] = idx
		}
		s.extraIn[ends[1]] = append(s.extraIn[ends[1]], i)
		capSat := e.Capacity
		if capSat == 0 {
			capSat = hintCapacity
		}
		ie := inEdge{from: ends[0], capacity: uint64(lnwire.NewMSatFromSatoshis(capSat))}
		setPolicy(&ie, e.Policy)
		s.extraEdges[i] = ie
	}

	var ok bool
	if x.src, ok = x.index(q.Source); !ok {
		return fmt.Errorf("%w: source %v not in graph", ErrNoPath, q.Source)
	}
	if x.tgt, ok = x.index(q.Target); !ok {
		return fmt.Errorf("%w: target %v not in graph", ErrNoPath, q.Target)
	}
	if q.LastHop != nil {
		if x.lastHop, ok = x.index(*q.LastHop); !ok {
			return fmt.Errorf("%w: last hop %v not in graph", ErrNoPath, *q.LastHop)
		}
	}
	for _, v := range q.IgnoredNodes {
		if i, ok := x.index(v); ok {
			s.ignored[i] = struct{}{}
		}
	}
	for _, p := range q.IgnoredPairs {
		a, ok1 := x.index(p.From)
		b, ok2 := x.index(p.To)
		if ok1 && ok2 {
			s.pairs[[2]uint32{a, b}] = struct{}{}
		}
	}
	for _, c := range q.OutgoingChannels {
		s.outgoing[c.ToUint64()] = struct{}{}
	}
	for _, c := range q.IgnoredChannels {
		s.chans[c.ToUint64()] = struct{}{}
	}
	if snap, ok := q.Estimator.(*Snapshot); ok && snap != nil {
		x.snap = snap
		if i, ok := x.index(snap.self); ok {
			x.self = i
		}
		for v := range snap.results {
			if i, ok := x.index(v); ok {
				s.hist[i] = s.gen
			}
		}
	}
	return nil
}

// attemptCost is lnd's virtual cost of a failed attempt, scaled by the
// time preference.
func attemptCost(cfg PathFindingConfig, q *Query) float64 {
	c := float64(cfg.AttemptCost + q.Amount*lnwire.MilliSatoshi(cfg.AttemptCostPPM)/1_000_000)
	tp := q.TimePref * 0.9
	return c * (1/(0.5-tp/2) - 1)
}

// reset readies s for a search of a graph of n nodes.
func (s *search) reset(n int) {
	s.grow(n)
	s.gen++
	if s.gen == 0 {
		// Wrapped: stale states could pass for current ones.
		for i := range s.st {
			s.st[i].gen = 0
			s.hist[i] = 0
			s.reached[i] = reachMark{}
		}
		s.gen = 1
	}
	s.heap = s.heap[:0]
	if s.ignored == nil {
		s.ignored = make(map[uint32]struct{})
		s.pairs = make(map[[2]uint32]struct{})
		s.outgoing = make(map[uint64]struct{})
		s.chans = make(map[uint64]struct{})
		s.extraIn = make(map[uint32][]int)
		s.extraNodes = make(map[Vertex]uint32)
	}
	clear(s.ignored)
	clear(s.pairs)
	clear(s.outgoing)
	clear(s.chans)
	clear(s.extraIn)
	clear(s.extraNodes)
	s.virtual = s.virtual[:0]
}

func (s *search) grow(n int) {
	if n > len(s.st) {
		st := make([]nodeState, n+n/8)
		copy(st, s.st)
		s.st = st
		s.hist = append(s.hist, make([]uint32, len(st)-len(s.hist))...)
		s.reached = append(s.reached, make([]reachMark, len(st)-len(s.reached))...)
	}
}

// expander relaxes the edges into one node at a time.
type expander struct {
	f           *Finder
	s           *search
	q           *Query
	src, tgt    uint32
	lastHop     uint32
	attemptCost float64

	// snap, when the estimator is mission control's, is scored inline
	// for the nodes without history; self is its node's index.
	snap *Snapshot
	self uint32

	// partial is set when the forward pass stopped once it reached the
	// target: the nodes it did not reach lie at level beyond or more.
	partial bool
	beyond  uint8
}

// expand relaxes every edge that ends at pivot.
func (x *expander) expand(pivot uint32) {
	g := x.f.g
	if int(pivot) < len(g.nodes) {
		in := g.in[pivot]
		for i := range in {
			e := &in[i]
			x.relax(pivot, e.ci<<1|uint32(e.dir), e)
		}
	}
	if len(x.s.extraIn) == 0 {
		return
	}
	for _, i := range x.s.extraIn[pivot] {
		x.relax(pivot, extraFlag|uint32(i), &x.s.extraEdges[i])
	}
}

// index finds a node of the graph or of the query's extra edges.
func (x *expander) index(v Vertex) (uint32, bool) {
	if i, ok := x.f.g.nodeIdx[v]; ok {
		return i, true
	}
	i, ok := x.s.extraNodes[v]
	return i, ok
}

// vertex names node i.
func (x *expander) vertex(i uint32) Vertex {
	if n := uint32(len(x.f.g.nodes)); i >= n {
		return x.s.virtual[i-n]
	}
	return x.f.g.nodes[i]
}

// relax considers reaching pivot over e (named edge in next hops): if
// that is the cheapest way yet for e's sending node, it records it.
func (x *expander) relax(pivot, edge uint32, e *inEdge) {
	q, s := x.q, x.s
	from := e.from
	ps := &s.st[pivot]
	amt := ps.amt // what from sends over this edge
	if !x.admits(from, pivot, edge, e, amt) {
		return
	}
	isSource := from == x.src

	prob := x.probability(from, pivot, amt, e.capacity)
	if prob <= 0 {
		return
	}

	// The source pays no fee to itself and adds no delta of its own.
	var fee uint64
	var delta uint32
	if !isSource {
		f, ok := bolt7Fee(e.feeBase, e.feeRate, amt)
		if !ok || uint64(f) > uint64(lnwire.MaxMilliSatoshi)-amt {
			return
		}
		fee, delta = uint64(f), uint32(e.cltvDelta)
	}
	cltv := ps.cltv + delta
	if cltv > q.CLTVLimit {
		return
	}
	prob *= ps.prob

	// The weight lnd gives the edge: the fee, plus the amount locked
	// times the delta times the risk factor.
	hi, lo := bits.Mul64(amt, uint64(delta)*riskFactorBillionths)
	if hi >= 1_000_000_000 {
		return
	}
	lockPenalty, _ := bits.Div64(hi, lo, 1_000_000_000)
	weight := ps.weight + int64(fee) + int64(lockPenalty)
	if weight < 0 {
		return
	}
	// The hops still to go, from the source to from, lower the
	// probability at least as much as the forward pass bounds.
	k := x.beyond
	if m := s.reached[from]; m.gen == s.gen {
		k = m.k
	}
	if int(k) >= len(s.bound) {
		return
	}
	bound := s.bound[k]
	if prob < x.f.cfg.MinProbability*bound {
		return
	}
	key := probabilityDist(weight, prob/bound, x.attemptCost)

	fs := &s.st[from]
	if fs.gen == s.gen {
		// A settled node keeps its way: nodes after it in the search
		// took their amounts from it. Otherwise keep the way with the
		// lower key; on a tie, the likelier one. Keys only grow along
		// a path (a hop's probability is at most what the forward
		// pass allowed it), so a node is settled with the lowest key
		// it can have.
		if fs.heap == settled || key > fs.key || (key == fs.key && prob <= fs.prob) {
			return
		}
	}

	size := ps.size
	if !isSource {
		size += uint32(hopPayloadSize(amt, uint32(q.CurrentHeight)+ps.cltv, false))
		if size > maxRoutingInfo {
			return
		}
	}

	heapPos := int32(notQueued)
	if fs.gen == s.gen {
		heapPos = fs.heap
	}
	*fs = nodeState{
		key:    key,
		weight: weight,
		amt:    amt + fee,
		prob:   prob,
		cltv:   cltv,
		next:   edge,
		size:   size,
		gen:    s.gen,
		heap:   heapPos,
	}
	s.pushOrFix(from)
}

// admits applies the query's restrictions and the channel's limits to the
// hop from from to pivot over e, carrying amt.
func (x *expander) admits(from, pivot, edge uint32, e *inEdge, amt uint64) bool {
	s, q := x.s, x.q
	switch {
	case from == x.tgt || (s.reached[from].gen != s.gen && !x.partial):
		// The target is where we start; a node the source cannot
		// reach cannot be on the route.
		return false
	case x.lastHop != noNode && pivot == x.tgt && from != x.lastHop:
		return false
	case amt > e.maxAmt || amt < e.minHTLC:
		// The channel must carry amt: capacity and the HTLC limits.
		return false
	case amt-uint64(q.Amount) > uint64(q.FeeLimit):
		// Fees so far: what from sends beyond the payment itself.
		return false
	}
	if len(s.ignored) > 0 {
		if _, ok := s.ignored[from]; ok {
			return false
		}
	}
	if len(s.pairs) > 0 {
		if _, ok := s.pairs[[2]uint32{from, pivot}]; ok {
			return false
		}
	}
	if len(s.chans) > 0 && edge&extraFlag == 0 {
		if _, ok := s.chans[x.edgeID(edge).ToUint64()]; ok {
			return false
		}
	}
	if from == x.src {
		return x.sourceEdgeOK(edge, e, amt)
	}
	return e.usable()
}

// probability scores the hop from from to pivot carrying amt over a
// channel of capMsat. The apriori estimator of mission control's snapshot
// is asked directly, by node index, for nodes with no history: most of
// them, and the inner loop's hottest call otherwise.
func (x *expander) probability(from, pivot uint32, amt, capMsat uint64) float64 {
	if x.snap != nil && x.snap.bimodal == nil && x.s.hist[from] != x.s.gen {
		if from == x.self {
			return prevSuccessProbability
		}
		return x.snap.cfg.HopProbability *
			x.snap.cfg.capacityFactor(lnwire.MilliSatoshi(amt), btcutil.Amount(capMsat/1000))
	}
	if x.q.Estimator == nil {
		return 1
	}
	return x.q.Estimator.PairProbability(x.vertex(from), x.vertex(pivot),
		lnwire.MilliSatoshi(amt), btcutil.Amount(capMsat/1000))
}

// probabilityDist is lnd's route cost: weight plus the attempt cost over
// the success probability.
func probabilityDist(weight int64, prob, attemptCost float64) int64 {
	d := float64(weight) + attemptCost/prob
	if d > 9e18 {
		return math.MaxInt64
	}
	return int64(d)
}

// sourceEdgeOK applies the source's own rules to its edge e carrying amt:
// the outgoing channel restriction, and for our own node the live balance
// in place of the disable bit.
func (x *expander) sourceEdgeOK(edge uint32, e *inEdge, amt uint64) bool {
	q, s := x.q, x.s
	if len(s.outgoing) == 0 && q.LocalBandwidth == nil {
		return e.usable()
	}
	id := x.edgeID(edge)
	if len(s.outgoing) > 0 {
		if _, ok := s.outgoing[id.ToUint64()]; !ok {
			return false
		}
	}
	if q.LocalBandwidth == nil {
		return e.usable()
	}
	if e.flags&dirKnown == 0 {
		return false
	}
	bw, ok := q.LocalBandwidth(id, lnwire.MilliSatoshi(amt))
	return !ok || amt <= uint64(bw)
}

// edgeID is the short channel ID of a next-hop reference.
func (x *expander) edgeID(edge uint32) lnwire.ShortChannelID {
	if edge&extraFlag != 0 {
		return x.q.ExtraEdges[edge&^extraFlag].ChannelID
	}
	return lnwire.NewShortChanIDFromInt(x.f.g.channels[edge>>1].scid)
}

// edgeOf is the receiving node, channel and policy of a next-hop
// reference.
func (x *expander) edgeOf(edge uint32) (to uint32, id lnwire.ShortChannelID, p Policy) {
	if edge&extraFlag != 0 {
		ex := &x.q.ExtraEdges[edge&^extraFlag]
		to, _ = x.index(ex.To)
		return to, ex.ChannelID, ex.Policy
	}
	g := x.f.g
	ci, d := edge>>1, int(edge&1)
	c := &g.channels[ci]
	p, _ = g.policy(ci, d)
	return c.nodes[1-d], lnwire.NewShortChanIDFromInt(c.scid), p
}

// route walks the search's next hops from the source to the target and
// computes each hop's amount and expiry from the policies, backwards from
// the target as the onion needs them.
func (x *expander) route() (*Route, error) {
	type leg struct {
		to  uint32
		id  lnwire.ShortChannelID
		pol Policy
	}
	var legs []leg
	for n := x.src; n != x.tgt; {
		st := &x.s.st[n]
		if st.gen != x.s.gen || len(legs) > len(x.s.st) {
			return nil, fmt.Errorf("%w: broken path at node %d", ErrNoPath, n)
		}
		to, id, p := x.edgeOf(st.next)
		legs = append(legs, leg{to, id, p})
		n = to
	}

	q := x.q
	r := &Route{
		SourcePubKey: q.Source,
		Hops:         make([]Hop, len(legs)),
		Probability:  x.s.st[x.src].prob,
	}
	// fwd and exp: what hop i sends on, and its expiry. The final hop
	// sends nothing on; its payload carries the payment itself. What
	// crosses legs[i] is what hop i sends on plus the fee it charges by
	// the policy of legs[i+1].
	amt := q.Amount
	expiry := q.CurrentHeight + uint32(q.FinalCLTVDelta)
	for i := len(legs) - 1; i >= 0; i-- {
		fwd, exp := amt, expiry
		r.Hops[i] = Hop{
			PubKey:           x.vertex(legs[i].to),
			ChannelID:        legs[i].id,
			AmtToForward:     fwd,
			OutgoingTimeLock: exp,
		}
		if i < len(legs)-1 {
			next := &legs[i+1].pol
			fee, ok := next.Fee(fwd)
			if !ok {
				return nil, fmt.Errorf("%w: fee overflow", ErrNoPath)
			}
			amt = fwd + fee
			expiry = exp + uint32(next.CLTVDelta)
		}
	}
	r.TotalAmount = amt
	r.TotalTimeLock = expiry
	return r, nil
}
