package rpc

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

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
// JSON, then the service through the in-process connection).
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
	pay := benchPayment()
	chunk := map[string]any{"result": pay}
	m := RESTMarshaler().(restJSON)
	// compact is the direct path before appendCompactJSON: protojson,
	// then json.Compact.
	compact := marshalFunc(func(any) ([]byte, error) {
		raw, err := m.MarshalOptions.Marshal(pay)
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		out.WriteString(streamResultPrefix)
		if err := json.Compact(&out, raw); err != nil {
			return nil, err
		}
		out.WriteByte('}')
		return out.Bytes(), nil
	})
	for _, c := range []struct {
		name string
		m    interface{ Marshal(any) ([]byte, error) }
	}{{"jsonpb", m.JSONPb}, {"compact", compact}, {"direct", m}} {
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

type marshalFunc func(any) ([]byte, error)

func (f marshalFunc) Marshal(v any) ([]byte, error) { return f(v) }

// BenchmarkInprocCopy is what the in-process connection does to pass a
// payment update (proto.Clone on Send, proto.Merge into the receiver's
// message), against what a transport does (marshal, unmarshal).
func BenchmarkInprocCopy(b *testing.B) {
	pay := benchPayment()
	b.Run("clone+merge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cp := proto.Clone(pay)
			var dst lnrpc.Payment
			proto.Merge(&dst, cp)
		}
	})
	b.Run("marshal+unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := proto.Marshal(pay)
			if err != nil {
				b.Fatal(err)
			}
			var dst lnrpc.Payment
			if err := proto.Unmarshal(raw, &dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchPayment is a final payment update of one single-hop attempt.
func benchPayment() *lnrpc.Payment {
	return &lnrpc.Payment{
		PaymentHash: strings.Repeat("ab", 32), PaymentPreimage: strings.Repeat("cd", 32),
		ValueMsat: 10_000, Status: lnrpc.Payment_SUCCEEDED, PaymentRequest: strings.Repeat("x", 300),
		CreationTimeNs: 1_700_000_000_000_000_000, PaymentIndex: 7,
		Htlcs: []*lnrpc.HTLCAttempt{{AttemptId: 3, Status: lnrpc.HTLCAttempt_SUCCEEDED,
			Route: &lnrpc.Route{TotalAmtMsat: 10_000, Hops: []*lnrpc.Hop{{ChanId: 1 << 40,
				PubKey: strings.Repeat("02", 33), MppRecord: &lnrpc.MPPRecord{TotalAmtMsat: 10_000}}}},
			Preimage: make([]byte, 32)}},
	}
}
