package chainfee

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
)

// SatPerKWeight is a fee rate in satoshis per 1000 weight units, the unit
// BOLT 2/3 use (feerate_per_kw).
type SatPerKWeight btcutil.Amount

// SatPerVByte is a fee rate in satoshis per virtual byte, the unit operators
// and lnd's RPC use.
type SatPerVByte btcutil.Amount

// FeePerKwFloor is the lowest fee rate relayed by default (1 sat/vbyte =
// 250 sat/kw) rounded up to 253 sat/kw, below which no BOLT implementation
// accepts a commitment fee rate.
const FeePerKwFloor SatPerKWeight = 253

// FeeForWeight returns the fee for a transaction of the given weight,
// rounding down as BOLT 3 does.
func (r SatPerKWeight) FeeForWeight(weight int64) btcutil.Amount {
	return btcutil.Amount(r) * btcutil.Amount(weight) / 1000
}

// FeeForVSize returns the fee for a transaction of the given virtual size.
func (r SatPerKWeight) FeeForVSize(vsize int64) btcutil.Amount {
	return btcutil.Amount(r) * btcutil.Amount(vsize) * 4 / 1000
}

// FeePerVByte converts to sat/vbyte, rounding down.
func (r SatPerKWeight) FeePerVByte() SatPerVByte {
	return SatPerVByte(r * 4 / 1000)
}

// FeePerKWeight converts to sat/kw.
func (r SatPerVByte) FeePerKWeight() SatPerKWeight {
	return SatPerKWeight(r * 1000 / 4)
}

func (r SatPerKWeight) String() string { return fmt.Sprintf("%d sat/kw", int64(r)) }
func (r SatPerVByte) String() string   { return fmt.Sprintf("%d sat/vB", int64(r)) }
