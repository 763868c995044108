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
// # Closing
//
// NewLegacyClosingTx and NewClosingTx build the mutual close transactions
// of closing_signed and of option_simple_close.
//
// The package does no I/O and keeps no state between calls.
package lnwallet
