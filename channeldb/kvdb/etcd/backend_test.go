package etcd_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/channeldb/kvdb/kvdbtest"
	"lnd.xprv/internal/etcdtest"
)

// TestSuite runs kvdb's backend suite on a real etcd, each test in its own
// namespace of one server.
func TestSuite(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	var n atomic.Int64
	kvdbtest.Run(t, func(t *testing.T) kvdb.Backend {
		b := etcd.New(cli, fmt.Sprintf("suite%d/", n.Add(1)))
		t.Cleanup(func() { b.Close() })
		return b
	})
}

// FuzzEtcdCursorModel runs kvdbtest's model test from fuzzed seeds on one
// etcd server, each input in its own namespace.
func FuzzEtcdCursorModel(f *testing.F) {
	srv := etcdtest.Start(f)
	cli := srv.Client()
	var n atomic.Int64
	f.Add(uint64(9))
	f.Fuzz(func(t *testing.T, seed uint64) {
		b := etcd.New(cli, fmt.Sprintf("fuzz%d/", n.Add(1)))
		kvdbtest.CursorModel(t, b, seed)
	})
}

// TestViewIsASnapshot: a View sees the state of its first read throughout,
// while another writer commits in the middle of it.
func TestViewIsASnapshot(t *testing.T) {
	srv := etcdtest.Start(t)
	db := etcd.New(srv.Client(), "snap/")
	other := etcd.New(srv.Client(), "snap/")
	write := func(db kvdb.Backend, v string) {
		t.Helper()
		err := db.Update(func(tx kvdb.RwTx) error {
			b, err := tx.CreateTopLevelBucket([]byte("b"))
			if err != nil {
				return err
			}
			if err := b.Put([]byte("k1"), []byte(v)); err != nil {
				return err
			}
			return b.Put([]byte("k2"), []byte(v))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(db, "old")
	err := db.View(func(tx kvdb.RTx) error {
		b := tx.ReadBucket([]byte("b"))
		first := string(b.Get([]byte("k1")))
		write(other, "new")
		second := string(b.Get([]byte("k2")))
		var walked []string
		b.ForEach(func(_, v []byte) error { walked = append(walked, string(v)); return nil })
		if first != "old" || second != "old" || fmt.Sprint(walked) != "[old old]" {
			t.Errorf("view saw %s, %s, %v: a write committed during it", first, second, walked)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx kvdb.RTx) error {
		if v := tx.ReadBucket([]byte("b")).Get([]byte("k2")); string(v) != "new" {
			t.Errorf("after: %s", v)
		}
		return nil
	})
}
