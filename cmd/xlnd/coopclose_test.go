package main

import (
	"testing"

	"lnd.xprv/channeldb"
)

// TestActiveHTLCs: an HTLC counts once it is on both commitments, by id
// and direction (the same id may be ours and the peer's).
func TestActiveHTLCs(t *testing.T) {
	st := &channeldb.OpenChannel{}
	st.LocalCommit.HTLCs = []channeldb.HTLC{{ID: 1}, {ID: 2, Incoming: true},
		{ID: 3}, {ID: 1, Incoming: true}}
	st.RemoteCommit.HTLCs = []channeldb.HTLC{{ID: 1}, {ID: 2, Incoming: true},
		{ID: 4, Incoming: true}, {ID: 3, Incoming: true}}
	if n := activeHTLCs(st); n != 2 {
		t.Fatalf("%d active HTLCs, want 2", n)
	}
	if n := activeHTLCs(&channeldb.OpenChannel{}); n != 0 {
		t.Fatalf("%d active HTLCs in an empty channel", n)
	}
}
