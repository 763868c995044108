package channeldb

import (
	"os"
	"path/filepath"
	"testing"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/internal/etcdtest"
)

// testBackendEnv names the backend the store tests run on: unset or
// "bolt" for a bbolt file, "etcd" for a real etcd started in the test
// process (make test-etcd).
const testBackendEnv = "XLND_TEST_DB"

// openTestDB opens a new, empty database, fsync off, on the backend
// testBackendEnv names. reopen opens it again after a Close, as a
// restarted node would.
func openTestDB(t testing.TB) (db *DB, reopen func(...Option) (*DB, error)) {
	t.Helper()
	switch os.Getenv(testBackendEnv) {
	case "", "bolt":
		path := filepath.Join(t.TempDir(), "channel.db")
		reopen = func(opts ...Option) (*DB, error) {
			return Open(path, append([]Option{WithNoSync()}, opts...)...)
		}
	case "etcd":
		cli := etcdtest.Start(t).Client()
		reopen = func(opts ...Option) (*DB, error) {
			return OpenBackend(etcd.New(cli, "channeldb/"), opts...)
		}
	default:
		t.Fatalf("%s=%q: want bolt or etcd", testBackendEnv, os.Getenv(testBackendEnv))
	}
	db, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, reopen
}

func TestOpenStampsVersion(t *testing.T) {
	db, reopen := openTestDB(t)
	check := func(db *DB) {
		t.Helper()
		err := db.View(func(tx kvdb.RTx) error {
			v, err := SchemaVersion(tx)
			if err != nil {
				return err
			}
			if v != latestVersion(migrations) {
				t.Errorf("schema version %d, want %d", v, latestVersion(migrations))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(db)
}
