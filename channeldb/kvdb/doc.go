// Package kvdb is the small transactional key-value interface channeldb is
// written against, and its default backend, bbolt.
//
// The interface is nested buckets of bytewise-ordered keys, read and
// read-write transactions, cursors and per-bucket sequence numbers:
// little enough that a replicated backend (etcd) can implement it. Nothing
// of bbolt shows through it: no bbolt types, and bbolt's errors are mapped
// to this package's sentinels (ErrBucketNotFound, ErrIncompatibleValue,
// ...).
//
// The contract every caller relies on:
//   - Update commits only if its function returns nil, and once it returns
//     nil the transaction is on disk (fsync), unless the backend was
//     opened WithNoSync, which only tests may do.
//   - Slices returned by Get, ForEach and cursors belong to the
//     transaction: valid until it ends, never to be modified. Copy what
//     outlives it.
//   - Put copies its arguments.
//   - The function given to View or Update may run more than once on a
//     backend that retries on conflict, and the one given to Batch may
//     on any backend (it shares a transaction with concurrent callers
//     and runs again when one of them fails); keep its effects inside
//     the transaction.
//   - Batch is Update with group commit: concurrent Batch calls share
//     one bbolt transaction and one fsync. None returns before the
//     commit that covers it is on disk, and a function's error goes to
//     its own caller alone. The hot writes use it; Update is for the
//     rest (see Backend).
//   - Keep transactions short and never open one inside another: bbolt
//     grows its file only when no read transaction is open, so a View
//     left running can stall every Update, and an Update waiting inside a
//     View deadlocks.
//
// A new backend proves itself with the suite in kvdbtest
// (kvdbtest.Run), which the bbolt backend and the etcd backend
// (package kvdb/etcd, for a node cluster) pass.
package kvdb
