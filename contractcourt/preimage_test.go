package contractcourt

import (
	"log/slog"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
)

// TestStoredPreimageClaimsIncoming: the peer's commitment confirms with
// an HTLC it offered us that we forwarded; its preimage is known only
// from the switch's store (learnt downstream), not from an invoice. The
// court claims it at once, with to_remote. Without the stored preimage
// only to_remote is swept.
func TestStoredPreimageClaimsIncoming(t *testing.T) {
	for _, stored := range []bool{true, false} {
		a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 7)
		addHTLC(t, b, a, 20_000, 2)
		if stored {
			err := a.db.Update(func(tx kvdb.RwTx) error {
				return channeldb.PutPreimages(tx, [][32]byte{{2}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		theirs, err := b.ch.LocalCommitTx()
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeChain(399)
		courtWith(t, a, f, nil, nil)
		f.spend(t, theirs, 400)
		sweep := f.next(t)
		checkSpends(t, sweep, theirs)
		want := 1
		if stored {
			want = 2
		}
		if len(sweep.TxIn) != want {
			t.Fatalf("stored %v: sweep spends %d outputs, want %d",
				stored, len(sweep.TxIn), want)
		}
		if !stored {
			continue
		}
		var claimed bool
		for _, in := range sweep.TxIn {
			for _, w := range in.Witness {
				claimed = claimed || (len(w) == 32 && w[0] == 2)
			}
		}
		if !claimed {
			t.Fatal("the HTLC is not claimed with the stored preimage")
		}
	}
}

// TestStoredPreimagesLookup: the court's lookup finds a stored preimage
// by its hash, and falls through to the next lookup for others.
func TestStoredPreimagesLookup(t *testing.T) {
	a, _ := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 8)
	if err := a.db.Update(func(tx kvdb.RwTx) error {
		return channeldb.PutPreimages(tx, [][32]byte{{3}})
	}); err != nil {
		t.Fatal(err)
	}
	lookup := storedPreimages(a.db, preimages(5), slog.New(slog.DiscardHandler))
	if p, ok := lookup(hashOf(3)); !ok || p != ([32]byte{3}) {
		t.Fatalf("stored preimage not found: %x %v", p, ok)
	}
	if p, ok := lookup(hashOf(5)); !ok || p != ([32]byte{5}) {
		t.Fatalf("invoice preimage not found: %x %v", p, ok)
	}
	if _, ok := lookup(hashOf(4)); ok {
		t.Fatal("unknown preimage found")
	}
}
