// Package etcd is a kvdb.Backend on etcd v3, so that channeldb and the
// wallet can live in a replicated store that a standby node shares.
//
// Layout. Every key of a backend starts with its namespace. A bucket is
// named by a 32-byte id, the SHA-256 of its parent's id and its name (the
// root's id is all zeros), so a bucket's keys are one etcd prefix however
// deep it is nested:
//
//	<ns>d<id>          the bucket's sequence number (8 bytes, big-endian)
//	<ns>d<id><key>     'v' + value, or 'b' for a nested bucket named key
//	<ns>m/version      rewritten by every commit (see below)
//
// Transactions. A transaction reads one snapshot: the etcd revision of its
// first read. Writes are kept in memory and sent as one etcd transaction
// when the function returns nil. That transaction commits only if the
// version key was not written after the snapshot, so that every committed
// write transaction saw the state the one before it left: transactions are
// serializable. On a conflict (another process wrote in between) the
// function runs again on a new snapshot, as kvdb's contract allows.
// Updates of one Backend run one at a time.
//
// Fencing. A backend given a leader key (WithFence) adds to every commit
// the comparison "this key still exists with this create revision": a node
// whose leadership lease has expired cannot commit, even if it has not
// noticed yet. Such a commit returns ErrFenced and calls the OnFenced hook.
//
// etcd limits a transaction to --max-txn-ops operations (128 by default)
// and a request to --max-request-bytes (1.5 MiB): run etcd with larger
// limits (see the README) or large transactions fail with ErrTxTooLarge.
package etcd
