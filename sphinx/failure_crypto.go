package sphinx

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
)

const (
	// FailurePadSize is the failure_len + pad_len every standard failure
	// is padded to, so failures look alike on the wire.
	FailurePadSize = 256

	// LargeFailurePadSize is the padded size used for a failure message
	// longer than FailurePadSize (with a trailing TLV, say). BOLT 4 only
	// requires at least 256; the attributable-failure vector uses 1024.
	LargeFailurePadSize = 1024

	// MaxDecryptRounds is how many decryption rounds the origin always
	// runs, whatever the route length, so that the failing node cannot
	// learn its position from the origin's timing (BOLT 4: 27).
	MaxDecryptRounds = 27

	failureHeader = HMACSize + 2 // hmac, failure_len
)

var (
	// ErrFailureTooLong is returned when a failure message does not fit
	// the padded size.
	ErrFailureTooLong = errors.New("sphinx: failure message too long")

	// ErrUnreadableFailure is wrapped by the error DecryptFailure returns
	// when no hop's HMAC matches the returned packet.
	ErrUnreadableFailure = errors.New("sphinx: failure packet matches no hop")
)

// buildFailurePacket returns the plaintext return packet for failuremsg
// msg: hmac || failure_len || msg || pad_len || pad, with failure_len +
// pad_len == padTo.
func buildFailurePacket(ss Hash256, msg []byte, padTo int) ([]byte, error) {
	if len(msg) > padTo || padTo > 0xffff {
		return nil, fmt.Errorf("%w: %d bytes, padded size %d", ErrFailureTooLong, len(msg), padTo)
	}
	pkt := make([]byte, failureHeader+padTo+2)
	binary.BigEndian.PutUint16(pkt[HMACSize:], uint16(len(msg)))
	copy(pkt[failureHeader:], msg)
	binary.BigEndian.PutUint16(pkt[failureHeader+len(msg):], uint16(padTo-len(msg)))
	mac := computeHMAC(generateKey(keyUm, ss[:]), pkt[HMACSize:])
	copy(pkt, mac[:])
	return pkt, nil
}

// padSizeFor returns the padded size for a failuremsg of n bytes.
func padSizeFor(n int) int {
	if n <= FailurePadSize {
		return FailurePadSize
	}
	return LargeFailurePadSize
}

// NewFailure builds the encrypted reason of update_fail_htlc for msg, at
// the node that fails the HTLC; ss is the shared secret from processing the
// HTLC's onion. The message is padded to FailurePadSize (LargeFailurePadSize
// if longer).
func NewFailure(ss Hash256, msg FailureMessage) ([]byte, error) {
	return NewFailureRaw(ss, EncodeFailureMessage(msg), 0)
}

// NewFailureRaw is NewFailure for an already encoded failuremsg, padded to
// padTo bytes of failure_len + pad_len (0 picks the default).
func NewFailureRaw(ss Hash256, failureMsg []byte, padTo int) ([]byte, error) {
	if padTo == 0 {
		padTo = padSizeFor(len(failureMsg))
	}
	pkt, err := buildFailurePacket(ss, failureMsg, padTo)
	if err != nil {
		return nil, err
	}
	xorStream(generateKey(keyAmmag, ss[:]), pkt)
	return pkt, nil
}

// WrapFailure adds this node's layer of obfuscation to a reason received
// from downstream, before passing it upstream; ss is the shared secret of
// the incoming HTLC's onion. It returns a new slice.
func WrapFailure(ss Hash256, reason []byte) []byte {
	out := append([]byte(nil), reason...)
	xorStream(generateKey(keyAmmag, ss[:]), out)
	return out
}

// Circuit is what the origin keeps of an onion it sent: the route's node
// keys and the shared secrets with each. It decrypts what comes back.
type Circuit struct {
	Path          []*btcec.PublicKey
	SharedSecrets []Hash256
}

// NewCircuit derives the circuit of an onion built with sessionKey over
// path.
func NewCircuit(sessionKey *btcec.PrivateKey, path []*btcec.PublicKey) (*Circuit, error) {
	ss, err := SharedSecrets(sessionKey, path)
	if err != nil {
		return nil, err
	}
	return &Circuit{Path: path, SharedSecrets: ss}, nil
}

