package lnwallet

import (
	"fmt"
	"slices"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
)

// This file computes commitments from update logs. A commitment includes
// a prefix of each log (LocalLogIndex, RemoteLogIndex); the next one of
// the same party is the previous one with the updates between the old and
// the new prefixes applied.

// logEntry returns the update at index in log, which is contiguous.
func logEntry(log []channeldb.LogUpdate, index uint64) (*channeldb.LogUpdate,
	bool) {

	if len(log) == 0 || index < log[0].Index {
		return nil, false
	}
	i := index - log[0].Index
	if i >= uint64(len(log)) {
		return nil, false
	}
	return &log[i], true
}

// countAdds counts the update_add_htlc in log[from, to), as far as the
// log holds them.
func countAdds(log []channeldb.LogUpdate, from, to uint64) int {
	n := 0
	for i := from; i < to; i++ {
		u, ok := logEntry(log, i)
		if !ok {
			break
		}
		if _, isAdd := u.Msg.(*lnwire.UpdateAddHTLC); isAdd {
			n++
		}
	}
	return n
}

// advance returns base with our updates [base.LocalLogIndex, localIdx) and
// the peer's [base.RemoteLogIndex, remoteIdx) applied. Adds are applied
// before removals, so a batch may add and remove the same HTLC; the fee
// rate is the opener's last update_fee.
func (c *Channel) advance(base *channeldb.ChannelCommitment, localIdx,
	remoteIdx uint64) (*channeldb.ChannelCommitment, error) {

	// Room for the ranges' adds, so that apply's appends do not grow the
	// copy again (the ranges are checked in advanceInto).
	room := countAdds(c.st.LocalLog, base.LocalLogIndex, localIdx) +
		countAdds(c.st.RemoteLog, base.RemoteLogIndex, remoteIdx)
	next := &channeldb.ChannelCommitment{}
	if room > 0 || len(base.HTLCs) > 0 {
		next.HTLCs = make([]channeldb.HTLC, 0, len(base.HTLCs)+room)
	}
	if err := c.advanceInto(next, base, localIdx, remoteIdx); err != nil {
		return nil, err
	}
	return next, nil
}

