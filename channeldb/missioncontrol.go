package channeldb

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// MissionControlResult is what mission control last learned about one
// directed node pair: its latest failure and its latest success, each a
// time and an amount. A zero time means none.
type MissionControlResult struct {
	From, To    [33]byte
	FailTime    time.Time
	FailAmt     lnwire.MilliSatoshi
	SuccessTime time.Time
	SuccessAmt  lnwire.MilliSatoshi
}

// latest is the time of r's newer outcome.
func (r *MissionControlResult) latest() time.Time {
	if r.SuccessTime.After(r.FailTime) {
		return r.SuccessTime
	}
	return r.FailTime
}

var missionControlBucket = []byte("mission-control")

const (
	mcResultVersion = 1
	mcKeyLen        = 33 + 33
)

// ReplaceMissionControlResults makes results the whole of the stored set,
// keeping at most max of them (the newest by their latest outcome); max
// of zero or less keeps all. Pairs not in results are deleted.
func ReplaceMissionControlResults(tx kvdb.RwTx, results []MissionControlResult, max int) error {
	if max > 0 && len(results) > max {
		byAge := append([]MissionControlResult(nil), results...)
		sort.SliceStable(byAge, func(i, j int) bool {
			return byAge[i].latest().After(byAge[j].latest())
		})
		results = byAge[:max]
	}
	encoded := make(map[string][]byte, len(results))
	for i := range results {
		v, err := encodeMCResult(&results[i])
		if err != nil {
			return err
		}
		encoded[string(mcKey(&results[i]))] = v
	}
	b, err := tx.CreateTopLevelBucket(missionControlBucket)
	if err != nil {
		return err
	}
	// Delete what is gone first, collecting keys outside ForEach: a
	// bucket must not change while it is walked.
	var stale [][]byte
	err = b.ForEach(func(k, _ []byte) error {
		if _, ok := encoded[string(k)]; !ok {
			stale = append(stale, clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	for k, v := range encoded {
		if old := b.Get([]byte(k)); old != nil && bytes.Equal(old, v) {
			continue
		}
		if err := b.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// FetchMissionControlResults returns every stored result, in key order
// (From, then To).
func FetchMissionControlResults(tx kvdb.RTx) ([]MissionControlResult, error) {
	b := tx.ReadBucket(missionControlBucket)
	if b == nil {
		return nil, nil
	}
	var out []MissionControlResult
	err := b.ForEach(func(k, v []byte) error {
		r, err := DecodeMissionControlResult(k, v)
		if err != nil {
			return err
		}
		out = append(out, *r)
		return nil
	})
	return out, err
}

func mcKey(r *MissionControlResult) []byte {
	k := make([]byte, 0, mcKeyLen)
	k = append(k, r.From[:]...)
	return append(k, r.To[:]...)
}

func encodeMCResult(r *MissionControlResult) ([]byte, error) {
	if err := checkMCPair(r.From, r.To); err != nil {
		return nil, err
	}
	if r.FailAmt > lnwire.MaxMilliSatoshi || r.SuccessAmt > lnwire.MaxMilliSatoshi {
		return nil, fmt.Errorf("mission control result %x: amount over 21M BTC", r.From)
	}
	w := recWriter{b: make([]byte, 0, 33)}
	w.u8(mcResultVersion)
	w.u64(mcTime(r.FailTime))
	w.u64(uint64(r.FailAmt))
	w.u64(mcTime(r.SuccessTime))
	w.u64(uint64(r.SuccessAmt))
	return w.b, nil
}

// mcTime is t in Unix nanoseconds, 0 for the zero time. Times before 1970
// are not outcomes this node saw; they store as 1 ns so that they still
// read back as set.
func mcTime(t time.Time) uint64 {
	switch {
	case t.IsZero():
		return 0
	case t.UnixNano() <= 0:
		return 1
	}
	return uint64(t.UnixNano())
}

func checkMCPair(from, to [33]byte) error {
	for _, v := range [][33]byte{from, to} {
		if v[0] != 2 && v[0] != 3 {
			return fmt.Errorf("node key prefix %#x", v[0])
		}
	}
	if from == to {
		return fmt.Errorf("pair of one node %x", from)
	}
	return nil
}

// DecodeMissionControlResult decodes a result stored under key (the two
// node keys).
func DecodeMissionControlResult(key, v []byte) (*MissionControlResult, error) {
	name := fmt.Sprintf("%x", key)
	if len(key) != mcKeyLen {
		return nil, NewRecordError("mission control result", name, fmt.Errorf("key of %d bytes", len(key)))
	}
	r := &MissionControlResult{}
	copy(r.From[:], key[:33])
	copy(r.To[:], key[33:])
	if err := checkMCPair(r.From, r.To); err != nil {
		return nil, NewRecordError("mission control result", name, err)
	}
	rd := recReader{b: v}
	rd.version(mcResultVersion)
	r.FailTime = rd.mcTime("fail time")
	r.FailAmt = rd.msat("fail amount")
	r.SuccessTime = rd.mcTime("success time")
	r.SuccessAmt = rd.msat("success amount")
	if err := rd.finish("mission control result", name); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *recReader) mcTime(what string) time.Time {
	v := r.u64(what)
	switch {
	case r.err != nil || v == 0:
		return time.Time{}
	case v > 1<<63-1:
		r.fail(fmt.Errorf("%s: %d ns out of range", what, v))
		return time.Time{}
	}
	return time.Unix(0, int64(v))
}
