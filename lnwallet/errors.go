package lnwallet

import (
	"errors"
	"fmt"
)

// Conditions the channel state machine refuses. Operations we start (add,
// settle, sign, ...) return them wrapped; updates from the peer that break
// them come back as a *PeerError wrapping the same sentinel, so callers
// can test either with errors.Is.
var (
	ErrZeroAmount       = errors.New("lnwallet: HTLC amount is zero")
	ErrBelowMinimum     = errors.New("lnwallet: HTLC below htlc_minimum_msat")
	ErrInvalidExpiry    = errors.New("lnwallet: cltv_expiry not below 500000000")
	ErrTooManyHTLCs     = errors.New("lnwallet: max_accepted_htlcs reached")
	ErrMaxInFlight      = errors.New("lnwallet: max_htlc_value_in_flight_msat exceeded")
	ErrBelowReserve     = errors.New("lnwallet: balance below channel reserve")
	ErrOpenerCannotPay  = errors.New("lnwallet: opener cannot pay the commitment fee")
	ErrFeeSpikeBuffer   = errors.New("lnwallet: opener would not afford the fee spike buffer")
	ErrDustExposure     = errors.New("lnwallet: dust exposure limit exceeded")
	ErrHTLCID           = errors.New("lnwallet: HTLC id out of order")
	ErrUnknownHTLC      = errors.New("lnwallet: no such HTLC")
	ErrHTLCNotLocked    = errors.New("lnwallet: HTLC not irrevocably committed")
	ErrAlreadyResolved  = errors.New("lnwallet: HTLC already being removed")
	ErrBadPreimage      = errors.New("lnwallet: preimage does not match payment hash")
	ErrNotOpener        = errors.New("lnwallet: only the opener sends update_fee")
	ErrFeeRate          = errors.New("lnwallet: fee rate out of bounds")
	ErrNoUpdates        = errors.New("lnwallet: no updates to sign")
	ErrAwaitRevocation  = errors.New("lnwallet: waiting for revoke_and_ack")
	ErrRevokePending    = errors.New("lnwallet: received commitment not yet revoked")
	ErrNothingToRevoke  = errors.New("lnwallet: no new commitment to revoke")
	ErrNoPointYet       = errors.New("lnwallet: peer's next per-commitment point unknown")
	ErrUnexpectedRevoke = errors.New("lnwallet: revoke_and_ack without a pending commitment")
	ErrBadRevocation    = errors.New("lnwallet: revocation secret does not match")
	ErrReestablish      = errors.New("lnwallet: channel_reestablish out of sync")
	ErrMalformedCode    = errors.New("lnwallet: failure_code lacks the BADONION bit")
	ErrWrongChannel     = errors.New("lnwallet: message for another channel")

	// ErrDataLoss is returned by ReceiveReestablish when the peer proves
	// (option_data_loss_protect) that it holds a later state than ours:
	// our own commitment is revoked and must never be broadcast; the
	// caller sends an error asking the peer to close and waits for its
	// commitment on chain.
	ErrDataLoss = errors.New("lnwallet: peer proved we lost channel state")

	// ErrPeerDataLoss is returned when the peer is behind our state: it
	// lost data, and will close once it sees our channel_reestablish.
	ErrPeerDataLoss = errors.New("lnwallet: peer is behind our channel state")

	// ErrUnpersisted is returned when a transition is attempted while the
	// previous one's Pending has not been persisted.
	ErrUnpersisted = errors.New("lnwallet: previous state not persisted")

	// ErrChannelBroken is returned after a Pending failed to persist: the
	// in-memory state is ahead of the store, and the caller must reload
	// the channel from it.
	ErrChannelBroken = errors.New("lnwallet: channel state diverged from store; reload it")
)

// PeerError is a violation of BOLT 2 by the peer. FailChannel says which
// response BOLT 2 calls for: true to send `error` and fail the channel
// (the states diverged or the peer cheated), false to send `warning` and
// close the connection, after which the offending uncommitted update is
// forgotten and the channel continues on reconnection.
type PeerError struct {
	Err         error
	FailChannel bool
}

func (e *PeerError) Error() string {
	kind := "warning"
	if e.FailChannel {
		kind = "error"
	}
	return fmt.Sprintf("peer violation (%s): %v", kind, e.Err)
}

func (e *PeerError) Unwrap() error { return e.Err }

// warnPeer wraps err as a violation answered with `warning`.
func warnPeer(err error) error {
	return &PeerError{Err: err}
}

// failPeer wraps err as a violation answered with `error`.
func failPeer(err error) error {
	return &PeerError{Err: err, FailChannel: true}
}

// IsFatal reports whether err calls for failing the channel (BOLT `error`).
func IsFatal(err error) bool {
	var pe *PeerError
	return errors.As(err, &pe) && pe.FailChannel
}
