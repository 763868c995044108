package lnwallet

// RevokeAndSign is RevokeCurrentCommitment followed at once by
// SignNextCommitment, in one Pending: both states are persisted in one
// write, and its messages are the revoke_and_ack then the
// commitment_signed. Persisting the two together is as safe as one
// after the other: neither message leaves before both are durable, and
// after a restart channel_reestablish retransmits both. When there is
// nothing to sign, or signing fails, it is RevokeCurrentCommitment
// alone (signed false): the caller signs later as it would have.
func (c *Channel) RevokeAndSign() (p *Pending, signed bool, err error) {
	p, err = c.RevokeCurrentCommitment()
	if err != nil {
		return nil, false, err
	}
	// The revocation is applied to the state in memory; sign on top
	// of it before it is persisted.
	c.unpersisted = nil
	sig, err := c.SignNextCommitment()
	c.unpersisted = p
	if err != nil {
		return p, false, nil
	}
	// A signature writes nothing of its own beyond the state, which
	// both share.
	p.out.Messages = append(p.out.Messages, sig.out.Messages...)
	return p, true, nil
}
