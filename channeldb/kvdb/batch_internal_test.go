package kvdb

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var batchBucket = []byte("batch")

func openBatchTest(t testing.TB, opts ...Option) (*boltBackend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "batch.db")
	db, err := OpenBolt(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.(*boltBackend), path
}

// putKey is a batch function writing key=val in the test bucket.
func putKey(key, val string) func(tx RwTx) error {
	return func(tx RwTx) error {
		b, err := tx.CreateTopLevelBucket(batchBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), []byte(val))
	}
}

func readKey(t *testing.T, db Backend, key string) []byte {
	t.Helper()
	var v []byte
	err := db.View(func(tx RTx) error {
		if b := tx.ReadBucket(batchBucket); b != nil {
			if got := b.Get([]byte(key)); got != nil {
				v = clone(got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// runCalls runs fs as one batch, as a leader would, and returns each
// caller's result (running the failed ones alone, as batch does).
func runCalls(b *batcher, fs ...func(tx RwTx) error) []error {
	calls := make([]*batchCall, len(fs))
	for i, f := range fs {
		calls[i] = &batchCall{f: f, done: make(chan struct{})}
	}
	b.run(calls)
	errs := make([]error, len(fs))
	for i, c := range calls {
		<-c.done
		errs[i] = c.err
		if c.err == errRunAlone {
			errs[i] = b.update(fs[i])
		}
	}
	return errs
}

// TestBatchFailureIsolated: the error of one function in a batch goes
// to its caller alone; the others commit, and the failed function's
// writes do not.
func TestBatchFailureIsolated(t *testing.T) {
	db, _ := openBatchTest(t, WithNoSync())
	errBad := errors.New("bad")
	bad := func(tx RwTx) error {
		if err := putKey("bad", "x")(tx); err != nil {
			return err
		}
		return errBad
	}
	errs := runCalls(db.batcher, putKey("a", "1"), bad, putKey("c", "3"))
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], errBad) {
		t.Fatalf("results %v, want nil, %v, nil", errs, errBad)
	}
	if v := readKey(t, db, "a"); string(v) != "1" {
		t.Errorf("a = %q", v)
	}
	if v := readKey(t, db, "c"); string(v) != "3" {
		t.Errorf("c = %q", v)
	}
	if v := readKey(t, db, "bad"); v != nil {
		t.Errorf("the failed function's write committed: %q", v)
	}
}

// TestBatchRerunFresh: a function run again after a batch-mate failed
// sees none of its first run's writes (the transaction rolled back),
// and neither does the failed function run alone.
func TestBatchRerunFresh(t *testing.T) {
	db, _ := openBatchTest(t, WithNoSync())
	var runs int
	first := func(tx RwTx) error {
		runs++
		b, err := tx.CreateTopLevelBucket(batchBucket)
		if err != nil {
			return err
		}
		if v := b.Get([]byte("n")); v != nil {
			return fmt.Errorf("run %d sees %q from a run that rolled back", runs, v)
		}
		return b.Put([]byte("n"), []byte{byte(runs)})
	}
	var failRuns int
	failing := func(tx RwTx) error {
		failRuns++
		b := tx.ReadWriteBucket(batchBucket)
		if failRuns > 1 && b != nil && b.Get([]byte("f")) != nil {
			return errors.New("the failed run's write is visible")
		}
		if err := putKey("f", "x")(tx); err != nil {
			return err
		}
		return errors.New("refused")
	}
	errs := runCalls(db.batcher, first, failing)
	if errs[0] != nil {
		t.Fatalf("first: %v", errs[0])
	}
	if errs[1] == nil || errs[1].Error() != "refused" {
		t.Fatalf("failing: %v", errs[1])
	}
	if runs != 2 || failRuns != 2 {
		t.Errorf("runs %d and %d, want 2 and 2", runs, failRuns)
	}
	if v := readKey(t, db, "n"); !bytes.Equal(v, []byte{2}) {
		t.Errorf("n = %v, want the second run's", v)
	}
}

// TestBatchPanic: a function that panics panics in its own caller's
// goroutine; its batch-mates commit and nobody hangs.
func TestBatchPanic(t *testing.T) {
	db, _ := openBatchTest(t, WithNoSync(), WithBatch(0, 2*time.Millisecond))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	var recovered any
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 3 {
				defer func() { recovered = recover() }()
				errs[i] = db.Batch(func(tx RwTx) error { panic("boom") })
				return
			}
			errs[i] = db.Batch(putKey(fmt.Sprint(i), "v"))
		}()
	}
	wg.Wait()
	if recovered != "boom" {
		t.Errorf("panicking caller recovered %v", recovered)
	}
	for i, err := range errs {
		if i == 3 {
			continue
		}
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
		if v := readKey(t, db, fmt.Sprint(i)); string(v) != "v" {
			t.Errorf("caller %d's write: %q", i, v)
		}
	}
}

// TestBatchDurable: concurrent writers with fsync on, each told nil, are
// all in the file after it is closed and opened again; and they shared
// transactions.
func TestBatchDurable(t *testing.T) {
	db, path := openBatchTest(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Batch(putKey(fmt.Sprintf("k%03d", i), fmt.Sprint(i)))
		}()
	}
	wg.Wait()
	commits := db.batcher.commits.Load()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if commits >= n {
		t.Errorf("%d writers took %d commits: none shared", n, commits)
	}
	re, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	for i := range n {
		if v := readKey(t, re, fmt.Sprintf("k%03d", i)); string(v) != fmt.Sprint(i) {
			t.Errorf("after reopen k%03d = %q", i, v)
		}
	}
}

// TestBatchClose: closing while batches are pending ends every call,
// with nil (and its write durable) or ErrClosed.
func TestBatchClose(t *testing.T) {
	db, path := openBatchTest(t, WithBatch(4, 0))
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	started := make(chan struct{}, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			errs[i] = db.Batch(putKey(fmt.Sprintf("k%02d", i), "v"))
		}()
	}
	for range n / 2 {
		<-started
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Batch calls still blocked after Close")
	}
	re, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	var closed int
	for i, err := range errs {
		key := fmt.Sprintf("k%02d", i)
		switch {
		case err == nil:
			if v := readKey(t, re, key); string(v) != "v" {
				t.Errorf("%s committed but absent after reopen", key)
			}
		case errors.Is(err, ErrClosed):
			closed++
		default:
			t.Errorf("%s: %v", key, err)
		}
	}
	t.Logf("%d of %d calls refused by Close", closed, n)
}

