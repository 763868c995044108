// Package regtest runs a real btcd on the regression test network for tests,
// the integration tests and the demo.
//
// Each Btcd gets its own data directory, free loopback ports for P2P and RPC,
// random RPC credentials and an RPC TLS certificate that btcd generates
// itself. The harness holds the miner's private key: btcd mines to it with
// --miningaddr, and SendTo pays from those coinbase outputs with
// transactions the harness signs, since btcd has no wallet.
//
// In tests, StartBtcd ties the process to the test: it is stopped and its
// directory removed when the test ends, or the directory is kept and its
// path logged when the test failed. Outside tests, Start and Close do the
// same by hand.
//
// The btcd binary is looked up in $XLND_BIN_DIR, else in the bin directory
// at the module root (built by `make build`).
package regtest
