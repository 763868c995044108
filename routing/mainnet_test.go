package routing

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// The mainnet snapshot of ../shared/data (SOURCE.md there).
const (
	mainnetGraphFile   = "mainnet-graph-2026-02-03.gossmap.gz"
	mainnetNodeMapFile = "mainnet-graph-2026-02-03.node-map.xz"
	mainnetQueryFile   = "mainnet-queries-2026-02-03.txt"

	// mainnetRoutable is how many of the 1,000 queries have a route
	// (lnd's findPath on the same graph, SOURCE.md).
	mainnetRoutable = 512
)

// sharedData returns <module root>/../shared/data, skipping the test when
// the mainnet files are not there.
func sharedData(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	for _, f := range []string{mainnetGraphFile, mainnetNodeMapFile, mainnetQueryFile} {
		if _, err := os.Stat(filepath.Join(data, f)); errors.Is(err, os.ErrNotExist) {
			tb.Skipf("mainnet data file %s absent from %s", f, data)
		}
	}
	return data
}

// loadGossmapFiles reads the mainnet graph into a new cache, decoding the
// node map and the graph side by side.
func loadGossmapFiles(dir string) (*Graph, error) {
	type nodeMap struct {
		nodes []Vertex
		err   error
	}
	nodesc := make(chan nodeMap, 1)
	go func() {
		nodes, err := readNodeMap(filepath.Join(dir, mainnetNodeMapFile))
		nodesc <- nodeMap{nodes, err}
	}()

	gf, err := os.Open(filepath.Join(dir, mainnetGraphFile))
	if err != nil {
		<-nodesc
		return nil, err
	}
	defer gf.Close()
	gm, err := ReadGossmap(bufio.NewReader(gf))
	nm := <-nodesc
	if err != nil {
		return nil, err
	}
	if nm.err != nil {
		return nil, nm.err
	}
	gm.Nodes = nm.nodes
	return NewGraphFromSource(gm)
}

// readNodeMap reads an xz-compressed node map.
func readNodeMap(path string) ([]Vertex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	xr, err := xz.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseNodeMap(xr)
}

// mainnetGraph is the cache of the mainnet graph with what loading it
// cost.
type mainnetGraph struct {
	g       *Graph
	load    time.Duration
	heapMB  float64
	queries []mainnetQuery
}

type mainnetQuery struct {
	source, target Vertex
	amt            lnwire.MilliSatoshi
}

var (
	mainnetOnce sync.Once
	mainnet     *mainnetGraph
	mainnetErr  error
)

// loadMainnet loads the mainnet graph and queries once per test binary,
// measuring the load time and the heap the cache holds after a GC.
func loadMainnet(tb testing.TB) *mainnetGraph {
	tb.Helper()
	dir := sharedData(tb)
	mainnetOnce.Do(func() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		g, err := loadGossmapFiles(dir)
		load := time.Since(start)
		if err != nil {
			mainnetErr = err
			return
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		m := &mainnetGraph{
			g:      g,
			load:   load,
			heapMB: float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20),
		}
		m.queries, mainnetErr = readQueries(filepath.Join(dir, mainnetQueryFile))
		mainnet = m
	})
	if mainnetErr != nil {
		tb.Fatal(mainnetErr)
	}
	return mainnet
}

// readQueries reads "source target amount_sat" lines.
func readQueries(path string) ([]mainnetQuery, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var qs []mainnetQuery
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, errors.New("query line " + strconv.Itoa(i+1) + ": want 3 fields")
		}
		var q mainnetQuery
		if q.source, err = NewVertexFromHex(f[0]); err != nil {
			return nil, err
		}
		if q.target, err = NewVertexFromHex(f[1]); err != nil {
			return nil, err
		}
		sat, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return nil, err
		}
		q.amt = lnwire.MilliSatoshi(sat * 1000)
		qs = append(qs, q)
	}
	return qs, nil
}

