package routing

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// Vertex is a node's identity in the graph: its 33-byte compressed public
// key.
type Vertex [33]byte

// String returns the key in hex.
func (v Vertex) String() string { return hex.EncodeToString(v[:]) }

// NewVertexFromHex parses a 66-character hex public key. It checks the
// length and the parity byte, not that the point is on the curve: the graph
// only uses keys as names.
func NewVertexFromHex(s string) (Vertex, error) {
	var v Vertex
	if len(s) != 2*len(v) {
		return v, fmt.Errorf("%w: %d hex characters", ErrBadVertex, len(s))
	}
	if _, err := hex.Decode(v[:], []byte(s)); err != nil {
		return v, fmt.Errorf("%w: %v", ErrBadVertex, err)
	}
	if v[0] != 2 && v[0] != 3 {
		return v, fmt.Errorf("%w: prefix %#x", ErrBadVertex, v[0])
	}
	return v, nil
}

var (
	// ErrBadVertex is returned for a malformed node public key.
	ErrBadVertex = errors.New("routing: malformed node key")

	// ErrUnknownChannel is returned when a channel is not in the graph.
	ErrUnknownChannel = errors.New("routing: unknown channel")

	// ErrChannelExists is returned when a channel is added twice.
	ErrChannelExists = errors.New("routing: channel already in graph")

	// ErrSelfChannel is returned for a channel whose two ends are one node.
	ErrSelfChannel = errors.New("routing: channel from a node to itself")
)

// Policy is one direction's routing policy, as its channel_update sets it
// (BOLT 7).
type Policy struct {
	FeeBaseMsat uint32
	FeeRatePPM  uint32
	CLTVDelta   uint16
	MinHTLC     lnwire.MilliSatoshi
	MaxHTLC     lnwire.MilliSatoshi // 0: no htlc_maximum_msat
	Disabled    bool
}

// PolicyFromUpdate is the policy a channel_update sets, for the direction
// u.Direction(). Validating the update (signature, timestamp, sane values)
// comes first and is the caller's.
func PolicyFromUpdate(u *lnwire.ChannelUpdate) Policy {
	return Policy{
		FeeBaseMsat: u.BaseFee,
		FeeRatePPM:  u.FeeRate,
		CLTVDelta:   u.TimeLockDelta,
		MinHTLC:     u.HtlcMinimumMsat,
		MaxHTLC:     u.HtlcMaximumMsat,
		Disabled:    u.IsDisabled(),
	}
}

// Fee is what a node charges to forward amt over a channel with this
// policy: fee_base_msat + amt * fee_proportional_millionths / 1,000,000,
// rounded down (BOLT 7). ok is false when the result would not fit in 64
// bits, which no payable amount reaches.
func (p *Policy) Fee(amt lnwire.MilliSatoshi) (fee lnwire.MilliSatoshi, ok bool) {
	return bolt7Fee(p.FeeBaseMsat, p.FeeRatePPM, uint64(amt))
}

// bolt7Fee computes base + amt*ppm/1e6 in 128-bit arithmetic.
func bolt7Fee(base, ppm uint32, amt uint64) (lnwire.MilliSatoshi, bool) {
	hi, lo := bits.Mul64(amt, uint64(ppm))
	if hi >= 1_000_000 {
		return 0, false
	}
	prop, _ := bits.Div64(hi, lo, 1_000_000)
	fee, carry := bits.Add64(prop, uint64(base), 0)
	return lnwire.MilliSatoshi(fee), carry == 0
}

// ChannelInfo is what the graph keeps of a channel besides its policies.
type ChannelInfo struct {
	ID       lnwire.ShortChannelID
	Node1    Vertex // direction 0 is Node1 to Node2; BOLT 7 orders keys
	Node2    Vertex
	Capacity btcutil.Amount
}

// GraphSource is a store of the channel graph that can fill a cache: a
// gossmap file today, channeldb's graph once gossip is stored. policies[d]
// is nil for a direction without a channel_update.
type GraphSource interface {
	ForEachChannel(fn func(info ChannelInfo, policies [2]*Policy) error) error
}

// Directional flags of the cache.
const (
	dirKnown    uint8 = 1 << iota // a channel_update was seen
	dirDisabled                   // its disable bit is set
)

// inEdge is one channel direction as the path finder reads it, stored in
// the list of the node it reaches so that expanding a node reads one
// contiguous run of memory. maxAmt folds htlc_maximum_msat and the
// capacity into one bound. The out fields summarise the reverse direction
// (from the list's node to from), for the forward pass from the source.
// 64 bytes: one cache line.
type inEdge struct {
	minHTLC    uint64
	maxAmt     uint64
	capacity   uint64 // msat
	outMinHTLC uint64
	outMaxAmt  uint64
	from       uint32
	ci         uint32 // channel slot
	feeBase    uint32
	feeRate    uint32
	cltvDelta  uint16
	flags      uint8
	outFlags   uint8
	dir        uint8
}

