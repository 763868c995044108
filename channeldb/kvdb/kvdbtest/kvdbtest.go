// Package kvdbtest is the behaviour every kvdb backend must show, as a
// test suite a backend's own tests run: kvdbtest.Run(t, open). It holds
// no backend of its own.
package kvdbtest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"lnd.xprv/channeldb/kvdb"
)

// Run runs the suite; open returns a new, empty backend for each test
// (and closes it when the test ends).
func Run(t *testing.T, open func(t *testing.T) kvdb.Backend) {
	for _, c := range []struct {
		name string
		test func(*testing.T, func(*testing.T) kvdb.Backend)
	}{
		{"PutGetDelete", testPutGetDelete},
		{"Errors", testErrors},
		{"Rollback", testRollback},
		{"Batch", testBatch},
		{"NestedBucketsAndForEach", testNestedBucketsAndForEach},
		{"Cursor", testCursor},
		{"CursorDeleteWhileIterating", testCursorDeleteWhileIterating},
		{"CursorOverEmptiedLeaves", testCursorOverEmptiedLeaves},
		{"Sequence", testSequence},
		{"AppendOnlyIsLayoutOnly", testAppendOnlyIsLayoutOnly},
		{"CursorModel", testCursorModel},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open) })
	}
}

func mustUpdate(t *testing.T, db kvdb.Backend, f func(tx kvdb.RwTx) error) {
	t.Helper()
	if err := db.Update(f); err != nil {
		t.Fatal(err)
	}
}

func testPutGetDelete(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	key, val := []byte("k"), []byte("v1")
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("top"))
		if err != nil {
			return err
		}
		if err := b.Put(key, val); err != nil {
			return err
		}
		// Put copies: changing the caller's slices changes nothing.
		key[0], val[0] = 'x', 'x'
		if err := b.Put([]byte("empty"), nil); err != nil {
			return err
		}
		return nil
	})
	err := db.View(func(tx kvdb.RTx) error {
		b := tx.ReadBucket([]byte("top"))
		if b == nil {
			return errors.New("no bucket")
		}
		if got := b.Get([]byte("k")); !bytes.Equal(got, []byte("v1")) {
			return fmt.Errorf("get k = %q", got)
		}
		if got := b.Get([]byte("empty")); got == nil || len(got) != 0 {
			return fmt.Errorf("empty value read as %#v, want non-nil empty", got)
		}
		if got := b.Get([]byte("absent")); got != nil {
			return fmt.Errorf("absent key read as %q", got)
		}
		if tx.ReadBucket([]byte("nope")) != nil {
			return errors.New("absent bucket found")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b := tx.ReadWriteBucket([]byte("top"))
		if err := b.Delete([]byte("k")); err != nil {
			return err
		}
		return b.Delete([]byte("never there"))
	})
	db.View(func(tx kvdb.RTx) error {
		if v := tx.ReadBucket([]byte("top")).Get([]byte("k")); v != nil {
			t.Errorf("deleted key still reads %q", v)
		}
		return nil
	})
}

func testErrors(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("top"))
		if err != nil {
			return err
		}
		if _, err := b.CreateBucket([]byte("nested")); err != nil {
			return err
		}
		if err := b.Put([]byte("val"), []byte("x")); err != nil {
			return err
		}
		cases := []struct {
			name string
			err  error
			want error
		}{
			{"create existing bucket", second(b.CreateBucket([]byte("nested"))), kvdb.ErrBucketExists},
			{"create bucket on value", second(b.CreateBucket([]byte("val"))), kvdb.ErrIncompatibleValue},
			{"create-if-not-exists on value", second(b.CreateBucketIfNotExists([]byte("val"))), kvdb.ErrIncompatibleValue},
			{"put on bucket", b.Put([]byte("nested"), []byte("x")), kvdb.ErrIncompatibleValue},
			{"delete bucket as value", b.Delete([]byte("nested")), kvdb.ErrIncompatibleValue},
			{"delete value as bucket", b.DeleteNestedBucket([]byte("val")), kvdb.ErrIncompatibleValue},
			{"delete absent bucket", b.DeleteNestedBucket([]byte("none")), kvdb.ErrBucketNotFound},
			{"delete absent top bucket", tx.DeleteTopLevelBucket([]byte("none")), kvdb.ErrBucketNotFound},
			{"empty key", b.Put(nil, []byte("x")), kvdb.ErrKeyRequired},
		}
		for _, c := range cases {
			if !errors.Is(c.err, c.want) {
				t.Errorf("%s: err %v, want %v", c.name, c.err, c.want)
			}
		}
		if b.Get([]byte("nested")) != nil {
			t.Error("Get of a nested bucket is not nil")
		}
		if b.NestedReadBucket([]byte("val")) != nil {
			t.Error("a value opened as a bucket")
		}
		return nil
	})
}

