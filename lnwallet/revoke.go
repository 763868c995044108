package lnwallet

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// This file holds the revoke_and_ack half of a commitment round and what
// follows from it: HTLC changes irrevocably committed on both sides, and
// the pruning of updates no commitment needs any more.

// Resolutions are HTLC changes that became irrevocably committed on both
// commitments in one transition.
type Resolutions struct {
	// LockedIn are the peer's HTLCs now irrevocably added: forward or
	// settle them. FailDust marks those BOLT 2 says to fail because they
	// pushed dust exposure over the limit.
	LockedIn []LockedHTLC

	// Settled and Failed are removals by the peer of our HTLCs
	// (update_fulfill_htlc, update_fail_htlc or
	// update_fail_malformed_htlc), now irrevocable: settle or fail the
	// upstream HTLC and forget the circuit.
	Settled []lnwire.Message
	Failed  []lnwire.Message

	// Removed are our own removals of the peer's HTLCs, now
	// irrevocable.
	Removed []lnwire.Message
}

// LockedHTLC is an incoming HTLC irrevocably committed.
type LockedHTLC struct {
	Add      *lnwire.UpdateAddHTLC
	FailDust bool
}

// RevokeCurrentCommitment revokes our previous commitment once the peer
// signed the next one (ReceiveNewCommitment). The returned Pending
// carries the revoke_and_ack.
func (c *Channel) RevokeCurrentCommitment() (*Pending, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if c.pendingLocal == nil {
		return nil, ErrNothingToRevoke
	}
	st := c.st
	old := st.LocalCommit.Number
	secret, err := c.secret(old)
	if err != nil {
		return nil, err
	}
	nextPoint, err := c.localPoint(c.pendingLocal.Number + 1)
	if err != nil {
		return nil, err
	}
	before := c.bothCommitted()
	st.LocalCommit = *c.pendingLocal
	c.pendingLocal = nil
	res, pkg := c.settle(before)
	msg := &lnwire.RevokeAndAck{
		ChanID:            c.chanID,
		Revocation:        secret,
		NextRevocationKey: nextPoint,
	}
	p := c.newPending(crashpoint.CommitRevoked,
		channeldb.ChannelUpdate{FwdPkg: pkg}, msg)
	p.out.Resolutions = res
	return p, nil
}

// ReceiveRevocation takes the peer's revoke_and_ack for its previous
// commitment: the secret must match the point we built it with, and
// derive the secrets received before it (shachain). The returned Pending
// carries no message, only the revocation to persist and the
// resolutions it releases.
func (c *Channel) ReceiveRevocation(m *lnwire.RevokeAndAck) (*Pending, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if m.ChanID != c.chanID {
		return nil, warnPeer(ErrWrongChannel)
	}
	st := c.st
	if st.PendingRemote == nil {
		return nil, failPeer(ErrUnexpectedRevoke)
	}
	if !revealedPointIs(m.Revocation, st.RemoteCurrentPoint) {
		return nil, failPeer(fmt.Errorf("%w: commitment %d",
			ErrBadRevocation, st.RemoteCommit.Number))
	}
	if m.NextRevocationKey == nil {
		return nil, failPeer(ErrNilKey)
	}
	// Everything that can fail comes before the revocation store
	// changes.
	revoked, err := c.revocationEntry(&st.RemoteCommit,
		st.RemoteCurrentPoint)
	if err != nil {
		return nil, err
	}
	idx, err := shachain.IndexForCommitment(st.RemoteCommit.Number)
	if err != nil {
		return nil, failPeer(err)
	}
	if err := st.RevocationStore.Insert(idx, m.Revocation); err != nil {
		return nil, failPeer(fmt.Errorf("%w: %v", ErrBadRevocation, err))
	}
	before := c.bothCommitted()
	st.RemoteCommit = st.PendingRemote.Commitment
	st.PendingRemote = nil
	st.RemoteCurrentPoint = st.RemoteNextPoint
	st.RemoteNextPoint = m.NextRevocationKey
	res, pkg := c.settle(before)
	p := c.newPending(crashpoint.CommitRevocationReceived,
		channeldb.ChannelUpdate{Revoked: revoked, FwdPkg: pkg})
	p.out.Resolutions = res
	return p, nil
}

