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
	var a, b, sum btcec.JacobianPoint
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
	btcec.AddNonConst(&a, &b, &sum)
	return commitmentKeys(&c.params, owner, point, pubFromJacobian(&sum)),
		nil
}
