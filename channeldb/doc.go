// Package channeldb is everything the node keeps on disk about its
// channels and their peers: link nodes, pending (opening) channels, open
// channels, closed-channel summaries, the compact revocation log, the
// switch's circuits and forwarding packages, and the forwarding log. It
// stores records; it decides nothing about them (no fee logic, no BOLT
// checks).
//
// # Storage and transactions
//
// The database is written against kvdb, a small transactional key-value
// interface (nested buckets, cursors, sequences) whose default backend is
// a bbolt file with fsync on: when Update returns nil the change is on
// disk, so a caller persists state and only then sends the message that
// commits it to it. WithNoSync exists for tests only.
//
// Stores are functions over a transaction (PutLinkNode(tx, ...),
// AppendRevocationLog(tx, ...)), so one Update can combine records of
// several stores, and records that other packages keep in their own
// top-level buckets through (*DB).Backend: closing a channel deletes its
// open-channel record and writes its summary in one transaction. A store
// creates its buckets on first write; a read of a store never written
// finds nothing (a not-found error or an empty list).
//
// Values read from kvdb are valid only inside their transaction; every
// decoder here copies what it keeps, so returned records outlive it.
//
// # Records
//
// Every record is an explicit binary encoding that starts with a version
// byte; integers are big-endian (varints where noted); no gob, no JSON.
// A record that cannot be decoded (truncated, trailing bytes, an unknown
// version or enum, a bad key) gives a *RecordError that matches
// ErrCorruptRecord and names the record's kind and key, never a panic.
// Keys:
//
//	channel point     36 bytes: funding txid, output index (4)
//	pubkey            33 bytes, compressed
//	short channel id  8 bytes (block 3, tx 3, output 2)
//	circuit key       16 bytes: short channel id (8), HTLC id (8)
//
// # Schema version and migrations
//
//	meta/
//	    version -> uint32, the schema version
//
// A new database is stamped with the latest version. Opening an older one
// runs the missing migrations (numbered, consecutive) in order in one
// transaction: a failing migration leaves the file as it was. A database
// newer than the code is refused with ErrDBNewer, naming both versions;
// a file with buckets but no version is refused too.
//
// # Link nodes
//
//	link-nodes/
//	    pubkey -> version(1) network(4) last-seen unix s(8)
//	              n(varint) n × address
//	address: type(1) then IPv4 (1): ip(4) port(2); IPv6 (2): ip(16)
//	         port(2); Tor v3 (4): onion name, 56 base32 chars, port(2)
//
// # Closed channels
//
//	closed-channels/
//	    channel point -> version(1) short chan id(8) remote pubkey(33)
//	                     capacity(8) closing txid(32) close height(4)
//	                     settled balance(8) time-locked balance(8)
//	                     close type(1) pending(1)
//
// Close types: 0 cooperative, 1 local force, 2 remote force, 3 breach,
// 4 funding canceled, 5 abandoned. MarkChannelFullyResolved clears the
// pending flag once every output of ours is resolved.
//
// # Pending channels
//
//	pending-channels/
//	    pending chan id(32) -> version(1) role(1) state(1)
//	                           peer pubkey(33) capacity(8) push msat(8)
//	                           broadcast height(4) flags(1)
//	                           [channel point(36)] [funding tx: n(varint) bytes]
//	pending-channels-by-point/
//	    channel point -> pending chan id(32)
//
// Flags: 1 channel point present, 2 funding tx present (we are the
// funder). Roles: 0 funder, 1 fundee. States: 0 negotiating, 1 signed,
// 2 broadcast, 3 confirmed. The funding flow owns their meaning; the
// index follows the record when its channel point changes or it is
// deleted.
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
// revoked and the forwarding package of the peer's updates that became
// irrevocable (ChannelUpdate, (*DB).PersistChannel). It holds:
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
//
// # Revocation log
//
//	revocation-log/
//	    channel key/                  (the caller's key: the channel point)
//	        commit number(8, BE) -> version(1) commitment txid(32) flags(1)
//	                                [to_remote: index(varint) amount(varint)]
//	                                [to_local: index(varint) amount(varint)]
//	                                n(varint) n × HTLC
//	HTLC: output index(varint) incoming(1) payment hash(32)
//	      amount sat(varint) cltv expiry(4)
//
// One entry per revoked commitment of the peer, holding only what a
// justice transaction needs: which outputs to take and enough of each
// HTLC to rebuild its script from the revocation key (itself derived from
// the secret in the shachain store). Flags: 1 our output (to_remote)
// present, 2 theirs (to_local). Commitment numbers are big-endian keys so
// a cursor walks them in order; appends must grow, and the bucket is
// packed densely (kvdb.AppendOnly). About 69 bytes a state with no HTLC,
// 197 with 3, 515 with 10 (docs/benchmarks.md).
//
// # Contract court
//
//	contract-court/
//	    channel point(36) -> version(1) kind(1) commit number(8)
//	                         closing tx: n(varint) bytes close height(4)
//	                         channel: n(varint) open-channel record
//	                         n(varint) n × output
//	                         has-sweep(1) [sweep tx: n(varint) bytes
//	                         fee rate sat/kw(varint) height(4)]
//	                         n(varint) n × sweep txid(32) resolved(1)
//	output: outpoint(36) amount(varint) kind(1) csv(varint)
//	        confirmation height(4) incoming(1)
//	        payment hash(32) cltv expiry(4) spent by txid(32) height(4)
//
// One record per channel whose funding output was spent by a commitment
// (or is about to be, by our own force close: the record, with the
// signed commitment, is written before it is broadcast). Kinds: 1 our
// commitment, 2 the peer's current, 3 the peer's pending, 4 a revoked one
// (breach). It carries the channel's state as it was when it went to
// chain, so that the outputs' scripts can be rebuilt after a restart;
// the open-channel record is deleted in the same transaction. The sweep
// transaction is stored before each broadcast (and each fee bump).
//
// # Circuits
//
//	circuits/
//	    incoming circuit key -> version(1) has-outgoing(1)
//	                            [outgoing circuit key(16)] incoming msat(8)
//	                            outgoing msat(8) payment hash(32)
//	                            error encrypter: n(varint) bytes (opaque)
//	circuits-by-outgoing/
//	    outgoing circuit key -> incoming circuit key
//
// # Forwarding packages
//
//	fwd-packages/
//	    source short chan id/
//	        commitment height(8) -> version(1) state(1)
//	                                adds: n(varint) n × update
//	                                settle/fails: n(varint) n × update
//	                                ack filter(⌈adds/8⌉)
//	                                settle/fail filter(⌈settle/fails/8⌉)
//	update: log index(8) message: n(varint) bytes (lnwire, type included)
//
// Adds are update_add_htlc; settle/fails are update_fulfill_htlc,
// update_fail_htlc or update_fail_malformed_htlc. Filter bit i (LSB
// first) marks update i acknowledged. States: 0 locked in, 1 processed,
// 2 completed.
//
// # Forwarding log
//
//	forwarding-log/
//	    timestamp unix ns(8) -> version(1) incoming chan id(8)
//	                            outgoing chan id(8) amount in msat(8)
//	                            amount out msat(8)
//
// An event whose nanosecond is taken moves to the next free one, so no
// event is lost. QueryForwardingLog pages through a time range as lnd's
// ForwardingHistory does (index offset within the range, at most n
// events, the offset to continue from).
//
// # Channel graph
//
//	graph-nodes/
//	    pubkey -> version(1) node_announcement: n(varint) bytes
//	graph-channels/
//	    short chan id -> version(1) channel point(36) capacity sat(8)
//	                     node 1(33) node 2(33) flags(1)
//	                     [channel_announcement: n(varint) bytes]
//	graph-channels-by-point/
//	    channel point -> short chan id(8)
//	graph-policies/
//	    short chan id(8) direction(1) -> version(1)
//	                                     channel_update: n(varint) bytes
//	graph-zombies/
//	    short chan id -> version(1) marked at unix s(8)
//	graph-meta/
//	    prune-tip -> version(1) height(4) block hash(32)
//
// Gossip messages are stored as received, in their wire encoding with
// the type (what lnwire.Serialize writes), so that they are served to
// peers byte for byte and their signatures stay checkable; readers get
// them parsed, and a record whose message is not of its kind or does not
// match its key is corrupt. Flags: 1 the channel_announcement is present
// (a channel of ours not announced has none). Direction 0 is node 1's
// update. A zombie keeps its records so that a fresh update can resurrect
// it; DeleteGraphChannel removes a channel with its policies, index entry
// and zombie mark. Which message is newer, valid or spent is gossip
// validation's business, not the store's.
//
// # Invoices
//
//	invoices/
//	    payment hash(32) -> version(1) flags(1) [preimage(32)]
//	                        payment addr(32) payment request: n(varint) bytes
//	                        memo: n(varint) bytes value msat(8)
//	                        creation unix s(8) settle unix s(8) expiry s(8)
//	                        cltv delta(4) state(1) amount paid msat(8)
//	                        add index(8) settle index(8) n(varint) n × HTLC
//	invoice-add-index/
//	    add index(8, BE) -> payment hash(32)
//	invoice-settle-index/
//	    settle index(8, BE) -> payment hash(32)
//	invoice-payaddr-index/
//	    payment addr(32) -> payment hash(32)
//	HTLC: circuit key(16) amount msat(8) mpp total msat(8)
//	      accept height(4) accept unix s(8) resolve unix s(8)
//	      cltv expiry(4) state(1)
//	      n(varint) n × custom record: type(varint) value: n(varint) bytes
//
// Flags: 1 preimage present (a hold invoice has none until settled),
// 2 keysend, 4 AMP, 8 private (route hints). States are lnd's: 0 open,
// 1 settled, 2 canceled, 3 accepted; HTLC states 0 accepted, 1 settled,
// 2 canceled. Custom records are in ascending type order. The add index
// is the add-index bucket's sequence, given by AddInvoice; the settle
// index the settle-index bucket's, given by UpdateInvoice when an
// invoice first becomes settled; both count from 1 and never reuse a
// number, so SubscribeInvoices can replay from either and ListInvoices
// page by add index. A keysend invoice has no payment address and no
// entry in the payment address index; times of zero mean unset.
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
//
// # Announcement signatures
//
//	channel-announce-sigs/
//	    <txid 32><index 4> -> version(1) short channel id(8)
//	        node signature(64) bitcoin signature(64)
//
// The peer's announcement_signatures of a public channel (AnnounceSigs):
// with ours, re-derived from the wallet, they rebuild the channel's
// channel_announcement after a restart.
//
// # Mission control
//
//	mission-control/
//	    from pubkey(33) to pubkey(33) -> version(1) fail unix ns(8)
//	                                     fail amount msat(8)
//	                                     success unix ns(8)
//	                                     success amount msat(8)
//
// One record per directed node pair: the latest failure and success
// routing's mission control learned for it (a time of 0: none).
// ReplaceMissionControlResults makes a given set the whole of the bucket,
// keeping only the newest N by their latest outcome (lnd keeps 1,000);
// records whose key is not two distinct compressed keys are corrupt.
//
// # Payments
//
//	payments/
//	    payment hash(32)/
//	        info -> version(1) value msat(8) creation unix ns(8)
//	                payment request: n(varint) bytes
//	        seq  -> sequence number(8, BE)
//	        fail -> version(1) failure reason(1)       (once given up)
//	        attempts/
//	            attempt id(8, BE) -> version(1) flags(1) session key(32)
//	                attempt unix ns(8) source(33) total msat(8)
//	                total time lock(4) n(varint) n × hop
//	                [settle: preimage(32) unix ns(8)]
//	                [failure: kind(1) source index(4)
//	                          message: n(varint) bytes unix ns(8)]
//	payments-index/
//	    sequence number(8, BE) -> payment hash(32)
//	payment-attempt-ids/        (only its sequence: the next attempt id)
//	hop: pubkey(33) scid(8) amount msat(8) time lock(4) flags(1)
//	     [mpp: payment addr(32) total msat(8)]
//	     n(varint) n × custom record: type(varint) value: n(varint) bytes
//
// The control tower of the payment lifecycle. An attempt is registered
// before its HTLC is handed to the switch, so that after a crash every
// HTLC that may have left is known and its result is asked for. Attempt
// flags: 1 settled, 2 failed (never both). A payment's status is derived
// as lnd derives it: in flight while an attempt is, succeeded once one
// settled, failed once it has a failure reason (lnrpc's numbering) and
// nothing in flight, initiated before its first attempt. InitPayment
// refuses a hash succeeded (ErrAlreadyPaid), in flight
// (ErrPaymentInFlight) or initiated (ErrPaymentExists), and replaces a
// failed one with a fresh sequence number; attempt ids are unique across
// payments, as the switch keys its results on them.
package channeldb
