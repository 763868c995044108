package kvdb

import "errors"

// Backend is a transactional store of nested buckets of ordered keys.
//
// View and Update run f in a transaction. A transaction sees a consistent
// snapshot; an Update commits when f returns nil and rolls back entirely
// when f returns an error (that error is returned unchanged). Many View
// transactions may run at once; Update transactions run one at a time.
//
// A backend that retries on conflict (a replicated one) may call f more
// than once: f must have no effect outside the transaction, or reset it at
// its start. The bbolt backend calls f exactly once.
//
// When Update returns nil the transaction is durable, unless the backend
// was opened with an option that says otherwise (WithNoSync, for tests).
//
// Batch is Update for the writes that many goroutines make at once (a
// link's commitment round, a payment's attempt and result, an invoice):
// the backend may run concurrent Batch functions in one transaction, one
// after another, so that one commit and one fsync cover them all. What
// each caller is promised is Update's: when Batch returns nil its writes
// are durable, and f's error is returned to its own caller only (the
// others commit without it). The price is that f runs more than once
// even on bbolt (again, on its own, after it failed in a shared
// transaction; and again, with the others, after a batch-mate failed):
// f must start from scratch each time, reset whatever it sets outside
// the transaction, and leave side effects (notifications, channel sends)
// until Batch has returned. Nor may f wait for a lock that a caller of
// Batch may hold while it waits: that caller's batch-mates, f among
// them, run before it returns (take such a lock with TryLock, as the
// invoice registry's exit decisions do). Update is kept for the rest, rare or long
// writes (migrations, the wallet, funding, closing), which then run
// exactly once and alone on bbolt and never make others run again.
// On bbolt a batch starts as soon as no other is committing, so a lone
// writer waits for nobody, and under load a batch forms during the
// commit before it. A backend without group commit (etcd) runs Batch as
// Update.
type Backend interface {
	View(f func(tx RTx) error) error
	Update(f func(tx RwTx) error) error
	Batch(f func(tx RwTx) error) error
	Close() error
}

// RTx is a read transaction.
type RTx interface {
	// ReadBucket returns the top-level bucket name, or nil if there is
	// none (or name holds a value, not a bucket).
	ReadBucket(name []byte) RBucket

	// ForEachBucket calls f with the name of every top-level bucket, in
	// key order. An error from f stops the walk and is returned.
	ForEachBucket(f func(name []byte) error) error
}

// RwTx is a read-write transaction.
type RwTx interface {
	RTx

	// ReadWriteBucket returns the top-level bucket name, or nil.
	ReadWriteBucket(name []byte) RwBucket

	// CreateTopLevelBucket returns the top-level bucket name, creating it
	// if it does not exist.
	CreateTopLevelBucket(name []byte) (RwBucket, error)

	// DeleteTopLevelBucket deletes the bucket name and all it holds. It
	// returns ErrBucketNotFound if there is no such bucket.
	DeleteTopLevelBucket(name []byte) error
}

// RBucket is a bucket seen from a read transaction. Keys are ordered
// bytewise. A key holds either a value or a nested bucket; for a nested
// bucket ForEach and cursors report the value as nil, while a stored value
// (even an empty one) is never nil.
//
// Slices returned by Get, ForEach and cursors are valid only until the
// transaction ends and must not be modified: copy what you keep.
type RBucket interface {
	// Get returns the value of key, or nil if there is none or key holds
	// a nested bucket.
	Get(key []byte) []byte

	// NestedReadBucket returns the nested bucket key, or nil.
	NestedReadBucket(key []byte) RBucket

	// ForEach calls f for every key in order. An error from f stops the
	// walk and is returned. f must not change the bucket.
	ForEach(f func(k, v []byte) error) error

	// ReadCursor returns a cursor over the bucket's keys.
	ReadCursor() RCursor

	// Sequence returns the bucket's sequence number.
	Sequence() uint64
}

// RwBucket is a bucket seen from a read-write transaction. Put copies key
// and value: the caller may reuse them once Put returns.
type RwBucket interface {
	RBucket

	// Put sets key to value. It returns ErrKeyRequired for an empty key,
	// ErrKeyTooLarge or ErrValueTooLarge past the limits, and
	// ErrIncompatibleValue if key holds a nested bucket.
	Put(key, value []byte) error

	// Delete removes key; deleting an absent key is not an error. It
	// returns ErrIncompatibleValue if key holds a nested bucket.
	Delete(key []byte) error

	// NestedReadWriteBucket returns the nested bucket key, or nil.
	NestedReadWriteBucket(key []byte) RwBucket

	// CreateBucket creates the nested bucket key. It returns
	// ErrBucketExists if it exists and ErrIncompatibleValue if key holds
	// a value.
	CreateBucket(key []byte) (RwBucket, error)

	// CreateBucketIfNotExists returns the nested bucket key, creating it
	// if needed. It returns ErrIncompatibleValue if key holds a value.
	CreateBucketIfNotExists(key []byte) (RwBucket, error)

	// DeleteNestedBucket deletes the nested bucket key and all it holds.
	// It returns ErrBucketNotFound if there is none and
	// ErrIncompatibleValue if key holds a value.
	DeleteNestedBucket(key []byte) error

	// ReadWriteCursor returns a cursor that can also delete.
	ReadWriteCursor() RwCursor

	// NextSequence increments the bucket's sequence and returns it; the
	// first call on a new bucket returns 1.
	NextSequence() (uint64, error)

	// SetSequence sets the bucket's sequence number.
	SetSequence(v uint64) error
}

// RCursor walks a bucket's keys in order. Each move returns the key and
// value it lands on, or a nil key past either end; the value is nil for a
// nested bucket. A new cursor is positioned nowhere: start with First,
// Last or Seek. Once a move has run off either end, Next and Prev return
// nil until First, Last or Seek places the cursor again.
type RCursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)

	// Seek moves to the first key >= seek.
	Seek(seek []byte) (k, v []byte)
}

// RwCursor is a cursor of a read-write transaction.
type RwCursor interface {
	RCursor

	// Delete removes the key under the cursor. Afterwards Next moves to
	// the key that followed it and Prev to the key that preceded it. It
	// returns ErrIncompatibleValue on a nested bucket.
	Delete() error
}

// Errors every backend returns for the conditions callers branch on.
var (
	ErrBucketNotFound    = errors.New("kvdb: bucket not found")
	ErrBucketExists      = errors.New("kvdb: bucket already exists")
	ErrIncompatibleValue = errors.New("kvdb: key holds a bucket where a value was expected, or the reverse")
	ErrKeyRequired       = errors.New("kvdb: key required")
	ErrKeyTooLarge       = errors.New("kvdb: key too large")
	ErrValueTooLarge     = errors.New("kvdb: value too large")
	ErrNoCursorPosition  = errors.New("kvdb: cursor is not on a key")
	ErrTxNotWritable     = errors.New("kvdb: write in a read transaction")
	ErrClosed            = errors.New("kvdb: database closed")
	ErrLocked            = errors.New("kvdb: database file is locked by another process")
	ErrCorruptFile       = errors.New("kvdb: not a valid database file")
)

// AppendOnly tells the backend that keys are put in b, for the rest of
// the transaction, only in increasing order, so it may pack them densely
// (bbolt then fills pages instead of splitting them in half). It changes
// only the layout on disk, never what reads return; a backend that has
// no use for it ignores it.
func AppendOnly(b RwBucket) {
	if a, ok := b.(interface{ appendOnly() }); ok {
		a.appendOnly()
	}
}
