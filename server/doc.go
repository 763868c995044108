// Package server is the hub of a running node: one goroutine (the query
// loop) owns the set of peers and serves every request that touches it —
// new connections, finished peers, connect, disconnect, list, send to a
// peer, broadcast — so that no lock guards the peer maps and no request can
// see them half-changed. Slow work (dialing, the init exchange, sending)
// runs in its own goroutines and reports back to the loop.
//
// The server also keeps persistent peers connected (reconnecting with
// backoff), keeps one connection per peer (a simultaneous inbound and
// outbound connection resolve the same way on both sides), and caps inbound
// connections. It holds no protocol logic of its own: subsystems are handed
// in through Config.
package server