// revocationEntry describes the peer's revoked commitment rc for the
// revocation log: what a justice transaction needs. A commitment stored
// without its layout (built elsewhere, e.g. the first one) is rebuilt.
func (c *Channel) revocationEntry(rc *channeldb.ChannelCommitment,
	point *btcec.PublicKey) (*channeldb.RevocationLogEntry, error) {

	// An unset layout has both balances at index 0.
	noLayout := rc.ToLocalIndex == rc.ToRemoteIndex && rc.ToLocalIndex >= 0
	if rc.TxID == (chainhash.Hash{}) || noLayout {
		commit, err := NewCommitment(&c.params, Remote, point, spec(rc))
		if err != nil {
			return nil, err
		}
		recordLayout(rc, commit)
	}
	e := &channeldb.RevocationLogEntry{
		CommitNum:  rc.Number,
		CommitTxID: rc.TxID,
	}
	// On the peer's commitment, to_remote is ours, to_local theirs.
	if rc.ToRemoteIndex >= 0 {
		e.OurOutput = &channeldb.CommitOutput{
			Index: uint32(rc.ToRemoteIndex), Amount: rc.ToRemoteAmount}
	}
	if rc.ToLocalIndex >= 0 {
		e.TheirOutput = &channeldb.CommitOutput{
			Index: uint32(rc.ToLocalIndex), Amount: rc.ToLocalAmount}
	}
	for _, h := range rc.HTLCs {
		if h.OutputIndex < 0 {
			continue
		}
		e.HTLCs = append(e.HTLCs, channeldb.RevokedHTLC{
			OutputIndex: uint32(h.OutputIndex),
			Incoming:    h.Incoming,
			PaymentHash: h.PaymentHash,
			Amount:      btcutil.Amount(h.AmountMsat / 1000),
			CltvExpiry:  h.CltvExpiry,
		})
	}
	return e, nil
}

// bothCommitted returns, for our log and the peer's, how many updates
// both current commitments include.
func (c *Channel) bothCommitted() [2]uint64 {
	l, r := &c.st.LocalCommit, &c.st.RemoteCommit
	return [2]uint64{
		min(l.LocalLogIndex, r.LocalLogIndex),
		min(l.RemoteLogIndex, r.RemoteLogIndex),
	}
}

// settle collects the updates that became committed on both sides since
// before, then prunes them from the logs. The peer's among them also come
// as a forwarding package, keyed by the peer's commitment number.
func (c *Channel) settle(before [2]uint64) (Resolutions, *channeldb.FwdPkg) {
	after := c.bothCommitted()
	var res Resolutions
	st := c.st
	pkg := &channeldb.FwdPkg{Source: st.ShortChannelID,
		Height: st.RemoteCommit.Number, State: channeldb.FwdLockedIn}
	for i := before[Local]; i < after[Local]; i++ {
		if u, ok := logEntry(st.LocalLog, i); ok &&
			removalID(u.Msg) >= 0 {

			res.Removed = append(res.Removed, u.Msg)
		}
	}
	for i := before[Remote]; i < after[Remote]; i++ {
		u, ok := logEntry(st.RemoteLog, i)
		if !ok {
			continue
		}
		pu := channeldb.PkgUpdate{LogIndex: u.Index, Msg: u.Msg}
		switch m := u.Msg.(type) {
		case *lnwire.UpdateAddHTLC:
			res.LockedIn = append(res.LockedIn,
				LockedHTLC{Add: m, FailDust: u.FailDust})
			pkg.Adds = append(pkg.Adds, pu)
		case *lnwire.UpdateFulfillHTLC:
			res.Settled = append(res.Settled, m)
			pkg.SettleFails = append(pkg.SettleFails, pu)
		case *lnwire.UpdateFailHTLC, *lnwire.UpdateFailMalformedHTLC:
			res.Failed = append(res.Failed, m)
			pkg.SettleFails = append(pkg.SettleFails, pu)
		}
	}
	st.LocalLog = pruneLog(st.LocalLog, after[Local])
	st.RemoteLog = pruneLog(st.RemoteLog, after[Remote])
	if len(pkg.Adds) == 0 && len(pkg.SettleFails) == 0 {
		return res, nil
	}
	pkg.AckFilter = channeldb.NewPkgFilter(uint16(len(pkg.Adds)))
	pkg.SettleFailFilter = channeldb.NewPkgFilter(
		uint16(len(pkg.SettleFails)))
	return res, pkg
}

// pruneLog drops the updates below index.
func pruneLog(log []channeldb.LogUpdate, index uint64) []channeldb.LogUpdate {
	i := 0
	for i < len(log) && log[i].Index < index {
		i++
	}
	if i == 0 {
		return log
	}
	return append([]channeldb.LogUpdate(nil), log[i:]...)
}
