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
	dist   int64   // weight plus the probability term: the heap's key
	weight int64   // fees and time-lock penalty to the target
	amt    uint64  // what the node must receive, msat
	prob   float64 // success probability to the target
	cltv   uint32  // time lock above the height it must receive
	next   uint32  // the edge it sends over: ci<<1|dir, or extraFlag|i
	size   uint32  // onion payload bytes of the hops after it
	gen    uint32  // search that wrote this; older means unvisited
	heap   int32   // position in the heap, -1 if not in it
}

// search is the scratch space of one query, reused by later ones.
type search struct {
	st   []nodeState
	heap []uint32
	gen  uint32

	// Per-query sets, cleared before use.
	ignored    map[uint32]struct{}
	pairs      map[[2]uint32]struct{}
	outgoing   map[uint64]struct{}
	extraIn    map[uint32][]int
	extraNodes map[Vertex]uint32
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
	g := f.g
	s.reset(len(g.nodes))

	// Nodes only route hints name get indices after the graph's.
	lookup := func(v Vertex) (uint32, bool) {
		if i, ok := g.nodeIdx[v]; ok {
			return i, true
		}
		i, ok := s.extraNodes[v]
		return i, ok
	}
	for i := range q.ExtraEdges {
		e := &q.ExtraEdges[i]
		// Our own channels are in the graph with live balances; a hint
		// naming one is stale or malformed (lnd skips them too).
		if q.LocalBandwidth != nil && e.From == q.Source {
			continue
		}
		var ends [2]uint32
		for j, v := range [2]Vertex{e.From, e.To} {
			idx, ok := lookup(v)
			if !ok {
				idx = uint32(len(g.nodes) + len(s.virtual))
				s.virtual = append(s.virtual, v)
				s.extraNodes[v] = idx
				s.grow(int(idx) + 1)
			}
			ends[j] = idx
		}
		s.extraIn[ends[1]] = append(s.extraIn[ends[1]], i)
	}
	src, ok := lookup(q.Source)
	if !ok {
		return nil, fmt.Errorf("%w: source %v not in graph", ErrNoPath, q.Source)
	}
	tgt, ok := lookup(q.Target)
	if !ok {
		return nil, fmt.Errorf("%w: target %v not in graph", ErrNoPath, q.Target)
	}
	for _, v := range q.IgnoredNodes {
		if i, ok := lookup(v); ok {
			s.ignored[i] = struct{}{}
		}
	}
	for _, p := range q.IgnoredPairs {
		a, ok1 := lookup(p.From)
		b, ok2 := lookup(p.To)
		if ok1 && ok2 {
			s.pairs[[2]uint32{a, b}] = struct{}{}
		}
	}
	for _, c := range q.OutgoingChannels {
		s.outgoing[c.ToUint64()] = struct{}{}
	}
	lastHop := uint32(noNode)
	if q.LastHop != nil {
		i, ok := lookup(*q.LastHop)
		if !ok {
			return nil, fmt.Errorf("%w: last hop %v not in graph", ErrNoPath, *q.LastHop)
		}
		lastHop = i
	}

	x := expander{
		f: f, s: s, q: q, src: src, tgt: tgt, lastHop: lastHop,
		attemptCost: attemptCost(f.cfg, q),
	}
	t := &s.st[tgt]
	*t = nodeState{
		amt:  uint64(q.Amount),
		cltv: uint32(q.FinalCLTVDelta),
		prob: 1,
		next: noNode,
		size: uint32(hopPayloadSize(uint64(q.Amount), q.CurrentHeight+uint32(q.FinalCLTVDelta), true)),
		gen:  s.gen,
		heap: -1,
	}

	for pivot := tgt; ; {
		x.expand(pivot)
		if len(s.heap) == 0 {
			return nil, ErrNoPath
		}
		pivot = s.pop()
		if pivot == src {
			break
		}
	}
	return x.route()
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
		}
		s.gen = 1
	}
	s.heap = s.heap[:0]
	if s.ignored == nil {
		s.ignored = make(map[uint32]struct{})
		s.pairs = make(map[[2]uint32]struct{})
		s.outgoing = make(map[uint64]struct{})
		s.extraIn = make(map[uint32][]int)
		s.extraNodes = make(map[Vertex]uint32)
	}
	clear(s.ignored)
	clear(s.pairs)
	clear(s.outgoing)
	clear(s.extraIn)
	clear(s.extraNodes)
	s.virtual = s.virtual[:0]
}

