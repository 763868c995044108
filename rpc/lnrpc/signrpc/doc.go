// Package signrpc holds the protobuf definitions and generated code of the
// messages of lnd's signrpc package that WalletKit uses (key locators and descriptors, outputs); no Signer service is served yet.
//
// Package, service, method, message and field names, field numbers and REST
// paths are lnd's, so that lnd's clients work unchanged; only the calls xlnd
// serves are declared. Regenerate with `make rpc`.
package signrpc
