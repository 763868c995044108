// Package peer runs one connection to another Lightning node: the BOLT 1
// init exchange and feature negotiation, the read and write loops, ping/pong
// liveness, and the routing of every other message to the subsystem that
// owns it (through Config.OnMessage). It decides nothing about channels.
//
// A Peer is started with an established transport (a brontide.Conn) by the
// server, which owns the set of peers; Start returns once both init messages
// have been exchanged and accepted, so a connection that fails negotiation
// never becomes a peer.
package peer