func (s *search) grow(n int) {
	if n > len(s.st) {
		st := make([]nodeState, n+n/8)
		copy(st, s.st)
		s.st = st
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
}

// expand relaxes every edge that ends at pivot.
func (x *expander) expand(pivot uint32) {
	g := x.f.g
	if int(pivot) < len(g.nodes) {
		for _, e := range g.in[pivot] {
			c := &g.channels[e>>1]
			d := e & 1
			x.relax(c.nodes[d], pivot, e, &c.dir[d], c.capacity, c.scid)
		}
	}
	if len(x.s.extraIn) == 0 {
		return
	}
	for _, i := range x.s.extraIn[pivot] {
		e := &x.q.ExtraEdges[i]
		from, _ := x.index(e.From)
		capSat := e.Capacity
		if capSat == 0 {
			capSat = hintCapacity
		}
		dp := toDirPolicy(e.Policy)
		x.relax(from, pivot, extraFlag|uint32(i), &dp,
			uint64(lnwire.NewMSatFromSatoshis(capSat)), e.ChannelID.ToUint64())
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

// relax considers reaching pivot from node from over edge (whose policy is
// dp): if that is the cheapest way yet for from, it records it.
func (x *expander) relax(from, pivot, edge uint32, dp *dirPolicy, capMsat, scid uint64) {
	q, s := x.q, x.s
	if from == x.tgt {
		return
	}
	if x.lastHop != noNode && pivot == x.tgt && from != x.lastHop {
		return
	}
	if len(s.ignored) > 0 {
		if _, ok := s.ignored[from]; ok {
			return
		}
	}
	if len(s.pairs) > 0 {
		if _, ok := s.pairs[[2]uint32{from, pivot}]; ok {
			return
		}
	}
	ps := &s.st[pivot]
	amt := ps.amt // what from sends over this edge

	// The channel must carry amt: capacity and the HTLC limits.
	if (capMsat > 0 && amt > capMsat) || amt > dp.maxHTLC || amt < dp.minHTLC {
		return
	}
	isSource := from == x.src
	if isSource && len(s.outgoing) > 0 {
		if _, ok := s.outgoing[scid]; !ok {
			return
		}
	}
	if isSource && q.LocalBandwidth != nil {
		if dp.flags&dirKnown == 0 {
			return
		}
		bw, ok := q.LocalBandwidth(lnwire.NewShortChanIDFromInt(scid), lnwire.MilliSatoshi(amt))
		if ok && amt > uint64(bw) {
			return
		}
	} else if !dp.usable() {
		return
	}

	// Fees so far: what from sends beyond the payment itself.
	if amt-uint64(q.Amount) > uint64(q.FeeLimit) {
		return
	}

	prob := 1.0
	if q.Estimator != nil {
		prob = q.Estimator.PairProbability(x.vertex(from), x.vertex(pivot),
			lnwire.MilliSatoshi(amt), btcutil.Amount(capMsat/1000))
		if prob <= 0 {
			return
		}
	}

	// The source pays no fee to itself and adds no delta of its own.
	var fee uint64
	var delta uint32
	if !isSource {
		f, ok := bolt7Fee(dp.feeBase, dp.feeRate, amt)
		if !ok || uint64(f) > uint64(lnwire.MaxMilliSatoshi)-amt {
			return
		}
		fee, delta = uint64(f), uint32(dp.cltvDelta)
	}
	cltv := ps.cltv + delta
	if cltv > q.CLTVLimit {
		return
	}
	prob *= ps.prob
	if prob < x.f.cfg.MinProbability {
		return
	}

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
	dist := probabilityDist(weight, prob, x.attemptCost)

	fs := &s.st[from]
	if fs.gen == s.gen {
		// Keep the better one; on a tie, the likelier one.
		if dist > fs.dist || (dist == fs.dist && prob <= fs.prob) {
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

	heapPos := int32(-1)
	if fs.gen == s.gen {
		heapPos = fs.heap
	}
	*fs = nodeState{
		dist:   dist,
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

// probabilityDist is lnd's route cost: weight plus the attempt cost over
// the success probability.
func probabilityDist(weight int64, prob, attemptCost float64) int64 {
	d := float64(weight) + attemptCost/prob
	if d > 9e18 {
		return math.MaxInt64
	}
	return int64(d)
}

// toDirPolicy converts a route hint's policy to the cache's form.
func toDirPolicy(p Policy) dirPolicy {
	d := dirPolicy{
		minHTLC:   uint64(p.MinHTLC),
		maxHTLC:   math.MaxUint64,
		feeBase:   p.FeeBaseMsat,
		feeRate:   p.FeeRatePPM,
		cltvDelta: p.CLTVDelta,
		flags:     dirKnown,
	}
	if p.MaxHTLC != 0 {
		d.maxHTLC = uint64(p.MaxHTLC)
	}
	if p.Disabled {
		d.flags |= dirDisabled
	}
	return d
}

// edgeOf is the channel and policy of a next-hop reference.
func (x *expander) edgeOf(e uint32) (to uint32, id lnwire.ShortChannelID, p Policy) {
	if e&extraFlag != 0 {
		ex := &x.q.ExtraEdges[e&^extraFlag]
		to, _ = x.index(ex.To)
		return to, ex.ChannelID, ex.Policy
	}
	g := x.f.g
	c := &g.channels[e>>1]
	p, _ = c.dir[e&1].policy()
	return c.nodes[1-e&1], lnwire.NewShortChanIDFromInt(c.scid), p
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
	amt := q.Amount
	expiry := q.CurrentHeight + uint32(q.FinalCLTVDelta)
	for i := len(legs) - 1; i >= 0; i-- {
		r.Hops[i] = Hop{
			PubKey:           x.vertex(legs[i].to),
			ChannelID:        legs[i].id,
			AmtToForward:     amt,
			OutgoingTimeLock: expiry,
		}
		// What hop i-1 (or the source) must send over legs[i]: the
		// fee is charged by legs[i]'s sender, except the source's.
		if i > 0 {
			fee, _ := legs[i].pol.Fee(amt)
			amt += fee
			expiry += uint32(legs[i].pol.CLTVDelta)
		}
	}
	r.TotalAmount = amt
	r.TotalTimeLock = expiry
	return r, nil
}