func TestMainnetGraph(t *testing.T) {
	dir := sharedData(t)
	f, err := os.Open(filepath.Join(dir, mainnetGraphFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gm, err := ReadGossmap(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	// The figures SOURCE.md gives for the file.
	disabled, both := 0, 0
	for _, c := range gm.Channels {
		d0, d1 := c.Policies[0].Disabled, c.Policies[1].Disabled
		if d0 {
			disabled++
		}
		if d1 {
			disabled++
		}
		if d0 && d1 {
			both++
		}
	}
	if len(gm.Channels) != 50_808 || disabled != 35_806 || both != 16_915 {
		t.Errorf("%d channels, %d disabled directions, %d disabled both ways; want 50808, 35806, 16915",
			len(gm.Channels), disabled, both)
	}

	m := loadMainnet(t)
	if m.g.NumNodes() != 17_324 || m.g.NumChannels() != 50_808 {
		t.Errorf("cache holds %d nodes and %d channels, want 17324 and 50808", m.g.NumNodes(), m.g.NumChannels())
	}
	// The cache gives back what the file holds.
	for _, i := range []int{0, 1, 4242, 50_807} {
		c := &gm.Channels[i]
		info, pols, err := m.g.Channel(GossmapChannelID(i))
		if err != nil {
			t.Fatal(err)
		}
		if info.Capacity != c.Capacity {
			t.Errorf("channel %d: capacity %v, want %v", i, info.Capacity, c.Capacity)
		}
		for d := range 2 {
			if pols[d] == nil || *pols[d] != c.Policies[d] {
				t.Errorf("channel %d direction %d: %+v, want %+v", i, d, pols[d], c.Policies[d])
			}
		}
	}
}

// mainnetEstimator is a fresh mission control's view: lnd's apriori
// defaults and no history.
func mainnetEstimator(t testing.TB) *Snapshot {
	mc, err := NewMissionControl(MissionControlConfig{Apriori: DefaultAprioriConfig(), Store: &memStore{}})
	if err != nil {
		t.Fatal(err)
	}
	return mc.Snapshot()
}

// TestMainnetRoutes runs the 1,000 queries as the benchmark does and
// checks every route found against the graph, BOLT 7's fees and the
// query's limits, and the count against lnd's: 512 have a route.
func TestMainnetRoutes(t *testing.T) {
	m := loadMainnet(t)
	f := NewFinder(m.g, DefaultPathFindingConfig())
	est := mainnetEstimator(t)
	found := 0
	for i, mq := range m.queries {
		q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
		q.Estimator = est
		r, err := f.FindRoute(&q)
		if errors.Is(err, ErrNoPath) {
			continue
		}
		if err != nil {
			t.Fatalf("query %d: %v", i+1, err)
		}
		found++
		verifyRoute(t, m.g, &q, r)
		if p := routeProbability(t, m.g, est, &q, r); math.Abs(p-r.Probability) > 1e-9*p {
			t.Fatalf("query %d: probability %v, the hops' product %v", i+1, r.Probability, p)
		}
	}
	if found != mainnetRoutable {
		t.Errorf("found %d routes, want %d", found, mainnetRoutable)
	}
}

// TestMainnetAStarAgainstDijkstra checks the A* bound on a sample of the
// queries: it routes the same queries as plain Dijkstra (lnd's search),
// at a cost by lnd's measure no higher.
func TestMainnetAStarAgainstDijkstra(t *testing.T) {
	m := loadMainnet(t)
	astar := NewFinder(m.g, DefaultPathFindingConfig())
	dijkstra := NewFinder(m.g, DefaultPathFindingConfig())
	dijkstra.dijkstra = true
	est := mainnetEstimator(t)
	same := 0
	for i := 0; i < len(m.queries); i += 5 {
		mq := m.queries[i]
		q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
		q.Estimator = est
		ra, errA := astar.FindRoute(&q)
		rd, errD := dijkstra.FindRoute(&q)
		if (errA == nil) != (errD == nil) {
			t.Fatalf("query %d: A* %v, Dijkstra %v", i+1, errA, errD)
		}
		if errA != nil {
			continue
		}
		ca, cd := routeCost(t, m.g, est, &q, ra), routeCost(t, m.g, est, &q, rd)
		if ca > cd {
			t.Errorf("query %d: A* route costs %d, Dijkstra's %d", i+1, ca, cd)
		}
		if ca == cd {
			same++
		}
	}
	t.Logf("%d routes of equal cost", same)
}

// routeProbability is the product of the estimator's hop probabilities.
func routeProbability(t testing.TB, g *Graph, est Estimator, q *Query, r *Route) float64 {
	p := 1.0
	prev, amt := q.Source, r.TotalAmount
	for i, h := range r.Hops {
		_, capMsat, ok := hopPolicy(g, q, prev, h)
		if !ok {
			t.Fatalf("hop %d: no channel", i)
		}
		p *= est.PairProbability(prev, h.PubKey, amt, capMsat.ToSatoshis())
		prev, amt = h.PubKey, h.AmtToForward
	}
	return p
}

// routeCost is lnd's measure of a route: fees plus time-lock penalty
// plus the attempt cost over the success probability.
func routeCost(t testing.TB, g *Graph, est Estimator, q *Query, r *Route) int64 {
	var weight int64
	prevExp := r.TotalTimeLock
	for i := range r.Hops {
		if i > 0 {
			// Hop i-1 charged its fee and delta on what crosses
			// channel i.
			crossing := r.Hops[i-1].AmtToForward
			delta := prevExp - r.Hops[i-1].OutgoingTimeLock
			weight += int64(r.HopFee(i-1)) + int64(crossing)*int64(delta)*riskFactorBillionths/1e9
			prevExp = r.Hops[i-1].OutgoingTimeLock
		}
	}
	cfg := DefaultPathFindingConfig()
	return probabilityDist(weight, routeProbability(t, g, est, q, r), attemptCost(cfg, q))
}

// TestMainnetWithHistory feeds mission control the outcomes of a first
// round of routes (a channel failure at each route's middle hop, every
// third a success instead) and checks the second round: routes still
// valid, the same queries routed as by plain Dijkstra and at no higher
// cost in all, and steering clear of the pairs that just failed at their
// amount.
func TestMainnetWithHistory(t *testing.T) {
	m := loadMainnet(t)
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mc, err := NewMissionControl(MissionControlConfig{
		Apriori: DefaultAprioriConfig(), Store: &memStore{}, Clock: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	astar := NewFinder(m.g, DefaultPathFindingConfig())
	dijkstra := NewFinder(m.g, DefaultPathFindingConfig())
	dijkstra.dijkstra = true

	queries := m.queries[:300]
	first := make([]*Route, len(queries))
	est := mc.Snapshot()
	for i, mq := range queries {
		q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
		q.Estimator = est
		r, err := astar.FindRoute(&q)
		if err != nil {
			continue
		}
		first[i] = r
		if i%3 == 0 {
			err = mc.ReportSuccess(r)
		} else {
			err = mc.ReportFailure(r, (len(r.Hops)-1)/2, sphinx.CodeTemporaryChannelFailure)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(mc.QueryPairs()) == 0 {
		t.Fatal("no history recorded")
	}

	clock.now = clock.now.Add(time.Minute)
	est = mc.Snapshot()
	var sumA, sumD int64
	var cheaper, dearer int
	for i, mq := range queries {
		q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
		q.Estimator = est
		ra, errA := astar.FindRoute(&q)
		rd, errD := dijkstra.FindRoute(&q)
		if (errA == nil) != (errD == nil) {
			t.Fatalf("query %d: A* %v, Dijkstra %v", i+1, errA, errD)
		}
		if errA != nil {
			continue
		}
		verifyRoute(t, m.g, &q, ra)
		ca, cd := routeCost(t, m.g, est, &q, ra), routeCost(t, m.g, est, &q, rd)
		sumA, sumD = sumA+ca, sumD+cd
		switch {
		case ca < cd:
			cheaper++
		case ca > cd:
			dearer++
		}
		if p := routeProbability(t, m.g, est, &q, ra); math.Abs(p-ra.Probability) > 1e-9*p {
			t.Fatalf("query %d: probability %v, the hops' product %v", i+1, ra.Probability, p)
		}
		// A pair that failed a minute ago at this amount is all but
		// ruled out.
		if r := first[i]; r != nil && i%3 != 0 && len(r.Hops) > 1 {
			k := (len(r.Hops) - 1) / 2
			failed := NodePair{r.Hops[k].PubKey, r.Hops[k+1].PubKey}
			prev := ra.SourcePubKey
			for _, h := range ra.Hops {
				if (NodePair{prev, h.PubKey}) == failed && ra.Probability > 0.01 {
					t.Errorf("query %d: route reuses the pair that just failed", i+1)
				}
				prev = h.PubKey
			}
		}
	}
	// Neither search is exact for a cost that is not a sum over hops:
	// each keeps one way per node, Dijkstra the one cheapest so far,
	// A* the one cheapest with the bound on the rest. Over the whole
	// round A* must be no dearer.
	t.Logf("A* cheaper on %d routes, dearer on %d; total cost %d against %d", cheaper, dearer, sumA, sumD)
	if sumA > sumD {
		t.Errorf("A* routes cost %d in all, Dijkstra's %d", sumA, sumD)
	}
}
