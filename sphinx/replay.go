package sphinx

import (
	"fmt"
	"sync"
)

// ReplayLog remembers the packets a node has processed, so that the same
// onion cannot be replayed to it (BOLT 4 "Onion Decryption"). Entries are
// keyed by ProcessedPacket.ReplayHash and kept until the HTLC's CLTV expiry
// has passed: after that a replayed HTLC could not be accepted anyway.
//
// The on-disk implementation lives with the database; MemoryReplayLog is
// for tests and nodes that accept losing it on restart.
type ReplayLog interface {
	// Put records hash with the given expiry height. It returns an error
	// wrapping ErrReplayedPacket if hash is already recorded.
	Put(hash Hash256, cltvExpiry uint32) error

	// PruneBelow forgets every entry whose expiry is below height.
	PruneBelow(height uint32) error
}

// MemoryReplayLog is a ReplayLog held in memory. It is safe for concurrent
// use.
type MemoryReplayLog struct {
	mu      sync.Mutex
	entries map[Hash256]uint32
}

// NewMemoryReplayLog returns an empty in-memory replay log.
func NewMemoryReplayLog() *MemoryReplayLog {
	return &MemoryReplayLog{entries: make(map[Hash256]uint32)}
}

// Put implements ReplayLog.
func (m *MemoryReplayLog) Put(hash Hash256, cltvExpiry uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[hash]; ok {
		return fmt.Errorf("%w: %x", ErrReplayedPacket, hash[:8])
	}
	m.entries[hash] = cltvExpiry
	return nil
}

// PutBatch records every hash in the batch that is not yet recorded and
// returns the indexes of those that were (replays), leaving the log
// unchanged for them. Duplicates within the batch count as replays after the
// first.
func (m *MemoryReplayLog) PutBatch(hashes []Hash256, cltvExpiries []uint32) (replayed []int, err error) {
	if len(hashes) != len(cltvExpiries) {
		return nil, fmt.Errorf("sphinx: replay batch: %d hashes, %d expiries",
			len(hashes), len(cltvExpiries))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range hashes {
		if _, ok := m.entries[h]; ok {
			replayed = append(replayed, i)
			continue
		}
		m.entries[h] = cltvExpiries[i]
	}
	return replayed, nil
}

// PruneBelow implements ReplayLog.
func (m *MemoryReplayLog) PruneBelow(height uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, exp := range m.entries {
		if exp < height {
			delete(m.entries, h)
		}
	}
	return nil
}

// Len returns the number of recorded entries.
func (m *MemoryReplayLog) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