func second[T any](_ T, err error) error { return err }

func testRollback(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	boom := errors.New("boom")
	err := db.Update(func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("top"))
		if err != nil {
			return err
		}
		if err := b.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v, want the function's error unchanged", err)
	}
	db.View(func(tx kvdb.RTx) error {
		if tx.ReadBucket([]byte("top")) != nil {
			t.Error("rolled-back bucket exists")
		}
		return nil
	})
}

// testBatch: concurrent Batch calls, a third of them failing after a
// write, each get their own function's error (unchanged) or nil, and
// exactly the writes of those told nil are stored.
func testBatch(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	const n = 48
	errs := make([]error, n)
	want := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		if i%3 == 1 {
			want[i] = fmt.Errorf("refused %d", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Batch(func(tx kvdb.RwTx) error {
				b, err := tx.CreateTopLevelBucket([]byte("batch"))
				if err != nil {
					return err
				}
				if err := b.Put([]byte(fmt.Sprintf("k%02d", i)), []byte("v")); err != nil {
					return err
				}
				return want[i]
			})
		}()
	}
	wg.Wait()
	err := db.View(func(tx kvdb.RTx) error {
		b := tx.ReadBucket([]byte("batch"))
		if b == nil {
			return errors.New("no bucket")
		}
		for i := range n {
			if errs[i] != want[i] {
				t.Errorf("call %d returned %v, want %v", i, errs[i], want[i])
			}
			got := b.Get([]byte(fmt.Sprintf("k%02d", i)))
			if (want[i] == nil) != (got != nil) {
				t.Errorf("call %d (error %v) stored %q", i, want[i], got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testNestedBucketsAndForEach(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		top, err := tx.CreateTopLevelBucket([]byte("top"))
		if err != nil {
			return err
		}
		n, err := top.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		if err := n.Put([]byte("deep"), []byte("1")); err != nil {
			return err
		}
		if _, err := tx.CreateTopLevelBucket([]byte("other")); err != nil {
			return err
		}
		if err := top.Put([]byte("a"), []byte("2")); err != nil {
			return err
		}
		return top.Put([]byte("c"), []byte("3"))
	})
	db.View(func(tx kvdb.RTx) error {
		var got []string
		tx.ReadBucket([]byte("top")).ForEach(func(k, v []byte) error {
			got = append(got, fmt.Sprintf("%s=%v", k, v))
			return nil
		})
		want := []string{"a=[50]", "b=[]", "c=[51]"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ForEach %v, want %v", got, want)
		}
		var names []string
		tx.ForEachBucket(func(name []byte) error {
			names = append(names, string(name))
			return nil
		})
		if fmt.Sprint(names) != "[other top]" {
			t.Errorf("top-level buckets %v", names)
		}
		deep := tx.ReadBucket([]byte("top")).NestedReadBucket([]byte("b"))
		if deep == nil || string(deep.Get([]byte("deep"))) != "1" {
			t.Error("nested value lost")
		}
		stop := errors.New("stop")
		n := 0
		err := tx.ReadBucket([]byte("top")).ForEach(func(k, v []byte) error {
			n++
			return stop
		})
		if err != stop || n != 1 {
			t.Errorf("ForEach did not stop: err %v after %d calls", err, n)
		}
		return nil
	})
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		if err := tx.ReadWriteBucket([]byte("top")).DeleteNestedBucket([]byte("b")); err != nil {
			return err
		}
		return tx.DeleteTopLevelBucket([]byte("other"))
	})
	db.View(func(tx kvdb.RTx) error {
		if tx.ReadBucket([]byte("other")) != nil || tx.ReadBucket([]byte("top")).NestedReadBucket([]byte("b")) != nil {
			t.Error("deleted buckets still there")
		}
		return nil
	})
}

func fill(t *testing.T, db kvdb.Backend, n int) {
	t.Helper()
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("c"))
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := b.Put([]byte(fmt.Sprintf("k%04d", i*2)), []byte{byte(i)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func testCursor(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	fill(t, db, 5) // k0000 k0002 k0004 k0006 k0008
	db.View(func(tx kvdb.RTx) error {
		c := tx.ReadBucket([]byte("c")).ReadCursor()
		if k, _ := c.Next(); k != nil {
			t.Errorf("Next on an unplaced cursor = %s", k)
		}
		steps := []struct {
			name string
			move func() ([]byte, []byte)
			want string
		}{
			{"First", c.First, "k0000"},
			{"Next", c.Next, "k0002"},
			{"Seek between", func() ([]byte, []byte) { return c.Seek([]byte("k0005")) }, "k0006"},
			{"Prev", c.Prev, "k0004"},
			{"Seek exact", func() ([]byte, []byte) { return c.Seek([]byte("k0008")) }, "k0008"},
			{"Next past end", c.Next, ""},
			{"Next stays off", c.Next, ""},
			{"Last", c.Last, "k0008"},
			{"Seek past end", func() ([]byte, []byte) { return c.Seek([]byte("z")) }, ""},
			{"First again", c.First, "k0000"},
			{"Prev past start", c.Prev, ""},
		}
		for _, s := range steps {
			if k, _ := s.move(); string(k) != s.want {
				t.Errorf("%s: %q, want %q", s.name, k, s.want)
			}
		}
		return nil
	})
}

func testCursorDeleteWhileIterating(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	// Enough keys to span several pages, where bbolt's own cursor would
	// skip keys after a delete.
	fill(t, db, 2000)
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		c := tx.ReadWriteBucket([]byte("c")).ReadWriteCursor()
		if err := c.Delete(); !errors.Is(err, kvdb.ErrNoCursorPosition) {
			t.Errorf("Delete on an unplaced cursor: %v", err)
		}
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v[0]%2 == 0 {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			n++
		}
		if n != 2000 {
			t.Errorf("visited %d keys while deleting, want 2000", n)
		}
		// Prev after Delete goes to the preceding key.
		k, _ := c.Seek([]byte("k0006"))
		if string(k) != "k0006" {
			t.Fatalf("seek landed on %q", k)
		}
		if err := c.Delete(); err != nil {
			return err
		}
		if k, _ := c.Prev(); string(k) != "k0002" {
			t.Errorf("Prev after Delete = %q, want k0002", k)
		}
		return nil
	})
	db.View(func(tx kvdb.RTx) error {
		n := 0
		tx.ReadBucket([]byte("c")).ForEach(func(k, v []byte) error {
			if v[0]%2 == 0 {
				t.Errorf("key %s should have been deleted", k)
			}
			n++
			return nil
		})
		if n != 999 {
			t.Errorf("%d keys left, want 999", n)
		}
		return nil
	})
	// Deleting every key from the end backwards.
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		c := tx.ReadWriteBucket([]byte("c")).ReadWriteCursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if k, _ := c.First(); k != nil {
			t.Errorf("key %s left after deleting backwards", k)
		}
		return nil
	})
}

