// Package regtest runs a real btcd on the regression test network for tests,
// the integration tests and the demo.
//
// Each Btcd gets its own data directory, free loopback ports for P2P and RPC,
// random RPC credentials and an RPC TLS certificate that btcd generates
// itself (clients get it from RPCCert; the RPC is never in clear text), and
// runs with --txindex unless WithoutTxIndex is given. Start mines until
// segwit and taproot are active (431 blocks), so a fresh node's tip is at
// height 431 and its early coinbases are mature.
//
// The harness holds the miner's private key: btcd mines to it with
// --miningaddr (Mine, Generate), and SendTo pays from those coinbase outputs
// and their change with P2WPKH transactions the harness signs, since btcd
// has no wallet.
//
// btcd wipes a regtest chain every time it starts. So that Restart looks
// like the restart of a real node, clients reach btcd through a small TCP
// proxy on the public RPC port (RPCHost): on Restart the proxy cuts every
// connection, btcd is restarted and fed the blocks of its old best chain,
// and only then are clients let in again. The mempool is lost, as with any
// btcd restart.
//
// In tests, StartBtcd ties the process to the test: it is stopped and its
// directory removed when the test ends, or the directory is kept and its
// path logged when the test failed; under -short it skips the test. Outside
// tests, Start with Stop or Close do the same by hand; Mine, Client and
// BestBlock, which fail the test on error, panic there, so use Generate and
// the error-returning calls.
//
// The btcd binary is looked up in Config.BinDir, else $XLND_BIN_DIR, else
// the bin directory at the module root (built by `make build`); if it is
// missing, Start returns ErrNoBinary and StartBtcd fails the test.
package regtest