// outEdge is what the forward pass from the source reads of a direction
// leaving a node: 16 bytes, kept in a list parallel to the node's in-list
// (outs[n][i] is the reverse of in[n][i]). maxAmt is 0 for a direction
// that cannot be used (disabled, or no update); minHTLC saturates at
// 2^32-1 msat, which only lets the pass admit more, never less.
type outEdge struct {
	maxAmt  uint64
	minHTLC uint32
	to      uint32
}

// usable reports whether the direction has a policy and is not disabled.
func (e *inEdge) usable() bool { return e.flags == dirKnown }

// channel is one slot of the cache. nodes[d] sends direction d, whose
// inEdge is at in[nodes[1-d]][pos[d]].
type channel struct {
	scid     uint64
	capacity uint64 // msat
	maxHTLC  [2]uint64
	nodes    [2]uint32
	pos      [2]uint32
}

// noNode marks a free channel slot.
const noNode = math.MaxUint32

// Graph is the channel graph in the shape path finding wants: nodes and
// channels numbered densely, each node with the list of channel directions
// that reach it, policies inline. It is updated in place (AddChannel,
// UpdatePolicy, RemoveChannel) and safe for concurrent use: searches share
// a read lock.
type Graph struct {
	mu sync.RWMutex

	nodeIdx map[Vertex]uint32
	nodes   []Vertex
	in      [][]inEdge  // per node, the directions that reach it
	outs    [][]outEdge // per node, the reverses of in's entries

	chanIdx  map[uint64]uint32
	channels []channel
	free     []uint32 // channel slots to reuse
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{
		nodeIdx: make(map[Vertex]uint32),
		chanIdx: make(map[uint64]uint32),
	}
}

