// Package channeldb is everything the node keeps on disk about its
// channels and their peers: link nodes, pending (opening) channels, open
// channels, closed-channel summaries, the compact revocation log, the
// switch's circuits and forwarding packages, and the forwarding log. It
// stores records; it decides nothing about them (no fee logic, no BOLT
// checks).
//
// # Storage
//
// The database is written against kvdb, a small transactional key-value
// interface (nested buckets, cursors, sequences) whose default backend is
// a bbolt file with fsync on: when Update returns nil the change is on
// disk, so a caller persists state and only then sends the message that
// commits it. Stores are functions over a transaction (PutLinkNode(tx,
// ...)), so one Update can combine records of several stores, including
// those other packages keep in their own top-level buckets through
// (*DB).Backend.
//
// Values read from kvdb are valid only inside their transaction; every
// decoder here copies what it keeps.
//
// # Records
//
// Every record has an explicit binary encoding starting with a version
// byte; integers are big-endian. A record that cannot be decoded gives a
// *RecordError (matching ErrCorruptRecord) naming the record's kind and
// its key, never a panic.
//
// # Schema version and migrations
//
//	meta/
//	    version -> uint32, the schema version
//
// A new database is stamped with the latest version. Opening an older one
// runs the missing migrations in order in one transaction; a failing
// migration leaves the file as it was. A database newer than the code is
// refused (ErrDBNewer), naming both versions.
//
// # Open channels
//
// The lnwallet state machine's records live here (written by lnwallet's
// persistence, documented with them).
//
// # Channel opening info
//
//	channel-open-info/
//	    <txid 32><index 4> -> version, private, push_msat u64,
//	        minimum_depth u32, local and remote upfront shutdown scripts
//	        (uvarint length + bytes), scid_alias
//
// What the funding flow negotiated that the state machine does not use
// (ChannelOpenInfo), kept for as long as the channel.
package channeldb
