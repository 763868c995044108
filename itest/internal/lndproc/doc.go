// Package lndproc starts an lnd process the operator built (nothing of
// lnd is in this repository or built by it) on a regtest btcd, for the
// measuring tools that put lnd's figures beside xlnd's (itest/benchpay,
// itest/benchmem). It starts and stops the process; talking to it is the
// caller's.
package lndproc
