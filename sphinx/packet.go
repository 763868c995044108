package sphinx

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
)

const (
	// Version0 is the only onion version BOLT 4 defines.
	Version0 byte = 0

	// PubKeySize is the size of a compressed secp256k1 public key.
	PubKeySize = 33

	// HMACSize is the size of an HMAC-SHA256 value.
	HMACSize = 32

	// RoutingInfoSize is the size of the hop_payloads field.
	RoutingInfoSize = 1300

	// PacketSize is the size of a serialized payment onion:
	// version, public key, hop_payloads and HMAC.
	PacketSize = 1 + PubKeySize + RoutingInfoSize + HMACSize

	// MinPayloadSize is the smallest hop payload length a reader accepts;
	// 0 (legacy) and 1 are reserved.
	MinPayloadSize = 2
)

var (
	// ErrPacketSize is returned when an onion is not PacketSize bytes.
	ErrPacketSize = errors.New("sphinx: onion packet must be 1366 bytes")

	// ErrRouteTooLong is returned when the payloads of a route do not fit
	// in the 1300 bytes of hop_payloads.
	ErrRouteTooLong = errors.New("sphinx: payloads exceed 1300 bytes")

	// ErrEmptyRoute is returned when asked to build an onion for no hops.
	ErrEmptyRoute = errors.New("sphinx: route has no hops")

	// ErrPayloadTooShort is returned when building an onion with a hop
	// payload of fewer than MinPayloadSize bytes.
	ErrPayloadTooShort = errors.New("sphinx: hop payload shorter than 2 bytes")
)

// OnionPacket is a BOLT 4 onion_packet. The ephemeral key is kept as the
// 33 bytes carried on the wire so that a packet with an unparsable key can
// still be decoded, hashed and answered with invalid_onion_key.
type OnionPacket struct {
	Version      byte
	EphemeralKey [PubKeySize]byte
	RoutingInfo  [RoutingInfoSize]byte
	HMAC         [HMACSize]byte
}

// DecodeOnionPacket parses a serialized onion. It checks only the length;
// version, key and HMAC are checked when the packet is processed, where each
// failure maps to its own BADONION code.
func DecodeOnionPacket(b []byte) (*OnionPacket, error) {
	if len(b) != PacketSize {
		return nil, fmt.Errorf("%w: got %d", ErrPacketSize, len(b))
	}
	p := new(OnionPacket)
	p.Version = b[0]
	copy(p.EphemeralKey[:], b[1:1+PubKeySize])
	copy(p.RoutingInfo[:], b[1+PubKeySize:1+PubKeySize+RoutingInfoSize])
	copy(p.HMAC[:], b[1+PubKeySize+RoutingInfoSize:])
	return p, nil
}

// ReadOnionPacket reads a serialized onion from r.
func ReadOnionPacket(r io.Reader) (*OnionPacket, error) {
	var b [PacketSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("sphinx: read onion: %w", err)
	}
	return DecodeOnionPacket(b[:])
}

// Bytes returns the 1366-byte serialization of p.
func (p *OnionPacket) Bytes() []byte {
	return p.AppendTo(make([]byte, 0, PacketSize))
}

// AppendTo appends the serialization of p to b.
func (p *OnionPacket) AppendTo(b []byte) []byte {
	b = append(b, p.Version)
	b = append(b, p.EphemeralKey[:]...)
	b = append(b, p.RoutingInfo[:]...)
	return append(b, p.HMAC[:]...)
}

// Encode writes the serialization of p to w.
func (p *OnionPacket) Encode(w io.Writer) error {
	_, err := w.Write(p.Bytes())
	return err
}

// Hash returns SHA256 of the serialized onion: the sha256_of_onion carried
// by BADONION failures and update_fail_malformed_htlc.
func (p *OnionPacket) Hash() Hash256 {
	return sha256.Sum256(p.Bytes())
}

// Hop is one hop of a route to build an onion for: the node's public key and
// its payload, the TLV stream without the BigSize length prefix (see
// HopPayload.Encode).
type Hop struct {
	PubKey  *btcec.PublicKey
	Payload []byte
}

// shiftSize is the number of hop_payloads bytes a payload of n bytes takes:
// the BigSize length, the payload and the next HMAC.
func shiftSize(n int) int {
	return bigSizeLen(uint64(n)) + n + HMACSize
}

// NewOnionPacket builds the onion for route with the given session key and
// associated data (the payment hash for HTLCs). The session key must be
// fresh and random for every onion; only tests pass a fixed one.
func NewOnionPacket(route []Hop, sessionKey *btcec.PrivateKey, assocData []byte) (*OnionPacket, error) {
	return newOnionPacket(route, sessionKey, assocData, nil)
}

// newOnionPacket is NewOnionPacket with the tables of t (nil: none).
func newOnionPacket(route []Hop, sessionKey *btcec.PrivateKey, assocData []byte, t *HopTables) (*OnionPacket, error) {
	n := len(route)
	if n == 0 {
		return nil, ErrEmptyRoute
	}
	total := 0
	path := make([]*btcec.PublicKey, n)
	for i, h := range route {
		if len(h.Payload) < MinPayloadSize {
			return nil, fmt.Errorf("%w: hop %d", ErrPayloadTooShort, i)
		}
		total += shiftSize(len(h.Payload))
		if total > RoutingInfoSize {
			return nil, fmt.Errorf("%w: at hop %d", ErrRouteTooLong, i)
		}
		path[i] = h.PubKey
	}
	secrets, ephemeral, err := hopSecretsWith(sessionKey, path, t)
	if err != nil {
		return nil, err
	}

	filler := generateFiller(route, secrets)

	// The initial hop_payloads is pseudo-random, derived from the session
	// key so that the unused tail does not leak the route length.
	sk := sessionKey.Key.Bytes()
	var mix [RoutingInfoSize]byte
	xorStream(generateKey(keyPad, sk[:]), mix[:])

	var nextHMAC [HMACSize]byte
	for i := n - 1; i >= 0; i-- {
		payload := route[i].Payload
		shift := shiftSize(len(payload))
		copy(mix[shift:], mix[:RoutingInfoSize-shift])
		w := appendBigSize(mix[:0], uint64(len(payload)))
		w = append(w, payload...)
		_ = append(w, nextHMAC[:]...)

		xorStream(generateKey(keyRho, secrets[i][:]), mix[:])
		if i == n-1 {
			copy(mix[RoutingInfoSize-len(filler):], filler)
		}
		nextHMAC = computeHMAC(generateKey(keyMu, secrets[i][:]), mix[:], assocData)
	}

	p := &OnionPacket{Version: Version0, RoutingInfo: mix, HMAC: nextHMAC}
	copy(p.EphemeralKey[:], ephemeral.SerializeCompressed())
	return p, nil
}

// generateFiller computes the bytes each hop's processing appends to the
// end of hop_payloads, as the last hop will see them, so the origin can
// compute the HMACs (BOLT 4 "Filler Generation").
func generateFiller(route []Hop, secrets []Hash256) []byte {
	var filler []byte
	var stream [2 * RoutingInfoSize]byte
	for i := 0; i < len(route)-1; i++ {
		prev := len(filler)
		filler = append(filler, make([]byte, shiftSize(len(route[i].Payload)))...)
		clear(stream[:])
		xorStream(generateKey(keyRho, secrets[i][:]), stream[:])
		off := RoutingInfoSize - prev
		for j := range filler {
			filler[j] ^= stream[off+j]
		}
	}
	return filler
}
