package channeldb

import (
	"fmt"
	"log/slog"
	"time"

	"lnd.xprv/channeldb/kvdb"
)

// DB is the node's channel database. Its stores are functions that take a
// transaction (PutLinkNode(tx, ...), AppendRevocationLog(tx, ...)), so one
// Update can write records of several stores at once; DB adds Open, Close
// and the transactions.
type DB struct {
	backend kvdb.Backend
}

// Option changes how Open opens the database.
type Option func(*config)

type config struct {
	kvdb       []kvdb.Option
	migrations []Migration
	log        *slog.Logger
}

// WithLogger sets the logger (default: none); Open logs the migrations it
// runs.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

// WithNoSync turns fsync off. For tests only: a node that crashes may
// lose committed state.
func WithNoSync() Option {
	return func(c *config) { c.kvdb = append(c.kvdb, kvdb.WithNoSync()) }
}

// WithLockTimeout sets how long Open waits for another process holding
// the file (default 2 s).
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) { c.kvdb = append(c.kvdb, kvdb.WithLockTimeout(d)) }
}

// Open opens, or creates, the channel database at path (a bbolt file),
// brings its schema up to date and returns it.
func Open(path string, opts ...Option) (*DB, error) {
	cfg := newConfig(opts)
	backend, err := kvdb.OpenBolt(path, cfg.kvdb...)
	if err != nil {
		return nil, fmt.Errorf("channeldb: %w", err)
	}
	db, err := open(backend, cfg)
	if err != nil {
		backend.Close()
		return nil, err
	}
	return db, nil
}

// OpenBackend is Open over a backend the caller opened (another kvdb
// implementation). Close closes the backend.
func OpenBackend(backend kvdb.Backend, opts ...Option) (*DB, error) {
	return open(backend, newConfig(opts))
}

func newConfig(opts []Option) *config {
	cfg := &config{migrations: migrations, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(cfg)
	}
	return cfg
}

func open(backend kvdb.Backend, cfg *config) (*DB, error) {
	if err := migrate(backend, cfg.migrations, cfg.log); err != nil {
		return nil, fmt.Errorf("channeldb: %w", err)
	}
	return &DB{backend: backend}, nil
}

// Close closes the database.
func (d *DB) Close() error {
	return d.backend.Close()
}

// Backend returns the key-value store under the database, for packages
// that keep their own records (in their own top-level buckets) in the
// same transactions.
func (d *DB) Backend() kvdb.Backend {
	return d.backend
}

// View runs f in a read transaction.
func (d *DB) View(f func(tx kvdb.RTx) error) error {
	return d.backend.View(f)
}

// Update runs f in a read-write transaction, durable once Update returns
// nil (see kvdb.Backend).
func (d *DB) Update(f func(tx kvdb.RwTx) error) error {
	return d.backend.Update(f)
}

// Batch runs f in a read-write transaction that concurrent Batch calls
// may share (one commit, one fsync), durable once Batch returns nil. f
// may run more than once: see kvdb.Backend.
func (d *DB) Batch(f func(tx kvdb.RwTx) error) error {
	return d.backend.Batch(f)
}
