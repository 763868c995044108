package lnwallet

import (
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestChannelCommitKeys checks that a Channel's derivation (comb tables,
// vartime) and DeriveCommitmentKeys give every key btcecCommitKeys (BOLT
// 3's formulas on btcec alone) gives, on both commitments, for the three
// channel types.
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
					want := btcecCommitKeys(&ch.params,
						tc.owner, tc.point)
					if !keysEqual(got, want) {
						t.Fatalf("%v commitment %d: keys "+
							"differ", tc.owner, n)
					}
					exported := DeriveCommitmentKeys(
						&ch.params, tc.owner, tc.point)
					if !keysEqual(exported, want) {
						t.Fatalf("%v commitment %d: "+
							"DeriveCommitmentKeys differs",
							tc.owner, n)
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

// btcecCommitKeys derives owner's keys with btcec's arithmetic only: the
// reference vartime is checked against.
func btcecCommitKeys(p *ChannelParams, owner Party,
	point *btcec.PublicKey) *CommitmentKeys {

	mul := func(pub *btcec.PublicKey, k *btcec.ModNScalar,
		out *btcec.JacobianPoint) {

		var j btcec.JacobianPoint
		pub.AsJacobian(&j)
		btcec.ScalarMultNonConst(k, &j, out)
	}
	toPub := func(j *btcec.JacobianPoint) *btcec.PublicKey {
		j.ToAffine()
		return btcec.NewPublicKey(&j.X, &j.Y)
	}
	tweak := func(base *btcec.PublicKey) *btcec.PublicKey {
		k := scalarFromHash(SingleTweak(point, base))
		var tg, b, sum btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k, &tg)
		base.AsJacobian(&b)
		btcec.AddNonConst(&tg, &b, &sum)
		return toPub(&sum)
	}
	own, other := p.config(owner), p.config(owner.Other())
	revBase := other.RevocationBasePoint
	k1, k2 := revocationTweaks(revBase, point)
	var a, b, sum btcec.JacobianPoint
	mul(revBase, &k1, &a)
	mul(point, &k2, &b)
	btcec.AddNonConst(&a, &b, &sum)
	k := &CommitmentKeys{
		CommitPoint:      point,
		RevocationKey:    toPub(&sum),
		ToLocalKey:       tweak(own.DelayedPaymentBasePoint),
		LocalHtlcKey:     tweak(own.HtlcBasePoint),
		RemoteHtlcKey:    tweak(other.HtlcBasePoint),
		ToRemoteKey:      other.PaymentBasePoint,
		LocalFundingKey:  own.FundingKey,
		RemoteFundingKey: other.FundingKey,
	}
	if !p.Type.StaticRemoteKey() {
		k.ToRemoteKey = tweak(other.PaymentBasePoint)
	}
	return k
}
