package channeldb

import (
	"errors"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

func sampleMCResult(from, to byte, at int64) MissionControlResult {
	r := MissionControlResult{
		FailTime:    time.Unix(at, 5),
		FailAmt:     lnwire.MilliSatoshi(at) * 1000,
		SuccessTime: time.Unix(at-10, 0),
		SuccessAmt:  lnwire.MilliSatoshi(at)*1000 - 1,
	}
	copy(r.From[:], samplePub(from).SerializeCompressed())
	copy(r.To[:], samplePub(to).SerializeCompressed())
	return r
}

func sameMCResults(t *testing.T, got, want []MissionControlResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.From != w.From || g.To != w.To || !g.FailTime.Equal(w.FailTime) ||
			g.FailAmt != w.FailAmt || !g.SuccessTime.Equal(w.SuccessTime) || g.SuccessAmt != w.SuccessAmt {
			t.Fatalf("result %d: got %+v, want %+v", i, g, w)
		}
	}
}

// TestMissionControlResultsReopen writes results to a bbolt file,
// reopens it and reads them back; a replacement drops the pairs not in
// it, and the bound keeps the newest.
func TestMissionControlResultsReopen(t *testing.T) {
	db, reopen := openTestDB(t)
	none := MissionControlResult{}
	copy(none.From[:], samplePub(1).SerializeCompressed())
	copy(none.To[:], samplePub(4).SerializeCompressed())
	want := []MissionControlResult{sampleMCResult(1, 2, 1_800_000_000), sampleMCResult(2, 3, 1_800_000_100), none}
	update(t, db, func(tx kvdb.RwTx) error { return ReplaceMissionControlResults(tx, want, 10) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var got []MissionControlResult
	view(t, db, func(tx kvdb.RTx) error {
		got, err = FetchMissionControlResults(tx)
		return err
	})
	sortMC(want)
	sameMCResults(t, got, want)

	// Replace with a set of one: the others are gone.
	update(t, db, func(tx kvdb.RwTx) error { return ReplaceMissionControlResults(tx, want[1:2], 10) })
	view(t, db, func(tx kvdb.RTx) error {
		got, err = FetchMissionControlResults(tx)
		return err
	})
	sameMCResults(t, got, want[1:2])

	// Five results with a bound of three: the three newest stay.
	var five []MissionControlResult
	for i := range 5 {
		five = append(five, sampleMCResult(byte(10+i), byte(20+i), 1_800_000_000+int64(i)*60))
	}
	update(t, db, func(tx kvdb.RwTx) error { return ReplaceMissionControlResults(tx, five, 3) })
	view(t, db, func(tx kvdb.RTx) error {
		got, err = FetchMissionControlResults(tx)
		return err
	})
	newest := append([]MissionControlResult(nil), five[2:]...)
	sortMC(newest)
	sameMCResults(t, got, newest)

	// An empty set empties the store.
	update(t, db, func(tx kvdb.RwTx) error { return ReplaceMissionControlResults(tx, nil, 3) })
	view(t, db, func(tx kvdb.RTx) error {
		got, err = FetchMissionControlResults(tx)
		return err
	})
	if len(got) != 0 {
		t.Fatalf("%d results after reset", len(got))
	}
}

func sortMC(rs []MissionControlResult) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && string(mcKey(&rs[j])) < string(mcKey(&rs[j-1])); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// TestMissionControlResultRejected checks that what cannot be stored is
// refused before anything is written, and a bad key reads as corrupt.
func TestMissionControlResultRejected(t *testing.T) {
	db, _ := openTestDB(t)
	self := sampleMCResult(1, 1, 1_800_000_000)
	big := sampleMCResult(1, 2, 1_800_000_000)
	big.SuccessAmt = lnwire.MaxMilliSatoshi + 1
	for _, r := range []MissionControlResult{self, big, {}} {
		err := db.Update(func(tx kvdb.RwTx) error {
			return ReplaceMissionControlResults(tx, []MissionControlResult{r}, 0)
		})
		if err == nil {
			t.Fatalf("stored %+v", r)
		}
	}
	good := sampleMCResult(1, 2, 1_800_000_000)
	v, err := encodeMCResult(&good)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range [][]byte{mcKey(&good)[:65], make([]byte, 66), mcKey(&self)} {
		if _, err := DecodeMissionControlResult(key, v); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("key %x: %v, want a corrupt record", key, err)
		}
	}
}