// advanceInto is advance writing into next, whose HTLC array it reuses
// (next is not base).
func (c *Channel) advanceInto(next, base *channeldb.ChannelCommitment,
	localIdx, remoteIdx uint64) error {

	htlcs := next.HTLCs[:0]
	*next = *base
	next.HTLCs = append(htlcs, base.HTLCs...)
	next.CommitSig, next.HtlcSigs = lnwire.Sig{}, nil
	next.LocalLogIndex, next.RemoteLogIndex = localIdx, remoteIdx
	type batch struct {
		log      []channeldb.LogUpdate
		from, to uint64
		remote   bool
	}
	batches := []batch{
		{c.st.LocalLog, base.LocalLogIndex, localIdx, false},
		{c.st.RemoteLog, base.RemoteLogIndex, remoteIdx, true},
	}
	for pass := 0; pass < 2; pass++ {
		for _, b := range batches {
			if b.to < b.from {
				return fmt.Errorf("log index %d before "+
					"commitment's %d", b.to, b.from)
			}
			for i := b.from; i < b.to; i++ {
				u, ok := logEntry(b.log, i)
				if !ok {
					return fmt.Errorf("update %d "+
						"missing from log", i)
				}
				_, isAdd := u.Msg.(*lnwire.UpdateAddHTLC)
				if isAdd != (pass == 0) {
					continue
				}
				if err := apply(next, u.Msg, b.remote); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// apply applies one update, proposed by the peer if remote is set.
func apply(v *channeldb.ChannelCommitment, msg lnwire.Message,
	remote bool) error {

	// The proposer's and the other party's balances.
	own, other := &v.LocalBalanceMsat, &v.RemoteBalanceMsat
	if remote {
		own, other = other, own
	}
	switch m := msg.(type) {
	case *lnwire.UpdateAddHTLC:
		amt := uint64(m.Amount)
		if *own < amt {
			return fmt.Errorf("%w: add of %d msat with %d left",
				ErrBelowReserve, amt, *own)
		}
		*own -= amt
		v.HTLCs = append(v.HTLCs, channeldb.HTLC{
			ID:          m.ID,
			Incoming:    remote,
			AmountMsat:  amt,
			PaymentHash: m.PaymentHash,
			CltvExpiry:  m.Expiry,
		})
		if remote {
			v.RemoteHtlcID = m.ID + 1
		} else {
			v.LocalHtlcID = m.ID + 1
		}
	case *lnwire.UpdateFulfillHTLC:
		// A fulfil moves the HTLC to its receiver, the proposer.
		h, err := removeHTLC(v, m.ID, !remote)
		if err != nil {
			return err
		}
		*own += h.AmountMsat
	case *lnwire.UpdateFailHTLC:
		h, err := removeHTLC(v, m.ID, !remote)
		if err != nil {
			return err
		}
		*other += h.AmountMsat
	case *lnwire.UpdateFailMalformedHTLC:
		h, err := removeHTLC(v, m.ID, !remote)
		if err != nil {
			return err
		}
		*other += h.AmountMsat
	case *lnwire.UpdateFee:
		v.FeeRate = m.FeePerKw
	default:
		return fmt.Errorf("lnwallet: %v in update log", msg.MsgType())
	}
	return nil
}

// removeHTLC removes the HTLC with id offered by the peer (incoming) or
// by us.
func removeHTLC(v *channeldb.ChannelCommitment, id uint64,
	incoming bool) (channeldb.HTLC, error) {

	i := findHTLC(v.HTLCs, id, incoming)
	if i < 0 {
		return channeldb.HTLC{}, fmt.Errorf("%w: id %d (incoming %v)",
			ErrUnknownHTLC, id, incoming)
	}
	h := v.HTLCs[i]
	v.HTLCs = slices.Delete(v.HTLCs, i, i+1)
	return h, nil
}

// findHTLC returns the position of an HTLC, or -1.
func findHTLC(htlcs []channeldb.HTLC, id uint64, incoming bool) int {
	for i := range htlcs {
		if htlcs[i].ID == id && htlcs[i].Incoming == incoming {
			return i
		}
	}
	return -1
}

// spec converts a stored commitment for the BOLT 3 builders.
func spec(v *channeldb.ChannelCommitment) *CommitmentSpec {
	s := &CommitmentSpec{
		Number:            v.Number,
		FeeRate:           chainfee.SatPerKWeight(v.FeeRate),
		LocalBalanceMsat:  v.LocalBalanceMsat,
		RemoteBalanceMsat: v.RemoteBalanceMsat,
		HTLCs:             make([]HTLC, len(v.HTLCs)),
	}
	for i, h := range v.HTLCs {
		s.HTLCs[i] = HTLC{
			Incoming:    h.Incoming,
			AmountMsat:  h.AmountMsat,
			PaymentHash: h.PaymentHash,
			CltvExpiry:  h.CltvExpiry,
			ID:          h.ID,
		}
	}
	return s
}

// storedCost is CommitmentCost of spec(v) without copying v's HTLCs: the
// checks run it on every update, over every HTLC in flight.
func storedCost(p *ChannelParams, owner Party,
	v *channeldb.ChannelCommitment) CommitCost {

	var c CommitCost
	rate := chainfee.SatPerKWeight(v.FeeRate)
	dust := p.config(owner).DustLimit
	for i := range v.HTLCs {
		h := HTLC{Incoming: v.HTLCs[i].Incoming, AmountMsat: v.HTLCs[i].AmountMsat}
		c.add(p.Type, owner, rate, dust, &h)
	}
	c.settle(p.Type, rate)
	return c
}

// viewRange is a commitment view: base with the updates of each log up
// to an index applied.
type viewRange struct {
	base                *channeldb.ChannelCommitment
	localIdx, remoteIdx uint64
}

// signedLocalView is the next commitment of ours the peer will sign: the
// peer's updates so far, ours it acknowledged.
func (c *Channel) signedLocalView() viewRange {
	base := &c.st.LocalCommit
	if c.pendingLocal != nil {
		base = c.pendingLocal
	}
	return viewRange{base, max(base.LocalLogIndex,
		c.st.RemoteCommit.LocalLogIndex), c.st.NextRemoteLogIndex}
}

// signedRemoteView is the peer's next commitment as we would sign it
// now: our updates so far, the peer's we acknowledged. A removal by the
// peer that we have not acknowledged is not in it.
func (c *Channel) signedRemoteView() viewRange {
	return viewRange{c.latestRemote(), c.st.NextLocalLogIndex,
		c.st.LocalCommit.RemoteLogIndex}
}

// nextLocalView is our next commitment as far as updates are known.
func (c *Channel) nextLocalView() viewRange {
	base := &c.st.LocalCommit
	if c.pendingLocal != nil {
		base = c.pendingLocal
	}
	return viewRange{base, c.st.NextLocalLogIndex, c.st.NextRemoteLogIndex}
}

// nextRemoteView is the peer's next commitment as far as updates are
// known.
func (c *Channel) nextRemoteView() viewRange {
	return viewRange{c.latestRemote(), c.st.NextLocalLogIndex,
		c.st.NextRemoteLogIndex}
}
