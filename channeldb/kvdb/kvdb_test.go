package kvdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/kvdbtest"
)

func openTest(t *testing.T) (kvdb.Backend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "test.db")
	db, err := kvdb.OpenBolt(path, kvdb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// TestBolt runs the backend suite over bbolt.
func TestBolt(t *testing.T) {
	kvdbtest.Run(t, func(t *testing.T) kvdb.Backend {
		db, _ := openTest(t)
		return db
	})
}

func fill(t *testing.T, db kvdb.Backend, n int) {
	t.Helper()
	err := db.Update(func(tx kvdb.RwTx) error {
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
	if err != nil {
		t.Fatal(err)
	}
}

func TestKeyTooLarge(t *testing.T) {
	db, _ := openTest(t)
	err := db.Update(func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put(make([]byte, 40000), nil)
	})
	if !errors.Is(err, kvdb.ErrKeyTooLarge) {
		t.Errorf("40,000-byte key: %v, want kvdb.ErrKeyTooLarge", err)
	}
}

func TestReopenAndLock(t *testing.T) {
	db, path := openTest(t)
	fill(t, db, 3)
	if _, err := kvdb.OpenBolt(path, kvdb.WithLockTimeout(50*time.Millisecond)); !errors.Is(err, kvdb.ErrLocked) {
		t.Errorf("second open of a locked file: %v, want kvdb.ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(kvdb.RTx) error { return nil }); !errors.Is(err, kvdb.ErrClosed) {
		t.Errorf("View after Close: %v, want kvdb.ErrClosed", err)
	}
	db2, err := kvdb.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	db2.View(func(tx kvdb.RTx) error {
		if v := tx.ReadBucket([]byte("c")).Get([]byte("k0004")); !bytes.Equal(v, []byte{2}) {
			t.Errorf("after reopen k0004 = %v", v)
		}
		return nil
	})
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("junk"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kvdb.OpenBolt(path); !errors.Is(err, kvdb.ErrCorruptFile) {
		t.Errorf("open of a junk file: %v, want kvdb.ErrCorruptFile", err)
	}
}

// FuzzBoltCursorModel runs the model test of kvdbtest from fuzzed seeds.
func FuzzBoltCursorModel(f *testing.F) {
	f.Add(uint64(9))
	f.Fuzz(func(t *testing.T, seed uint64) {
		db, _ := openTest(t)
		kvdbtest.CursorModel(t, db, seed)
	})
}
