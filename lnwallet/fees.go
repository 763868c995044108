package lnwallet

import (
	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwallet/chainfee"
)

// Expected weights from BOLT 3 Appendix A, used for fees whatever the real
// size of the transaction.
const (
	// CommitWeight is the base weight of a commitment transaction.
	CommitWeight = 724
	// AnchorCommitWeight is the base weight with option_anchors.
	AnchorCommitWeight = 1124
	// HTLCOutputWeight is added per untrimmed HTLC output.
	HTLCOutputWeight = 172
	// HTLCTimeoutWeight is the HTLC-timeout transaction's weight.
	HTLCTimeoutWeight = 663
	// AnchorHTLCTimeoutWeight is its weight with option_anchors.
	AnchorHTLCTimeoutWeight = 666
	// HTLCSuccessWeight is the HTLC-success transaction's weight.
	HTLCSuccessWeight = 703
	// AnchorHTLCSuccessWeight is its weight with option_anchors.
	AnchorHTLCSuccessWeight = 706
)

// AnchorValue is the value of each anchor output: the P2WSH dust limit.
const AnchorValue btcutil.Amount = 330

// feeForWeight is rate·weight/1000, saturating at the 21M BTC supply so
// that an absurd fee rate from a peer cannot overflow into a negative fee.
func feeForWeight(rate chainfee.SatPerKWeight, weight int64) btcutil.Amount {
	if rate <= 0 || weight <= 0 {
		return 0
	}
	if int64(rate) > int64(btcutil.MaxSatoshi)*1000/weight {
		return btcutil.MaxSatoshi
	}
	return rate.FeeForWeight(weight)
}

// CommitWeightFor returns the expected weight of a commitment transaction
// with the given number of untrimmed HTLC outputs.
func CommitWeightFor(t ChannelType, numHTLCs int) int64 {
	w := int64(CommitWeight)
	if t.HasAnchors() {
		w = AnchorCommitWeight
	}
	return w + HTLCOutputWeight*int64(numHTLCs)
}

// CommitFee returns the base commitment fee the opener pays.
func CommitFee(t ChannelType, rate chainfee.SatPerKWeight,
	numHTLCs int) btcutil.Amount {

	return feeForWeight(rate, CommitWeightFor(t, numHTLCs))
}

// HTLCTimeoutFee returns the fee of an HTLC-timeout transaction: zero with
// option_anchors (the fee is brought in by the spender), else
// feerate·663/1000.
func HTLCTimeoutFee(t ChannelType, rate chainfee.SatPerKWeight) btcutil.Amount {
	if t.HasAnchors() {
		return 0
	}
	return feeForWeight(rate, HTLCTimeoutWeight)
}

// HTLCSuccessFee returns the fee of an HTLC-success transaction: zero with
// option_anchors, else feerate·703/1000.
func HTLCSuccessFee(t ChannelType, rate chainfee.SatPerKWeight) btcutil.Amount {
	if t.HasAnchors() {
		return 0
	}
	return feeForWeight(rate, HTLCSuccessWeight)
}

// HTLCIsDust reports whether an HTLC is trimmed from a commitment: offered
// says whether the commitment's owner offered it (so it is spent by
// HTLC-timeout) or received it (HTLC-success); dustLimit is the owner's.
// An HTLC whose second-stage output would be zero or less is always dust,
// even with a (non-standard) zero dust limit.
func HTLCIsDust(t ChannelType, offered bool, amount btcutil.Amount,
	rate chainfee.SatPerKWeight, dustLimit btcutil.Amount) bool {

	fee := HTLCSuccessFee(t, rate)
	if offered {
		fee = HTLCTimeoutFee(t, rate)
	}
	out := amount - fee
	return out <= 0 || out < dustLimit
}
