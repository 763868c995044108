package routing

import (
	"errors"
	"slices"
	"testing"
	"time"

	"lnd.xprv/internal/cpumeter"
)

// BenchmarkFindPathMainnet runs the 1,000 queries of the mainnet snapshot
// one at a time, the source treated as a remote node (QueryRoutes with
// source_pub_key) and lnd's default limits and apriori probabilities, and
// reports the per-query latency percentiles, the share routed, the cache's
// heap and the time to load it, and the mean CPU time of a query. lnd's
// figures on the same data are in ../shared/data/SOURCE.md and
// docs/benchmarks.md.
func BenchmarkFindPathMainnet(b *testing.B) {
	m := loadMainnet(b)
	f := NewFinder(m.g, DefaultPathFindingConfig())
	mc, err := NewMissionControl(MissionControlConfig{
		Apriori: DefaultAprioriConfig(),
		Store:   &memStore{},
	})
	if err != nil {
		b.Fatal(err)
	}
	est := mc.Snapshot()

	lat := make([]time.Duration, 0, len(m.queries))
	found := 0
	cpu0, cpuOK := cpumeter.Now()
	b.ResetTimer()
	for b.Loop() {
		lat, found = lat[:0], 0
		for _, mq := range m.queries {
			q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
			q.Estimator = est
			start := time.Now()
			_, err := f.FindRoute(&q)
			lat = append(lat, time.Since(start))
			switch {
			case err == nil:
				found++
			case !errors.Is(err, ErrNoPath):
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	cpu1, _ := cpumeter.Now()

	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lat, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 99)), "p99-ms")
	b.ReportMetric(100*float64(found)/float64(len(m.queries)), "found-%")
	b.ReportMetric(m.heapMB, "cache-MB")
	b.ReportMetric(ms(m.load), "load-ms")
	if cpuOK && b.N > 0 {
		// The CPU time of a query, averaged: steadier than the wall
		// clock when other work shares the machine.
		perQuery := time.Duration((cpu1 - cpu0) / int64(b.N*len(m.queries)))
		b.ReportMetric(ms(perQuery), "cpu-ms/query")
	}
}

// benchHeight is the block height the mainnet queries are made at: about
// that of the snapshot's date.
const benchHeight = 934_000

// percentile of sorted latencies, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}
