package kvdb

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkGroupCommit measures writes of one small record by concurrent
// writers, with fsync on, through Update (one commit each) and through
// Batch at several delays. ns/op is the time per write; commits/write is
// how many commits (two fdatasyncs each in bbolt) a write cost.
func BenchmarkGroupCommit(b *testing.B) {
	for _, writers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("writers=%d/update", writers), func(b *testing.B) {
			benchWrites(b, writers, 0, false)
		})
		for _, delay := range []time.Duration{0, 100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond} {
			b.Run(fmt.Sprintf("writers=%d/batch-delay=%v", writers, delay), func(b *testing.B) {
				benchWrites(b, writers, delay, true)
			})
		}
	}
}

func benchWrites(b *testing.B, writers int, delay time.Duration, batch bool) {
	db, _ := openBatchTest(b, WithBatch(DefaultMaxBatch, delay))
	var next atomic.Uint64
	var updates atomic.Int64
	write := func(tx RwTx) error {
		bk, err := tx.CreateTopLevelBucket(batchBucket)
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], next.Add(1))
		return bk.Put(k[:], make([]byte, 200))
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	var todo atomic.Int64
	todo.Store(int64(b.N))
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for todo.Add(-1) >= 0 {
				var err error
				if batch {
					err = db.Batch(write)
				} else {
					updates.Add(1)
					err = db.Update(write)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	commits := db.batcher.commits.Load() + updates.Load()
	b.ReportMetric(float64(commits)/float64(b.N), "commits/write")
}
