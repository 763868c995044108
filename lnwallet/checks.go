package lnwallet

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet/chainfee"
)

// This file holds the BOLT 2 checks on HTLCs and fee updates, applied to
// a commitment view that already includes the update being checked. The
// same checks serve our updates (refused with the sentinel) and the
// peer's (turned into a PeerError by the caller).

// balance returns party's balance in a view.
func balance(v *channeldb.ChannelCommitment, p Party) uint64 {
	if p == Local {
		return v.LocalBalanceMsat
	}
	return v.RemoteBalanceMsat
}

// constraints returns party's stored constraints.
func (c *Channel) constraints(p Party) *channeldb.ChannelConstraints {
	if p == Local {
		return &c.st.LocalConfig.ChannelConstraints
	}
	return &c.st.RemoteConfig.ChannelConstraints
}

// checkAddBasics checks an HTLC on its own: amount, minimum, expiry.
func (c *Channel) checkAddBasics(adder Party, amt uint64, expiry uint32) error {
	if amt == 0 {
		return ErrZeroAmount
	}
	if min := c.constraints(adder.Other()).HtlcMinimumMsat; amt < min {
		return fmt.Errorf("%w: %d < %d msat", ErrBelowMinimum, amt, min)
	}
	if expiry >= MaxCltvExpiry {
		return fmt.Errorf("%w: %d", ErrInvalidExpiry, expiry)
	}
	return nil
}

// checkHTLCLimits checks the receiver's max_accepted_htlcs and
// max_htlc_value_in_flight_msat against the HTLCs adder offers in v.
func (c *Channel) checkHTLCLimits(v *channeldb.ChannelCommitment,
	adder Party) error {

	recv := c.constraints(adder.Other())
	count, sum := 0, uint64(0)
	for i := range v.HTLCs {
		if v.HTLCs[i].Incoming == (adder == Remote) {
			count++
			sum += v.HTLCs[i].AmountMsat
		}
	}
	maxCount := min(int(recv.MaxAcceptedHtlcs), MaxAcceptedHTLCsLimit)
	if count > maxCount {
		return fmt.Errorf("%w: %d > %d", ErrTooManyHTLCs, count, maxCount)
	}
	if sum > recv.MaxHtlcValueInFlightMsat {
		return fmt.Errorf("%w: %d > %d msat", ErrMaxInFlight, sum,
			recv.MaxHtlcValueInFlightMsat)
	}
	return nil
}

// fundsCheck says what checkFunds demands.
type fundsCheck struct {
	// adder is the party whose update is checked (it must keep its
	// reserve after paying what it owes).
	adder Party

	// openerReserve also demands the reserve of the opener when it is
	// not the adder (our own adds, per BOLT 2's SHOULD); otherwise the
	// opener need only pay the fee.
	openerReserve bool

	// spikeBuffer demands that the opener afford twice the fee rate
	// with one more HTLC (our own adds when we are the opener).
	spikeBuffer bool
}

// checkFunds checks on owner's commitment v that the parties can pay for
// it: the adder keeps its reserve after fees it owes, and the opener can
// pay the commitment fee and anchors.
func (c *Channel) checkFunds(v *channeldb.ChannelCommitment, owner Party,
	fc fundsCheck) error {

	opener := c.params.opener()
	cost := storedCost(&c.params, owner, v)
	owed := msat(cost.BaseFee + cost.Anchors)

	adderOwes := uint64(0)
	if fc.adder == opener {
		adderOwes = owed
	}
	reserve := msat(c.constraints(fc.adder).ChanReserve)
	if bal := balance(v, fc.adder); bal < adderOwes+reserve {
		return fmt.Errorf("%w: %v has %d msat, owes %d and must keep %d "+
			"on the %v commitment", ErrBelowReserve, fc.adder, bal,
			adderOwes, reserve, owner)
	}
	openerBal := balance(v, opener)
	if fc.adder != opener {
		need := owed
		if fc.openerReserve {
			need += msat(c.constraints(opener).ChanReserve)
		}
		if openerBal < need {
			return fmt.Errorf("%w: %d msat for %d", ErrOpenerCannotPay,
				openerBal, need)
		}
	}
	if fc.spikeBuffer && fc.adder == opener {
		spike := CommitFee(c.params.Type, 2*chainfee.SatPerKWeight(v.FeeRate),
			cost.Untrimmed+1) + cost.Anchors
		need := msat(spike) + msat(c.constraints(opener).ChanReserve)
		if openerBal < need {
			return fmt.Errorf("%w: %d msat for %d", ErrFeeSpikeBuffer,
				openerBal, need)
		}
	}
	return nil
}

// dustExposure returns the value of HTLCs trimmed from owner's commitment
// v, and whether h is among them.
func (c *Channel) dustExposure(v *channeldb.ChannelCommitment, owner Party,
	h *channeldb.HTLC) (uint64, bool) {

	cost := storedCost(&c.params, owner, v)
	dust := false
	if h != nil {
		hh := HTLC{Incoming: h.Incoming, AmountMsat: h.AmountMsat}
		dust = HTLCIsDust(c.params.Type, offeredBy(owner, &hh),
			hh.Amount(), chainfee.SatPerKWeight(v.FeeRate),
			c.params.config(owner).DustLimit)
	}
	return cost.TrimmedMsat, dust
}

// checkDust refuses owner's commitment v if h is trimmed on it and the
// trimmed total exceeds the configured bound. With h nil (a fee update)
// any excess is refused.
func (c *Channel) checkDust(v *channeldb.ChannelCommitment, owner Party,
	h *channeldb.HTLC) error {

	total, isDust := c.dustExposure(v, owner, h)
	if (h == nil || isDust) && total > c.cfg.MaxDustExposureMsat {
		return fmt.Errorf("%w: %d msat trimmed on the %v commitment, "+
			"limit %d", ErrDustExposure, total, owner,
			c.cfg.MaxDustExposureMsat)
	}
	return nil
}

// checkFeeRate checks an update_fee's rate against the configured bounds.
func (c *Channel) checkFeeRate(rate uint32) error {
	r := chainfee.SatPerKWeight(rate)
	if r < c.cfg.MinFeeRate || r > c.cfg.MaxFeeRate {
		return fmt.Errorf("%w: %v not in [%v, %v]", ErrFeeRate, r,
			c.cfg.MinFeeRate, c.cfg.MaxFeeRate)
	}
	return nil
}

// msat converts satoshis to millisatoshis.
func msat(a btcutil.Amount) uint64 {
	if a < 0 {
		return 0
	}
	return uint64(a) * 1000
}
