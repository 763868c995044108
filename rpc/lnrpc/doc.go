// Package lnrpc holds xlnd's gRPC API: the protobuf definitions of the
// Lightning, WalletUnlocker and State services and the code generated from
// them (messages, gRPC stubs, grpc-gateway REST handlers).
//
// The definitions are wire-compatible with lnd's lnrpc package for every call
// xlnd implements: the same proto package, service, method, message and field
// names, field numbers and enum values, and (in the *.yaml files) the same
// REST paths. lnd's own lncli and client libraries therefore work against
// xlnd. Calls lnd has and xlnd does not are absent, and gRPC answers them with
// Unimplemented.
//
// Regenerate with `make rpc` after editing a .proto or .yaml file.
package lnrpc
