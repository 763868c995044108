package routing

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/sphinx"
)

// bimodalShare integrates the bimodal density numerically (Simpson's
// rule), as an independent check of the closed form: the share of
// [success, fail] that lies in [amt, fail].
func bimodalShare(capacity, scale, success, fail, amt float64) float64 {
	density := func(x float64) float64 {
		return math.Exp(-x/scale) + math.Exp((x-capacity)/scale) + 1/capacity
	}
	integrate := func(a, b float64) float64 {
		const n = 200_000
		h := (b - a) / n
		sum := density(a) + density(b)
		for i := 1; i < n; i++ {
			w := 2.0
			if i%2 == 1 {
				w = 4
			}
			sum += w * density(a+float64(i)*h)
		}
		return sum * h / 3
	}
	return integrate(amt, fail) / integrate(success, fail)
}

func TestBimodalFormula(t *testing.T) {
	c := DefaultBimodalConfig()
	const capacity = 1e9 // 1,000,000 sat in msat
	for _, tc := range []struct{ success, fail, amt float64 }{
		{0, capacity, 1e6},
		{0, capacity, 1e8},
		{0, capacity, 5e8},
		{0, capacity, 9.9e8},
		{2e8, capacity, 3e8},
		{0, 6e8, 5e8},
		{1e8, 4e8, 2e8},
	} {
		got := c.probability(capacity, tc.success, tc.fail, tc.amt)
		want := bimodalShare(capacity, float64(c.Scale), tc.success, tc.fail, tc.amt)
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%+v: %v, numerically %v", tc, got, want)
		}
	}
	// The edges of the range.
	if p := c.probability(capacity, 2e8, 6e8, 2e8); p != 1 {
		t.Errorf("at the success amount: %v", p)
	}
	if p := c.probability(capacity, 2e8, 6e8, 6e8); p != 0 {
		t.Errorf("at the fail amount: %v", p)
	}
	if p := c.probability(capacity, 0, capacity, capacity+1); p != 0 {
		t.Errorf("over the capacity: %v", p)
	}
}

func TestBimodalResults(t *testing.T) {
	c := DefaultBimodalConfig()
	t0 := time.Unix(1_800_000_000, 0)
	const capSat = btcutil.Amount(1_000_000)
	b, d, e := vtx('b'), vtx('d'), vtx('e')
	noHistory := c.pairProbability(t0, nil, d, 500_000_000, capSat, false)
	if want := bimodalShare(1e9, 3e8, 0, 1e9, 5e8); math.Abs(noHistory-want) > 1e-6 {
		t.Fatalf("no history: %v, want %v", noHistory, want)
	}

	failed := map[Vertex]PairResult{d: {FailTime: t0, FailAmt: 400_000_000}}
	if p := c.pairProbability(t0, failed, d, 400_000_000, capSat, false); p != 0 {
		t.Errorf("at a fresh failure's amount: %v", p)
	}
	if p := c.pairProbability(t0, failed, d, 100_000_000, capSat, false); !(p > 0 && p < 1) {
		t.Errorf("below a fresh failure's amount: %v", p)
	}
	// One decay time later the bound has moved back 1-1/e of the way
	// to the capacity.
	later := t0.Add(c.DecayTime)
	fail := 1e9 - math.Exp(-1)*(1e9-4e8)
	want := bimodalShare(1e9, 3e8, 0, fail, 5e8)
	if p := c.pairProbability(later, failed, d, 500_000_000, capSat, false); math.Abs(p-want) > 1e-6 {
		t.Errorf("a decay time after the failure: %v, want %v", p, want)
	}

	succeeded := map[Vertex]PairResult{d: {SuccessTime: t0, SuccessAmt: 700_000_000}}
	if p := c.pairProbability(t0, succeeded, d, 700_000_000, capSat, false); p != 1 {
		t.Errorf("at a fresh success's amount: %v", p)
	}

	// A pair with no result of its own leans towards its node's record:
	// (direct + w) / (1 + w) after a fresh success on another pair.
	p := c.pairProbability(t0, succeeded, e, 500_000_000, capSat, false)
	if want := (noHistory + 0.2) / 1.2; math.Abs(p-want) > 1e-12 {
		t.Errorf("node's other pair succeeded: %v, want %v", p, want)
	}

	// Our own channel: only a failure counts, fading.
	if p := c.pairProbability(t0, nil, b, 1, capSat, true); p != 1 {
		t.Errorf("own channel: %v", p)
	}
	if p := c.pairProbability(later, failed, d, 1, capSat, true); math.Abs(p-(1-math.Exp(-1))) > 1e-12 {
		t.Errorf("own channel a decay time after a failure: %v", p)
	}
}

func TestBimodalMissionControl(t *testing.T) {
	bad := DefaultBimodalConfig()
	bad.Scale = 0
	if _, err := NewMissionControl(MissionControlConfig{Bimodal: &bad, Store: &memStore{}}); !errors.Is(err, ErrBadEstimatorConfig) {
		t.Errorf("zero scale: %v", err)
	}

	cfg := DefaultBimodalConfig()
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mc, err := NewMissionControl(MissionControlConfig{Bimodal: &cfg, Store: &memStore{}, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The diamond's cheap way through b fails at the amount; the next
	// search goes through a.
	g := diamond(t)
	q := query('s', 'd', 1_000_000)
	q.Estimator = mc.Snapshot()
	r, err := find(t, g, q)
	wantPath(t, r, err, 3, 4)
	if err := mc.ReportFailure(r, 0, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	q.Estimator = mc.Snapshot()
	r, err = find(t, g, q)
	wantPath(t, r, err, 1, 2)
	if p := mc.Probability(vtx('b'), vtx('d'), 1_000_000); p != 0 {
		t.Errorf("failed pair: %v", p)
	}
}

// TestMainnetBimodal routes a sample of the mainnet queries with the
// bimodal estimator: every route valid, and its probability the product
// of the estimator's.
func TestMainnetBimodal(t *testing.T) {
	m := loadMainnet(t)
	cfg := DefaultBimodalConfig()
	mc, err := NewMissionControl(MissionControlConfig{Bimodal: &cfg, Store: &memStore{}})
	if err != nil {
		t.Fatal(err)
	}
	est := mc.Snapshot()
	f := NewFinder(m.g, DefaultPathFindingConfig())
	found := 0
	for i := 0; i < len(m.queries); i += 10 {
		mq := m.queries[i]
		q := DefaultQuery(mq.source, mq.target, mq.amt, benchHeight)
		q.Estimator = est
		r, err := f.FindRoute(&q)
		if errors.Is(err, ErrNoPath) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		found++
		verifyRoute(t, m.g, &q, r)
		if p := routeProbability(t, m.g, est, &q, r); math.Abs(p-r.Probability) > 1e-9*p {
			t.Fatalf("query %d: probability %v, the hops' product %v", i+1, r.Probability, p)
		}
	}
	if found == 0 {
		t.Fatal("no route found")
	}
	t.Logf("%d of %d sampled queries routed", found, (len(m.queries)+9)/10)
}
