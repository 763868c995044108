package lnwire

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
)

// MilliSatoshi is an amount in thousandths of a satoshi, the unit of
// payments in the Lightning protocol.
type MilliSatoshi uint64

// MaxMilliSatoshi is the BOLT 1 upper bound for msat amounts (21 million BTC).
const MaxMilliSatoshi MilliSatoshi = 0x1d24b2dfac520000

// NewMSatFromSatoshis converts satoshis to millisatoshis.
func NewMSatFromSatoshis(sat btcutil.Amount) MilliSatoshi {
	return MilliSatoshi(uint64(sat) * 1000)
}

// ToSatoshis rounds down to whole satoshis.
func (m MilliSatoshi) ToSatoshis() btcutil.Amount {
	return btcutil.Amount(m / 1000)
}

// String returns the amount with its unit, e.g. "1500 mSAT".
func (m MilliSatoshi) String() string {
	return fmt.Sprintf("%d mSAT", uint64(m))
}
