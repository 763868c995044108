package lnwallet

import (
	"fmt"

	"lnd.xprv/lnwire"
)

// This file holds channel_reestablish (BOLT 2 "Message Retransmission").

// ChannelReestablish forgets what BOLT 2 says to forget on disconnection
// (the peer's updates it never signed for, ours the peer never received
// a commitment_signed for, a received commitment not yet revoked) and
// returns our channel_reestablish. Call it on every reconnection, before
// anything else on the channel. It changes nothing that was persisted.
func (c *Channel) ChannelReestablish() (*lnwire.ChannelReestablish, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	c.dropUncommitted()
	st := c.st
	point, err := c.localPoint(st.LocalCommit.Number)
	if err != nil {
		return nil, err
	}
	msg := &lnwire.ChannelReestablish{
		ChanID:                      c.chanID,
		NextCommitmentNumber:        st.LocalCommit.Number + 1,
		NextRevocationNumber:        st.RemoteCommit.Number,
		MyCurrentPerCommitmentPoint: point,
	}
	if st.RemoteCommit.Number > 0 {
		secret, err := st.RevocationStore.LookUpCommitment(
			st.RemoteCommit.Number - 1)
		if err != nil {
			return nil, fmt.Errorf("channel %v: revocation store: %w",
				st.FundingOutpoint, err)
		}
		msg.YourLastPerCommitmentSecret = secret
	}
	return msg, nil
}

// ReceiveReestablish checks the peer's channel_reestablish against our
// state and returns what to retransmit, in order. ErrDataLoss (wrapped in
// a fatal PeerError) means the peer proved our state is old: never
// broadcast our commitment. The messages come from persisted state, so
// they can be sent at once.
func (c *Channel) ReceiveReestablish(
	m *lnwire.ChannelReestablish) ([]lnwire.Message, error) {

	if err := c.ready(); err != nil {
		return nil, err
	}
	if m.ChanID != c.chanID {
		return nil, warnPeer(ErrWrongChannel)
	}
	needRevoke, err := c.checkTheirRevocationNumber(m)
	if err != nil {
		return nil, err
	}
	needCommit, err := c.checkTheirCommitNumber(m)
	if err != nil {
		return nil, err
	}
	var revoke []lnwire.Message
	if needRevoke {
		raa, err := c.lastRevocation()
		if err != nil {
			return nil, err
		}
		revoke = append(revoke, raa)
	}
	var commit []lnwire.Message
	if needCommit {
		commit = c.commitRetransmission()
	}
	// Keep the order in which they were first sent: our revoke_and_ack
	// came first if we signed after revoking our current commitment's
	// predecessor.
	if needRevoke && needCommit &&
		c.st.PendingRemote.SignedAtLocal < c.st.LocalCommit.Number {

		return append(commit, revoke...), nil
	}
	return append(revoke, commit...), nil
}

// checkTheirRevocationNumber checks next_revocation_number and
// your_last_per_commitment_secret, and says whether our last
// revoke_and_ack must be sent again.
func (c *Channel) checkTheirRevocationNumber(
	m *lnwire.ChannelReestablish) (bool, error) {

	ours := c.st.LocalCommit.Number
	nrn := m.NextRevocationNumber
	secretOK := func(n uint64) bool {
		if n == 0 {
			return true
		}
		s, err := c.cfg.Secrets.ForCommitment(n - 1)
		return err == nil && s == m.YourLastPerCommitmentSecret
	}
	switch {
	case nrn > ours:
		if secretOK(nrn) {
			c.dataLoss = true
			return false, failPeer(fmt.Errorf("%w: peer expects "+
				"revocation %d, our commitment is %d",
				ErrDataLoss, nrn, ours))
		}
		return false, failPeer(fmt.Errorf("%w: next_revocation_number "+
			"%d ahead of %d without proof", ErrReestablish, nrn, ours))
	case nrn+1 < ours:
		return false, failPeer(fmt.Errorf("%w: next_revocation_number "+
			"%d, we revoked up to %d", ErrPeerDataLoss, nrn, ours-1))
	case !secretOK(nrn):
		return false, failPeer(fmt.Errorf("%w: wrong "+
			"your_last_per_commitment_secret", ErrReestablish))
	}
	return nrn+1 == ours, nil
}

// checkTheirCommitNumber checks next_commitment_number and says whether
// our last commitment_signed must be sent again.
func (c *Channel) checkTheirCommitNumber(
	m *lnwire.ChannelReestablish) (bool, error) {

	latest := c.latestRemote().Number
	ncn := m.NextCommitmentNumber
	switch {
	case c.st.PendingRemote != nil && ncn == latest:
		return true, nil
	case ncn == latest+1:
		return false, nil
	case ncn > latest+1:
		return false, failPeer(fmt.Errorf("%w: next_commitment_number "+
			"%d, we signed up to %d", ErrReestablish, ncn, latest))
	default:
		return false, failPeer(fmt.Errorf("%w: next_commitment_number "+
			"%d, we signed up to %d", ErrPeerDataLoss, ncn, latest))
	}
}

// lastRevocation rebuilds the revoke_and_ack of our previous commitment.
func (c *Channel) lastRevocation() (*lnwire.RevokeAndAck, error) {
	n := c.st.LocalCommit.Number
	secret, err := c.cfg.Secrets.ForCommitment(n - 1)
	if err != nil {
		return nil, err
	}
	next, err := c.localPoint(n + 1)
	if err != nil {
		return nil, err
	}
	return &lnwire.RevokeAndAck{
		ChanID:            c.chanID,
		Revocation:        secret,
		NextRevocationKey: next,
	}, nil
}

// commitRetransmission returns our updates covered by the pending
// commitment_signed, then the commitment_signed itself.
func (c *Channel) commitRetransmission() []lnwire.Message {
	st := c.st
	var msgs []lnwire.Message
	for i := range st.LocalLog {
		u := &st.LocalLog[i]
		if u.Index >= st.RemoteCommit.LocalLogIndex &&
			u.Index < st.PendingRemote.Commitment.LocalLogIndex {

			msgs = append(msgs, u.Msg)
		}
	}
	return append(msgs, st.PendingRemote.CommitSig)
}
