package funding

import "errors"

var (
	// ErrRefused wraps every reason we refuse a peer's open_channel,
	// accept_channel, funding_created or funding_signed; the text is
	// what the peer is told in its error message.
	ErrRefused = errors.New("channel refused")

	// ErrPeerOffline is returned when opening to a peer we are not
	// connected to.
	ErrPeerOffline = errors.New("peer is not connected")

	// ErrTooManyPending is returned when the pending-channel limits
	// are reached.
	ErrTooManyPending = errors.New("too many pending channels")

	// ErrBadRequest wraps invalid OpenChannel requests (amounts,
	// channel type).
	ErrBadRequest = errors.New("invalid open channel request")

	// ErrPeerError is returned to the opener when the peer answered
	// with an error message.
	ErrPeerError = errors.New("peer refused the channel")

	// ErrAborted is returned to the opener when the flow was cut short
	// (disconnection, timeout, shutdown).
	ErrAborted = errors.New("channel opening aborted")

	// ErrShuttingDown is returned once the manager is stopping.
	ErrShuttingDown = errors.New("funding manager shutting down")
)
