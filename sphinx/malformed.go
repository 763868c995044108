package sphinx

import (
	"errors"
	"fmt"
)

// ErrNotBadOnion is returned by MalformedToFailure for a failure code
// without the BADONION flag: BOLT 2 requires failing the channel then.
var ErrNotBadOnion = errors.New("sphinx: update_fail_malformed_htlc code lacks BADONION")

// FailureForError returns the failure to report for an error from
// Router.ProcessOnionPacket or Router.Peel, and whether err was one of
// them. onionHash is OnionPacket.Hash of the packet received.
//
// A failure whose code has the BADONION flag cannot be encrypted (no shared
// secret was established): the node sends update_fail_malformed_htlc with
// Code() and the hash. Any other failure is encrypted with NewFailure using
// the packet's shared secret.
func FailureForError(err error, onionHash Hash256) (FailureMessage, bool) {
	var pe *PayloadError
	switch {
	case errors.Is(err, ErrInvalidOnionVersion):
		return &FailInvalidOnionVersion{OnionSHA256: onionHash}, true
	case errors.Is(err, ErrInvalidOnionKey):
		return &FailInvalidOnionKey{OnionSHA256: onionHash}, true
	case errors.Is(err, ErrInvalidOnionHMAC):
		return &FailInvalidOnionHMAC{OnionSHA256: onionHash}, true
	case errors.As(err, &pe):
		return pe.Failure(), true
	case errors.Is(err, ErrInvalidHopPayload), errors.Is(err, ErrInvalidPayload):
		return &FailInvalidOnionPayload{}, true
	case errors.Is(err, ErrReplayedPacket):
		// The packet is valid but seen before: fail it as a transient
		// channel problem, as lnd does, without revealing more.
		return &FailTemporaryChannelFailure{}, true
	}
	return nil, false
}

// MalformedToFailure turns the (failure_code, sha256_of_onion) of an
// update_fail_malformed_htlc received from the next hop into the failure
// this node encrypts, with NewFailure, into the update_fail_htlc it sends
// back upstream (BOLT 2). Known codes decode to their types; an unknown
// BADONION code is kept as *FailUnknown with the hash as data. A code
// without BADONION returns ErrNotBadOnion: the peer violated the protocol.
func MalformedToFailure(code FailCode, onionHash Hash256) (FailureMessage, error) {
	if !code.IsBadOnion() {
		return nil, fmt.Errorf("%w: %v", ErrNotBadOnion, code)
	}
	switch code {
	case CodeInvalidOnionVersion:
		return &FailInvalidOnionVersion{OnionSHA256: onionHash}, nil
	case CodeInvalidOnionHMAC:
		return &FailInvalidOnionHMAC{OnionSHA256: onionHash}, nil
	case CodeInvalidOnionKey:
		return &FailInvalidOnionKey{OnionSHA256: onionHash}, nil
	case CodeInvalidOnionBlinding:
		return &FailInvalidOnionBlinding{OnionSHA256: onionHash}, nil
	}
	return &FailUnknown{FailCode: code, Data: append([]byte(nil), onionHash[:]...)}, nil
}
