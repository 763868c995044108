package lnwallet

import (
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwire"
)

// This file holds the commitment_signed half of a commitment round.

// SignNextCommitment signs the peer's next commitment: every update of
// ours so far and every update of the peer's we acknowledged. The
// returned Pending carries the commitment_signed; persist it before
// sending.
func (c *Channel) SignNextCommitment() (*Pending, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	st := c.st
	switch {
	case c.pendingLocal != nil:
		return nil, ErrRevokePending
	case st.PendingRemote != nil:
		return nil, ErrAwaitRevocation
	case st.RemoteNextPoint == nil:
		return nil, ErrNoPointYet
	}
	base := &st.RemoteCommit
	if st.NextLocalLogIndex == base.LocalLogIndex &&
		st.LocalCommit.RemoteLogIndex == base.RemoteLogIndex {

		return nil, ErrNoUpdates
	}
	next, err := c.advance(base, st.NextLocalLogIndex,
		st.LocalCommit.RemoteLogIndex)
	if err != nil {
		return nil, err
	}
	next.Number = base.Number + 1
	keys, err := c.commitKeys(Remote, next.Number, st.RemoteNextPoint)
	if err != nil {
		return nil, err
	}
	tx, sigs, err := signRemoteCommitment(c.cfg.Signer, &c.params, keys,
		spec(next))
	if err != nil {
		return nil, err
	}
	recordLayout(next, tx)
	msg, err := commitSigMsg(c.chanID, sigs)
	if err != nil {
		return nil, err
	}
	st.PendingRemote = &channeldb.CommitDiff{
		Commitment:    *next,
		CommitSig:     msg,
		SignedAtLocal: st.LocalCommit.Number,
	}
	return c.newPending(crashpoint.CommitSigned, channeldb.ChannelUpdate{}, msg), nil
}

// commitSigMsg converts signatures to commitment_signed.
func commitSigMsg(chanID lnwire.ChannelID,
	sigs *CommitSig) (*lnwire.CommitSig, error) {

	msg := &lnwire.CommitSig{ChanID: chanID}
	var err error
	if msg.CommitSig, err = lnwire.NewSigFromSignature(sigs.Sig); err != nil {
		return nil, err
	}
	msg.HtlcSigs = make([]lnwire.Sig, len(sigs.HTLCSigs))
	for i, s := range sigs.HTLCSigs {
		if msg.HtlcSigs[i], err = lnwire.NewSigFromSignature(s); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// ReceiveNewCommitment checks the peer's commitment_signed for our next
// commitment: every peer update so far and every update of ours the peer
// acknowledged. On success the commitment is held until
// RevokeCurrentCommitment, which the caller calls next.
func (c *Channel) ReceiveNewCommitment(m *lnwire.CommitSig) error {
	if err := c.ready(); err != nil {
		return err
	}
	if m.ChanID != c.chanID {
		return warnPeer(ErrWrongChannel)
	}
	if c.pendingLocal != nil {
		return failPeer(ErrRevokePending)
	}
	st := c.st
	next, err := c.advance(&st.LocalCommit, st.RemoteCommit.LocalLogIndex,
		st.NextRemoteLogIndex)
	if err != nil {
		return failPeer(err)
	}
	next.Number = st.LocalCommit.Number + 1
	point, err := c.localPoint(next.Number)
	if err != nil {
		return err
	}
	sigs, err := parseCommitSig(m)
	if err != nil {
		return failPeer(err)
	}
	keys, err := c.commitKeys(Local, next.Number, point)
	if err != nil {
		return err
	}
	tx, err := verifyLocalCommitment(&c.params, keys, spec(next), sigs,
		c.sigTables())
	if err != nil {
		return failPeer(err)
	}
	recordLayout(next, tx)
	next.CommitSig = m.CommitSig
	next.HtlcSigs = append([]lnwire.Sig(nil), m.HtlcSigs...)
	c.pendingLocal = next
	crashpoint.Hit(crashpoint.CommitReceived)
	return nil
}

// parseCommitSig converts commitment_signed's signatures.
func parseCommitSig(m *lnwire.CommitSig) (*CommitSig, error) {
	sig, err := m.CommitSig.ToSignature()
	if err != nil {
		return nil, err
	}
	cs := &CommitSig{Sig: sig, HTLCSigs: make([]*ecdsa.Signature,
		len(m.HtlcSigs))}
	for i := range m.HtlcSigs {
		if cs.HTLCSigs[i], err = m.HtlcSigs[i].ToSignature(); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// recordLayout notes in v where the commitment c built from it put each
// balance and HTLC.
func recordLayout(v *channeldb.ChannelCommitment, c *Commitment) {
	v.TxID = c.Tx.TxHash()
	v.ToLocalIndex, v.ToRemoteIndex = int32(c.ToLocalIndex),
		int32(c.ToRemoteIndex)
	v.ToLocalAmount, v.ToRemoteAmount = c.ToLocal, c.ToRemote
	for i := range v.HTLCs {
		v.HTLCs[i].OutputIndex = -1
	}
	for _, h := range c.HTLCs {
		// The commitment's HTLCs carry the state's ids and
		// directions (our point of view).
		if i := findHTLC(v.HTLCs, h.ID, h.Incoming); i >= 0 {
			v.HTLCs[i].OutputIndex = int32(h.OutputIndex)
		}
	}
}
