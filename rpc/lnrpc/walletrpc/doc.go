// Package walletrpc holds the protobuf definitions and generated code of the
// WalletKit service (lnd's walletrpc package): the on-chain wallet's accounts, keys, coin leases, raw sends and PSBTs.
//
// Package, service, method, message and field names, field numbers and REST
// paths are lnd's, so that lnd's clients work unchanged; only the calls xlnd
// serves are declared. Regenerate with `make rpc`.
package walletrpc
