// Package routerrpc holds the Router sub-server's protobuf definitions
// and generated code, wire-compatible with lnd's routerrpc for the calls
// xlnd serves (the mission control calls: QueryMissionControl,
// ResetMissionControl, QueryProbability, GetMissionControlConfig).
// Regenerate with `make rpc`.
package routerrpc
