package sphinx

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"golang.org/x/crypto/chacha20poly1305"
	"lnd.xprv/lnwire/tlv"
)

// Route blinding (BOLT 4 "Route Blinding"): the recipient hides the last
// nodes of a route behind blinded node ids and gives each an encrypted
// encrypted_data_tlv; a node in the route receives a path_key with the
// HTLC (or current_path_key in its payload, at the introduction point).

var keyBlindedNodeID = []byte("blinded_node_id")

// TLV types of encrypted_data_tlv.
const (
	BlindedTypePadding             uint64 = 1
	BlindedTypeShortChannelID      uint64 = 2
	BlindedTypeNextNodeID          uint64 = 4
	BlindedTypePathID              uint64 = 6
	BlindedTypeNextPathKeyOverride uint64 = 8
	BlindedTypePaymentRelay        uint64 = 10
	BlindedTypePaymentConstraints  uint64 = 12
	BlindedTypeAllowedFeatures     uint64 = 14
)

var (
	// ErrBlindedData is wrapped by errors decrypting or decoding
	// encrypted_recipient_data. A node in a blinded route answers it
	// with invalid_onion_blinding.
	ErrBlindedData = errors.New("sphinx: invalid encrypted_recipient_data")
)

// PaymentRelay is the payment_relay record: the fees and CLTV delta a
// blinded hop applies, fixed by the recipient.
type PaymentRelay struct {
	CltvExpiryDelta           uint16
	FeeProportionalMillionths uint32
	FeeBaseMsat               uint32
}

// ForwardAmount returns amt_to_forward for an incoming HTLC of amountMsat:
// the largest amount whose fee is covered, rounded as BOLT 4 requires.
// It returns 0 when the incoming amount does not even cover the base fee.
func (r PaymentRelay) ForwardAmount(amountMsat uint64) uint64 {
	if amountMsat < uint64(r.FeeBaseMsat) {
		return 0
	}
	prop := uint64(r.FeeProportionalMillionths)
	num := (amountMsat-uint64(r.FeeBaseMsat))*1_000_000 + 1_000_000 + prop - 1
	return num / (1_000_000 + prop)
}

// PaymentConstraints is the payment_constraints record.
type PaymentConstraints struct {
	MaxCltvExpiry   uint32
	HtlcMinimumMsat uint64
}

// BlindedData is a decoded encrypted_data_tlv.
type BlindedData struct {
	Padding             []byte
	ShortChannelID      *uint64
	NextNodeID          *btcec.PublicKey
	PathID              []byte
	NextPathKeyOverride *btcec.PublicKey
	PaymentRelay        *PaymentRelay
	PaymentConstraints  *PaymentConstraints
	AllowedFeatures     []byte

	// UnknownRecords are the odd records this package does not know.
	UnknownRecords tlv.Stream
}

// Encode serializes d as an encrypted_data_tlv stream.
func (d *BlindedData) Encode() ([]byte, error) {
	var s tlv.Stream
	if d.Padding != nil {
		s.Set(BlindedTypePadding, d.Padding)
	}
	if d.ShortChannelID != nil {
		s.Set(BlindedTypeShortChannelID, binary.BigEndian.AppendUint64(nil, *d.ShortChannelID))
	}
	if d.NextNodeID != nil {
		s.Set(BlindedTypeNextNodeID, d.NextNodeID.SerializeCompressed())
	}
	if d.PathID != nil {
		s.Set(BlindedTypePathID, d.PathID)
	}
	if d.NextPathKeyOverride != nil {
		s.Set(BlindedTypeNextPathKeyOverride, d.NextPathKeyOverride.SerializeCompressed())
	}
	if r := d.PaymentRelay; r != nil {
		v := binary.BigEndian.AppendUint16(nil, r.CltvExpiryDelta)
		v = binary.BigEndian.AppendUint32(v, r.FeeProportionalMillionths)
		s.Set(BlindedTypePaymentRelay, tlv.AppendTU64(v, uint64(r.FeeBaseMsat)))
	}
	if c := d.PaymentConstraints; c != nil {
		v := binary.BigEndian.AppendUint32(nil, c.MaxCltvExpiry)
		s.Set(BlindedTypePaymentConstraints, tlv.AppendTU64(v, c.HtlcMinimumMsat))
	}
	if d.AllowedFeatures != nil {
		s.Set(BlindedTypeAllowedFeatures, d.AllowedFeatures)
	}
	for _, r := range d.UnknownRecords {
		if r.Type%2 == 0 || r.Type == BlindedTypePadding {
			return nil, fmt.Errorf("sphinx: blinded data: unknown record type %d must be odd and unknown", r.Type)
		}
		s.Set(r.Type, r.Value)
	}
	return s.Encode(), nil
}

