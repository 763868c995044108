package lnwallet

import (
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// This file holds what the funding flow needs from the state machine:
// signing the peer's first commitment (funding_created / funding_signed)
// and checking the peer's signature of ours, recording both commitments'
// transaction ids and layouts in the new channel's record.

// SignFirstCommitment builds the peer's commitment 0 of a new channel and
// returns our signature of it, for funding_created (opener) or
// funding_signed (accepter). st must hold the static parameters, both
// commitments at number 0 with their balances and fee rate, and the
// peer's first two per-commitment points; its RemoteCommit gets its txid
// and output layout.
func SignFirstCommitment(st *channeldb.OpenChannel,
	signer Signer) (lnwire.Sig, error) {

	p := paramsOf(st)
	if err := p.Validate(); err != nil {
		return lnwire.Sig{}, err
	}
	if st.RemoteCommit.Number != 0 || st.RemoteCurrentPoint == nil {
		return lnwire.Sig{}, fmt.Errorf("lnwallet: first commitment " +
			"needs number 0 and the peer's first point")
	}
	commit, err := NewCommitment(&p, Remote, st.RemoteCurrentPoint,
		spec(&st.RemoteCommit))
	if err != nil {
		return lnwire.Sig{}, err
	}
	sig, err := SignCommitment(signer, &p, commit)
	if err != nil {
		return lnwire.Sig{}, err
	}
	recordLayout(&st.RemoteCommit, commit)
	return lnwire.NewSigFromSignature(sig)
}

// ReceiveFirstSignature checks the peer's signature of our commitment 0
// (funding_signed for the opener, funding_created for the accepter) and
// stores it, with the commitment's txid and layout, in st.LocalCommit.
// Our first commitments carry no HTLCs, so there are no HTLC signatures.
func ReceiveFirstSignature(st *channeldb.OpenChannel, secrets SecretSource,
	sig lnwire.Sig) error {

	p := paramsOf(st)
	if err := p.Validate(); err != nil {
		return err
	}
	secret, err := secrets.ForCommitment(0)
	if err != nil {
		return err
	}
	s, err := sig.ToSignature()
	if err != nil {
		return failPeer(err)
	}
	commit, err := VerifyLocalCommitment(&p, CommitPoint(secret),
		spec(&st.LocalCommit), &CommitSig{Sig: s})
	if err != nil {
		return failPeer(err)
	}
	recordLayout(&st.LocalCommit, commit)
	st.LocalCommit.CommitSig = sig
	return nil
}
