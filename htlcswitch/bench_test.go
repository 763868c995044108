package htlcswitch

import (
	"fmt"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/cpumeter"
	"lnd.xprv/lnwire"
)

// BenchmarkSwitchOneHop measures payments per second over one channel:
// two links over real bbolt files with fsync on, joined in memory; alice
// pays bob's invoices, at most window in flight (BOLT 2 allows 483
// HTLCs a side). Invoices and onions are made before the timer starts:
// what is measured is the switch, the links, the state machine, the
// database and the invoice registry's exit-hop decision.
func BenchmarkSwitchOneHop(b *testing.B) {
	for _, window := range []int{120, 400} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			benchOneHop(b, window)
		})
	}
}

func benchOneHop(b *testing.B, window int) {
	const amt = lnwire.MilliSatoshi(1000)
	a, bob := newChannel(b)
	a.startLink()
	bob.startLink()
	c := connect(b, a, bob, true)
	eventually(b, "both active", bothActive(a, bob))

	adds := make([]*lnwire.UpdateAddHTLC, b.N)
	invs := make([]*channeldb.Invoice, b.N)
	for i := range adds {
		invs[i] = addInvoice(b, bob, amt)
		blob, _ := routeOnion(b, invs[i].PaymentHash, []hopSpec{
			{bob.idKey.PubKey(), finalHop(invs[i], amt, testHeight+100)}})
		adds[i] = &lnwire.UpdateAddHTLC{Amount: amt,
			PaymentHash: invs[i].PaymentHash, Expiry: testHeight + 100,
			OnionBlob: blob}
	}
	results := make([]<-chan AttemptResult, b.N)
	for i := range results {
		ch, err := a.sw.GetAttemptResult(uint64(i))
		mustOK(b, err)
		results[i] = ch
	}

	aw0, bw0 := a.writes.Load(), bob.writes.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpumeter.Start()
	start := time.Now()
	next := 0
	for done := 0; done < b.N; done++ {
		for next < b.N && next-done < window {
			mustOK(b, a.sw.SendHTLC(a.scid, uint64(next), adds[next]))
			next++
		}
		res := <-results[done]
		if !res.Settled {
			b.Fatalf("payment %d not settled: %+v", done, res)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	// CPU of both nodes (one process) per payment: on a shared
	// machine the figure to compare, not payments/s.
	cpu.Report(b)
	aw, bw := a.writes.Load()-aw0, bob.writes.Load()-bw0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "payments/s")
	var sigs int
	for _, m := range c.ab.messages() {
		if m.MsgType() == lnwire.MsgCommitSig {
			sigs++
		}
	}
	b.ReportMetric(float64(b.N)/float64(sigs), "payments/round")
	// A payment takes two of alice's rounds (its add's, its fulfil's):
	// writes per round on each side.
	b.ReportMetric(float64(aw)/float64(sigs), "alice-writes/round")
	b.ReportMetric(float64(bw)/float64(sigs), "bob-writes/round")
}
