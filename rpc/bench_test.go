package rpc

import (
	"io"
	"net/http"
	"strings"
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
// JSON, then gRPC over the gateway's in-process TLS connection).
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

// BenchmarkRESTStreamChunk marshals one payment update as a REST stream
// chunk: through JSONPb's map path (what the gateway did) and the direct
// path the gateway now takes.
func BenchmarkRESTStreamChunk(b *testing.B) {
	pay := &lnrpc.Payment{
		PaymentHash: strings.Repeat("ab", 32), PaymentPreimage: strings.Repeat("cd", 32),
		ValueMsat: 10_000, Status: lnrpc.Payment_SUCCEEDED, PaymentRequest: strings.Repeat("x", 300),
		CreationTimeNs: 1_700_000_000_000_000_000, PaymentIndex: 7,
		Htlcs: []*lnrpc.HTLCAttempt{{AttemptId: 3, Status: lnrpc.HTLCAttempt_SUCCEEDED,
			Route: &lnrpc.Route{TotalAmtMsat: 10_000, Hops: []*lnrpc.Hop{{ChanId: 1 << 40,
				PubKey: strings.Repeat("02", 33), MppRecord: &lnrpc.MPPRecord{TotalAmtMsat: 10_000}}}},
			Preimage: make([]byte, 32)}},
	}
	chunk := map[string]any{"result": pay}
	m := RESTMarshaler().(restJSON)
	for _, c := range []struct {
		name string
		m    interface{ Marshal(any) ([]byte, error) }
	}{{"jsonpb", m.JSONPb}, {"direct", m}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.m.Marshal(chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
