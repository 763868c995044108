package sphinx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"
	"lnd.xprv/lnwire/tlv"
)

// TLV types of the BOLT 4 payload stream.
const (
	TypeAmtToForward           uint64 = 2
	TypeOutgoingCLTV           uint64 = 4
	TypeShortChannelID         uint64 = 6
	TypePaymentData            uint64 = 8
	TypeEncryptedRecipientData uint64 = 10
	TypeCurrentPathKey         uint64 = 12
	TypePaymentMetadata        uint64 = 16
	TypeTotalAmountMsat        uint64 = 18

	// MinCustomRecordType is the first type of the range reserved for
	// application records (bLIP-3 and others).
	MinCustomRecordType uint64 = 65536

	// KeysendPreimageType carries the preimage of a spontaneous (keysend)
	// payment, bLIP-3.
	KeysendPreimageType uint64 = 5482373484
)

var (
	// ErrInvalidPayload is wrapped by every PayloadError.
	ErrInvalidPayload = errors.New("sphinx: invalid hop payload")

	// ErrCustomRecordRange is returned when encoding a custom record
	// whose type is below MinCustomRecordType.
	ErrCustomRecordRange = errors.New("sphinx: custom record type below 65536")
)

// PaymentData is the payment_data record: the invoice's payment secret and
// the total amount of the (possibly multi-part) payment.
type PaymentData struct {
	PaymentSecret [32]byte
	TotalMsat     uint64
}

// HopPayload is the decoded per-hop payload of a payment onion.
//
// On encoding, amt_to_forward and outgoing_cltv_value are written unless the
// hop is an intermediate hop of a blinded route, which BOLT 4 identifies as
// EncryptedRecipientData set and TotalAmountMsat nil (the final blinded hop
// must carry total_amount_msat); a decoded payload writes them if it had
// them. Nil pointers and nil slices are absent
// records; an empty non-nil PaymentMetadata is written as an empty record.
type HopPayload struct {
	AmtToForward uint64
	OutgoingCLTV uint32

	// ShortChannelID is the outgoing channel of a forwarding hop, as its
	// uint64 encoding (block<<40 | tx<<16 | output).
	ShortChannelID *uint64

	PaymentData            *PaymentData
	EncryptedRecipientData []byte
	CurrentPathKey         *btcec.PublicKey
	PaymentMetadata        []byte
	TotalAmountMsat        *uint64

	// CustomRecords are records of type MinCustomRecordType and above,
	// keysend's preimage among them.
	CustomRecords map[uint64][]byte

	// UnknownRecords are odd records below MinCustomRecordType this
	// package does not know. They are kept so that re-encoding a decoded
	// payload yields the same bytes.
	UnknownRecords tlv.Stream

	// present records which known types a decoded payload carried.
	present map[uint64]bool
}

// KeysendPreimage returns the keysend preimage record, if present and 32
// bytes long.
func (p *HopPayload) KeysendPreimage() ([32]byte, bool) {
	var pre [32]byte
	v, ok := p.CustomRecords[KeysendPreimageType]
	if !ok || len(v) != 32 {
		return pre, false
	}
	copy(pre[:], v)
	return pre, true
}

// blindedIntermediate reports whether p is written as a non-final hop
// inside a blinded route.
func (p *HopPayload) blindedIntermediate() bool {
	return p.EncryptedRecipientData != nil && p.TotalAmountMsat == nil
}

