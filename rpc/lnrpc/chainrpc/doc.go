// Package chainrpc holds the protobuf definitions and generated code of the
// ChainNotifier service (lnd's chainrpc package): streams of blocks, confirmations and spends.
//
// Package, service, method, message and field names, field numbers and REST
// paths are lnd's, so that lnd's clients work unchanged; only the calls xlnd
// serves are declared. Regenerate with `make rpc`.
package chainrpc
