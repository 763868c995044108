package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/cluster"
	"lnd.xprv/internal/etcdtest"
)

func put(db kvdb.Backend, v string) error {
	return db.Update(func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte(v))
	})
}

// TestFailover: A leads and B waits; A's lease ends (as when it crashes or
// is cut off); B leads, writes, and A's writes are refused.
func TestFailover(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := func(id string) cluster.Config {
		return cluster.Config{Client: srv.Client(), Prefix: "/leader/", ID: id, TTL: 2}
	}
	// A's session has its own client, closed below as when A's process
	// stalls: its lease is no longer kept alive.
	cliA := srv.Client()
	a, err := cluster.Campaign(ctx, cluster.Config{Client: cliA, Prefix: "/leader/", ID: "a", TTL: 2})
	if err != nil {
		t.Fatal(err)
	}
	dbA := etcd.New(srv.Client(), "n/", etcd.WithFence(a.Fence()))
	if err := put(dbA, "a"); err != nil {
		t.Fatal(err)
	}

	won := make(chan *cluster.Leader, 1)
	go func() {
		b, err := cluster.Campaign(ctx, cfg("b"))
		if err != nil {
			t.Error(err)
		}
		won <- b
	}()
	select {
	case <-won:
		t.Fatal("B leads while A holds the lead")
	case <-time.After(500 * time.Millisecond):
	}

	// A's keep-alives stop; its key expires with its lease after the TTL.
	cliA.Close()
	var b *cluster.Leader
	select {
	case b = <-won:
	case <-ctx.Done():
		t.Fatal("B never led")
	}
	select {
	case <-a.Lost():
	case <-ctx.Done():
		t.Fatal("A did not see its lease end")
	}
	dbB := etcd.New(srv.Client(), "n/", etcd.WithFence(b.Fence()))
	if err := put(dbB, "b"); err != nil {
		t.Fatalf("new leader's write: %v", err)
	}
	if err := put(dbA, "a again"); !errors.Is(err, etcd.ErrFenced) {
		t.Fatalf("old leader's write: %v, want ErrFenced", err)
	}

	// A clean stop hands over at once: C leads when B resigns.
	go func() {
		c, err := cluster.Campaign(ctx, cfg("c"))
		if err != nil {
			t.Error(err)
		}
		won <- c
	}()
	time.Sleep(200 * time.Millisecond)
	if err := b.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-won:
	case <-time.After(5 * time.Second):
		t.Fatal("no takeover after resign")
	}
}
