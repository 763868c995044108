package lnwallet

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Nano())
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// BenchmarkSignCommitment builds the peer's anchor commitment and signs it
// and every HTLC transaction: the work behind one commitment_signed.
func BenchmarkSignCommitment(b *testing.B) {
	for _, n := range []int{0, 10, 483} {
		b.Run(fmt.Sprintf("htlcs=%d", n), func(b *testing.B) {
			tp := newTestPair(b, ChannelTypeAnchors)
			spec := testSpec(n, 253)
			_, point := commitPointAt(2, spec.Number)
			signer := tp.alice.signer()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, cs, err := SignRemoteCommitment(signer,
					tp.aliceParams, point, spec)
				if err != nil {
					b.Fatal(err)
				}
				if len(cs.HTLCSigs) != n {
					b.Fatalf("%d HTLC sigs", len(cs.HTLCSigs))
				}
			}
		})
	}
}

// BenchmarkNewCommitment measures building alone (no signatures).
func BenchmarkNewCommitment(b *testing.B) {
	for _, n := range []int{0, 10, 483} {
		b.Run(fmt.Sprintf("htlcs=%d", n), func(b *testing.B) {
			tp := newTestPair(b, ChannelTypeAnchors)
			spec := testSpec(n, 253)
			_, point := commitPointAt(2, spec.Number)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := NewCommitment(tp.aliceParams, Remote,
					point, spec); err != nil {

					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyHTLCSigs483 checks the 483 HTLC signatures of a received
// commitment_signed against our own commitment.
func BenchmarkVerifyHTLCSigs483(b *testing.B) {
	tp := newTestPair(b, ChannelTypeAnchors)
	spec := testSpec(483, 253)
	_, point := commitPointAt(2, spec.Number)
	_, cs, err := SignRemoteCommitment(tp.alice.signer(), tp.aliceParams,
		point, spec)
	if err != nil {
		b.Fatal(err)
	}
	own, err := NewCommitment(tp.bobParams, Local, point, mirrorSpec(spec))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyHTLCSigs(tp.bobParams, own, cs.HTLCSigs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeriveCommitmentKeys measures the per-commitment key set.
func BenchmarkDeriveCommitmentKeys(b *testing.B) {
	tp := newTestPair(b, ChannelTypeAnchors)
	_, point := commitPointAt(2, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		DeriveCommitmentKeys(tp.aliceParams, Remote, point)
	}
}

// benchRound runs one commitment round started by a: a signs, b takes it
// and revokes, a takes the revocation; then b signs and a revokes, and b
// takes the revocation.
func benchRound(b *testing.B, a, z *testNode) {
	cs := a.sign(b)
	raa, _ := z.exchange(b, cs)
	a.exchange(b, raa...)
	cs2 := z.sign(b)
	raa2, _ := a.exchange(b, cs2)
	z.exchange(b, raa2...)
}

// BenchmarkCommitmentRound measures full commitment rounds between two
// Channels: n HTLCs added by one side in one round (add, sign, receive,
// revoke, receive revocation, on both sides), then settled by the other
// in the next. Figures are per round; cpu-ns/round counts the CPU time of
// all threads (large HTLC sets are verified in parallel), so it is the
// figure to hold against the 1 ms target. "bbolt" persists every state
// to a channeldb file with fsync on, as a node does. "signer=wallet"
// signs with the wallet (keys handed out by a real wallet file, named by
// public key as funding.Signer does), the production signer;
// "signer=keys" with a PrivKeySigner.
func BenchmarkCommitmentRound(b *testing.B) {
	for _, store := range []string{"memory", "bbolt"} {
		for _, signer := range []string{"wallet", "keys"} {
			for _, n := range []int{1, 100} {
				name := fmt.Sprintf("store=%s/signer=%s/htlcs=%d",
					store, signer, n)
				b.Run(name, func(b *testing.B) {
					benchCommitmentRound(b, n,
						store == "bbolt",
						signer == "wallet")
				})
			}
		}
	}
}

func benchCommitmentRound(b *testing.B, n int, bolt, wallet bool) {
	alice, bob := newNodePair(b, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 100_000_000, pushMsat: 20_000_000_000, feeRate: 2500,
		seed: 12, wallet: wallet})
	if bolt {
		for _, node := range []*testNode{alice, bob} {
			db, err := channeldb.Open(b.TempDir() + "/channel.db")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			node.db = db
		}
	}
	var payment uint64
	cycle := func() {
		adds := make([]lnwire.Message, n)
		for i := range adds {
			payment++
			add, err := alice.ch.AddHTLC(addMsg(1_000_000, payment))
			if err != nil {
				b.Fatal(err)
			}
			adds[i] = add
		}
		bob.exchange(b, adds...)
		benchRound(b, alice, bob)
		settles := make([]lnwire.Message, 0, n)
		for _, h := range bob.ch.st.LocalCommit.HTLCs {
			pre, ok := benchPreimage(h.PaymentHash, payment, n)
			if !ok {
				b.Fatal("unknown payment hash")
			}
			s, err := bob.ch.SettleHTLC(h.ID, pre)
			if err != nil {
				b.Fatal(err)
			}
			settles = append(settles, s)
		}
		alice.exchange(b, settles...)
		benchRound(b, bob, alice)
	}
	cycle() // warm up
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		cycle()
	}
	b.StopTimer()
	rounds := float64(2 * b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rounds, "ns/round")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/rounds,
		"cpu-ns/round")
}

// benchPreimage finds the preimage of one of the last n payments.
func benchPreimage(hash [32]byte, last uint64, n int) ([32]byte, bool) {
	for p := last; p > last-uint64(n); p-- {
		pre, h := htlcPreimage(p)
		if h == hash {
			return pre, true
		}
	}
	return [32]byte{}, false
}
