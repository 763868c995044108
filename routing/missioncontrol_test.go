package routing

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// testClock is a clock the test moves.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

func newTestMC(t *testing.T, store *memStore, clock *testClock) *MissionControl {
	t.Helper()
	mc, err := NewMissionControl(MissionControlConfig{
		Self:    vtx('s'),
		Apriori: DefaultAprioriConfig(),
		Store:   store,
		Clock:   clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// testRoute is s -> a -> b -> d, each hop forwarding 1,000,000 msat plus
// a 1,000 msat fee per intermediate hop.
func testRoute() *Route {
	return &Route{
		SourcePubKey:  vtx('s'),
		TotalAmount:   1_002_000,
		TotalTimeLock: 300,
		Hops: []Hop{
			{PubKey: vtx('a'), ChannelID: scid(1), AmtToForward: 1_001_000, OutgoingTimeLock: 260},
			{PubKey: vtx('b'), ChannelID: scid(2), AmtToForward: 1_000_000, OutgoingTimeLock: 220},
			{PubKey: vtx('d'), ChannelID: scid(3), AmtToForward: 1_000_000, OutgoingTimeLock: 220},
		},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestAprioriProbability(t *testing.T) {
	c := DefaultAprioriConfig()
	const capSat = btcutil.Amount(1_000_000)
	capMsat := lnwire.NewMSatFromSatoshis(capSat)
	tests := []struct {
		amt  lnwire.MilliSatoshi
		want float64
	}{
		{1000, 0.6},                    // far below the capacity
		{capMsat * 9999 / 10000, 0.45}, // at the cut-off: half the drop
		{capMsat, 0.6 * (1 - 0.5/(1+math.Exp(-0.0001/0.025)))},
		{capMsat + 1, 0}, // over the capacity
	}
	for _, tc := range tests {
		got := c.pairProbability(time.Time{}, nil, vtx('b'), tc.amt, capSat, false)
		if !near(got, tc.want) {
			t.Errorf("amt %v: %v, want %v", tc.amt, got, tc.want)
		}
	}
	if got := c.pairProbability(time.Time{}, nil, vtx('b'), 1000, 0, false); got != 0.6 {
		t.Errorf("unknown capacity: %v", got)
	}
	if got := c.pairProbability(time.Time{}, nil, vtx('b'), capMsat+1, capSat, true); got != prevSuccessProbability {
		t.Errorf("own channel: %v", got)
	}
}

func TestMissionControlFailureDecays(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	clock := &testClock{now: t0}
	mc := newTestMC(t, &memStore{}, clock)
	a, b, c, d := vtx('a'), vtx('b'), vtx('c'), vtx('d')

	// b fails to forward over its channel to d.
	if err := mc.ReportFailure(testRoute(), 1, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	if p := mc.Probability(b, d, 1_000_000); p != 0 {
		t.Errorf("just failed: %v", p)
	}
	// The pairs before it carried the payment.
	if p := mc.Probability(a, b, 1_001_000); p != prevSuccessProbability {
		t.Errorf("a->b after success: %v", p)
	}
	if p := mc.Probability(vtx('s'), a, 1_002_000); p != prevSuccessProbability {
		t.Errorf("s->a after success: %v", p)
	}

	// One half-life later the failure weighs half: b's node probability
	// is (0.6*1 + 0) / (1 + 0.5) = 0.4, and the pair's 0.4 * (1 - 0.5).
	clock.now = t0.Add(time.Hour)
	if p := mc.Probability(b, d, 1_000_000); !near(p, 0.2) {
		t.Errorf("an hour later: %v, want 0.2", p)
	}
	if p := mc.Probability(b, c, 1_000_000); !near(p, 0.4) {
		t.Errorf("b's other pair an hour later: %v, want 0.4", p)
	}
	// Below the failed amount the failure says nothing.
	if p := mc.Probability(b, d, 999_999); !near(p, 0.6) {
		t.Errorf("smaller amount: %v, want 0.6", p)
	}
	// Long after, the failure is forgotten.
	clock.now = t0.Add(100 * time.Hour)
	if p := mc.Probability(b, d, 1_000_000); !near(p, 0.6) {
		t.Errorf("100 hours later: %v, want 0.6", p)
	}

	// A success above the failed amount overrides it.
	if err := mc.ReportSuccess(testRoute()); err != nil {
		t.Fatal(err)
	}
	if p := mc.Probability(b, d, 1_000_000); p != prevSuccessProbability {
		t.Errorf("after success: %v", p)
	}
}

func TestMissionControlInterpretsFailures(t *testing.T) {
	a, b, d := vtx('a'), vtx('b'), vtx('d')
	tests := []struct {
		name   string
		hop    int
		code   sphinx.FailCode
		failed NodePair
		amt    lnwire.MilliSatoshi // failed amount
		ok     []NodePair
	}{
		{"channel failure", 1, sphinx.CodeTemporaryChannelFailure, NodePair{b, d}, 1_000_000,
			[]NodePair{{vtx('s'), a}, {a, b}}},
		{"permanent channel failure", 1, sphinx.CodeUnknownNextPeer, NodePair{b, d}, 0,
			[]NodePair{{vtx('s'), a}, {a, b}}},
		{"node failure", 1, sphinx.CodeTemporaryNodeFailure, NodePair{a, b}, 0,
			[]NodePair{{vtx('s'), a}}},
		{"bad onion", 0, sphinx.CodeInvalidOnionHMAC, NodePair{vtx('s'), a}, 0, nil},
		{"final node", 2, sphinx.CodeIncorrectOrUnknownPaymentDetails, NodePair{},
			0, []NodePair{{vtx('s'), a}, {a, b}, {b, d}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mc := newTestMC(t, &memStore{}, &testClock{now: time.Unix(1_800_000_000, 0)})
			if err := mc.ReportFailure(testRoute(), tc.hop, tc.code); err != nil {
				t.Fatal(err)
			}
			got := map[NodePair]PairResult{}
			for _, r := range mc.QueryPairs() {
				got[NodePair{r.From, r.To}] = r.PairResult
			}
			for _, p := range tc.ok {
				if r := got[p]; r.SuccessTime.IsZero() || !r.FailTime.IsZero() {
					t.Errorf("%v: %+v, want a success", p, r)
				}
			}
			if tc.failed != (NodePair{}) {
				r := got[tc.failed]
				if r.FailTime.IsZero() || r.FailAmt != tc.amt {
					t.Errorf("failed pair: %+v, want failure at %v", r, tc.amt)
				}
			}
			want := len(tc.ok)
			if tc.failed != (NodePair{}) {
				want++
			}
			if len(got) != want {
				t.Errorf("%d pairs recorded, want %d", len(got), want)
			}
		})
	}
}

func TestMissionControlPersists(t *testing.T) {
	store := &memStore{}
	clock := &testClock{now: time.Unix(1_800_000_000, 123)}
	mc := newTestMC(t, store, clock)
	if err := mc.ReportFailure(testRoute(), 1, sphinx.CodeFeeInsufficient); err != nil {
		t.Fatal(err)
	}
	before := mc.QueryPairs()
	if store.saves != 1 || len(before) != 3 {
		t.Fatalf("%d saves, %d pairs", store.saves, len(before))
	}

	// A restart loads the same results (times to the nanosecond).
	again := newTestMC(t, store, clock)
	after := again.QueryPairs()
	for i := range before {
		if !before[i].FailTime.Equal(after[i].FailTime) || !before[i].SuccessTime.Equal(after[i].SuccessTime) ||
			before[i].From != after[i].From || before[i].To != after[i].To ||
			before[i].FailAmt != after[i].FailAmt || before[i].SuccessAmt != after[i].SuccessAmt {
			t.Fatalf("pair %d: %+v after restart, want %+v", i, after[i], before[i])
		}
	}
	if len(after) != len(before) {
		t.Fatalf("%d pairs after restart, want %d", len(after), len(before))
	}

	// Reset forgets, on disk too.
	if err := again.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := len(newTestMC(t, store, clock).QueryPairs()); n != 0 {
		t.Errorf("%d pairs after reset", n)
	}

	// A store that cannot save makes the report fail.
	store.err = errors.New("disk full")
	if err := again.ReportSuccess(testRoute()); !errors.Is(err, store.err) {
		t.Errorf("report with a failing store: %v", err)
	}
}

func TestMissionControlKeepsNewest(t *testing.T) {
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mc, err := NewMissionControl(MissionControlConfig{
		Apriori: DefaultAprioriConfig(), Store: &memStore{}, Clock: clock.Now, MaxPairs: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		clock.now = clock.now.Add(time.Minute)
		rt := &Route{SourcePubKey: vtx('s'), TotalAmount: 1000,
			Hops: []Hop{{PubKey: vtx(byte('a' + i)), AmtToForward: 1000}}}
		if err := mc.ReportSuccess(rt); err != nil {
			t.Fatal(err)
		}
	}
	pairs := mc.QueryPairs()
	if len(pairs) != 2 || pairs[0].To != vtx('b') || pairs[1].To != vtx('c') {
		t.Errorf("kept %+v, want the pairs to b and c", pairs)
	}
}

func TestMissionControlBadInput(t *testing.T) {
	mc := newTestMC(t, &memStore{}, &testClock{})
	if err := mc.ReportSuccess(&Route{}); !errors.Is(err, ErrBadReport) {
		t.Errorf("empty route: %v", err)
	}
	for _, hop := range []int{-1, 3} {
		if err := mc.ReportFailure(testRoute(), hop, sphinx.CodeTemporaryChannelFailure); !errors.Is(err, ErrBadReport) {
			t.Errorf("failing hop %d: %v", hop, err)
		}
	}
	bad := DefaultAprioriConfig()
	bad.HopProbability = 1.5
	if _, err := NewMissionControl(MissionControlConfig{Apriori: bad, Store: &memStore{}}); !errors.Is(err, ErrBadEstimatorConfig) {
		t.Errorf("bad config: %v", err)
	}
	corrupt := &memStore{bytes: []byte{9}}
	if _, err := NewMissionControl(MissionControlConfig{Apriori: DefaultAprioriConfig(), Store: corrupt}); !errors.Is(err, ErrBadPairRecords) {
		t.Errorf("corrupt store: %v", err)
	}
}

// TestMissionControlSteersPathFinding: after b's channel to d fails at
// the amount, the path finder takes the dearer way through a.
func TestMissionControlSteersPathFinding(t *testing.T) {
	g := diamond(t)
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mc := newTestMC(t, &memStore{}, clock)
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

	// A smaller amount may still go through b.
	q = query('s', 'd', 500_000)
	q.Estimator = mc.Snapshot()
	r, err = find(t, g, q)
	wantPath(t, r, err, 3, 4)
}

func TestPairRecordsEncoding(t *testing.T) {
	recs := []PairRecord{
		{From: vtx('a'), To: vtx('b'), PairResult: PairResult{
			FailTime: time.Unix(1_800_000_000, 5), FailAmt: 7,
			SuccessTime: time.Unix(1_700_000_000, 0), SuccessAmt: 6}},
		{From: vtx('b'), To: vtx('a')},
	}
	got, err := DecodePairRecords(EncodePairRecords(recs))
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		w, g := recs[i], got[i]
		if w.From != g.From || w.To != g.To || !w.FailTime.Equal(g.FailTime) || !w.SuccessTime.Equal(g.SuccessTime) ||
			w.FailAmt != g.FailAmt || w.SuccessAmt != g.SuccessAmt || g.FailTime.IsZero() != w.FailTime.IsZero() {
			t.Errorf("record %d: %+v, want %+v", i, g, w)
		}
	}
	if got, err := DecodePairRecords(EncodePairRecords(nil)); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}

	good := EncodePairRecords(recs)
	for name, b := range map[string][]byte{
		"short":     good[:4],
		"version":   append([]byte{2}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"bad key":   func() []byte { c := append([]byte(nil), good...); c[5] = 4; return c }(),
		"same node": EncodePairRecords([]PairRecord{{From: vtx('a'), To: vtx('a')}}),
	} {
		if _, err := DecodePairRecords(b); !errors.Is(err, ErrBadPairRecords) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !reflect.DeepEqual(EncodePairRecords(recs), good) {
		t.Error("encoding not deterministic")
	}
}

// TestMissionControlBatchesSaves: with a flush interval, reports are not
// saved one by one: the ticker saves once what many reports changed, and
// Stop saves the rest, so a restart loads every result.
func TestMissionControlBatchesSaves(t *testing.T) {
	store := &memStore{}
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mc, err := NewMissionControl(MissionControlConfig{Apriori: DefaultAprioriConfig(),
		Store: store, Clock: clock.Now, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Start(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := mc.ReportSuccess(testRoute()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		store.mu.Lock()
		saves := store.saves
		store.mu.Unlock()
		if saves > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("100 reports never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	store.mu.Lock()
	if store.saves >= 100 {
		t.Fatalf("%d saves for 100 reports", store.saves)
	}
	store.mu.Unlock()

	// What the last reports changed reaches the store at Stop.
	if err := mc.ReportFailure(testRoute(), 1, sphinx.CodeFeeInsufficient); err != nil {
		t.Fatal(err)
	}
	if err := mc.Stop(); err != nil {
		t.Fatal(err)
	}
	after := newTestMC(t, store, clock).QueryPairs()
	want := mc.QueryPairs()
	if len(after) != len(want) || len(want) != 3 {
		t.Fatalf("%d pairs after restart, want %d (3)", len(after), len(want))
	}
	for i := range want {
		if !after[i].FailTime.Equal(want[i].FailTime) || after[i].FailAmt != want[i].FailAmt {
			t.Fatalf("pair %d after restart %+v, want %+v", i, after[i], want[i])
		}
	}
	if err := mc.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// blockingStore is a Store whose saves wait until release is closed.
type blockingStore struct {
	memStore
	saving  chan struct{}
	release chan struct{}
}

func (s *blockingStore) Save(recs []PairRecord) error {
	select {
	case s.saving <- struct{}{}:
	default:
	}
	<-s.release
	return s.memStore.Save(recs)
}

// TestMissionControlFlushOutsideLock: while a flush's save is under way
// (a database write and its fsync), Snapshot and reports do not wait
// for it, and what they report is saved by the next flush.
func TestMissionControlFlushOutsideLock(t *testing.T) {
	store := &blockingStore{saving: make(chan struct{}, 1), release: make(chan struct{})}
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mc, err := NewMissionControl(MissionControlConfig{Apriori: DefaultAprioriConfig(),
		Store: store, Clock: clock.Now, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.ReportSuccess(testRoute()); err != nil {
		t.Fatal(err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- mc.flush() }()
	<-store.saving
	done := make(chan struct{})
	go func() {
		mc.Snapshot()
		mc.ReportFailure(testRoute(), 1, sphinx.CodeFeeInsufficient)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Snapshot waited for the flush's save")
	}
	close(store.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if err := mc.flush(); err != nil {
		t.Fatal(err)
	}
	after := newTestMC(t, &store.memStore, clock).QueryPairs()
	want := mc.QueryPairs()
	if !reflect.DeepEqual(after, want) {
		t.Fatalf("saved %+v, want %+v", after, want)
	}
}
