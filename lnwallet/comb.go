package lnwallet

import (
	"lnd.xprv/internal/vartime"
)

// A Channel multiplies a few points fixed for its life by a fresh public
// scalar at every commitment: the revocation basepoints, and the peer's
// keys its signatures are checked under. For each it builds a Lim–Lee
// comb table (vartime.Table) on first use, in memory only. Every scalar a
// table sees is public (a hash of public keys, or a verification's
// u2 = r/s), which vartime's variable time requires.

// Comb widths: a table of t teeth holds 2^t-1 points of 64 bytes and
// multiplies with ceil(256/t)-1 doublings and as many additions.
const (
	// revCombTeeth is used for the revocation basepoints (4,032 bytes
	// each, 42 doublings).
	revCombTeeth = 6

	// sigCombTeeth is used for the peer's funding key and HTLC
	// basepoint, which check its signatures (4,032 bytes each, 42
	// doublings), keeping a Channel's four tables at 16 KB.
	sigCombTeeth = 6
)

// revTable returns the comb table of party's revocation basepoint,
// building it on first use.
func (c *Channel) revTable(party Party) *vartime.Table {
	if c.revTables[party] == nil {
		c.revTables[party] = vartime.NewTable(
			c.params.config(party).RevocationBasePoint,
			revCombTeeth)
	}
	return c.revTables[party]
}