// TestBatchRandom runs random batches of concurrent writers, some
// failing, some panicking, some rewriting others' keys, and checks the
// file against what each caller was told.
func TestBatchRandom(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { batchRandom(t, seed) })
	}
}

// FuzzBatch runs TestBatchRandom's check from fuzzed seeds.
func FuzzBatch(f *testing.F) {
	f.Add(uint64(7))
	f.Fuzz(func(t *testing.T, seed uint64) { batchRandom(t, seed) })
}

func batchRandom(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	db, _ := openBatchTest(t, WithNoSync(), WithBatch(1+rng.IntN(16), time.Duration(rng.IntN(200))*time.Microsecond))
	const n = 300
	type result struct {
		kind int // 0 writes, 1 fails, 2 panics
		err  error
		pan  any
	}
	res := make([]result, n)
	for i := range res {
		res[i].kind = []int{0, 0, 0, 0, 0, 0, 1, 1, 2}[rng.IntN(9)]
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { res[i].pan = recover() }()
			key := fmt.Sprintf("k%03d", i)
			res[i].err = db.Batch(func(tx RwTx) error {
				// Each run counts the keys it sees afresh.
				b, err := tx.CreateTopLevelBucket(batchBucket)
				if err != nil {
					return err
				}
				if err := b.Put([]byte(key), []byte("v")); err != nil {
					return err
				}
				switch res[i].kind {
				case 1:
					return fmt.Errorf("refused %d", i)
				case 2:
					panic(i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, r := range res {
		v := readKey(t, db, fmt.Sprintf("k%03d", i))
		switch r.kind {
		case 0:
			if r.err != nil || r.pan != nil || string(v) != "v" {
				t.Errorf("writer %d: err %v, panic %v, value %q", i, r.err, r.pan, v)
			}
		case 1:
			if r.err == nil || r.err.Error() != fmt.Sprintf("refused %d", i) || v != nil {
				t.Errorf("failing %d: err %v, value %q", i, r.err, v)
			}
		case 2:
			if r.pan != i || v != nil {
				t.Errorf("panicking %d: panic %v, value %q", i, r.pan, v)
			}
		}
	}
}
