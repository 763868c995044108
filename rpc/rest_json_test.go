package rpc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"lnd.xprv/rpc/lnrpc"
)

// TestRESTStreamChunk checks the direct path for stream chunks against
// JSONPb's own: the same bytes for a payment update, and JSONPb's answer
// for anything else.
func TestRESTStreamChunk(t *testing.T) {
	m := RESTMarshaler()
	plain := m.(restJSON).JSONPb
	pay := &lnrpc.Payment{
		PaymentHash: strings.Repeat("ab", 32), ValueMsat: 10_000, Status: lnrpc.Payment_SUCCEEDED,
		CreationTimeNs: 1_700_000_000_000_000_000, PaymentIndex: 7,
		Htlcs: []*lnrpc.HTLCAttempt{{AttemptId: 3, Status: lnrpc.HTLCAttempt_SUCCEEDED,
			Route:    &lnrpc.Route{TotalAmtMsat: 10_000, Hops: []*lnrpc.Hop{{ChanId: 1 << 40, PubKey: "02ab"}}},
			Preimage: []byte{1, 2, 3}}},
	}
	odd := &lnrpc.Payment{PaymentRequest: "a<b>&c \u2028 \u2029 \"q\" \\ \t é \u00e2\u0080", FailureReason: 3,
		Htlcs: []*lnrpc.HTLCAttempt{{Failure: &lnrpc.Failure{Code: lnrpc.Failure_TEMPORARY_CHANNEL_FAILURE}}}}
	for _, v := range []any{
		map[string]any{"result": pay},
		map[string]any{"result": odd},
		map[string]any{"result": &lnrpc.Invoice{Memo: "<script>&amp;\u2028", RPreimage: []byte("<>&")}},
		map[string]any{"result": &lnrpc.Payment{}},
		map[string]any{"error": pay},
		map[string]any{"result": pay, "other": 1},
		pay,
	} {
		got, err := m.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("chunk\n%s\nwant\n%s", got, want)
		}
	}
	if _, ok := m.(runtime.Delimited); !ok {
		t.Fatal("stream chunks lost their delimiter")
	}
}

// FuzzRESTStreamChunk: for any strings a payment carries, the direct path
// writes JSONPb's bytes.
func FuzzRESTStreamChunk(f *testing.F) {
	for _, seed := range []string{"", "<&>", "\u2028\u2029", "\\\"", "\x00\x1f\x7f", "é\u00e2\u0080\u00a8"} {
		f.Add(seed, []byte(seed))
	}
	m := RESTMarshaler()
	plain := m.(restJSON).JSONPb
	f.Fuzz(func(t *testing.T, s string, b []byte) {
		v := map[string]any{"result": &lnrpc.Invoice{Memo: s, RPreimage: b, PaymentRequest: s + s}}
		got, gotErr := m.Marshal(v)
		want, wantErr := plain.Marshal(v)
		if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("chunk %q (%v), want %q (%v)", got, gotErr, want, wantErr)
		}
	})
}