// NewGraphFromSource fills a new graph from src.
func NewGraphFromSource(src GraphSource) (*Graph, error) {
	g := NewGraph()
	err := src.ForEachChannel(func(info ChannelInfo, p [2]*Policy) error {
		if err := g.AddChannel(info); err != nil {
			return err
		}
		for d, pol := range p {
			if pol != nil {
				if err := g.UpdatePolicy(info.ID, d, *pol); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// AddNode makes v known to the graph, with no channel yet.
func (g *Graph) AddNode(v Vertex) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.node(v)
}

// node returns v's index, adding it if new. Caller holds mu.
func (g *Graph) node(v Vertex) uint32 {
	if i, ok := g.nodeIdx[v]; ok {
		return i
	}
	i := uint32(len(g.nodes))
	g.nodes = append(g.nodes, v)
	g.in = append(g.in, nil)
	g.outs = append(g.outs, nil)
	g.nodeIdx[v] = i
	return i
}

// AddChannel adds a channel with neither direction's policy yet: no
// direction is usable until UpdatePolicy gives it one.
func (g *Graph) AddChannel(info ChannelInfo) error {
	if info.Node1 == info.Node2 {
		return fmt.Errorf("%v: %w", info.ID, ErrSelfChannel)
	}
	if info.Capacity < 0 || info.Capacity > maxCapacitySat {
		return fmt.Errorf("%v: capacity %d sat out of range", info.ID, info.Capacity)
	}
	scid := info.ID.ToUint64()
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.chanIdx[scid]; ok {
		return fmt.Errorf("%v: %w", info.ID, ErrChannelExists)
	}
	c := channel{
		scid:     scid,
		capacity: uint64(lnwire.NewMSatFromSatoshis(info.Capacity)),
		nodes:    [2]uint32{g.node(info.Node1), g.node(info.Node2)},
	}
	var ci uint32
	if n := len(g.free); n > 0 {
		ci = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		ci = uint32(len(g.channels))
		g.channels = append(g.channels, channel{})
	}
	for d := range 2 {
		to := c.nodes[1-d]
		c.pos[d] = uint32(len(g.in[to]))
		g.in[to] = append(g.in[to], inEdge{
			from: c.nodes[d], ci: ci, dir: uint8(d), capacity: c.capacity,
		})
		g.outs[to] = append(g.outs[to], outEdge{to: c.nodes[d]})
	}
	g.channels[ci] = c
	g.chanIdx[scid] = ci
	return nil
}

// UpdatePolicy sets the policy of direction dir (0: node 1 to node 2) of
// a channel. Checking that the update is newer than the one it replaces is
// the caller's (gossip validation's) job.
func (g *Graph) UpdatePolicy(id lnwire.ShortChannelID, dir int, p Policy) error {
	if dir != 0 && dir != 1 {
		return fmt.Errorf("routing: direction %d", dir)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	ci, ok := g.chanIdx[id.ToUint64()]
	if !ok {
		return fmt.Errorf("%v: %w", id, ErrUnknownChannel)
	}
	c := &g.channels[ci]
	e := &g.in[c.nodes[1-dir]][c.pos[dir]]
	c.maxHTLC[dir] = uint64(p.MaxHTLC)
	setPolicy(e, p)
	rev := &g.in[c.nodes[dir]][c.pos[1-dir]]
	rev.outMinHTLC, rev.outMaxAmt, rev.outFlags = e.minHTLC, e.maxAmt, e.flags
	out := &g.outs[c.nodes[dir]][c.pos[1-dir]]
	out.maxAmt, out.minHTLC = 0, uint32(min(e.minHTLC, math.MaxUint32))
	if e.usable() {
		out.maxAmt = e.maxAmt
	}
	return nil
}

// setPolicy writes p into e, whose capacity is set.
func setPolicy(e *inEdge, p Policy) {
	e.minHTLC = uint64(p.MinHTLC)
	e.maxAmt = math.MaxUint64
	if p.MaxHTLC != 0 {
		e.maxAmt = uint64(p.MaxHTLC)
	}
	if e.capacity != 0 {
		e.maxAmt = min(e.maxAmt, e.capacity)
	}
	e.feeBase = p.FeeBaseMsat
	e.feeRate = p.FeeRatePPM
	e.cltvDelta = p.CLTVDelta
	e.flags = dirKnown
	if p.Disabled {
		e.flags |= dirDisabled
	}
}

// RemoveChannel drops a channel (closed, or a zombie).
func (g *Graph) RemoveChannel(id lnwire.ShortChannelID) error {
	scid := id.ToUint64()
	g.mu.Lock()
	defer g.mu.Unlock()
	ci, ok := g.chanIdx[scid]
	if !ok {
		return fmt.Errorf("%v: %w", id, ErrUnknownChannel)
	}
	c := g.channels[ci]
	for d := range 2 {
		// Move the list's last entry into the hole, and tell its
		// channel where it went.
		to := c.nodes[1-d]
		list := g.in[to]
		last := len(list) - 1
		moved := list[last]
		list[c.pos[d]] = moved
		g.in[to] = list[:last]
		outs := g.outs[to]
		outs[c.pos[d]] = outs[last]
		g.outs[to] = outs[:last]
		if moved.ci != ci || moved.dir != uint8(d) {
			g.channels[moved.ci].pos[moved.dir] = c.pos[d]
		}
	}
	g.channels[ci] = channel{nodes: [2]uint32{noNode, noNode}}
	delete(g.chanIdx, scid)
	g.free = append(g.free, ci)
	return nil
}

// Channel returns what the graph holds of a channel: its description and
// both directions' policies (nil where none is known).
func (g *Graph) Channel(id lnwire.ShortChannelID) (ChannelInfo, [2]*Policy, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	ci, ok := g.chanIdx[id.ToUint64()]
	if !ok {
		return ChannelInfo{}, [2]*Policy{}, fmt.Errorf("%v: %w", id, ErrUnknownChannel)
	}
	c := &g.channels[ci]
	info := ChannelInfo{
		ID:       id,
		Node1:    g.nodes[c.nodes[0]],
		Node2:    g.nodes[c.nodes[1]],
		Capacity: btcutil.Amount(c.capacity / 1000),
	}
	var pols [2]*Policy
	for d := range 2 {
		if p, ok := g.policy(ci, d); ok {
			pols[d] = &p
		}
	}
	return info, pols, nil
}

// policy is direction d of channel slot ci as a Policy. Caller holds mu.
func (g *Graph) policy(ci uint32, d int) (Policy, bool) {
	c := &g.channels[ci]
	e := &g.in[c.nodes[1-d]][c.pos[d]]
	if e.flags&dirKnown == 0 {
		return Policy{}, false
	}
	return Policy{
		FeeBaseMsat: e.feeBase,
		FeeRatePPM:  e.feeRate,
		CLTVDelta:   e.cltvDelta,
		MinHTLC:     lnwire.MilliSatoshi(e.minHTLC),
		MaxHTLC:     lnwire.MilliSatoshi(c.maxHTLC[d]),
		Disabled:    e.flags&dirDisabled != 0,
	}, true
}

// NumNodes and NumChannels count what the graph holds.
func (g *Graph) NumNodes() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.nodeIdx)
}

// NumChannels counts the channels in the graph.
func (g *Graph) NumChannels() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.chanIdx)
}

// Degree returns how many channels the graph holds of node v.
func (g *Graph) Degree(v Vertex) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if i, ok := g.nodeIdx[v]; ok {
		return len(g.in[i])
	}
	return 0
}

// PairCapacity is the largest capacity among the channels whose direction
// from -> to can carry amt (a policy known and enabled, htlc_minimum_msat
// <= amt <= htlc_maximum_msat and the capacity), as lnd's unified edge
// gives it; a channel of unknown capacity counts its htlc_maximum_msat.
// ok is false when no such channel is in the graph.
func (g *Graph) PairCapacity(from, to Vertex, amt lnwire.MilliSatoshi) (capacity btcutil.Amount, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	fi, fok := g.nodeIdx[from]
	ti, tok := g.nodeIdx[to]
	if !fok || !tok {
		return 0, false
	}
	var best uint64 // msat
	for i := range g.in[ti] {
		e := &g.in[ti][i]
		if e.from != fi || !e.usable() || uint64(amt) < e.minHTLC || uint64(amt) > e.maxAmt {
			continue
		}
		c := e.capacity
		if c == 0 {
			c = g.channels[e.ci].maxHTLC[e.dir]
		}
		best, ok = max(best, c), true
	}
	return lnwire.MilliSatoshi(best).ToSatoshis(), ok
}
