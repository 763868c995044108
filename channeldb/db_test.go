package channeldb

import (
	"path/filepath"
	"testing"

	"lnd.xprv/channeldb/kvdb"
)

// openTestDB opens a new database in a temporary directory, fsync off.
func openTestDB(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "channel.db")
	db, err := Open(path, WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpenStampsVersion(t *testing.T) {
	db, path := openTestDB(t)
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
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(db)
}
