// Package lnwallet holds the BOLT 3 transaction layer of a Lightning
// channel: the keys, scripts and transactions both peers build for every
// channel state, and the signatures they exchange over them. The channel
// state machine (update logs, commitment rounds, revocations) builds on it.
//
// # Keys
//
// Every commitment uses fresh keys: each basepoint a party announced in
// open_channel/accept_channel is blinded with the commitment owner's
// per_commitment_point (TweakPubKey, TweakPrivKey), and the revocation key
// combines one party's revocation_basepoint with the other's
// per_commitment_point so that neither alone knows its secret
// (DeriveRevocationPubKey, DeriveRevocationPrivKey). Per-commitment secrets
// come from package shachain.
//
// # Building commitments
//
// ChannelParams holds what is fixed for a channel: the funding outpoint and
// capacity, the channel type (option_static_remotekey, or option_anchors
// with zero-fee HTLC transactions), who opened it, and each party's
// ChannelConfig (basepoints, dust limit, to_self_delay). A CommitmentSpec
// is one channel state: commitment number, fee rate, balances and HTLCs,
// always described from our node's point of view. NewCommitment turns the
// two into either party's Commitment: the transaction with its outputs in
// BIP 69 + CLTV order, trimmed HTLCs dropped, the fee and anchors taken
// from the opener, and for each HTLC output its unsigned HTLC-timeout or
// HTLC-success transaction. CommitmentCost gives the same fee and trimming
// figures without building anything, for checking updates cheaply.
//
// Inside a Commitment, as in BOLT 3, "local" and "remote" are relative to
// the commitment's owner; everywhere else (Party, ChannelParams,
// CommitmentSpec) Local is our node.
//
// # Signatures
//
// Signing goes through the Signer interface, so that keys can stay in the
// wallet: a SignDescriptor names a base key and the tweak that turns it into
// the per-commitment key. SignRemoteCommitment produces the content of
// commitment_signed (the commitment signature and the HTLC signatures in
// output order); VerifyLocalCommitment checks a received one against our
// own commitment. SignedCommitmentTx and SignedHTLCTx assemble the
// witnesses for broadcast, and the *Witness functions build the witness of
// every other spending path, including the revocation paths used to punish
// a breach.
//
// Curve arithmetic on public values (per-commitment keys, checks of the
// peer's signatures and revealed secrets) runs on the variable-time
// package internal/vartime (about three times btcec's speed for
// a generator multiplication); anything involving a secret (signing, our
// per_commitment_points) stays on btcec. docs/benchmarks.md says what
// that buys a commitment round.
//
// # Closing
//
// NewLegacyClosingTx and NewClosingTx build the mutual close transactions
// of closing_signed and of option_simple_close.
//
// # The channel state machine
//
// Channel runs one open channel through BOLT 2's normal operation: both
// update logs (AddHTLC, SettleHTLC, FailHTLC, MalformedFailHTLC,
// UpdateFee and their Receive counterparts), commitment rounds
// (SignNextCommitment, ReceiveNewCommitment, RevokeCurrentCommitment,
// ReceiveRevocation) and reconnection (ChannelReestablish,
// ReceiveReestablish). Its whole state is a channeldb.OpenChannel; it is
// resumed with NewChannel from the stored record, a Signer and the
// channel's shachain Producer.
//
// A Channel does no I/O: no goroutines, network, clock or database.
// Every transition takes a message from the peer or a request of ours
// and returns what to send. The contract with the caller is:
//
//   - A transition that commits us to something (commitment_signed,
//     revoke_and_ack, the acceptance of a revocation) returns a *Pending.
//     Its messages, and the HTLCs it irrevocably settled, are reachable
//     only through Pending.Persist, which first writes the new state
//     through the caller's Store and returns them once the Store says it
//     is durable. Sending before persisting cannot be written by
//     accident. The peer's updates that became irrevocable travel in the
//     same write as a forwarding package, so the switch finds them after
//     a restart. Until the Pending is persisted the Channel refuses every
//     other transition (ErrUnpersisted); if the Store fails, the Channel
//     refuses everything (ErrChannelBroken) and must be reloaded from the
//     store.
//   - update_* messages are returned directly and may be sent at once:
//     they bind nobody until a commitment_signed covers them, and that is
//     persisted (with the updates it covers) before it is released. BOLT
//     2 has both sides forget updates no commitment_signed covered when
//     the connection drops, and so does the Channel, in NewChannel and
//     ChannelReestablish.
//   - A received commitment_signed is held in memory until
//     RevokeCurrentCommitment; the caller calls it right after
//     ReceiveNewCommitment. If it is lost (a crash before the revocation
//     is persisted), the peer retransmits the commitment on
//     reconnection.
//   - Retransmissions computed by ReceiveReestablish come from persisted
//     state and are sent at once.
//
// Violations by the peer come back as *PeerError, whose FailChannel says
// whether BOLT 2 calls for an error (fail the channel) or a warning
// (close the connection; the offending update is forgotten). Our own
// requests that break a rule are refused with the sentinel errors of
// errors.go, which the peer's violations wrap too.
//
// The BOLT 3 transaction code above keeps no state between calls.
package lnwallet
