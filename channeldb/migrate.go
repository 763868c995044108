package channeldb

import (
	"encoding/binary"
	"fmt"
	"log/slog"

	"lnd.xprv/channeldb/kvdb"
)

// Migration moves the database from schema version Version-1 to Version.
type Migration struct {
	Version uint32
	Name    string
	Migrate func(tx kvdb.RwTx) error
}

// baseVersion is the schema a new database starts at when no migration
// exists yet.
const baseVersion = 1

// migrations is the history of the schema, oldest first; append only.
// A new database is written at the latest version and runs none of them.
var migrations = []Migration{}

var (
	metaBucket = []byte("meta")
	versionKey = []byte("version")
)

func latestVersion(ms []Migration) uint32 {
	if len(ms) == 0 {
		return baseVersion
	}
	return ms[len(ms)-1].Version
}

// SchemaVersion returns the schema version stored in the database.
func SchemaVersion(tx kvdb.RTx) (uint32, error) {
	meta := tx.ReadBucket(metaBucket)
	if meta == nil {
		return 0, fmt.Errorf("%w: no meta bucket", ErrCorruptRecord)
	}
	v := meta.Get(versionKey)
	if len(v) != 4 {
		return 0, NewRecordError("schema version", "meta/version",
			fmt.Errorf("%d bytes, want 4", len(v)))
	}
	return binary.BigEndian.Uint32(v), nil
}

func putVersion(tx kvdb.RwTx, v uint32) error {
	meta, err := tx.CreateTopLevelBucket(metaBucket)
	if err != nil {
		return err
	}
	return meta.Put(versionKey, binary.BigEndian.AppendUint32(nil, v))
}

// migrate stamps a new database with the latest version, or runs the
// migrations an older one lacks, in order, in one transaction: either
// all of them apply or none.
func migrate(backend kvdb.Backend, ms []Migration, log *slog.Logger) error {
	want := uint32(baseVersion)
	for _, m := range ms {
		if want++; m.Version != want {
			return fmt.Errorf("migration %q numbered %d, want %d", m.Name, m.Version, want)
		}
	}
	latest := latestVersion(ms)
	return backend.Update(func(tx kvdb.RwTx) error {
		if tx.ReadBucket(metaBucket) == nil {
			if err := requireEmpty(tx); err != nil {
				return err
			}
			return putVersion(tx, latest)
		}
		have, err := SchemaVersion(tx)
		if err != nil {
			return err
		}
		if have > latest {
			return fmt.Errorf("%w: database at schema version %d, this code knows up to %d",
				ErrDBNewer, have, latest)
		}
		for _, m := range ms {
			if m.Version <= have {
				continue
			}
			log.Info("running database migration", "version", m.Version, "name", m.Name)
			if err := m.Migrate(tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			if err := putVersion(tx, m.Version); err != nil {
				return err
			}
		}
		return nil
	})
}

// requireEmpty refuses to stamp a version on a file that holds buckets
// but no meta bucket: it is not a channel database, or lost its meta.
func requireEmpty(tx kvdb.RTx) error {
	return tx.ForEachBucket(func(name []byte) error {
		return fmt.Errorf("%w: bucket %q without a schema version", ErrCorruptRecord, name)
	})
}
