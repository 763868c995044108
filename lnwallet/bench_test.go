package lnwallet

import (
	"fmt"
	"testing"
)

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
