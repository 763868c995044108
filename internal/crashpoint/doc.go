// Package crashpoint names the steps at which xlnd persists channel,
// invoice or payment state, so that a test build can kill the node at
// exactly one of them and prove that a restart loses nothing.
//
// Every step that persists such state calls Hit with its Point just after
// the state is durable and before anything acts on it (a message sent, an
// HTLC forwarded, a result handed on). Every Point is declared in
// points.go and listed by All, in flow order: a persisted step without a
// point shows there, and TestEveryPointHitOnce fails for a point declared
// but never hit, hit at two places, or hit without being declared.
//
// Hit does nothing in a normal build: the function is empty and inlined,
// so a release binary carries no crash point and pays nothing for one.
// Built with the crashpoint tag (make crashtest), Hit compares the point
// with the XLND_CRASHPOINT environment variable and, when they match,
// writes one line to stderr and sends SIGKILL to its own process: no
// deferred function runs, no buffer is flushed, nothing is closed, as in
// a power cut.
package crashpoint
