package sphinx

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"lnd.xprv/internal/vartime"
)

var (
	// ErrInvalidOnionVersion is returned for a packet whose version is not
	// 0 (failure invalid_onion_version).
	ErrInvalidOnionVersion = errors.New("sphinx: unknown onion version")

	// ErrInvalidOnionKey is returned when the packet's ephemeral key is
	// not a valid point (failure invalid_onion_key).
	ErrInvalidOnionKey = errors.New("sphinx: invalid onion ephemeral key")

	// ErrInvalidOnionHMAC is returned when the packet's HMAC does not
	// verify (failure invalid_onion_hmac).
	ErrInvalidOnionHMAC = errors.New("sphinx: onion HMAC mismatch")

	// ErrInvalidHopPayload is returned when the HMAC verified but the
	// decrypted hop_payloads framing is malformed: a bad BigSize length,
	// a length below 2, or a payload running past the end. The origin
	// built it, so the failure is invalid_onion_payload.
	ErrInvalidHopPayload = errors.New("sphinx: malformed hop payload framing")

	// ErrReplayedPacket is returned when a packet's shared secret has
	// been seen before.
	ErrReplayedPacket = errors.New("sphinx: replayed onion packet")
)

// ProcessedPacket is the result of peeling one layer of an onion.
type ProcessedPacket struct {
	// Payload is this hop's TLV payload, without the length prefix.
	// Decode it with DecodeHopPayload.
	Payload []byte

	// SharedSecret is the secret shared with the origin; keep it with
	// the HTLC to encrypt a failure or attribution data later.
	SharedSecret Hash256

	// NextPacket is the onion to forward, nil when this hop is final.
	NextPacket *OnionPacket
}

// IsFinal reports whether this hop is the final destination: the next HMAC
// in the onion was all zero.
func (p *ProcessedPacket) IsFinal() bool { return p.NextPacket == nil }

// ReplayHash is the key under which a processed packet is recorded in a
// ReplayLog: SHA256 of its shared secret.
func (p *ProcessedPacket) ReplayHash() Hash256 {
	return sha256.Sum256(p.SharedSecret[:])
}

// Router peels onions addressed to one node.
type Router struct {
	key    ECDHer
	replay ReplayLog
}

// NewRouter returns a Router that decrypts with key and records packets in
// replay. A nil replay log disables replay protection (for tests and tools
// only; a forwarding node must have one).
func NewRouter(key ECDHer, replay ReplayLog) *Router {
	return &Router{key: key, replay: replay}
}

// ProcessOnionPacket checks pkt, peels this node's layer, and records the
// packet in the replay log under incomingCltv (the HTLC's cltv_expiry, after
// which the entry may be pruned). assocData is the payment hash.
//
// Errors wrap ErrInvalidOnionVersion, ErrInvalidOnionKey,
// ErrInvalidOnionHMAC, ErrInvalidHopPayload or ErrReplayedPacket; map them
// to a failure with FailureForError.
func (r *Router) ProcessOnionPacket(pkt *OnionPacket, assocData []byte, incomingCltv uint32) (*ProcessedPacket, error) {
	res, err := r.Peel(pkt, assocData)
	if err != nil {
		return nil, err
	}
	if r.replay != nil {
		if err := r.replay.Put(res.ReplayHash(), incomingCltv); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Peel checks pkt and removes this node's layer without touching the replay
// log. Callers that batch replay checks use it and record ReplayHash
// themselves.
func (r *Router) Peel(pkt *OnionPacket, assocData []byte) (*ProcessedPacket, error) {
	return peel(r.key, pkt, assocData)
}

func peel(key ECDHer, pkt *OnionPacket, assocData []byte) (*ProcessedPacket, error) {
	if pkt == nil {
		return nil, ErrPacketSize
	}
	if pkt.Version != Version0 {
		return nil, fmt.Errorf("%w: %d", ErrInvalidOnionVersion, pkt.Version)
	}
	// The square root on vartime: the key is public.
	pub, err := vartime.ParsePubKey(pkt.EphemeralKey[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOnionKey, err)
	}
	ss, err := key.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: ecdh: %v", ErrInvalidOnionKey, err)
	}
	mac := computeHMAC(generateKey(keyMu, ss[:]), pkt.RoutingInfo[:], assocData)
	if !hmac.Equal(mac[:], pkt.HMAC[:]) {
		return nil, ErrInvalidOnionHMAC
	}

	// Decrypt hop_payloads extended by 1300 zero bytes: the stream
	// reveals this hop's data and turns the zeros into the padding the
	// origin precomputed as filler.
	var buf [2 * RoutingInfoSize]byte
	copy(buf[:], pkt.RoutingInfo[:])
	xorStream(generateKey(keyRho, ss[:]), buf[:])

	length, n, err := parseBigSize(buf[:])
	if err != nil {
		return nil, fmt.Errorf("%w: length: %v", ErrInvalidHopPayload, err)
	}
	if length < MinPayloadSize {
		return nil, fmt.Errorf("%w: length %d", ErrInvalidHopPayload, length)
	}
	if length > RoutingInfoSize || n+int(length)+HMACSize > RoutingInfoSize {
		return nil, fmt.Errorf("%w: length %d exceeds hop_payloads",
			ErrInvalidHopPayload, length)
	}
	end := n + int(length)
	res := &ProcessedPacket{
		Payload:      append([]byte(nil), buf[n:end]...),
		SharedSecret: ss,
	}
	var next [HMACSize]byte
	copy(next[:], buf[end:end+HMACSize])
	if next == ([HMACSize]byte{}) {
		return res, nil
	}

	b, err := blindingFactor(pub, ss)
	if err != nil {
		return nil, fmt.Errorf("%w: blinding: %v", ErrInvalidOnionKey, err)
	}
	// The next hop's ephemeral key. The blinding factor is a hash of this
	// packet's shared secret, used once, and the product leaves in the
	// next packet: public data for vartime, which multiplies a few times
	// faster than btcec (lnd does this multiplication in variable time
	// too). The ECDH with the node key above is the wallet's, constant
	// time in that key (vartime.SecretMul).
	e := vartime.FromPubKey(pub)
	var nextPub vartime.Jacobian
	vartime.Mul(&e, &b, &nextPub)
	if nextPub.IsInfinity() {
		return nil, fmt.Errorf("%w: blinding gave infinity", ErrInvalidOnionKey)
	}
	np := &OnionPacket{Version: Version0, HMAC: next}
	copy(np.EphemeralKey[:], nextPub.PubKey().SerializeCompressed())
	copy(np.RoutingInfo[:], buf[end+HMACSize:end+HMACSize+RoutingInfoSize])
	res.NextPacket = np
	return res, nil
}
