package contractcourt

import (
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/lnwallet"
)

// batchingChain is fakeChain as a chain.SpendBatcher, counting the
// batches and the registrations made one by one.
type batchingChain struct {
	*fakeChain
	mu      sync.Mutex
	batches [][]chain.SpendRequest
	single  int
}

func (b *batchingChain) RegisterSpend(op wire.OutPoint, s []byte, h int32) (*chain.SpendEvent, error) {
	b.mu.Lock()
	b.single++
	b.mu.Unlock()
	return b.fakeChain.RegisterSpend(op, s, h)
}

func (b *batchingChain) RegisterSpends(reqs []chain.SpendRequest) ([]*chain.SpendEvent, error) {
	b.mu.Lock()
	b.batches = append(b.batches, reqs)
	b.mu.Unlock()
	evs := make([]*chain.SpendEvent, len(reqs))
	for i, q := range reqs {
		evs[i], _ = b.fakeChain.RegisterSpend(q.OutPoint, q.PkScript, q.HeightHint)
	}
	return evs, nil
}

// TestStartRegistersInOneBatch: a restart with a contract not final
// registers its funding output and every output of it in one batch, none
// alone, with the hints a one-by-one start gives; the spends the backend
// then reports are handled as before (the dust HTLC is handed upstream
// again).
func TestStartRegistersInOneBatch(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 13)
	addHTLC(t, a, b, 50_000, 1)
	addHTLC(t, a, b, 300, 2) // dust, id 1
	f := newFakeChain(399)
	f.finalDepth = 10
	c := newCourt(t, a, f)
	commit, err := b.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f.spend(t, commit, 400)
	op := commit.TxIn[0].PreviousOutPoint
	deadline := time.Now().Add(5 * time.Second)
	for !f.watched(wire.OutPoint{Hash: commit.TxHash(), Index: 0}) {
		if time.Now().After(deadline) {
			t.Fatal("the contract's outputs are not watched")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Stop()

	bc := &batchingChain{fakeChain: f}
	var again unclaimables
	newCourt(t, a, f, func(cfg *Config) {
		cfg.Notifier, cfg.OnUnclaimable = bc, again.on
	})
	bc.mu.Lock()
	batches, single := bc.batches, bc.single
	bc.mu.Unlock()
	if len(batches) != 1 || single != 0 {
		t.Fatalf("start made %d batches and %d single registrations, want 1 and 0",
			len(batches), single)
	}
	got := map[wire.OutPoint]bool{}
	for _, q := range batches[0] {
		got[q.OutPoint] = true
	}
	if !got[op] || len(got) < 2 || len(got) != len(batches[0]) {
		t.Fatalf("batch %+v: want the funding output %v and the contract's outputs once each",
			batches[0], op)
	}
	f.spend(t, commit, 400)
	again.wait(t, []uint64{1})
}
