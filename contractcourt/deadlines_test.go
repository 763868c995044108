package contractcourt

import (
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
)

// TestGoToChain: an HTLC we offered goes to chain once it expired (plus
// the grace), one offered to us whose preimage we know IncomingDelta
// blocks before its expiry; each channel once.
func TestGoToChain(t *testing.T) {
	a, b := newPair(t, types()[0], 10)
	addHTLC(t, a, b, 50_000, 1) // ours, expires at 501
	addHTLC(t, b, a, 20_000, 9) // theirs, expires at 509
	op := a.ch.State().FundingOutpoint
	for _, c := range []struct {
		name    string
		pre     PreimageFunc
		quiet   int32
		trigger int32
	}{
		{"outgoing", preimages(), 502, 503},
		{"incoming", preimages(9), 498, 499},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeChain(400)
			var (
				mu   sync.Mutex
				went []wire.OutPoint
			)
			calls := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(went)
			}
			ct := New(Config{DB: a.db, Notifier: f, Fees: f, FinalDepth: f.finalDepth,
				BestHeight: func() (int32, error) { return 400, nil },
				Broadcast:  f.broadcast, Signer: a.signer, Secrets: a.secrets,
				SweepScript: func() ([]byte, error) { return sweepScript, nil },
				Preimage:    c.pre, OutgoingGrace: 2,
				GoToChain: func(o wire.OutPoint) {
					mu.Lock()
					went = append(went, o)
					mu.Unlock()
				},
			})
			if err := ct.Start(); err != nil {
				t.Fatal(err)
			}
			defer ct.Stop()
			f.block(c.quiet)
			ct.Height() // the block is handled
			if n := calls(); n != 0 {
				t.Fatalf("went to chain at %d", c.quiet)
			}
			f.block(c.trigger)
			f.block(c.trigger + 1)
			deadline := time.Now().Add(5 * time.Second)
			for calls() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			ct.Height()
			mu.Lock()
			defer mu.Unlock()
			if len(went) != 1 || went[0] != op {
				t.Fatalf("GoToChain calls: %v", went)
			}
		})
	}
}
