package kvdb

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Option changes how OpenBolt opens a database.
type Option func(*boltConfig)

type boltConfig struct {
	noSync     bool
	timeout    time.Duration
	maxBatch   int
	batchDelay time.Duration
}

// WithNoSync turns fsync off: a committed transaction may be lost, or the
// file left inconsistent, on a power failure or an OS crash. For tests
// only; a node never uses it.
func WithNoSync() Option {
	return func(c *boltConfig) { c.noSync = true }
}

// WithLockTimeout sets how long OpenBolt waits for another process to
// release the file lock before it returns ErrLocked (default 2 s).
func WithLockTimeout(d time.Duration) Option {
	return func(c *boltConfig) { c.timeout = d }
}

// WithBatch sets the group commit of Batch: at most max functions share
// a transaction (max < 1 means DefaultMaxBatch), and a batch waits up to
// delay for more before it starts (default DefaultBatchDelay).
func WithBatch(max int, delay time.Duration) Option {
	return func(c *boltConfig) {
		if max < 1 {
			max = DefaultMaxBatch
		}
		c.maxBatch, c.batchDelay = max, delay
	}
}

// OpenBolt opens, or creates, the bbolt database file at path with fsync
// on. Its directory is created if needed.
func OpenBolt(path string, opts ...Option) (Backend, error) {
	cfg := boltConfig{timeout: 2 * time.Second, maxBatch: DefaultMaxBatch,
		batchDelay: DefaultBatchDelay}
	for _, o := range opts {
		o(&cfg)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("kvdb: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: cfg.timeout,
		NoSync:  cfg.noSync,
		// The freelist is rebuilt on open rather than written on every
		// commit: fewer pages per fsync, and nothing to corrupt.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("kvdb: open %s: %w", path, mapErr(err))
	}
	return &boltBackend{db: db, batcher: newBatcher(db, cfg.maxBatch, cfg.batchDelay)}, nil
}

type boltBackend struct {
	db      *bolt.DB
	batcher *batcher
}

func (b *boltBackend) View(f func(tx RTx) error) error {
	var ferr error
	err := b.db.View(func(tx *bolt.Tx) error {
		ferr = f(boltTx{tx})
		return ferr
	})
	if err != nil && ferr == nil {
		return mapErr(err)
	}
	return err
}

func (b *boltBackend) Update(f func(tx RwTx) error) error {
	return b.batcher.update(f)
}

func (b *boltBackend) Batch(f func(tx RwTx) error) error {
	return b.batcher.batch(f)
}

func (b *boltBackend) Close() error {
	return mapErr(b.db.Close())
}

// mapErr turns bbolt's errors into this package's sentinels.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrBucketNotFound):
		return ErrBucketNotFound
	case errors.Is(err, berrors.ErrBucketExists):
		return ErrBucketExists
	case errors.Is(err, berrors.ErrIncompatibleValue):
		return ErrIncompatibleValue
	case errors.Is(err, berrors.ErrKeyRequired), errors.Is(err, berrors.ErrBucketNameRequired):
		return ErrKeyRequired
	case errors.Is(err, berrors.ErrKeyTooLarge):
		return ErrKeyTooLarge
	case errors.Is(err, berrors.ErrValueTooLarge):
		return ErrValueTooLarge
	case errors.Is(err, berrors.ErrDatabaseNotOpen), errors.Is(err, berrors.ErrTxClosed):
		return ErrClosed
	case errors.Is(err, berrors.ErrTxNotWritable), errors.Is(err, berrors.ErrDatabaseReadOnly):
		return ErrTxNotWritable
	case errors.Is(err, berrors.ErrTimeout):
		return ErrLocked
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return fmt.Errorf("%w: %s", ErrCorruptFile, err.Error())
	}
	return err
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) ReadBucket(name []byte) RBucket {
	if b := t.tx.Bucket(name); b != nil {
		return boltBucket{b}
	}
	return nil
}

func (t boltTx) ReadWriteBucket(name []byte) RwBucket {
	if b := t.tx.Bucket(name); b != nil {
		return boltBucket{b}
	}
	return nil
}

func (t boltTx) ForEachBucket(f func(name []byte) error) error {
	return t.tx.ForEach(func(name []byte, _ *bolt.Bucket) error { return f(name) })
}

func (t boltTx) CreateTopLevelBucket(name []byte) (RwBucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(clone(name))
	if err != nil {
		return nil, mapErr(err)
	}
	return boltBucket{b}, nil
}

func (t boltTx) DeleteTopLevelBucket(name []byte) error {
	return mapErr(t.tx.DeleteBucket(name))
}

type boltBucket struct{ b *bolt.Bucket }

func (b boltBucket) Get(key []byte) []byte {
	k, v := b.b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil
	}
	if v == nil && b.b.Bucket(key) == nil {
		return []byte{} // an empty value, not a nested bucket
	}
	return v
}

func (b boltBucket) NestedReadBucket(key []byte) RBucket {
	if n := b.b.Bucket(key); n != nil {
		return boltBucket{n}
	}
	return nil
}

func (b boltBucket) NestedReadWriteBucket(key []byte) RwBucket {
	if n := b.b.Bucket(key); n != nil {
		return boltBucket{n}
	}
	return nil
}