// testCursorOverEmptiedLeaves walks backwards over keys of whole pages
// deleted in the same transaction, and asks for the last key of a bucket
// emptied in it: bbolt's own cursor stops early on the first and loops
// forever on the second.
func testCursorOverEmptiedLeaves(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	fill(t, db, 2000)
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b := tx.ReadWriteBucket([]byte("c"))
		for i := 500; i < 1500; i++ {
			if err := b.Delete([]byte(fmt.Sprintf("k%04d", i*2))); err != nil {
				return err
			}
		}
		c := b.ReadCursor()
		n := 0
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			n++
		}
		if n != 1000 {
			t.Errorf("walked %d keys backwards, want 1000", n)
		}
		for i := 0; i < 2000; i++ {
			if err := b.Delete([]byte(fmt.Sprintf("k%04d", i*2))); err != nil {
				return err
			}
		}
		if k, _ := c.Last(); k != nil {
			t.Errorf("Last of an emptied bucket = %s", k)
		}
		return nil
	})
}

func testSequence(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("s"))
		if err != nil {
			return err
		}
		if b.Sequence() != 0 {
			t.Errorf("new bucket sequence %d", b.Sequence())
		}
		for want := uint64(1); want <= 3; want++ {
			if got, err := b.NextSequence(); err != nil || got != want {
				t.Errorf("NextSequence = %d, %v, want %d", got, err, want)
			}
		}
		return b.SetSequence(100)
	})
	db.View(func(tx kvdb.RTx) error {
		if s := tx.ReadBucket([]byte("s")).Sequence(); s != 100 {
			t.Errorf("sequence after SetSequence = %d", s)
		}
		return nil
	})
}

// testAppendOnlyIsLayoutOnly puts keys out of order into a bucket marked
// append-only: every one still reads back, in order.
func testAppendOnlyIsLayoutOnly(t *testing.T, open func(*testing.T) kvdb.Backend) {
	db := open(t)
	mustUpdate(t, db, func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("log"))
		if err != nil {
			return err
		}
		kvdb.AppendOnly(b)
		for i := 0; i < 3000; i++ {
			k := uint32(i*7919) % 3000
			if err := b.Put(fmt.Appendf(nil, "%08d", k), bytes.Repeat([]byte{1}, 40)); err != nil {
				return err
			}
		}
		return nil
	})
	db.View(func(tx kvdb.RTx) error {
		n := 0
		tx.ReadBucket([]byte("log")).ForEach(func(k, v []byte) error {
			if string(k) != fmt.Sprintf("%08d", n) {
				t.Fatalf("key %d is %s", n, k)
			}
			n++
			return nil
		})
		if n != 3000 {
			t.Errorf("%d keys, want 3000", n)
		}
		return nil
	})
}
