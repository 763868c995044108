package rpc

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"lnd.xprv/rpc/macaroons"
)

// TestRESTLargeAnswer checks that an answer of megabytes arrives whole
// through the gateway.
func TestRESTLargeAnswer(t *testing.T) {
	h := newHarness(t, true)
	const n = 5000
	h.node.manyTxs = n
	h.unlockAndActivate()
	resp := h.rest("GET", "/v1/transactions", "", h.macaroon(macaroons.ReadOnlyFile))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("transactions: %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The gRPC answer (hashes as hex strings) is more than half the JSON.
	if len(body) < 1<<20 {
		t.Fatalf("answer of %d bytes is too small to test the buffer", len(body))
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	txs, ok := m["transactions"].([]any)
	if !ok || len(txs) != n {
		t.Fatalf("%d transactions, want %d", len(txs), n)
	}
	last := txs[n-1].(map[string]any)
	if last["amount"] != "5000" {
		t.Fatalf("last transaction %v", last)
	}
}
