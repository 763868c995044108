package kvdb

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestFsyncDefault checks that a database syncs each commit unless
// WithNoSync asks otherwise: durability is the default.
func TestFsyncDefault(t *testing.T) {
	for _, c := range []struct {
		opts   []Option
		noSync bool
	}{{nil, false}, {[]Option{WithNoSync()}, true}} {
		b, err := OpenBolt(filepath.Join(t.TempDir(), "x.db"), c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.(*boltBackend).db.NoSync; got != c.noSync {
			t.Errorf("options %d: NoSync %v, want %v", len(c.opts), got, c.noSync)
		}
		b.Close()
	}
}

// TestWriteInReadTx: a bucket of a read transaction asserted to a
// writable one refuses writes with this package's error, not bbolt's.
func TestWriteInReadTx(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "x.db"), WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx RwTx) error {
		_, err := tx.CreateTopLevelBucket([]byte("b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = b.View(func(tx RTx) error {
		return tx.ReadBucket([]byte("b")).(RwBucket).Put([]byte("k"), nil)
	})
	if !errors.Is(err, ErrTxNotWritable) {
		t.Errorf("put in a read transaction: %v", err)
	}
}

// TestPutOwned: a value handed over with PutOwned reads back in the
// transaction and after the commit, with the same errors as Put.
func TestPutOwned(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "x.db"), WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	val := []byte("owned value")
	if err := b.Update(func(tx RwTx) error {
		bk, err := tx.CreateTopLevelBucket([]byte("b"))
		if err != nil {
			return err
		}
		if err := PutOwned(bk, nil, val); !errors.Is(err, ErrKeyRequired) {
			t.Errorf("empty key: %v", err)
		}
		if err := PutOwned(bk, []byte("k"), val); err != nil {
			return err
		}
		if got := string(bk.Get([]byte("k"))); got != "owned value" {
			t.Errorf("in the transaction: %q", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.View(func(tx RTx) error {
		if got := string(tx.ReadBucket([]byte("b")).Get([]byte("k"))); got != "owned value" {
			t.Errorf("after the commit: %q", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
