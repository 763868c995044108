package lnwallet

// This file holds what a cooperative close changes in the state machine:
// after shutdown, no new HTLC; the close begins once the channel is clean.

// MarkShutdownSent records that we sent shutdown: we add no HTLC from now
// on (BOLT 2 "MUST NOT send an update_add_htlc after a shutdown").
func (c *Channel) MarkShutdownSent() { c.shutdownSent = true }

// MarkShutdownReceived records the peer's shutdown: an update_add_htlc
// from it afterwards breaks BOLT 2, and we add none either.
func (c *Channel) MarkShutdownReceived() { c.shutdownRecv = true }

// ShuttingDown reports whether shutdown was sent or received.
func (c *Channel) ShuttingDown() bool { return c.shutdownSent || c.shutdownRecv }

// addAllowed refuses an HTLC offered by who once the shutdowns forbid it:
// ours after either shutdown, the peer's after its own.
func (c *Channel) addAllowed(who Party) error {
	if c.shutdownRecv || (who == Local && c.shutdownSent) {
		return ErrChannelClosing
	}
	return nil
}

// IsClean reports whether closing negotiation may begin: no HTLC on
// either commitment, no update that both commitments do not include, and
// no commitment waiting for its revocation (BOLT 2 "Closing Negotiation").
func (c *Channel) IsClean() bool {
	st := c.st
	return c.unpersisted == nil && !c.broken && c.pendingLocal == nil &&
		st.PendingRemote == nil && len(st.LocalCommit.HTLCs) == 0 &&
		len(st.RemoteCommit.HTLCs) == 0 &&
		st.NextLocalLogIndex == st.RemoteCommit.LocalLogIndex &&
		st.NextLocalLogIndex == st.LocalCommit.LocalLogIndex &&
		st.NextRemoteLogIndex == st.LocalCommit.RemoteLogIndex &&
		st.NextRemoteLogIndex == st.RemoteCommit.RemoteLogIndex
}

// CloseTerms returns the terms of a closing negotiation between the given
// delivery scripts, from the current commitment. Call it only when
// IsClean holds: both commitments then carry the same balances.
func (c *Channel) CloseTerms(localScript, remoteScript []byte) CloseTerms {
	lc := &c.st.LocalCommit
	return CloseTerms{Params: &c.params, LocalBalanceMsat: lc.LocalBalanceMsat,
		RemoteBalanceMsat: lc.RemoteBalanceMsat, LocalScript: localScript,
		RemoteScript: remoteScript}
}

// Signer returns the channel's signer, for its closing transactions.
func (c *Channel) Signer() Signer { return c.cfg.Signer }

// HasUnsignedLocalUpdates reports whether some update of ours waits for a
// commitment_signed: BOLT 2 forbids sending shutdown then.
func (c *Channel) HasUnsignedLocalUpdates() bool {
	return c.st.NextLocalLogIndex > c.latestRemote().LocalLogIndex
}
