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
//	open-chan-bucket/
//	    <funding txid (32) || output index (4, BE)> -> OpenChannel record
//
// One record per open channel (channel.go, channel_codec.go, written by
// channel_store.go): the whole state of lnwallet's channel state machine,
// rewritten at every transition that commits us to something
// (commitment_signed sent, revoke_and_ack sent or received), in the same
// transaction as the revocation-log entry of a commitment the peer just
// revoked (ChannelUpdate, (*DB).PersistChannel). It holds:
//
//   - static parameters: funding outpoint, capacity, channel type bits,
//     initiator, short channel id and aliases, the peer's node key, and
//     for each side its constraints (dust limit, reserve,
//     htlc_minimum_msat, max_htlc_value_in_flight_msat,
//     max_accepted_htlcs, to_self_delay), funding key and basepoints; for
//     our side the wallet key locators instead of any private key;
//   - the key locator of our revocation root: the shachain seed is
//     re-derived from the wallet, never stored; our position in it is the
//     local commitment number;
//   - our current commitment with the peer's signatures, the peer's
//     current commitment, and the one we signed and the peer has not yet
//     revoked the previous one for (with the exact commitment_signed, for
//     retransmission); each with its number, the prefix of each update
//     log it includes, HTLC id counters, balances, fee rate, HTLCs, txid
//     and output layout;
//   - both update logs (the wire messages with their log indices) from
//     the oldest update not yet in both commitments, and the counters;
//   - the peer's current and next per-commitment points and its
//     revocation store (shachain receiver, at most 49 secrets).
//
// The record starts with a version byte (1). Decoding errors wrap
// ErrCorruptChannel in a *RecordError naming the channel point and the
// part of the record (header, local config, local commitment, remote
// update log, ...). CloseChannel deletes the record and writes the close
// summary in one transaction; the revocation log is kept.
package channeldb
