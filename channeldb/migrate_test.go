package channeldb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"
	bolt "go.etcd.io/bbolt"

	"lnd.xprv/channeldb/kvdb"
)

// The older schema of these tests, version 1: peers kept in a bucket
// "old-peers" as pubkey -> "host:port" text. Version 2 moves them into
// link-node records; version 3 drops a bucket "scratch".

var oldPeersBucket = []byte("old-peers")

// writeV1File writes a version-1 database with raw bbolt, as the older
// code would have: nothing of this package's code is involved.
func writeV1File(t *testing.T, peers map[byte]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		if err := meta.Put([]byte("version"), binary.BigEndian.AppendUint32(nil, 1)); err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte("scratch")); err != nil {
			return err
		}
		b, err := tx.CreateBucket(oldPeersBucket)
		if err != nil {
			return err
		}
		for k, addr := range peers {
			if err := b.Put(samplePub(k).SerializeCompressed(), []byte(addr)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func migratePeers(tx kvdb.RwTx) error {
	old := tx.ReadWriteBucket(oldPeersBucket)
	if old == nil {
		return errors.New("no old-peers bucket")
	}
	err := old.ForEach(func(k, v []byte) error {
		pub, err := btcec.ParsePubKey(k)
		if err != nil {
			return err
		}
		addr, err := net.ResolveTCPAddr("tcp", string(v))
		if err != nil {
			return err
		}
		return PutLinkNode(tx, &LinkNode{Network: wire.TestNet3, IdentityPub: pub,
			Addresses: []net.Addr{addr}})
	})
	if err != nil {
		return err
	}
	return tx.DeleteTopLevelBucket(oldPeersBucket)
}

func testMigrations(third func(tx kvdb.RwTx) error) Option {
	return func(c *config) {
		c.migrations = []Migration{
			{Version: 2, Name: "peers become link nodes", Migrate: migratePeers},
			{Version: 3, Name: "drop scratch", Migrate: third},
		}
	}
}

func dropScratch(tx kvdb.RwTx) error { return tx.DeleteTopLevelBucket([]byte("scratch")) }

func versionOf(t *testing.T, db *DB) uint32 {
	t.Helper()
	var v uint32
	view(t, db, func(tx kvdb.RTx) error {
		var err error
		v, err = SchemaVersion(tx)
		return err
	})
	return v
}

func TestMigrateOlderFile(t *testing.T) {
	path := writeV1File(t, map[byte]string{1: "10.0.0.1:9735", 2: "[2001:db8::2]:9735"})
	db, err := Open(path, WithNoSync(), testMigrations(dropScratch))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := versionOf(t, db); v != 3 {
		t.Errorf("version after migrating %d, want 3", v)
	}
	view(t, db, func(tx kvdb.RTx) error {
		if tx.ReadBucket(oldPeersBucket) != nil || tx.ReadBucket([]byte("scratch")) != nil {
			t.Error("migrated-away buckets remain")
		}
		nodes, err := ListLinkNodes(tx)
		if err != nil {
			return err
		}
		if len(nodes) != 2 {
			t.Fatalf("%d link nodes after migration, want 2", len(nodes))
		}
		n, err := FetchLinkNode(tx, samplePub(2))
		if err != nil {
			return err
		}
		if n.Addresses[0].String() != "[2001:db8::2]:9735" {
			t.Errorf("migrated address %v", n.Addresses[0])
		}
		return nil
	})
}

// TestMigrationRollsBack runs a migration that fails after an earlier one
// changed the file: Open fails naming it, and the file is as it was.
func TestMigrationRollsBack(t *testing.T) {
	path := writeV1File(t, map[byte]string{1: "10.0.0.1:9735"})
	boom := errors.New("boom")
	_, err := Open(path, WithNoSync(), testMigrations(func(tx kvdb.RwTx) error {
		if err := dropScratch(tx); err != nil {
			return err
		}
		return boom
	}))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "migration 3 (drop scratch)") {
		t.Fatalf("failing migration: %v", err)
	}
	// Opened with no migrations the file reads as version 1, untouched.
	db, err := Open(path, WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := versionOf(t, db); v != 1 {
		t.Errorf("version after a failed migration %d, want 1", v)
	}
	view(t, db, func(tx kvdb.RTx) error {
		if tx.ReadBucket(oldPeersBucket) == nil || tx.ReadBucket([]byte("scratch")) == nil {
			t.Error("a failed migration changed the file")
		}
		if nodes, _ := ListLinkNodes(tx); len(nodes) != 0 {
			t.Errorf("a failed migration left %d link nodes", len(nodes))
		}
		return nil
	})
}

func TestRefuseNewerDatabase(t *testing.T) {
	db, reopen := openTestDB(t)
	update(t, db, func(tx kvdb.RwTx) error { return putVersion(tx, 99) })
	db.Close()
	_, err := reopen()
	want := fmt.Sprintf("version 99, this code knows up to %d", latestVersion(migrations))
	if !errors.Is(err, ErrDBNewer) || !strings.Contains(err.Error(), want) {
		t.Fatalf("open of a newer database: %v", err)
	}
}

func TestRefuseFileWithoutVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	b, err := kvdb.OpenBolt(path, kvdb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx kvdb.RwTx) error {
		_, err := tx.CreateTopLevelBucket([]byte("someone-else"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := Open(path, WithNoSync()); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("open of a file with buckets but no version: %v", err)
	}
}

func TestMigrationNumbering(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "x.db"), WithNoSync(), func(c *config) {
		c.migrations = []Migration{{Version: 3, Name: "skips 2", Migrate: dropScratch}}
	})
	if err == nil || !strings.Contains(err.Error(), "numbered 3, want 2") {
		t.Fatalf("a gap in the migrations: %v", err)
	}
}
