package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2"
)

// This file derives a Channel's per-commitment keys faster than
// DeriveCommitmentKeys, with the same results. Of the revocation key
//
//	revocation_basepoint·k1 + per_commitment_point·k2
//
// the first term multiplies a point fixed for the channel's life, so a
// comb table built once per Channel (in memory only) replaces the general
// multiplication; and on our own commitment the second term is
// (per_commitment_secret·k2)·G, a multiplication of the generator, whose
// tables btcec already has.

// revTable returns the comb table of party's revocation basepoint,
// building it on first use.
func (c *Channel) revTable(party Party) *combTable {
	if c.revTables[party] == nil {
		c.revTables[party] = newCombTable(
			c.params.config(party).RevocationBasePoint,
			revCombTeeth)
	}
	return c.revTables[party]
}

// commitKeys returns the keys of owner's commitment number n, whose
// per_commitment_point is point (ours is derived again from the secret).
func (c *Channel) commitKeys(owner Party, n uint64,
	point *btcec.PublicKey) (*CommitmentKeys, error) {

	punisher := owner.Other()
	k1, k2 := revocationTweaks(c.params.config(punisher).RevocationBasePoint,
		point)
	var a, b btcec.JacobianPoint
	c.revTable(punisher).mul(&k1, &a)
	if owner == Local {
		secret, err := c.cfg.Secrets.ForCommitment(n)
		if err != nil {
			return nil, err
		}
		// PrivKeyFromBytes, behind CommitPoint, reduces the same way.
		var s btcec.ModNScalar
		s.SetByteSlice(secret[:])
		k2.Mul(&s)
		btcec.ScalarBaseMultNonConst(&k2, &b)
	} else {
		var p btcec.JacobianPoint
		point.AsJacobian(&p)
		btcec.ScalarMultNonConst(&k2, &p, &b)
	}
	// The keys, Jacobian until one shared inversion: revocation,
	// to_local, the two HTLC keys, then a legacy to_remote.
	var pts [5]btcec.JacobianPoint
	btcec.AddNonConst(&a, &b, &pts[0])
	own, other := c.params.config(owner), c.params.config(owner.Other())
	tweakJacobian(own.DelayedPaymentBasePoint, point, &pts[1])
	tweakJacobian(own.HtlcBasePoint, point, &pts[2])
	tweakJacobian(other.HtlcBasePoint, point, &pts[3])
	count := 4
	if !c.params.Type.StaticRemoteKey() {
		tweakJacobian(other.PaymentBasePoint, point, &pts[4])
		count = 5
	}
	pubs := pubsFromJacobians(pts[:count])
	k := &CommitmentKeys{
		CommitPoint:      point,
		RevocationKey:    pubs[0],
		ToLocalKey:       pubs[1],
		LocalHtlcKey:     pubs[2],
		RemoteHtlcKey:    pubs[3],
		ToRemoteKey:      other.PaymentBasePoint,
		LocalFundingKey:  own.FundingKey,
		RemoteFundingKey: other.FundingKey,
	}
	if count == 5 {
		k.ToRemoteKey = pubs[4]
	}
	return k, nil
}

// pubsFromJacobians converts points to public keys with one field
// inversion. A point at infinity (a key nobody can find) is converted
// as pubFromJacobian does.
func pubsFromJacobians(pts []btcec.JacobianPoint) []*btcec.PublicKey {
	pubs := make([]*btcec.PublicKey, len(pts))
	for i := range pts {
		if pts[i].Z.IsZero() {
			for i := range pts {
				pubs[i] = pubFromJacobian(&pts[i])
			}
			return pubs
		}
	}
	aff := make([]affinePoint, len(pts))
	toAffine(pts, aff)
	for i := range aff {
		pubs[i] = btcec.NewPublicKey(&aff[i].x, &aff[i].y)
	}
	return pubs
}