// DecodeBlindedData parses a decrypted encrypted_data_tlv. Unknown even
// types are rejected, as BOLT 4 requires.
func DecodeBlindedData(b []byte) (*BlindedData, error) {
	s, err := tlv.DecodeStream(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBlindedData, err)
	}
	d := &BlindedData{}
	bad := func(t uint64, format string, args ...any) error {
		return fmt.Errorf("%w: type %d: %s", ErrBlindedData, t, fmt.Sprintf(format, args...))
	}
	for _, r := range s {
		v := r.Value
		switch r.Type {
		case BlindedTypePadding:
			d.Padding = append([]byte{}, v...)
		case BlindedTypeShortChannelID:
			if len(v) != 8 {
				return nil, bad(r.Type, "short_channel_id: %d bytes", len(v))
			}
			scid := binary.BigEndian.Uint64(v)
			d.ShortChannelID = &scid
		case BlindedTypeNextNodeID, BlindedTypeNextPathKeyOverride:
			if len(v) != PubKeySize {
				return nil, bad(r.Type, "point: %d bytes", len(v))
			}
			k, err := btcec.ParsePubKey(v)
			if err != nil {
				return nil, bad(r.Type, "point: %v", err)
			}
			if r.Type == BlindedTypeNextNodeID {
				d.NextNodeID = k
			} else {
				d.NextPathKeyOverride = k
			}
		case BlindedTypePathID:
			d.PathID = append([]byte{}, v...)
		case BlindedTypePaymentRelay:
			if len(v) < 6 {
				return nil, bad(r.Type, "payment_relay: %d bytes", len(v))
			}
			fee, err := tlv.DecodeTU32(v[6:])
			if err != nil {
				return nil, bad(r.Type, "payment_relay fee_base_msat: %v", err)
			}
			d.PaymentRelay = &PaymentRelay{
				CltvExpiryDelta:           binary.BigEndian.Uint16(v),
				FeeProportionalMillionths: binary.BigEndian.Uint32(v[2:]),
				FeeBaseMsat:               fee,
			}
		case BlindedTypePaymentConstraints:
			if len(v) < 4 {
				return nil, bad(r.Type, "payment_constraints: %d bytes", len(v))
			}
			min, err := tlv.DecodeTU64(v[4:])
			if err != nil {
				return nil, bad(r.Type, "payment_constraints htlc_minimum_msat: %v", err)
			}
			d.PaymentConstraints = &PaymentConstraints{
				MaxCltvExpiry:   binary.BigEndian.Uint32(v),
				HtlcMinimumMsat: min,
			}
		case BlindedTypeAllowedFeatures:
			d.AllowedFeatures = append([]byte{}, v...)
		default:
			if r.Type%2 == 0 {
				return nil, bad(r.Type, "unknown even type")
			}
			d.UnknownRecords = append(d.UnknownRecords, tlv.Record{Type: r.Type, Value: append([]byte{}, v...)})
		}
	}
	return d, nil
}

// BlindedHop is one hop of a blinded path as the sender sees it.
type BlindedHop struct {
	BlindedNodeID *btcec.PublicKey
	EncryptedData []byte
}

// BlindedPath is a blinded_path: the introduction node, the first path key
// and the blinded hops (the introduction node's included).
type BlindedPath struct {
	FirstNodeID  *btcec.PublicKey
	FirstPathKey *btcec.PublicKey
	Hops         []BlindedHop
}

// BuildBlindedPath blinds the route nodes (the introduction node first, the
// recipient last) with sessionKey and encrypts each node's encoded
// encrypted_data_tlv in payloads. sessionKey must be fresh and random.
func BuildBlindedPath(sessionKey *btcec.PrivateKey, nodes []*btcec.PublicKey, payloads [][]byte) (*BlindedPath, error) {
	if len(nodes) == 0 || len(nodes) != len(payloads) {
		return nil, fmt.Errorf("sphinx: blinded path: %d nodes, %d payloads", len(nodes), len(payloads))
	}
	secrets, ephemeral, err := hopSecrets(sessionKey, nodes)
	if err != nil {
		return nil, err
	}
	bp := &BlindedPath{FirstNodeID: nodes[0], FirstPathKey: ephemeral}
	for i, node := range nodes {
		t := generateKey(keyBlindedNodeID, secrets[i][:])
		var s btcec.ModNScalar
		if overflow := s.SetBytes(&t); overflow != 0 || s.IsZero() {
			return nil, ErrInvalidKey
		}
		blinded, err := blindPubKey(node, &s)
		if err != nil {
			return nil, err
		}
		enc, err := sealBlindedData(secrets[i], payloads[i])
		if err != nil {
			return nil, err
		}
		bp.Hops = append(bp.Hops, BlindedHop{BlindedNodeID: blinded, EncryptedData: enc})
	}
	return bp, nil
}