// DecryptedFailure is a failure the origin could attribute to a hop.
type DecryptedFailure struct {
	// SenderIdx is the index in the route of the hop that produced the
	// failure (0 is the first hop after the origin).
	SenderIdx int
	Sender    *btcec.PublicKey

	// Message is the raw failuremsg; Failure its decoding, nil if
	// DecodeErr is set (a hop that sends an undecodable message is still
	// identified).
	Message   []byte
	Failure   FailureMessage
	DecodeErr error

	// HoldTimes are the hold times (in units of 100 ms) reported in
	// attribution_data by the hops whose attribution HMACs verified, in
	// route order; empty without attribution data.
	HoldTimes []uint32
}

// UnreadableFailureError is returned when the reason matches no hop. With
// attribution data, AttributedIdx names the first hop whose attribution
// HMAC did not verify: the failure was corrupted by it or its predecessor.
// AttributedIdx is -1 without attribution data, and len(Path) if every hop's
// attribution verified.
type UnreadableFailureError struct {
	AttributedIdx int
	HoldTimes     []uint32
}

func (e *UnreadableFailureError) Error() string {
	return fmt.Sprintf("%v (attribution points at hop %d)", ErrUnreadableFailure, e.AttributedIdx)
}

// Unwrap makes errors.Is(err, ErrUnreadableFailure) hold.
func (e *UnreadableFailureError) Unwrap() error { return ErrUnreadableFailure }

// DecryptFailure peels the reason of an update_fail_htlc layer by layer
// until one hop's um HMAC matches, and decodes its failure message.
// attribution is the update_fail_htlc's attribution_data, or nil; when
// present, each hop's attribution HMAC is checked and its hold time
// recorded. The work done does not depend on which hop failed.
func (c *Circuit) DecryptFailure(reason []byte, attribution []byte) (*DecryptedFailure, error) {
	n := len(c.SharedSecrets)
	if n == 0 || n > MaxDecryptRounds || len(c.Path) != n {
		return nil, fmt.Errorf("sphinx: circuit of %d hops (%d keys)", n, len(c.Path))
	}
	pkt := append([]byte(nil), reason...)

	var attr []byte
	attrIdx := -1
	if len(attribution) == AttributionDataSize {
		attr = append([]byte(nil), attribution...)
		attrIdx = n
	}
	var holdTimes []uint32

	found := -1
	var msg []byte
	var dummy Hash256
	for i := 0; i < MaxDecryptRounds; i++ {
		ss := &dummy
		if i < n && found < 0 {
			ss = &c.SharedSecrets[i]
		}
		xorStream(generateKey(keyAmmag, ss[:]), pkt)

		if attr != nil && i < n && found < 0 && attrIdx == n {
			ht, next, ok := unwrapAttribution(*ss, attr, pkt, n-i)
			if ok {
				holdTimes = append(holdTimes, ht)
				attr = next
			} else {
				attrIdx = i
			}
		}

		m, ok := checkFailurePacket(*ss, pkt)
		if ok && found < 0 && i < n {
			found, msg = i, m
		}
	}
	if found < 0 {
		return nil, &UnreadableFailureError{AttributedIdx: attrIdx, HoldTimes: holdTimes}
	}
	df := &DecryptedFailure{
		SenderIdx: found,
		Sender:    c.Path[found],
		Message:   msg,
		HoldTimes: holdTimes,
	}
	df.Failure, df.DecodeErr = DecodeFailureMessage(msg)
	return df, nil
}

// checkFailurePacket verifies the um HMAC of a decrypted return packet and
// returns its failuremsg.
func checkFailurePacket(ss Hash256, pkt []byte) ([]byte, bool) {
	if len(pkt) < failureHeader {
		// Still spend the HMAC so timing does not depend on it.
		computeHMAC(generateKey(keyUm, ss[:]), pkt)
		return nil, false
	}
	mac := computeHMAC(generateKey(keyUm, ss[:]), pkt[HMACSize:])
	if !hmac.Equal(mac[:], pkt[:HMACSize]) {
		return nil, false
	}
	l := int(binary.BigEndian.Uint16(pkt[HMACSize:]))
	if failureHeader+l > len(pkt) {
		return nil, false
	}
	return append([]byte(nil), pkt[failureHeader:failureHeader+l]...), true
}
