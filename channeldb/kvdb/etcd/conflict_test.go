package etcd_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/internal/etcdtest"
)

func increment(b kvdb.Backend) error {
	return b.Update(func(tx kvdb.RwTx) error {
		bk, err := tx.CreateTopLevelBucket([]byte("c"))
		if err != nil {
			return err
		}
		var n uint64
		if v := bk.Get([]byte("n")); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return bk.Put([]byte("n"), binary.BigEndian.AppendUint64(nil, n+1))
	})
}

func counter(t *testing.T, b kvdb.Backend) uint64 {
	t.Helper()
	var n uint64
	err := b.View(func(tx kvdb.RTx) error {
		if bk := tx.ReadBucket([]byte("c")); bk != nil {
			n = binary.BigEndian.Uint64(bk.Get([]byte("n")))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentWriters has two backends (two processes' worth: each runs
// its own updates one at a time) increment one counter at once: a lost
// update would show as a smaller count, so every conflict must have made
// a function run again on fresh state.
func TestConcurrentWriters(t *testing.T) {
	srv := etcdtest.Start(t)
	a := etcd.New(srv.Client(), "shared/")
	b := etcd.New(srv.Client(), "shared/")
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for _, db := range []kvdb.Backend{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := increment(db); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := counter(t, a); n != 2*each {
		t.Errorf("counter %d after %d increments", n, 2*each)
	}
}

// TestTwoLeadersCannotBothCommit: node A leads and writes; its lease
// expires (a partition: A has not noticed), B is elected. A's next write,
// and a write A began while it still led, are refused; B's commit.
func TestTwoLeadersCannotBothCommit(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	campaign := func(name string) (*concurrency.Session, *concurrency.Election) {
		s, err := concurrency.NewSession(srv.Client(), concurrency.WithTTL(5))
		if err != nil {
			t.Fatal(err)
		}
		e := concurrency.NewElection(s, "/leader/")
		if err := e.Campaign(ctx, name); err != nil {
			t.Fatal(err)
		}
		return s, e
	}
	sa, ea := campaign("a")
	fencedA := make(chan struct{})
	a := etcd.New(srv.Client(), "node/", etcd.WithFence(etcd.Fence{Key: ea.Key(), Rev: ea.Rev()}),
		etcd.WithOnFenced(func() { close(fencedA) }))
	if err := increment(a); err != nil {
		t.Fatalf("leader's write: %v", err)
	}

	// A begins a transaction as leader; while its function runs, its
	// lease is lost and B takes over and commits.
	var bErr error
	err := a.Update(func(tx kvdb.RwTx) error {
		bk := tx.ReadWriteBucket([]byte("c"))
		if err := bk.Put([]byte("n"), binary.BigEndian.AppendUint64(nil, 1000)); err != nil {
			return err
		}
		if _, err := srv.Client().Revoke(ctx, sa.Lease()); err != nil {
			return err
		}
		_, eb := campaign("b")
		b := etcd.New(srv.Client(), "node/", etcd.WithFence(etcd.Fence{Key: eb.Key(), Rev: eb.Rev()}))
		bErr = increment(b)
		return nil
	})
	if !errors.Is(err, etcd.ErrFenced) {
		t.Fatalf("old leader's commit after losing its lease: %v, want ErrFenced", err)
	}
	if bErr != nil {
		t.Fatalf("new leader's write: %v", bErr)
	}
	select {
	case <-fencedA:
	default:
		t.Error("OnFenced not called")
	}
	if err := increment(a); !errors.Is(err, etcd.ErrFenced) {
		t.Errorf("old leader's next write: %v, want ErrFenced", err)
	}
	if n := counter(t, a); n != 2 {
		t.Errorf("counter %d, want 2: the old leader's writes must not land", n)
	}
}

// TestDeletedBucketLeavesNothing recreates a deleted bucket tree in the
// same and in a later transaction: nothing of the old one shows, and a
// put under the recreated bucket survives the range delete.
func TestDeletedBucketLeavesNothing(t *testing.T) {
	srv := etcdtest.Start(t)
	db := etcd.New(srv.Client(), "del/")
	mustUpdate := func(f func(tx kvdb.RwTx) error) {
		t.Helper()
		if err := db.Update(f); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(func(tx kvdb.RwTx) error {
		top, _ := tx.CreateTopLevelBucket([]byte("top"))
		n, _ := top.CreateBucket([]byte("n"))
		deep, _ := n.CreateBucket([]byte("deep"))
		deep.SetSequence(7)
		deep.Put([]byte("x"), []byte("1"))
		return n.Put([]byte("y"), []byte("2"))
	})
	mustUpdate(func(tx kvdb.RwTx) error {
		top := tx.ReadWriteBucket([]byte("top"))
		if err := top.DeleteNestedBucket([]byte("n")); err != nil {
			return err
		}
		n, err := top.CreateBucket([]byte("n"))
		if err != nil {
			return err
		}
		return n.Put([]byte("z"), []byte("3"))
	})
	db.View(func(tx kvdb.RTx) error {
		n := tx.ReadBucket([]byte("top")).NestedReadBucket([]byte("n"))
		var keys []string
		n.ForEach(func(k, _ []byte) error { keys = append(keys, string(k)); return nil })
		if len(keys) != 1 || keys[0] != "z" {
			t.Errorf("recreated bucket holds %v, want [z]", keys)
		}
		return nil
	})
	mustUpdate(func(tx kvdb.RwTx) error {
		top := tx.ReadWriteBucket([]byte("top"))
		deep, err := top.NestedReadWriteBucket([]byte("n")).CreateBucket([]byte("deep"))
		if err != nil {
			return err
		}
		if deep.Sequence() != 0 || deep.Get([]byte("x")) != nil {
			t.Error("a deleted nested bucket's data came back")
		}
		return nil
	})
	resp, err := srv.Client().Get(context.Background(), "del/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	// Left: top's marker, n's marker, z, deep's marker, the version key.
	if len(resp.Kvs) != 5 {
		t.Errorf("%d keys in etcd, want 5", len(resp.Kvs))
	}
}

// TestClosed: transactions after Close fail with kvdb.ErrClosed.
func TestClosed(t *testing.T) {
	srv := etcdtest.Start(t)
	db := etcd.New(srv.Client(), "c/")
	db.Close()
	if err := db.View(func(kvdb.RTx) error { return nil }); !errors.Is(err, kvdb.ErrClosed) {
		t.Errorf("View after Close: %v", err)
	}
	if err := increment(db); !errors.Is(err, kvdb.ErrClosed) {
		t.Errorf("Update after Close: %v", err)
	}
}

// TestUnreachable: with the server stopped a transaction fails with
// ErrUnavailable rather than hanging.
func TestUnreachable(t *testing.T) {
	srv := etcdtest.Start(t)
	db := etcd.New(srv.Client(), "u/", etcd.WithTimeout(time.Second))
	if err := increment(db); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := increment(db); !errors.Is(err, etcd.ErrUnavailable) {
		t.Errorf("update with etcd stopped: %v, want ErrUnavailable", err)
	}
	// Back: updates succeed again once the client has reconnected.
	srv.Restart()
	deadline := time.Now().Add(30 * time.Second)
	for err := increment(db); err != nil; err = increment(db) {
		if !errors.Is(err, etcd.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("update after etcd came back: %v", err)
		}
	}
	// (A commit that timed out may have been applied: at least 2.)
	if n := counter(t, db); n < 2 {
		t.Errorf("counter %d, want 2 or more", n)
	}
}
