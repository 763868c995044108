// Package harness runs real xlnd processes against a real btcd on regtest,
// for the integration tests in itest and for the demo.
//
// A Network owns one btcd and any number of Nodes. Each node is an xlnd
// process with its own data directory under the network's directory and
// its own free loopback ports for P2P, gRPC and REST; the ports stay the same
// across restarts, so peers that remember a node's address find it again.
// Nodes are driven over gRPC (TLS with the node's certificate, the admin
// macaroon in the "macaroon" metadata key) and, where a test needs it, over
// REST.
//
// The harness builds nothing: the Makefile builds bin/xlnd, bin/xlncli and
// bin/btcd first. The binaries are looked up in $XLND_BIN_DIR, else in the
// bin directory at the module root; if they are missing, New and NewNetwork
// fail with a message saying to run make build.
//
// In tests, New ties the network to the test: every process is stopped at
// cleanup, even when the test failed, and the directory is removed on
// success. When the test failed, the directory is kept, its path and the
// last lines of every node's log are written to the test output. Outside
// tests (the demo), NewNetwork and Close do the same by hand.
//
// Nothing here sleeps for a fixed time to let something happen: waits poll
// a condition until a deadline (WaitFor).
package harness