func sealBlindedData(ss Hash256, plain []byte) ([]byte, error) {
	rho := generateKey(keyRho, ss[:])
	aead, err := chacha20poly1305.New(rho[:])
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	return aead.Seal(nil, nonce[:], plain, nil), nil
}

// DecryptBlindedData decrypts this node's encrypted_recipient_data with the
// path key it received (in update_add_htlc, or current_path_key at the
// introduction point). It returns the plaintext encrypted_data_tlv and the
// path key for the next node, computed as BOLT 4 describes; a decoded
// next_path_key_override replaces it (see NextPathKey).
func DecryptBlindedData(key ECDHer, pathKey *btcec.PublicKey, encrypted []byte) ([]byte, *btcec.PublicKey, error) {
	if pathKey == nil {
		return nil, nil, fmt.Errorf("%w: no path key", ErrBlindedData)
	}
	ss, err := key.ECDH(pathKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ecdh: %v", ErrBlindedData, err)
	}
	rho := generateKey(keyRho, ss[:])
	aead, err := chacha20poly1305.New(rho[:])
	if err != nil {
		return nil, nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	plain, err := aead.Open(nil, nonce[:], encrypted, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBlindedData, err)
	}
	b, err := blindingFactor(pathKey, ss)
	if err != nil {
		return nil, nil, err
	}
	next, err := blindPubKey(pathKey, &b)
	if err != nil {
		return nil, nil, err
	}
	return plain, next, nil
}

// NextPathKey returns the path key to send to the next node: d's
// next_path_key_override if set, else computed.
func NextPathKey(d *BlindedData, computed *btcec.PublicKey) *btcec.PublicKey {
	if d != nil && d.NextPathKeyOverride != nil {
		return d.NextPathKeyOverride
	}
	return computed
}

// blindedECDH is the ECDHer of a node inside a blinded route: its key
// tweaked by HMAC256("blinded_node_id", ECDH(path_key, node key)), applied
// to the onion's ephemeral key instead, which is equivalent.
type blindedECDH struct {
	key   ECDHer
	tweak btcec.ModNScalar
}

func newBlindedECDH(key ECDHer, pathKey *btcec.PublicKey) (*blindedECDH, error) {
	ss, err := key.ECDH(pathKey)
	if err != nil {
		return nil, err
	}
	t := generateKey(keyBlindedNodeID, ss[:])
	b := &blindedECDH{key: key}
	if overflow := b.tweak.SetBytes(&t); overflow != 0 || b.tweak.IsZero() {
		return nil, ErrInvalidKey
	}
	return b, nil
}

func (b *blindedECDH) ECDH(pub *btcec.PublicKey) (Hash256, error) {
	tweaked, err := blindPubKey(pub, &b.tweak)
	if err != nil {
		return Hash256{}, err
	}
	return b.key.ECDH(tweaked)
}

// PeelBlinded is Peel for an HTLC that carried pathKey in update_add_htlc:
// the onion is encrypted to this node's blinded id.
func (r *Router) PeelBlinded(pkt *OnionPacket, assocData []byte, pathKey *btcec.PublicKey) (*ProcessedPacket, error) {
	if pathKey == nil {
		return r.Peel(pkt, assocData)
	}
	bk, err := newBlindedECDH(r.key, pathKey)
	if err != nil {
		return nil, fmt.Errorf("%w: path key: %v", ErrInvalidOnionKey, err)
	}
	return peel(bk, pkt, assocData)
}

// ProcessBlindedOnionPacket is ProcessOnionPacket for an HTLC that carried
// pathKey in update_add_htlc. A node inside a blinded route reports every
// failure as invalid_onion_blinding (BOLT 4), whatever the error.
func (r *Router) ProcessBlindedOnionPacket(pkt *OnionPacket, assocData []byte, incomingCltv uint32, pathKey *btcec.PublicKey) (*ProcessedPacket, error) {
	res, err := r.PeelBlinded(pkt, assocData, pathKey)
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
