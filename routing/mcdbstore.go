package routing

import (
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

// DBStore keeps mission control's results in channeldb, one record per
// pair, so that they survive restarts.
type DBStore struct {
	db  *channeldb.DB
	max int
}

// NewDBStore returns a Store over db keeping at most max results (0:
// DefaultMaxPairResults), the newest ones.
func NewDBStore(db *channeldb.DB, max int) *DBStore {
	if max <= 0 {
		max = DefaultMaxPairResults
	}
	return &DBStore{db: db, max: max}
}

// Load implements Store.
func (s *DBStore) Load() ([]PairRecord, error) {
	var stored []channeldb.MissionControlResult
	err := s.db.View(func(tx kvdb.RTx) error {
		var err error
		stored, err = channeldb.FetchMissionControlResults(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load mission control results: %w", err)
	}
	recs := make([]PairRecord, len(stored))
	for i, r := range stored {
		recs[i] = PairRecord{From: r.From, To: r.To, PairResult: PairResult{
			FailTime: r.FailTime, FailAmt: r.FailAmt,
			SuccessTime: r.SuccessTime, SuccessAmt: r.SuccessAmt,
		}}
	}
	return recs, nil
}

// Save implements Store: the stored set becomes recs, bounded.
func (s *DBStore) Save(recs []PairRecord) error {
	stored := make([]channeldb.MissionControlResult, len(recs))
	for i, r := range recs {
		stored[i] = channeldb.MissionControlResult{
			From: r.From, To: r.To,
			FailTime: r.FailTime, FailAmt: r.FailAmt,
			SuccessTime: r.SuccessTime, SuccessAmt: r.SuccessAmt,
		}
	}
	return s.db.Update(func(tx kvdb.RwTx) error {
		return channeldb.ReplaceMissionControlResults(tx, stored, s.max)
	})
}
