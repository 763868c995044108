// Package rpc serves xlnd's gRPC API and its REST gateway, wire-compatible
// with lnd's lnrpc for every call xlnd implements, and with lnd's
// sub-servers walletrpc.WalletKit, chainrpc.ChainNotifier,
// verrpc.Versioner and invoicesrpc.Invoices.
//
// It is a thin translation layer: requests are validated and turned into
// calls on small interfaces declared here (WalletLoader before unlock, and a
// Backend of NodeInfo, ChainInfo, Peers, Wallet, WalletKit,
// ChainNotifier and Invoices after), whose answers are turned back into protobuf
// messages. The daemon implements the interfaces. Errors become gRPC codes
// through one table (errors.go) of this package's and the subsystems'
// sentinel errors.
//
// A Server owns both listeners. gRPC runs over TLS (package rpc/cert);
// the REST gateway listens on its own TLS socket and calls the services
// through an in-process connection (inproc.go) that runs the gRPC
// server's interceptors and handlers without the transport, so
// authentication and the start-up state checks happen in one place: the
// gRPC interceptors.
//
// Start-up follows lnd's states (lnrpc.WalletState): the server starts with
// WalletUnlocker and State answering; once the wallet is created or
// unlocked the macaroon root key is unlocked with the same password, the
// daemon builds the node and calls Activate, and from then on the Lightning
// service and the sub-servers answer and WalletUnlocker refuses. Every such
// call needs a macaroon (metadata "macaroon", hex) granting the permissions listed in
// Permissions.
package rpc
