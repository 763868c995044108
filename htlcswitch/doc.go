// Package htlcswitch will hold the switch, which forwards HTLCs between
// channels, and one Link per active channel, which runs that channel's
// state machine against its peer.
//
// Today it holds only the link's resumption: on every (re)connection of
// the channel's peer the Link sends our channel_reestablish before any
// other message of the channel, checks the peer's, sends exactly the
// retransmissions the state machine (lnwallet.Channel) returns, and
// retransmits channel_ready when BOLT 2 says (next_commitment_number 1
// on both sides). Only then is the channel active. A peer that proves our
// state is old (lnwallet.ErrDataLoss), or that breaks the protocol in a
// way that fails the channel, gets the BOLT error and the channel stays
// inactive; nothing is ever broadcast from here.
//
// Until the switch exists, updates (update_add_htlc and the rest of
// normal operation, shutdown and closing_signed) are answered with a
// warning: BOLT 1 forbids ignoring them in silence.
//
// A Link runs off the peer's read loop: HandleMessage and the connection
// events only queue, into a bounded per-channel queue that one goroutine
// drains until Stop.
package htlcswitch
