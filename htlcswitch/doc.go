// Package htlcswitch moves HTLCs: one Link per active channel runs that
// channel's state machine (lnwallet.Channel) against its peer, and the
// Switch carries HTLCs between links, to the invoice registry when they
// end here, and back to the payment code when we originated them.
//
// # The API for payments
//
// The payment code calls four methods (through closures: routing does
// not import this package):
//
//   - SendHTLC(firstHop, attemptID, add) hands an HTLC we originate, its
//     onion built, to the link of the first channel. It fails only with
//     ErrDuplicateAttempt (an attempt id in flight or already resolved);
//     every other failure arrives as the attempt's result.
//   - GetAttemptResult(attemptID) returns a channel that receives the
//     AttemptResult: the preimage, the onion-encrypted reason the first
//     hop returned (decrypt it with sphinx.Circuit.DecryptFailure), or a
//     LocalFailure (our own node refused, or the first hop sent
//     update_fail_malformed_htlc: FromFirstHop). Results are persisted in
//     the channel database, keyed by attempt id, so they outlive a
//     restart; CleanAttemptResults deletes those no longer needed.
//   - Bandwidth(scid) is what an active channel can carry now.
//
// # Links
//
// A link resumes its channel with channel_reestablish on every
// (re)connection, then runs BOLT 2's normal operation. Our updates
// (adds, settles, fails) wait in an outbox and leave together with the
// commitment_signed that covers them: the round is signed after a short
// timer or at once when the batch is full (DefaultBatchDelay,
// DefaultBatchSize), so one HTLC is not held up and many share a round
// (one database transaction and fsync per step of the round, not per
// HTLC). Every lnwallet.Pending is persisted before its messages leave,
// and the switch's records of the round go in the same transaction:
// the circuits of the HTLCs we offer, and the acknowledgements of the
// HTLCs we remove.
//
// What the peer locks in comes as a forwarding package (written with the
// revocation that locked it in). The link peels each incoming HTLC's
// onion (sphinx) as its update_add_htlc arrives, records it in the
// persistent replay log with our revocation of the commitment covering
// it (entries kept until the HTLC's expiry has passed, pruned by height),
// and once it is locked in hands it on: to the invoice registry when we are the final hop (settle, fail,
// or held until a hold invoice is settled or cancelled; a held HTLC is
// failed back HoldExpiryDelta blocks before its expiry), to the switch
// to forward, or back with a failure: update_fail_malformed_htlc for an
// onion we cannot read, otherwise a BOLT 4 failure encrypted for the
// origin. Each package entry is acknowledged in the same write that
// makes its outcome durable, so after a restart the link redoes exactly
// the entries that were not finished, as soon as the switch has loaded
// its circuits and whether or not the peer is back (an incoming HTLC is
// handed on once: the circuit map refuses a second forward, the registry
// recognises a replayed HTLC; a preimage learnt downstream reaches the
// incoming channel even if the downstream peer stays away).
//
// When we opened the channel, the link follows the chain's fee estimate
// (Config.FeeEstimate) with update_fee once it moves by more than 10%,
// anchor channels capped at MaxAnchorCommitFeeRate.
//
// A peer's violation that BOLT 2 answers with an error fails the
// channel: the link sends the error and stays inactive; nothing is
// broadcast from here. One answered with a warning drops the
// connection, and the offending update is forgotten.
//
// A Link runs off the peer's read loop: HandleMessage and the connection
// events only queue, into a bounded per-channel queue that one goroutine
// drains until Stop; the switch and the registry reach it through an
// unbounded mailbox, so that links never wait on one another.
//
// # The switch
//
// Forwarding uses a persistent circuit map (channeldb): an incoming
// HTLC's circuit is written, with its outgoing HTLC, before the outgoing
// update_add_htlc leaves, and deleted in the same write as the removal
// of the incoming HTLC, so a settle or fail finds its way back after any
// restart. Before forwarding, the outgoing channel's ForwardingPolicy
// (fees, time-lock delta, HTLC bounds, expiry bounds) is checked, and a
// refusal is the BOLT 4 failure with our channel_update
// (Config.ChannelUpdate; empty when unknown, as BOLT 4 allows). Each
// settled forward is written to the forwarding log with its fee.
// Policies are kept per channel point in the database; a channel without
// one uses Config.DefaultPolicy.
//
// # Preimages
//
// The preimage of a forwarded HTLC settled downstream is stored
// (channeldb.PutPreimages) before the incoming HTLC is settled, so the
// contract court can claim the incoming HTLC on chain should its channel
// get there first. SettleFromChain is the court's way in when the peer
// claims one of our HTLCs on chain with the preimage: the preimage is
// stored, then the incoming HTLC is settled as an off-chain fulfil would
// settle it (an attempt of ours gets the result Settled). At start, an
// open circuit whose preimage is stored is settled again once its
// incoming link is added; a settle that arrives both ways is applied
// once.
package htlcswitch
