package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/vartime"
)

// This file derives a Channel's per-commitment keys faster than
// DeriveCommitmentKeys, with the same results. Of the revocation key
//
//	revocation_basepoint·k1 + per_commitment_point·k2
//
// the first term multiplies a point fixed for the channel's life, so a
// comb table built once per Channel (in memory only) replaces the general
// multiplication; on our own commitment the second term is
// (per_commitment_secret·k2)·G, a generator multiplication, cheaper than
// multiplying the point. The inputs of everything else are public
// (basepoints, the per_commitment_point, hashes of them), so it runs on
// vartime; the one product with our secret runs on btcec, as btcec's own
// signing multiplies its secret nonce.

// commitKeys returns the keys of owner's commitment number n, whose
// per_commitment_point is point (ours is derived again from the secret).
func (c *Channel) commitKeys(owner Party, n uint64,
	point *btcec.PublicKey) (*CommitmentKeys, error) {

	punisher := owner.Other()
	k1, k2 := revocationTweaks(c.params.config(punisher).RevocationBasePoint,
		point)
	// The keys, Jacobian until one shared inversion: revocation,
	// to_local, the two HTLC keys, then a legacy to_remote.
	var pts [5]vartime.Jacobian
	var b vartime.Jacobian
	c.revTable(punisher).Mul(&k1, &pts[0])
	if owner == Local {
		secret, err := c.secret(n)
		if err != nil {
			return nil, err
		}
		// Reduced as CommitPoint reduces it.
		var s btcec.ModNScalar
		s.SetBytes(&secret)
		k2.Mul(&s)
		s.Zero()
		var sg btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k2, &sg)
		k2.Zero()
		b = vartime.FromJacobian(&sg)
	} else {
		commitPoint := vartime.FromPubKey(point)
		vartime.Mul(&commitPoint, &k2, &b)
	}
	pts[0].Add(&pts[0], &b)
	own, other := c.params.config(owner), c.params.config(owner.Other())
	tweakJacobian(own.DelayedPaymentBasePoint, point, &pts[1])
	tweakJacobian(own.HtlcBasePoint, point, &pts[2])
	tweakJacobian(other.HtlcBasePoint, point, &pts[3])
	count := 4
	if !c.params.Type.StaticRemoteKey() {
		tweakJacobian(other.PaymentBasePoint, point, &pts[4])
		count = 5
	}
	pubs := vartime.PubKeys(pts[:count])
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
