// Package verrpc holds the protobuf definitions and generated code of the
// Versioner service (lnd's verrpc package): the daemon's version.
//
// Package, service, method, message and field names, field numbers and REST
// paths are lnd's, so that lnd's clients work unchanged; only the calls xlnd
// serves are declared. Regenerate with `make rpc`.
package verrpc
