package main

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
)

// TestSelectHopHints: lnd's selection of private channels for an
// invoice's hints.
func TestSelectHopHints(t *testing.T) {
	key, _ := btcec.NewPrivateKey()
	cand := func(scid uint64, inbound lnwire.MilliSatoshi) hintCandidate {
		return hintCandidate{bolt11.HopHint{NodeID: key.PubKey(), ChannelID: bolt11.ShortChannelID(scid)}, inbound}
	}
	ids := func(hs []bolt11.RouteHint) map[uint64]bool {
		out := make(map[uint64]bool)
		for _, h := range hs {
			out[uint64(h[0].ChannelID)] = true
		}
		return out
	}
	cands := []hintCandidate{cand(1, 100), cand(2, 500), cand(3, 300), cand(4, 50)}

	// Most inbound first until twice the amount is covered: 500 + 300.
	got := ids(selectHopHints(append([]hintCandidate(nil), cands...), 350, nil))
	if len(got) != 2 || !got[2] || !got[3] {
		t.Fatalf("for 350 msat: %v", got)
	}
	// Any amount: every candidate.
	if got := selectHopHints(append([]hintCandidate(nil), cands...), 0, nil); len(got) != 4 {
		t.Fatalf("for any amount: %d hints", len(got))
	}
	// A channel the caller hinted is not repeated.
	forced := []bolt11.RouteHint{{cand(2, 0).hint}}
	got = ids(selectHopHints(append([]hintCandidate(nil), cands...), 350, forced))
	if got[2] || len(got) != 3 {
		t.Fatalf("with channel 2 forced: %v", got)
	}
	// At most 20 hints, the caller's counted.
	var many []hintCandidate
	for i := range 30 {
		many = append(many, cand(uint64(100+i), 1))
	}
	if got := selectHopHints(many, 0, forced); len(got) != maxHopHints-1 {
		t.Fatalf("%d hints, want %d", len(got), maxHopHints-1)
	}
}
