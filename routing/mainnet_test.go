package routing

import (
	"bufio"
	"errors"
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

// loadGossmapFiles reads the mainnet graph into a new cache.
func loadGossmapFiles(dir string) (*Graph, error) {
	gf, err := os.Open(filepath.Join(dir, mainnetGraphFile))
	if err != nil {
		return nil, err
	}
	defer gf.Close()
	gm, err := ReadGossmap(bufio.NewReader(gf))
	if err != nil {
		return nil, err
	}
	nf, err := os.Open(filepath.Join(dir, mainnetNodeMapFile))
	if err != nil {
		return nil, err
	}
	defer nf.Close()
	xr, err := xz.NewReader(bufio.NewReader(nf))
	if err != nil {
		return nil, err
	}
	if gm.Nodes, err = ParseNodeMap(xr); err != nil {
		return nil, err
	}
	return NewGraphFromSource(gm)
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

func TestMainnetCounts(t *testing.T) {
	m := loadMainnet(t)
	t.Logf("load %v heap %.1f MB nodes %d channels %d", m.load, m.heapMB, m.g.NumNodes(), m.g.NumChannels())
	mc, err := NewMissionControl(MissionControlConfig{Apriori: DefaultAprioriConfig(), Store: &memStore{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, est := range []Estimator{nil, mc.Snapshot()} {
		f := NewFinder(m.g, DefaultPathFindingConfig())
		found := 0
		start := time.Now()
		for _, mq := range m.queries {
			q := DefaultQuery(mq.source, mq.target, mq.amt, 900_000)
			q.Estimator = est
			if _, err := f.FindRoute(&q); err == nil {
				found++
			} else if !errors.Is(err, ErrNoPath) {
				t.Fatal(err)
			}
		}
		t.Logf("found %d in %v", found, time.Since(start))
	}
}
