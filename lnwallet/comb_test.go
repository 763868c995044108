package lnwallet

import (
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestCombTable checks the fixed-base comb against btcec's general
// multiplication for random points and scalars, and for the scalars whose
// columns hit the table's edges (zero, one, all bits, the order minus one).
func TestCombTable(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	var edge [4]btcec.ModNScalar
	edge[1].SetInt(1)
	edge[2].SetByteSlice([]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff})
	edge[3].SetInt(1).Negate()
	for n := 0; n < 20; n++ {
		base := keyFrom(r).PubKey()
		table := newCombTable(base, 2+n%7)
		var bj btcec.JacobianPoint
		base.AsJacobian(&bj)
		scalars := append([]btcec.ModNScalar(nil), edge[:]...)
		for i := 0; i < 20; i++ {
			var b [32]byte
			r.Read(b[:])
			var k btcec.ModNScalar
			k.SetByteSlice(b[:])
			scalars = append(scalars, k)
		}
		for _, k := range scalars {
			var want, got btcec.JacobianPoint
			btcec.ScalarMultNonConst(&k, &bj, &want)
			table.mul(&k, &got)
			if k.IsZero() {
				if !got.Z.IsZero() && !(got.X.IsZero() &&
					got.Y.IsZero()) {

					t.Fatalf("0·B is not infinity")
				}
				continue
			}
			want.ToAffine()
			got.ToAffine()
			if !want.X.Equals(&got.X) || !want.Y.Equals(&got.Y) {
				t.Fatalf("base %x scalar %x: comb differs",
					base.SerializeCompressed(), k.Bytes())
			}
		}
	}
}

// BenchmarkRevocationMult compares the multiplications a commitment round
// is made of: btcec's general and generator multiplications, and the
// combs of the revocation basepoints (6 teeth) and of the peer's keys (5).
func BenchmarkRevocationMult(b *testing.B) {
	r := rand.New(rand.NewSource(7))
	base := keyFrom(r).PubKey()
	var bj, out btcec.JacobianPoint
	base.AsJacobian(&bj)
	var k btcec.ModNScalar
	k.SetByteSlice(keyFrom(r).Serialize())
	b.Run("general", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			btcec.ScalarMultNonConst(&k, &bj, &out)
		}
	})
	b.Run("base", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			btcec.ScalarBaseMultNonConst(&k, &out)
		}
	})
	table := newCombTable(base, revCombTeeth)
	b.Run("comb6", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			table.mul(&k, &out)
		}
	})
	table5 := newCombTable(base, sigCombTeeth)
	b.Run("comb5", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			table5.mul(&k, &out)
		}
	})
	b.Run("build", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			newCombTable(base, revCombTeeth)
		}
	})
}

// TestChannelCommitKeys checks that a Channel's derivation (comb tables,
// our secret) gives every key DeriveCommitmentKeys gives, on both
// commitments, for both channel types.
func TestChannelCommitKeys(t *testing.T) {
	for _, ct := range []ChannelType{ChannelTypeAnchors,
		ChannelTypeStaticRemoteKey, ChannelTypeLegacy} {

		alice, bob := newNodePair(t, pairSpec{chanType: ct,
			capacity: 1_000_000, feeRate: 253, seed: 5})
		for n := uint64(0); n < 50; n += 7 {
			for _, nd := range []*testNode{alice, bob} {
				ch := nd.ch
				cases := []struct {
					owner Party
					point *btcec.PublicKey
				}{
					{Local, nd.p.point(n)},
					{Remote, keyFrom(rand.New(
						rand.NewSource(int64(n)))).PubKey()},
				}
				for _, tc := range cases {
					got, err := ch.commitKeys(tc.owner, n,
						tc.point)
					if err != nil {
						t.Fatal(err)
					}
					want := DeriveCommitmentKeys(&ch.params,
						tc.owner, tc.point)
					if !keysEqual(got, want) {
						t.Fatalf("%v commitment %d: keys "+
							"differ", tc.owner, n)
					}
				}
			}
		}
	}
}

func keysEqual(a, b *CommitmentKeys) bool {
	pa := []*btcec.PublicKey{a.CommitPoint, a.ToLocalKey, a.ToRemoteKey,
		a.RevocationKey, a.LocalHtlcKey, a.RemoteHtlcKey,
		a.LocalFundingKey, a.RemoteFundingKey}
	pb := []*btcec.PublicKey{b.CommitPoint, b.ToLocalKey, b.ToRemoteKey,
		b.RevocationKey, b.LocalHtlcKey, b.RemoteHtlcKey,
		b.LocalFundingKey, b.RemoteFundingKey}
	for i := range pa {
		if !pa[i].IsEqual(pb[i]) {
			return false
		}
	}
	return true
}
