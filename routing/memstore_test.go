package routing

import "sync"

// memStore is a Store in memory for tests. It keeps the encoded bytes, so
// that every save and load goes through the stored encoding.
type memStore struct {
	mu    sync.Mutex
	bytes []byte
	saves int
	err   error // returned by Save when set
}

func (s *memStore) Load() ([]PairRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bytes == nil {
		return nil, nil
	}
	return DecodePairRecords(s.bytes)
}

func (s *memStore) Save(recs []PairRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.bytes = EncodePairRecords(recs)
	s.saves++
	return nil
}
