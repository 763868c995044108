package lnwallet

import (
	"crypto/sha256"
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// This file holds the update operations of both logs. Our updates return
// the message to send at once: an update binds neither side until a
// commitment_signed covers it, and that is released only by Persist (see
// the package documentation). The peer's updates are checked and
// appended to its log.

// appendUpdate adds msg to our log (remote false) or the peer's.
func (c *Channel) appendUpdate(msg lnwire.Message, remote, failDust bool) {
	st := c.st
	log, next := &st.LocalLog, &st.NextLocalLogIndex
	if remote {
		log, next = &st.RemoteLog, &st.NextRemoteLogIndex
	}
	*log = append(*log, channeldb.LogUpdate{
		Index: *next, Msg: msg, FailDust: failDust,
	})
	*next++
}

// popUpdate undoes the last appendUpdate after a failed check.
func (c *Channel) popUpdate(remote bool) {
	st := c.st
	if remote {
		st.RemoteLog = st.RemoteLog[:len(st.RemoteLog)-1]
		st.NextRemoteLogIndex--
		return
	}
	st.LocalLog = st.LocalLog[:len(st.LocalLog)-1]
	st.NextLocalLogIndex--
}

// viewSet holds the commitments an update is checked against, indexed by
// owner: the next ones as they would be signed now, and the ones with
// every known update applied. Our updates must fit both (a removal by the
// peer we have not acknowledged frees nothing yet; an add of the peer's
// we have not acknowledged will cost fees later); the peer's are checked
// on our next commitment as it will be signed. The views are the
// Channel's scratch (c.views): valid until the next viewSet.
type viewSet struct {
	signed, all [2]*channeldb.ChannelCommitment
}

func (c *Channel) viewSet() (viewSet, error) {
	vs := viewSet{
		signed: [2]*channeldb.ChannelCommitment{&c.views[0], &c.views[1]},
		all:    [2]*channeldb.ChannelCommitment{&c.views[2], &c.views[3]},
	}
	ranges := [4]viewRange{c.signedLocalView(), c.signedRemoteView(),
		c.nextLocalView(), c.nextRemoteView()}
	for i, r := range ranges {
		err := c.advanceInto(&c.views[i], r.base, r.localIdx, r.remoteIdx)
		if err != nil {
			return viewSet{}, err
		}
	}
	return vs, nil
}

// each calls f with every view of both owners until it fails.
func (vs *viewSet) each(f func(v *channeldb.ChannelCommitment,
	owner Party) error) error {

	for _, set := range [][2]*channeldb.ChannelCommitment{vs.signed, vs.all} {
		for owner, v := range set {
			if err := f(v, Party(owner)); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddHTLC offers an HTLC to the peer. ChanID and ID of add are set here;
// the returned update_add_htlc is to be sent.
func (c *Channel) AddHTLC(add *lnwire.UpdateAddHTLC) (*lnwire.UpdateAddHTLC,
	error) {

	if err := c.ready(); err != nil {
		return nil, err
	}
	if err := c.addAllowed(Local); err != nil {
		return nil, err
	}
	amt := uint64(add.Amount)
	if err := c.checkAddBasics(Local, amt, add.Expiry); err != nil {
		return nil, err
	}
	msg := *add
	msg.ChanID, msg.ID = c.chanID, c.st.NextLocalHtlcID
	c.appendUpdate(&msg, false, false)
	if err := c.checkOurAdd(&msg); err != nil {
		c.popUpdate(false)
		return nil, err
	}
	c.st.NextLocalHtlcID++
	return &msg, nil
}

// checkOurAdd checks our just-appended add on both commitments.
func (c *Channel) checkOurAdd(add *lnwire.UpdateAddHTLC) error {
	vs, err := c.viewSet()
	if err != nil {
		return err
	}
	fc := fundsCheck{adder: Local, openerReserve: true, spikeBuffer: true}
	h := channeldb.HTLC{AmountMsat: uint64(add.Amount)}
	return vs.each(func(v *channeldb.ChannelCommitment, owner Party) error {
		if owner == Remote {
			if err := c.checkHTLCLimits(v, Local); err != nil {
				return err
			}
		}
		if err := c.checkFunds(v, owner, fc); err != nil {
			return err
		}
		return c.checkDust(v, owner, &h)
	})
}

// ReceiveHTLC takes the peer's update_add_htlc.
func (c *Channel) ReceiveHTLC(add *lnwire.UpdateAddHTLC) error {
	if err := c.ready(); err != nil {
		return err
	}
	if add.ChanID != c.chanID {
		return warnPeer(ErrWrongChannel)
	}
	if err := c.addAllowed(Remote); err != nil {
		return warnPeer(err)
	}
	if add.ID != c.st.NextRemoteHtlcID {
		return warnPeer(fmt.Errorf("%w: got %d, want %d", ErrHTLCID,
			add.ID, c.st.NextRemoteHtlcID))
	}
	amt := uint64(add.Amount)
	if err := c.checkAddBasics(Remote, amt, add.Expiry); err != nil {
		return warnPeer(err)
	}
	c.appendUpdate(add, true, false)
	failDust, err := c.checkTheirAdd(add)
	if err != nil {
		c.popUpdate(true)
		return warnPeer(err)
	}
	c.st.RemoteLog[len(c.st.RemoteLog)-1].FailDust = failDust
	c.st.NextRemoteHtlcID++
	return nil
}

// checkTheirAdd checks the peer's just-appended add on our commitment
// (the one BOLT 2 has the receiver check). Excess dust exposure does not
// refuse the add: BOLT 2 has the HTLC failed once committed.
func (c *Channel) checkTheirAdd(add *lnwire.UpdateAddHTLC) (bool, error) {
	vs, err := c.viewSet()
	if err != nil {
		return false, err
	}
	local := vs.signed[Local]
	if err := c.checkHTLCLimits(local, Remote); err != nil {
		return false, err
	}
	if err := c.checkFunds(local, Local,
		fundsCheck{adder: Remote}); err != nil {

		return false, err
	}
	// Dust exposure is judged with every known update: all of them may
	// end up on chain together.
	h := channeldb.HTLC{Incoming: true, AmountMsat: uint64(add.Amount)}
	for owner, v := range vs.all {
		if c.checkDust(v, Party(owner), &h) != nil {
			return true, nil
		}
	}
	return false, nil
}

// checkRemoval checks that the HTLC id offered by the peer (incoming) or
// by us can be removed by the other party: it is irrevocably committed
// on both sides and no removal of it is pending. It returns the HTLC.
func (c *Channel) checkRemoval(id uint64, incoming bool) (*channeldb.HTLC,
	error) {

	// The remover's log holds any earlier removal.
	log := c.st.LocalLog
	if !incoming {
		log = c.st.RemoteLog
	}
	for i := range log {
		if removalID(log[i].Msg) == int64(id) {
			return nil, fmt.Errorf("%w: id %d", ErrAlreadyResolved, id)
		}
	}
	local := findHTLC(c.st.LocalCommit.HTLCs, id, incoming)
	remote := findHTLC(c.st.RemoteCommit.HTLCs, id, incoming)
	if local < 0 && remote < 0 {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownHTLC, id)
	}
	if local < 0 || remote < 0 {
		return nil, fmt.Errorf("%w: id %d", ErrHTLCNotLocked, id)
	}
	return &c.st.LocalCommit.HTLCs[local], nil
}

// removalID returns the HTLC id a removal refers to, or -1.
func removalID(msg lnwire.Message) int64 {
	switch m := msg.(type) {
	case *lnwire.UpdateFulfillHTLC:
		return int64(m.ID)
	case *lnwire.UpdateFailHTLC:
		return int64(m.ID)
	case *lnwire.UpdateFailMalformedHTLC:
		return int64(m.ID)
	}
	return -1
}

// SettleHTLC fulfils the incoming HTLC id with its preimage.
func (c *Channel) SettleHTLC(id uint64,
	preimage [32]byte) (*lnwire.UpdateFulfillHTLC, error) {

	if err := c.ready(); err != nil {
		return nil, err
	}
	h, err := c.checkRemoval(id, true)
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(preimage[:]) != h.PaymentHash {
		return nil, ErrBadPreimage
	}
	msg := &lnwire.UpdateFulfillHTLC{
		ChanID: c.chanID, ID: id, PaymentPreimage: preimage,
	}
	c.appendUpdate(msg, false, false)
	return msg, nil
}

// FailHTLC fails the incoming HTLC id with an encrypted failure reason.
func (c *Channel) FailHTLC(id uint64, reason []byte) (*lnwire.UpdateFailHTLC,
	error) {

	if err := c.ready(); err != nil {
		return nil, err
	}
	if _, err := c.checkRemoval(id, true); err != nil {
		return nil, err
	}
	msg := &lnwire.UpdateFailHTLC{
		ChanID: c.chanID, ID: id, Reason: append([]byte(nil), reason...),
	}
	c.appendUpdate(msg, false, false)
	return msg, nil
}

// badOnion is BOLT 4's BADONION failure-code bit.
const badOnion = 0x8000

// MalformedFailHTLC fails the incoming HTLC id whose onion we could not
// parse.
func (c *Channel) MalformedFailHTLC(id uint64, code uint16,
	shaOnion [32]byte) (*lnwire.UpdateFailMalformedHTLC, error) {

	if err := c.ready(); err != nil {
		return nil, err
	}
	if code&badOnion == 0 {
		return nil, ErrMalformedCode
	}
	if _, err := c.checkRemoval(id, true); err != nil {
		return nil, err
	}
	msg := &lnwire.UpdateFailMalformedHTLC{
		ChanID: c.chanID, ID: id, ShaOnionBlob: shaOnion,
		FailureCode: code,
	}
	c.appendUpdate(msg, false, false)
	return msg, nil
}

// receiveRemoval checks and appends the peer's removal of our HTLC id.
func (c *Channel) receiveRemoval(chanID lnwire.ChannelID, id uint64,
	msg lnwire.Message) (*channeldb.HTLC, error) {

	if err := c.ready(); err != nil {
		return nil, err
	}
	if chanID != c.chanID {
		return nil, warnPeer(ErrWrongChannel)
	}
	h, err := c.checkRemoval(id, false)
	if err != nil {
		return nil, warnPeer(err)
	}
	return h, nil
}

// ReceiveHTLCSettle takes the peer's update_fulfill_htlc. The preimage is
// valid once this returns nil: BOLT 2 has the caller fulfil the upstream
// HTLC at once.
func (c *Channel) ReceiveHTLCSettle(m *lnwire.UpdateFulfillHTLC) error {
	h, err := c.receiveRemoval(m.ChanID, m.ID, m)
	if err != nil {
		return err
	}
	if sha256.Sum256(m.PaymentPreimage[:]) != h.PaymentHash {
		return warnPeer(ErrBadPreimage)
	}
	c.appendUpdate(m, true, false)
	return nil
}

// ReceiveFailHTLC takes the peer's update_fail_htlc.
func (c *Channel) ReceiveFailHTLC(m *lnwire.UpdateFailHTLC) error {
	if _, err := c.receiveRemoval(m.ChanID, m.ID, m); err != nil {
		return err
	}
	c.appendUpdate(m, true, false)
	return nil
}

// ReceiveMalformedFailHTLC takes the peer's update_fail_malformed_htlc.
func (c *Channel) ReceiveMalformedFailHTLC(
	m *lnwire.UpdateFailMalformedHTLC) error {

	if _, err := c.receiveRemoval(m.ChanID, m.ID, m); err != nil {
		return err
	}
	if m.FailureCode&badOnion == 0 {
		return failPeer(ErrMalformedCode)
	}
	c.appendUpdate(m, true, false)
	return nil
}

// UpdateFee proposes a new commitment fee rate; only the opener may.
func (c *Channel) UpdateFee(feePerKw uint32) (*lnwire.UpdateFee, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if !c.params.LocalIsOpener {
		return nil, ErrNotOpener
	}
	if err := c.checkFeeRate(feePerKw); err != nil {
		return nil, err
	}
	msg := &lnwire.UpdateFee{ChanID: c.chanID, FeePerKw: feePerKw}
	c.appendUpdate(msg, false, false)
	if err := c.checkFeeUpdate(Local); err != nil {
		c.popUpdate(false)
		return nil, err
	}
	return msg, nil
}

// ReceiveUpdateFee takes the opener's update_fee.
func (c *Channel) ReceiveUpdateFee(m *lnwire.UpdateFee) error {
	if err := c.ready(); err != nil {
		return err
	}
	if m.ChanID != c.chanID {
		return warnPeer(ErrWrongChannel)
	}
	if c.params.LocalIsOpener {
		return warnPeer(ErrNotOpener)
	}
	if err := c.checkFeeRate(m.FeePerKw); err != nil {
		return warnPeer(err)
	}
	// Consecutive update_fee messages not yet covered by a commitment
	// collapse into the last one (the last rate wins anyway), so that a
	// peer cannot grow the log without bound.
	log := c.st.RemoteLog
	if n := len(log); n > 0 && log[n-1].Index >= c.st.LocalCommit.RemoteLogIndex &&
		c.pendingLocal == nil {

		if prev, ok := log[n-1].Msg.(*lnwire.UpdateFee); ok {
			log[n-1].Msg = m
			if err := c.checkFeeUpdate(Remote); err != nil {
				log[n-1].Msg = prev
				return warnPeer(err)
			}
			return nil
		}
	}
	c.appendUpdate(m, true, false)
	if err := c.checkFeeUpdate(Remote); err != nil {
		c.popUpdate(true)
		return warnPeer(err)
	}
	return nil
}

// checkFeeUpdate checks that the opener can pay the new fee on both
// commitments (keeping its reserve when the update is ours) and, for our
// update, that the dust exposure stays bounded.
func (c *Channel) checkFeeUpdate(opener Party) error {
	vs, err := c.viewSet()
	if err != nil {
		return err
	}
	fc := fundsCheck{adder: opener}
	if opener == Remote {
		return c.checkFunds(vs.signed[Local], Local, fc)
	}
	return vs.each(func(v *channeldb.ChannelCommitment, owner Party) error {
		if err := c.checkFunds(v, owner, fc); err != nil {
			return err
		}
		return c.checkDust(v, owner, nil)
	})
}