func (b boltBucket) ForEach(f func(k, v []byte) error) error {
	c := b.ReadCursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := f(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (b boltBucket) ReadCursor() RCursor       { return &boltCursor{c: b.b.Cursor()} }
func (b boltBucket) ReadWriteCursor() RwCursor { return &boltCursor{c: b.b.Cursor()} }
func (b boltBucket) Sequence() uint64          { return b.b.Sequence() }

func (b boltBucket) Put(key, value []byte) error {
	return mapErr(b.b.Put(clone(key), clone(value)))
}

// PutOwned is b.Put(key, value) for a value the caller hands over: it
// must not change until the transaction ends. On bbolt that saves Put's
// copy of the value (a channel's record, written on every update round,
// is tens of KB with HTLCs in flight).
func PutOwned(b RwBucket, key, value []byte) error {
	if bb, ok := b.(boltBucket); ok && value != nil {
		return mapErr(bb.b.Put(clone(key), value))
	}
	return b.Put(key, value)
}

func (b boltBucket) Delete(key []byte) error {
	return mapErr(b.b.Delete(key))
}

func (b boltBucket) CreateBucket(key []byte) (RwBucket, error) {
	n, err := b.b.CreateBucket(clone(key))
	if err != nil {
		return nil, mapErr(err)
	}
	return boltBucket{n}, nil
}

func (b boltBucket) CreateBucketIfNotExists(key []byte) (RwBucket, error) {
	n, err := b.b.CreateBucketIfNotExists(clone(key))
	if err != nil {
		return nil, mapErr(err)
	}
	return boltBucket{n}, nil
}

func (b boltBucket) DeleteNestedBucket(key []byte) error {
	return mapErr(b.b.DeleteBucket(key))
}

func (b boltBucket) NextSequence() (uint64, error) {
	v, err := b.b.NextSequence()
	return v, mapErr(err)
}

func (b boltBucket) SetSequence(v uint64) error {
	return mapErr(b.b.SetSequence(v))
}

// boltCursor wraps bbolt's cursor to give values the interface's meaning
// (nil only for a nested bucket) and to define where Next and Prev go
// after Delete, which bbolt leaves to its page layout.
type boltCursor struct {
	c *bolt.Cursor
	// cur is the key the cursor is on, nil if none.
	cur []byte
	// deleted is the key Delete removed, while no move has happened
	// since.
	deleted []byte
}

func (c *boltCursor) land(k, v []byte) ([]byte, []byte) {
	c.cur, c.deleted = k, nil
	if k != nil && v == nil && c.c.Bucket().Bucket(k) == nil {
		v = []byte{}
	}
	return k, v
}

func (c *boltCursor) First() ([]byte, []byte)        { return c.land(c.c.First()) }
func (c *boltCursor) Seek(s []byte) ([]byte, []byte) { return c.land(c.c.Seek(s)) }

// Last works around bbolt, whose Last loops forever on a bucket whose
// every leaf was emptied in the current transaction, and can stop on an
// emptied leaf: it is called only when a key exists.
func (c *boltCursor) Last() ([]byte, []byte) {
	if k, _ := c.c.Bucket().Cursor().First(); k == nil {
		return c.land(nil, nil)
	}
	k, v := c.c.Last()
	return c.land(c.skipBack(k, v))
}

func (c *boltCursor) Next() ([]byte, []byte) {
	if c.deleted != nil {
		// The deleted key is gone: the first key at or after it is
		// its successor.
		return c.land(c.c.Seek(c.deleted))
	}
	if c.cur == nil {
		return nil, nil
	}
	return c.land(c.c.Next())
}

func (c *boltCursor) Prev() ([]byte, []byte) {
	from := c.cur
	if c.deleted != nil {
		from = c.deleted
		if k, _ := c.c.Seek(c.deleted); k == nil {
			return c.Last()
		}
	} else if c.cur == nil {
		return nil, nil
	}
	k, v := c.c.Prev()
	if k == nil && c.hasBefore(from) {
		k, v = c.skipBack(k, v)
	}
	return c.land(k, v)
}

// skipBack steps back over leaves emptied in this transaction, where
// bbolt's Prev and Last stop and report nil although keys precede.
func (c *boltCursor) skipBack(k, v []byte) ([]byte, []byte) {
	for k == nil {
		k, v = c.c.Prev()
	}
	return k, v
}

// hasBefore reports whether the bucket holds a key below key.
func (c *boltCursor) hasBefore(key []byte) bool {
	k, _ := c.c.Bucket().Cursor().First()
	return k != nil && bytes.Compare(k, key) < 0
}

func (c *boltCursor) Delete() error {
	if c.cur == nil {
		return ErrNoCursorPosition
	}
	key := clone(c.cur)
	b := c.c.Bucket()
	if err := b.Delete(key); err != nil {
		return mapErr(err)
	}
	// The moves after a Delete start from a fresh cursor.
	c.c = b.Cursor()
	c.cur, c.deleted = nil, key
	return nil
}

// appendOnly fills pages fully: a page split by an append then leaves a
// full page behind rather than a half-empty one.
func (b boltBucket) appendOnly() { b.b.FillPercent = 1.0 }
