package kvdb

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults of the bolt backend's group commit (WithBatch changes them).
const (
	// DefaultMaxBatch bounds the functions that share one transaction,
	// so that one commit never grows without limit.
	DefaultMaxBatch = 256

	// DefaultBatchDelay is how long a batch waits for more functions
	// before it starts. None: a batch forms while the one before it
	// holds the write lock (its fsync takes about a millisecond here), so
	// that is the wait, and a lone writer does not wait at all.
	// docs/benchmarks.md ("Group commit") has the measurements.
	DefaultBatchDelay = 0
)

// errRunAlone tells a caller of Batch that its function failed (or
// panicked) in a shared transaction: it runs it again in a transaction
// of its own, so that what it sees, and the error it returns, are its
// own.
var errRunAlone = errors.New("kvdb: run alone")

// batchCall is one function waiting for, or in, a batch.
type batchCall struct {
	f    func(tx RwTx) error
	err  error
	done chan struct{}
}

// batcher is the bolt backend's group commit. Functions queue; one
// caller at a time, the leader, takes the queue (up to max functions)
// and runs it in one bbolt transaction, whose one fsync then covers
// every function in it. While it commits the next batch queues, and its
// leader is started when the commit is done.
type batcher struct {
	db    *bolt.DB
	max   int
	delay time.Duration

	mu      sync.Mutex
	queue   []*batchCall
	leading bool // a leader is running
	full    chan struct{}

	// commits counts the shared transactions committed (for tests and
	// benchmarks: writes per fsync).
	commits atomic.Int64
}

func newBatcher(db *bolt.DB, max int, delay time.Duration) *batcher {
	return &batcher{db: db, max: max, delay: delay, full: make(chan struct{}, 1)}
}

// batch runs f in a transaction shared with concurrent callers and
// returns once it is durable, or with f's error, or with the error of
// the transaction.
func (b *batcher) batch(f func(tx RwTx) error) error {
	c := &batchCall{f: f, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := !b.leading
	b.leading = true
	if len(b.queue) >= b.max {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
	b.mu.Unlock()
	if lead {
		b.lead()
	}
	<-c.done
	if c.err == errRunAlone {
		return b.update(f)
	}
	return c.err
}

// lead runs one batch, then hands the lead to a new goroutine if more
// functions queued meanwhile, so that its own caller returns now.
func (b *batcher) lead() {
	if b.delay > 0 {
		t := time.NewTimer(b.delay)
		select {
		case <-t.C:
		case <-b.full:
			t.Stop()
		}
	}
	b.mu.Lock()
	n := min(len(b.queue), b.max)
	calls := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	b.run(calls)

	b.mu.Lock()
	more := len(b.queue) > 0
	b.leading = more
	b.mu.Unlock()
	if more {
		go b.lead()
	}
}

// run commits calls in one transaction. A function that fails is taken
// out, told to run alone, and the others run again without it: the
// failed transaction rolled back, so they start from the same state.
func (b *batcher) run(calls []*batchCall) {
	for len(calls) > 0 {
		failed := -1
		err := b.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := callSafely(c.f, boltTx{tx}); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			if err == nil {
				b.commits.Add(1)
			}
			if err != nil {
				err = fmt.Errorf("kvdb: batch of %d: %w", len(calls), mapErr(err))
			}
			for _, c := range calls {
				c.err = err
				close(c.done)
			}
			return
		}
		c := calls[failed]
		c.err = errRunAlone
		close(c.done)
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// callSafely runs f, turning a panic into an error: the caller then runs
// f alone, where it panics in its own goroutine, and the batch goes on.
func callSafely(f func(tx RwTx) error, tx RwTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errRunAlone
		}
	}()
	return f(tx)
}

// update runs f alone, exactly once.
func (b *batcher) update(f func(tx RwTx) error) error {
	var ferr error
	err := b.db.Update(func(tx *bolt.Tx) error {
		ferr = f(boltTx{tx})
		return ferr
	})
	if err != nil && ferr == nil {
		return fmt.Errorf("kvdb: update: %w", mapErr(err))
	}
	return err
}
