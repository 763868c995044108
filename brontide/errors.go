package brontide

import "errors"

var (
	// ErrBadVersion is returned when a handshake act carries a version
	// byte other than 0.
	ErrBadVersion = errors.New("brontide: unknown handshake version")

	// ErrBadPubKey is returned when an act carries a public key that is
	// not a valid compressed secp256k1 point.
	ErrBadPubKey = errors.New("brontide: invalid public key")

	// ErrMACMismatch is returned when a Poly1305 tag does not verify,
	// during the handshake or on a transport packet.
	ErrMACMismatch = errors.New("brontide: MAC check failed")

	// ErrActLength is returned when an act handed to the Machine does not
	// have its exact fixed size.
	ErrActLength = errors.New("brontide: wrong handshake act length")

	// ErrWrongState is returned when a Machine method is called out of
	// handshake order, after a failure, or before the handshake is done.
	ErrWrongState = errors.New("brontide: handshake step out of order")

	// ErrMessageTooLarge is returned when a message exceeds
	// MaxMessageSize.
	ErrMessageTooLarge = errors.New("brontide: message exceeds 65535 bytes")

	// ErrPacketLength is returned when an encrypted header or body handed
	// to the Machine does not have the length it must have.
	ErrPacketLength = errors.New("brontide: wrong encrypted packet length")

	// ErrNoRemoteKey is returned when an initiator Machine is created
	// without the responder's static key.
	ErrNoRemoteKey = errors.New("brontide: initiator needs the remote static key")

	// ErrNoLocalKey is returned when a nil ECDH is supplied.
	ErrNoLocalKey = errors.New("brontide: no local static key")

	// ErrTooManyHandshakes is reported by a Listener that dropped a
	// connection because its cap on concurrent handshakes was reached.
	ErrTooManyHandshakes = errors.New("brontide: too many pending handshakes")

	// ErrInvalidPrivKey is returned by PrivKeyECDH for a missing or zero
	// private key.
	ErrInvalidPrivKey = errors.New("brontide: invalid private key")
)
