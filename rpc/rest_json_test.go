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
	for _, v := range []any{
		map[string]any{"result": pay},
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
