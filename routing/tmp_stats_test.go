package routing

import (
	"slices"
	"testing"
	"time"
)

func TestTmpStats(t *testing.T) {
	m := loadMainnet(t)
	f := NewFinder(m.g, DefaultPathFindingConfig())
	mc, _ := NewMissionControl(MissionControlConfig{Apriori: DefaultAprioriConfig(), Store: &memStore{}})
	est := mc.Snapshot()
	var fl, nl []time.Duration
	hops := map[int]int{}
	for _, mq := range m.queries {
		q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
		q.Estimator = est
		st := time.Now()
		r, err := f.FindRoute(&q)
		d := time.Since(st)
		if err == nil {
			fl = append(fl, d)
			hops[len(r.Hops)]++
		} else {
			nl = append(nl, d)
		}
	}
	slices.Sort(fl)
	slices.Sort(nl)
	t.Logf("found %d p50 %v p99 %v; notfound %d p50 %v p99 %v; hops %v", len(fl), fl[len(fl)/2], fl[len(fl)*99/100], len(nl), nl[len(nl)/2], nl[len(nl)*99/100], hops)
}
