// Package swarm connects many Lightning peers to one node from a single
// process, for measuring what connected peers cost the node: each peer
// has its own identity key, completes the BOLT 8 handshake (brontide),
// exchanges init (BOLT 1) and then stays connected, answering every ping
// with its pong and ignoring everything else. It opens no channels and
// sends no gossip.
//
// It is a measuring tool's load generator (itest/benchmem) and an
// itest's, not a peer implementation: it checks nothing the node sends
// beyond init.
package swarm
