package lnwallet

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
)

// This file hands out our commitment for a unilateral close.

// LocalCommitTx returns our current commitment, signed by both parties,
// ready to broadcast for a force close. It refuses once the peer proved
// with option_data_loss_protect that our state is old (ErrDataLoss):
// broadcasting a revoked commitment would forfeit the channel.
func (c *Channel) LocalCommitTx() (*wire.MsgTx, error) {
	if c.dataLoss {
		return nil, ErrDataLoss
	}
	lc := &c.st.LocalCommit
	point, err := c.localPoint(lc.Number)
	if err != nil {
		return nil, err
	}
	commit, err := NewCommitment(&c.params, Local, point, spec(lc))
	if err != nil {
		return nil, err
	}
	if commit.Tx.TxHash() != lc.TxID {
		return nil, fmt.Errorf("channel %v: rebuilt commitment %d does "+
			"not match the one signed", c.st.FundingOutpoint, lc.Number)
	}
	remoteSig, err := lc.CommitSig.ToSignature()
	if err != nil {
		return nil, err
	}
	ourSig, err := SignCommitment(c.cfg.Signer, &c.params, commit)
	if err != nil {
		return nil, err
	}
	return SignedCommitmentTx(&c.params, commit, ourSig, remoteSig)
}

// ParamsOf returns the static parameters of a stored channel, for
// whoever resolves its outputs on chain after the state machine is gone.
func ParamsOf(st *channeldb.OpenChannel) ChannelParams { return paramsOf(st) }

// RecordLayout notes in v, the state c was built from, its transaction id
// and where c put each balance and HTLC: what the funding flow stores for
// the first commitments.
func RecordLayout(v *channeldb.ChannelCommitment, c *Commitment) { recordLayout(v, c) }

// CommitmentOf rebuilds owner's commitment of the stored state v, with
// the owner's per_commitment_point: its HTLC outputs, their scripts and
// second-level transactions, for resolving them on chain.
func CommitmentOf(st *channeldb.OpenChannel, owner Party, v *channeldb.ChannelCommitment,
	point *btcec.PublicKey) (*Commitment, error) {

	p := paramsOf(st)
	return NewCommitment(&p, owner, point, spec(v))
}
