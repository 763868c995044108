package rpc

import (
	"io"
	"net/http"
	"testing"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

// BenchmarkGetInfoGRPC is one authenticated GetInfo round trip over
// loopback TLS: state check, macaroon verification, translation.
func BenchmarkGetInfoGRPC(b *testing.B) {
	h := newHarness(b, true)
	h.unlockAndActivate()
	ln := h.lightning(macaroons.AdminFile)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ln.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetInfoREST is the same call through the REST gateway (HTTPS,
// JSON, then gRPC over loopback TLS).
func BenchmarkGetInfoREST(b *testing.B) {
	h := newHarness(b, true)
	h.unlockAndActivate()
	mac := h.macaroon(macaroons.AdminFile)
	b.ReportAllocs()
	for b.Loop() {
		resp := h.restDo("GET", "/v1/getinfo", "", mac)
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
