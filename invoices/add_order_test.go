package invoices

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// TestConcurrentAddsAnnouncedInOrder: invoices added at once (their
// writes sharing commits, outside the registry's lock) reach every
// subscriber once each, in add-index order, including a subscriber that
// joins while they are being added and replays from an index; and each
// AddInvoice returns only once its invoice is announced.
func TestConcurrentAddsAnnouncedInOrder(t *testing.T) {
	h := newHarness(t, nil)
	for i := range 3 {
		h.add(NewInvoice{Memo: fmt.Sprint("before ", i), Value: 1000})
	}
	h.restart()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live, err := h.reg.SubscribeInvoices(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := make(map[uint64]bool)
	var late *Subscription
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv, err := h.reg.AddInvoice(ctx, NewInvoice{Memo: fmt.Sprint(i), Value: lnwire.MilliSatoshi(1000 + i)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got[inv.AddIndex] = true
			mu.Unlock()
			if i == n/2 {
				s, err := h.reg.SubscribeInvoices(ctx, 2, 0)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				late = s
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d distinct add indexes for %d invoices", len(got), n)
	}
	check := func(name string, s *Subscription, from uint64) {
		t.Helper()
		last := from
		for last < 3+n {
			select {
			case inv := <-s.Updates:
				if inv.State != channeldb.InvoiceOpen || inv.AddIndex != last+1 {
					t.Fatalf("%s: add index %d (state %v) after %d", name, inv.AddIndex, inv.State, last)
				}
				last = inv.AddIndex
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: nothing after add index %d", name, last)
			}
		}
		select {
		case inv := <-s.Updates:
			t.Fatalf("%s: one more update, add index %d", name, inv.AddIndex)
		case <-time.After(50 * time.Millisecond):
		}
	}
	check("live", live, 3)
	check("joined", late, 2)
}
