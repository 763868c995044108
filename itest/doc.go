// Package itest holds the integration tests: whole scenarios run against a
// real btcd on regtest and real xlnd processes, driven over gRPC, REST and
// xlncli through the harness in itest/harness. The demo (make demo) lives
// in itest/demo.
//
// Run them with make itest (or make test), which builds bin/xlnd,
// bin/xlncli and bin/btcd first. With -short they are skipped.
package itest
