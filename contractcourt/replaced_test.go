package contractcourt

import (
	"sync"
	"testing"

	"lnd.xprv/lnwallet"
)

// TestReplacedSweepConfirmed: our sweep of to_remote is in the mempool
// when we learn the preimage of the HTLC the peer offered us. The next
// block both confirms that sweep and makes the court replace it with one
// spending to_remote and the HTLC, which can no longer confirm. Once the
// first sweep's spend is reported, the HTLC is claimed at once, alone and
// at the estimated rate (nothing in the mempool to replace), not a block
// later at a rate bumped over a transaction that never made it. (lnd
// revealed it: xlnd claimed an HTLC of lnd's force close a block late.)
func TestReplacedSweepConfirmed(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 9)
	addHTLC(t, b, a, 20_000, 2)
	theirs, err := b.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		known bool
	)
	pre := func(h [32]byte) ([32]byte, bool) {
		mu.Lock()
		defer mu.Unlock()
		if !known {
			return [32]byte{}, false
		}
		return preimages(2)(h)
	}
	f := newFakeChain(399)
	courtWith(t, a, f, pre, nil)
	f.spend(t, theirs, 400)
	first := f.next(t)
	if len(first.TxIn) != 1 {
		t.Fatalf("first sweep spends %d outputs, want to_remote", len(first.TxIn))
	}
	mu.Lock()
	known = true
	mu.Unlock()

	// The block that confirms the first sweep comes before its spend.
	f.block(401)
	replacement := f.next(t)
	if len(replacement.TxIn) != 2 {
		t.Fatalf("replacement spends %d outputs", len(replacement.TxIn))
	}
	f.spend(t, first, 401)
	claim := f.next(t)
	checkSpends(t, claim, theirs)
	if len(claim.TxIn) != 1 || claim.TxIn[0].PreviousOutPoint == first.TxIn[0].PreviousOutPoint {
		t.Fatalf("claim spends %v, want the HTLC alone", claim.TxIn)
	}
	in := theirs.TxOut[claim.TxIn[0].PreviousOutPoint.Index].Value
	out := claim.TxOut[0].Value
	weight := int64(claim.SerializeSizeStripped())*3 + int64(claim.SerializeSize())
	if rate := (in - out) * 1000 / weight; rate > int64(f.rate)+10 {
		t.Fatalf("claim pays %d sat/kw, want the estimate %d", rate, f.rate)
	}
}