// Encode returns the payload as a TLV stream, ready for Hop.Payload.
func (p *HopPayload) Encode() ([]byte, error) {
	var s tlv.Stream
	if p.present != nil {
		// A decoded payload re-encodes as it came.
		if p.present[TypeAmtToForward] {
			s.Set(TypeAmtToForward, tlv.EncodeTU64(p.AmtToForward))
		}
		if p.present[TypeOutgoingCLTV] {
			s.Set(TypeOutgoingCLTV, tlv.EncodeTU32(p.OutgoingCLTV))
		}
	} else if !p.blindedIntermediate() {
		s.Set(TypeAmtToForward, tlv.EncodeTU64(p.AmtToForward))
		s.Set(TypeOutgoingCLTV, tlv.EncodeTU32(p.OutgoingCLTV))
	}
	if p.ShortChannelID != nil {
		s.Set(TypeShortChannelID, binary.BigEndian.AppendUint64(nil, *p.ShortChannelID))
	}
	if p.PaymentData != nil {
		v := append([]byte(nil), p.PaymentData.PaymentSecret[:]...)
		s.Set(TypePaymentData, tlv.AppendTU64(v, p.PaymentData.TotalMsat))
	}
	if p.EncryptedRecipientData != nil {
		s.Set(TypeEncryptedRecipientData, p.EncryptedRecipientData)
	}
	if p.CurrentPathKey != nil {
		s.Set(TypeCurrentPathKey, p.CurrentPathKey.SerializeCompressed())
	}
	if p.PaymentMetadata != nil {
		s.Set(TypePaymentMetadata, p.PaymentMetadata)
	}
	if p.TotalAmountMsat != nil {
		s.Set(TypeTotalAmountMsat, tlv.EncodeTU64(*p.TotalAmountMsat))
	}
	for _, r := range p.UnknownRecords {
		if r.Type%2 == 0 || r.Type >= MinCustomRecordType || knownPayloadType(r.Type) {
			return nil, fmt.Errorf("sphinx: unknown record type %d not odd, unknown and below 65536", r.Type)
		}
		s.Set(r.Type, r.Value)
	}
	types := make([]uint64, 0, len(p.CustomRecords))
	for t := range p.CustomRecords {
		if t < MinCustomRecordType {
			return nil, fmt.Errorf("%w: %d", ErrCustomRecordRange, t)
		}
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, t := range types {
		s.Set(t, p.CustomRecords[t])
	}
	b := s.Encode()
	if len(b) < MinPayloadSize {
		return nil, ErrPayloadTooShort
	}
	return b, nil
}

func knownPayloadType(t uint64) bool {
	switch t {
	case TypeAmtToForward, TypeOutgoingCLTV, TypeShortChannelID,
		TypePaymentData, TypeEncryptedRecipientData, TypeCurrentPathKey,
		TypePaymentMetadata, TypeTotalAmountMsat:
		return true
	}
	return false
}

// PayloadError describes why a hop payload was rejected. Type and Offset
// name the offending record and its byte offset in the payload where the
// failure can be narrowed down to one (HasType); they go into the
// invalid_onion_payload failure.
type PayloadError struct {
	Type    uint64
	Offset  uint16
	HasType bool
	Reason  string
}

func (e *PayloadError) Error() string {
	if e.HasType {
		return fmt.Sprintf("%v: type %d at offset %d: %s", ErrInvalidPayload,
			e.Type, e.Offset, e.Reason)
	}
	return fmt.Sprintf("%v: %s", ErrInvalidPayload, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidPayload) hold.
func (e *PayloadError) Unwrap() error { return ErrInvalidPayload }

// Failure returns the invalid_onion_payload failure to send for e.
func (e *PayloadError) Failure() *FailInvalidOnionPayload {
	f := &FailInvalidOnionPayload{}
	if e.HasType {
		f.Type, f.Offset = e.Type, e.Offset
	}
	return f
}

// recordOffset returns the offset of record typ in the encoded stream b.
func recordOffset(b []byte, typ uint64) uint16 {
	off := 0
	for off < len(b) {
		t, n, err := tlv.ParseBigSize(b[off:])
		if err != nil {
			return 0
		}
		if t == typ {
			return uint16(min(off, 0xffff))
		}
		l, m, err := tlv.ParseBigSize(b[off+n:])
		if err != nil || l > uint64(len(b)) {
			return 0
		}
		off += n + m + int(l)
	}
	return 0
}

// DecodeHopPayload parses a hop payload (the TLV stream of
// ProcessedPacket.Payload). It checks the stream's encoding, every known
// record's format, and that no unknown even type below the custom range is
// present. Even custom records (65536 and above) are kept; Validate rejects
// those it does not know. Which records the hop's position requires is also
// Validate's business.
func DecodeHopPayload(b []byte) (*HopPayload, error) {
	s, err := tlv.DecodeStream(b)
	if err != nil {
		return nil, &PayloadError{Reason: err.Error()}
	}
	p := &HopPayload{present: make(map[uint64]bool)}
	bad := func(t uint64, format string, args ...any) error {
		return &PayloadError{Type: t, Offset: recordOffset(b, t), HasType: true,
			Reason: fmt.Sprintf(format, args...)}
	}
	for _, r := range s {
		v := r.Value
		switch r.Type {
		case TypeAmtToForward:
			if p.AmtToForward, err = tlv.DecodeTU64(v); err != nil {
				return nil, bad(r.Type, "amt_to_forward: %v", err)
			}
		case TypeOutgoingCLTV:
			if p.OutgoingCLTV, err = tlv.DecodeTU32(v); err != nil {
				return nil, bad(r.Type, "outgoing_cltv_value: %v", err)
			}
		case TypeShortChannelID:
			if len(v) != 8 {
				return nil, bad(r.Type, "short_channel_id: %d bytes", len(v))
			}
			scid := binary.BigEndian.Uint64(v)
			p.ShortChannelID = &scid
		case TypePaymentData:
			if len(v) < 32 {
				return nil, bad(r.Type, "payment_data: %d bytes", len(v))
			}
			pd := &PaymentData{}
			copy(pd.PaymentSecret[:], v)
			if pd.TotalMsat, err = tlv.DecodeTU64(v[32:]); err != nil {
				return nil, bad(r.Type, "payment_data total_msat: %v", err)
			}
			p.PaymentData = pd
		case TypeEncryptedRecipientData:
			p.EncryptedRecipientData = append([]byte{}, v...)
		case TypeCurrentPathKey:
			if len(v) != PubKeySize {
				return nil, bad(r.Type, "current_path_key: %d bytes", len(v))
			}
			if p.CurrentPathKey, err = btcec.ParsePubKey(v); err != nil {
				return nil, bad(r.Type, "current_path_key: %v", err)
			}
		case TypePaymentMetadata:
			p.PaymentMetadata = append([]byte{}, v...)
		case TypeTotalAmountMsat:
			total, err := tlv.DecodeTU64(v)
			if err != nil {
				return nil, bad(r.Type, "total_amount_msat: %v", err)
			}
			p.TotalAmountMsat = &total
		default:
			// Even types below the custom range are ones BOLT 4
			// would have to define: unknown to us, so fatal.
			// Even custom records are checked by Validate, which
			// knows the keysend record.
			if r.Type%2 == 0 && r.Type < MinCustomRecordType {
				return nil, bad(r.Type, "unknown even type")
			}
			val := append([]byte{}, v...)
			if r.Type >= MinCustomRecordType {
				if p.CustomRecords == nil {
					p.CustomRecords = make(map[uint64][]byte)
				}
				p.CustomRecords[r.Type] = val
			} else {
				p.UnknownRecords = append(p.UnknownRecords, tlv.Record{Type: r.Type, Value: val})
			}
			continue
		}
		p.present[r.Type] = true
	}
	return p, nil
}

// Has reports whether the payload carries the known record typ: for a
// decoded payload, whether the record was there; for one built in memory,
// whether Encode would write it.
func (p *HopPayload) Has(typ uint64) bool { return p.presentTypes()[typ] }

func (p *HopPayload) presentTypes() map[uint64]bool {
	if p.present != nil {
		return p.present
	}
	has := make(map[uint64]bool)
	if !p.blindedIntermediate() {
		has[TypeAmtToForward] = true
		has[TypeOutgoingCLTV] = true
	}
	has[TypeShortChannelID] = p.ShortChannelID != nil
	has[TypePaymentData] = p.PaymentData != nil
	has[TypeEncryptedRecipientData] = p.EncryptedRecipientData != nil
	has[TypeCurrentPathKey] = p.CurrentPathKey != nil
	has[TypePaymentMetadata] = p.PaymentMetadata != nil
	has[TypeTotalAmountMsat] = p.TotalAmountMsat != nil
	for t, ok := range has {
		if !ok {
			delete(has, t)
		}
	}
	return has
}

// Validate applies the BOLT 4 reader requirements on which records a hop
// must and must not carry. isFinal is ProcessedPacket.IsFinal; incomingPathKey
// says whether the update_add_htlc carried a path_key (blinded route).
// Even custom records other than keysend's preimage (at the final hop) are
// rejected as unknown. Decryption of encrypted_recipient_data is the
// caller's business.
func (p *HopPayload) Validate(isFinal, incomingPathKey bool) error {
	missing := func(t uint64, what string) error {
		return &PayloadError{Type: t, HasType: true, Reason: what + " missing"}
	}
	extra := func(t uint64, what string) error {
		return &PayloadError{Type: t, HasType: true, Reason: what + " not allowed here"}
	}
	has := p.presentTypes()

	for t := range p.CustomRecords {
		if t%2 == 0 && (t != KeysendPreimageType || !isFinal) {
			return &PayloadError{Type: t, HasType: true, Reason: "unknown even custom record"}
		}
	}

	if has[TypeEncryptedRecipientData] {
		if incomingPathKey && has[TypeCurrentPathKey] {
			return extra(TypeCurrentPathKey, "current_path_key with path_key in update_add_htlc")
		}
		if !incomingPathKey && !has[TypeCurrentPathKey] {
			return missing(TypeCurrentPathKey, "current_path_key")
		}
		allowed := map[uint64]bool{TypeEncryptedRecipientData: true, TypeCurrentPathKey: true}
		if isFinal {
			allowed[TypeAmtToForward] = true
			allowed[TypeOutgoingCLTV] = true
			allowed[TypeTotalAmountMsat] = true
		}
		for t := range has {
			if !allowed[t] {
				return extra(t, fmt.Sprintf("type %d in blinded payload", t))
			}
		}
		if len(p.UnknownRecords) > 0 {
			return extra(p.UnknownRecords[0].Type, "unknown record in blinded payload")
		}
		if len(p.CustomRecords) > 0 {
			for t := range p.CustomRecords {
				return extra(t, "custom record in blinded payload")
			}
		}
		if isFinal {
			for _, t := range []uint64{TypeAmtToForward, TypeOutgoingCLTV, TypeTotalAmountMsat} {
				if !has[t] {
					return missing(t, fmt.Sprintf("type %d", t))
				}
			}
		}
		return nil
	}

	if incomingPathKey {
		return missing(TypeEncryptedRecipientData, "encrypted_recipient_data (path_key set)")
	}
	if has[TypeCurrentPathKey] {
		return extra(TypeCurrentPathKey, "current_path_key outside a blinded route")
	}
	if !has[TypeAmtToForward] {
		return missing(TypeAmtToForward, "amt_to_forward")
	}
	if !has[TypeOutgoingCLTV] {
		return missing(TypeOutgoingCLTV, "outgoing_cltv_value")
	}
	if isFinal {
		if has[TypeShortChannelID] {
			return extra(TypeShortChannelID, "short_channel_id at the final hop")
		}
		return nil
	}
	if !has[TypeShortChannelID] {
		return missing(TypeShortChannelID, "short_channel_id")
	}
	for _, t := range []uint64{TypePaymentData, TypePaymentMetadata, TypeTotalAmountMsat} {
		if has[t] {
			return extra(t, fmt.Sprintf("type %d at an intermediate hop", t))
		}
	}
	return nil
}

// TotalMsat returns the total amount of the payment this HTLC belongs to:
// payment_data's or total_amount_msat's total, else amt_to_forward (BOLT 4:
// a missing total is treated as equal to amt_to_forward).
func (p *HopPayload) TotalMsat() uint64 {
	switch {
	case p.PaymentData != nil:
		return p.PaymentData.TotalMsat
	case p.TotalAmountMsat != nil:
		return *p.TotalAmountMsat
	}
	return p.AmtToForward
}
