package chain

import "lnd.xprv/lnwallet/chainfee"

// The fee-rate units live in the leaf package chainfee; these aliases keep
// chain's callers unchanged.
type (
	// SatPerKWeight is chainfee.SatPerKWeight.
	SatPerKWeight = chainfee.SatPerKWeight

	// SatPerVByte is chainfee.SatPerVByte.
	SatPerVByte = chainfee.SatPerVByte
)

// FeePerKwFloor is chainfee.FeePerKwFloor.
const FeePerKwFloor = chainfee.FeePerKwFloor
