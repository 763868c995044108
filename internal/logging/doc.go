// Package logging hands out one slog.Logger per subsystem ("SRVR", "PEER",
// "RPCS", ...) over a shared output, with a level per subsystem that can be
// changed while the node runs (--debuglevel, and later the DebugLevel RPC).
//
// Levels are lnd's names: trace, debug, info, warn, error, critical, off.
package logging
