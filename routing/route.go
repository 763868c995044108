package routing

import (
	"lnd.xprv/lnwire"
	"lnd.xprv/lnwire/tlv"
)

// Hop is one node of a route after the source, reached over ChannelID.
type Hop struct {
	// PubKey is the node this hop reaches.
	PubKey Vertex

	// ChannelID is the channel from the previous node to PubKey.
	ChannelID lnwire.ShortChannelID

	// AmtToForward is what PubKey sends on: over the next hop's channel,
	// or, at the final hop, the payment amount itself. What PubKey
	// receives is this plus its fee.
	AmtToForward lnwire.MilliSatoshi

	// OutgoingTimeLock is the expiry height of the HTLC PubKey sends on
	// (at the final hop: the expiry the recipient receives).
	OutgoingTimeLock uint32
}

// Route is a path with the amounts and expiries each hop's onion payload
// will carry (BOLT 4).
type Route struct {
	SourcePubKey Vertex

	// TotalAmount is what the source sends over the first channel:
	// the payment amount plus every fee.
	TotalAmount lnwire.MilliSatoshi

	// TotalTimeLock is the expiry height of the source's HTLC.
	TotalTimeLock uint32

	Hops []Hop

	// Probability is the path finder's estimate of the chance the
	// route succeeds.
	Probability float64
}

// ReceiverAmt is what the final hop receives.
func (r *Route) ReceiverAmt() lnwire.MilliSatoshi {
	if len(r.Hops) == 0 {
		return 0
	}
	return r.Hops[len(r.Hops)-1].AmtToForward
}

// TotalFees is what the route costs the source beyond the payment.
func (r *Route) TotalFees() lnwire.MilliSatoshi {
	return r.TotalAmount - r.ReceiverAmt()
}

// HopFee is the fee hop i charges: what it receives less what it sends
// on. The final hop charges none.
func (r *Route) HopFee(i int) lnwire.MilliSatoshi {
	in := r.TotalAmount
	if i > 0 {
		in = r.Hops[i-1].AmtToForward
	}
	return in - r.Hops[i].AmtToForward
}

// hopPayloadSize is the bytes hop i's payload takes in the onion (BOLT 4:
// a BigSize length, the TLV stream, an HMAC), as path finding has to keep
// the route within the 1,300-byte routing info. An intermediate hop gets
// amt_to_forward, outgoing_cltv_value and short_channel_id; the final hop
// amt_to_forward, outgoing_cltv_value and payment_data (which modern
// invoices always carry).
func hopPayloadSize(amt uint64, cltv uint32, final bool) int {
	n := 2 + tuSize(amt) + 2 + tuSize(uint64(cltv))
	if final {
		n += 2 + 32 + tuSize(amt)
	} else {
		n += 2 + 8
	}
	return tlv.BigSizeLen(uint64(n)) + n + 32
}

// maxRoutingInfo is the onion's hop payload area (BOLT 4).
const maxRoutingInfo = 1300

// tuSize is the length of v as a truncated integer.
func tuSize(v uint64) int {
	n := 0
	for v != 0 {
		n++
		v >>= 8
	}
	return n
}
