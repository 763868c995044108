package routing

import (
	"path/filepath"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/sphinx"
)

func openMCDB(t *testing.T, path string) *channeldb.DB {
	t.Helper()
	db, err := channeldb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMissionControlRestart records outcomes through a channeldb store on
// a bbolt file, closes it, and checks that mission control built from
// the reopened file knows the same pairs and scores them alike; then that
// a reset survives a restart too.
func TestMissionControlRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channel.db")
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	newMC := func(db *channeldb.DB) *MissionControl {
		mc, err := NewMissionControl(MissionControlConfig{
			Self: vtx('s'), Apriori: DefaultAprioriConfig(),
			Store: NewDBStore(db, 0), Clock: clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return mc
	}

	db := openMCDB(t, path)
	mc := newMC(db)
	rt := testRoute()
	// b fails its channel to d: s->a and a->b succeed, b->d fails.
	if err := mc.ReportFailure(rt, 1, sphinx.CodeTemporaryChannelFailure); err != nil {
		t.Fatal(err)
	}
	before := mc.QueryPairs()
	if len(before) != 3 {
		t.Fatalf("%d pairs after one failure, want 3", len(before))
	}
	probBefore := mc.Probability(vtx('b'), vtx('d'), 1_000_000)
	if probBefore >= 0.6 {
		t.Fatalf("failed pair at %v, not below the apriori 0.6", probBefore)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openMCDB(t, path)
	mc = newMC(db)
	after := mc.QueryPairs()
	if len(after) != len(before) {
		t.Fatalf("%d pairs after restart, want %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.From != a.From || b.To != a.To || !b.FailTime.Equal(a.FailTime) || b.FailAmt != a.FailAmt ||
			!b.SuccessTime.Equal(a.SuccessTime) || b.SuccessAmt != a.SuccessAmt {
			t.Fatalf("pair %d: %+v after restart, was %+v", i, a, b)
		}
	}
	if p := mc.Probability(vtx('b'), vtx('d'), 1_000_000); p != probBefore {
		t.Fatalf("probability %v after restart, was %v", p, probBefore)
	}

	if err := mc.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openMCDB(t, path)
	defer db.Close()
	if n := len(newMC(db).QueryPairs()); n != 0 {
		t.Fatalf("%d pairs after a reset and restart", n)
	}
}

// TestDBStoreBound checks that the store keeps only its newest results.
func TestDBStoreBound(t *testing.T) {
	db := openMCDB(t, filepath.Join(t.TempDir(), "channel.db"))
	defer db.Close()
	s := NewDBStore(db, 2)
	t0 := time.Unix(1_800_000_000, 0)
	recs := []PairRecord{
		{From: vtx('a'), To: vtx('b'), PairResult: PairResult{FailTime: t0}},
		{From: vtx('b'), To: vtx('c'), PairResult: PairResult{SuccessTime: t0.Add(time.Minute), SuccessAmt: 5}},
		{From: vtx('c'), To: vtx('d'), PairResult: PairResult{FailTime: t0.Add(2 * time.Minute), FailAmt: 7}},
	}
	if err := s.Save(recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].From != vtx('b') || got[1].From != vtx('c') || got[1].FailAmt != 7 {
		t.Fatalf("kept %+v, want the two newest", got)
	}
}
