// Package funding runs BOLT 2's channel establishment for both roles: the
// opener (open_channel, funding_created, broadcast) and the accepter
// (accept_channel, funding_signed), then the wait for the funding
// transaction's confirmations and the channel_ready exchange, after which
// the channel is handed on as an lnwallet.Channel.
//
// The Manager does no network I/O of its own. Peer messages are handed to
// HandleMessage; replies leave through the Config's SendMessage closure.
// Coins, keys and signatures come from a Wallet, confirmations from a
// Notifier, and every state that commits us is written to channeldb before
// the message that depends on it is sent:
//
//   - the accepter persists the channel (its initial commitments and a
//     pending-channel record) before sending funding_signed;
//   - the opener persists the channel and the signed funding transaction
//     after a valid funding_signed and only then broadcasts it.
//
// Nothing before that is persisted: a negotiation that is interrupted (a
// refusal, a disconnection, a timeout, a restart) is forgotten, and the
// opener's coins are released. Coins leased for funding carry a LockID with
// a fixed prefix, so that Start releases every such lease that no
// persisted channel spends, even after a crash between leasing and
// anything else.
//
// After a restart, Start resumes every persisted pending channel: it waits
// for the funding transaction's confirmations (the opener rebroadcasts it),
// sends channel_ready again when the peer reconnects, and the accepter
// forgets a channel whose funding transaction has not confirmed within
// MaxWaitBlocks blocks. A peer that opened the channel while ours was
// still pending (our channel_ready was lost, in a crash or with a
// connection) sends channel_reestablish from its link; Reestablish
// answers it, so that the peer's link retransmits its channel_ready.
//
// Announcements runs BOLT 7's announcement_signatures exchange for the
// open public channels: ours once the funding transaction is 6 deep
// (signed by the wallet with the node key and our funding key), again
// on each reconnection until the peer's are in, and in answer to the
// peer's when ours have not gone on the connection. The peer's are
// checked against the channel's announcement and persisted; with both
// halves the channel_announcement is handed on to be published.
package funding
