// Package contractcourt enforces channels on chain. It watches the
// funding output of every channel; when a transaction spends it, it tells
// which one it is (a cooperative close, our commitment, the peer's current
// or pending commitment, a commitment the peer revoked) and takes back
// every output that is ours: to_local once its CSV delay has passed,
// to_remote of the peer's commitment, and, after a breach, every output of
// the revoked commitment with the revocation key, following the cheater's
// HTLC transactions to take their outputs too (the breach arbiter).
//
// Everything it learns is written to channeldb (a contract record per
// channel: the channel's state as it went to chain, the closing
// transaction, each output to take and the sweep that takes it) before it
// acts on it, so that a restart carries on where it stopped. Sweeps are
// batched per channel, priced from the fee estimator for their deadline,
// and replaced at a higher fee (RBF) while they stay unconfirmed.
//
// An incoming HTLC is claimed with its preimage when we know it: from
// the preimages the switch learnt downstream (channeldb's store) or from
// Config.Preimage (our invoices). When the peer claims an HTLC we
// offered with its preimage, the preimage is taken from its witness and
// handed to Config.OnPreimage (the switch settles the incoming HTLC
// upstream) before the spend is recorded.
//
// Nothing is final at one confirmation (BOLT 5, "irrevocably
// resolved"): a contract is marked resolved, its watches dropped and its
// closed-channel summary made final only once its last resolving
// transaction is Config.FinalDepth deep (DefaultFinalDepth, 100 blocks).
// Until then a reorg that takes out the closing commitment, an HTLC
// transaction, a sweep or the justice transaction is undone and the
// output resolved again (reorg.go).
//
// The package does no wiring of its own: the daemon hands it the chain
// notifier, the signer, the wallet's sweep address and closures to stop a
// channel's link, to hand on a cooperative close and a preimage.
package contractcourt
