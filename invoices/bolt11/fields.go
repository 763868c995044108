package bolt11

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcec/v2"
)

// FieldType is the 5-bit type of a tagged field.
type FieldType byte

// The tagged fields BOLT 11 defines.
const (
	FieldPaymentHash     FieldType = 1  // p
	FieldRouteHint       FieldType = 3  // r
	FieldFeatures        FieldType = 5  // 9
	FieldExpiry          FieldType = 6  // x
	FieldFallback        FieldType = 9  // f
	FieldDescription     FieldType = 13 // d
	FieldPaymentSecret   FieldType = 16 // s
	FieldPayee           FieldType = 19 // n
	FieldDescriptionHash FieldType = 23 // h
	FieldMinFinalCLTV    FieldType = 24 // c
	FieldMetadata        FieldType = 27 // m
)

// String returns the field's bech32 letter, as the spec names it.
func (t FieldType) String() string {
	if t > 31 {
		return fmt.Sprintf("FieldType(%d)", byte(t))
	}
	return string(charset[t])
}

// maxFieldLen is the largest data_length a tagged field can state.
const maxFieldLen = 1023

// Default values of absent fields.
const (
	DefaultExpiry                  = 3600 // seconds
	DefaultMinFinalCLTVExpiryDelta = 18   // blocks
)

// Field is one tagged field of an invoice. An Invoice keeps its fields in
// order, as read or as they are to be written: the spec lets a writer list
// several of one kind, most preferred first.
//
// The set is closed: the types of this package, plus RawField for anything
// kept verbatim.
type Field interface {
	// Type returns the field's tag.
	Type() FieldType

	// appendData appends the field's data as 5-bit groups.
	appendData(dst []byte) ([]byte, error)
}

// PaymentHash is the `p` field: the SHA-256 hash whose preimage pays.
type PaymentHash [32]byte

// PaymentSecret is the `s` field, carried in the final onion payload so
// that forwarding nodes cannot probe the payee.
type PaymentSecret [32]byte

// Description is the `d` field: what the payment is for, in UTF-8.
type Description string

// DescriptionHash is the `h` field: the SHA-256 of a description too long
// to carry, delivered by other means.
type DescriptionHash [32]byte

// Expiry is the `x` field: seconds after the timestamp during which the
// invoice may be paid.
type Expiry uint64

// MinFinalCLTVExpiryDelta is the `c` field: the CLTV delta the payee needs
// on the final HTLC.
type MinFinalCLTVExpiryDelta uint64

// Payee is the `n` field: the payee's node key. When present the signature
// is checked against it instead of recovering a key.
type Payee struct {
	Key *btcec.PublicKey
}

// Metadata is the `m` field, returned to the payee in the onion as
// payment_metadata.
type Metadata []byte

// RawField is a field kept byte for byte without interpretation: a type this
// package does not know, a fallback address of an unknown version, or a
// known field the reader must skip (a `p`, `h`, `s` or `n` of the wrong
// length). Data holds 5-bit groups.
type RawField struct {
	Tag  FieldType
	Data []byte
}

// Type implements Field, for each field type.
func (PaymentHash) Type() FieldType             { return FieldPaymentHash }
func (PaymentSecret) Type() FieldType           { return FieldPaymentSecret }
func (Description) Type() FieldType             { return FieldDescription }
func (DescriptionHash) Type() FieldType         { return FieldDescriptionHash }
func (Expiry) Type() FieldType                  { return FieldExpiry }
func (MinFinalCLTVExpiryDelta) Type() FieldType { return FieldMinFinalCLTV }
func (Payee) Type() FieldType                   { return FieldPayee }
func (Metadata) Type() FieldType                { return FieldMetadata }
func (Features) Type() FieldType                { return FieldFeatures }
func (r RawField) Type() FieldType              { return r.Tag }

func (h PaymentHash) appendData(dst []byte) ([]byte, error) {
	return appendBits8to5(dst, h[:]), nil
}

func (s PaymentSecret) appendData(dst []byte) ([]byte, error) {
	return appendBits8to5(dst, s[:]), nil
}

func (d Description) appendData(dst []byte) ([]byte, error) {
	if !utf8.ValidString(string(d)) {
		return nil, ErrInvalidDescription
	}
	return appendBits8to5(dst, []byte(d)), nil
}

func (h DescriptionHash) appendData(dst []byte) ([]byte, error) {
	return appendBits8to5(dst, h[:]), nil
}

func (x Expiry) appendData(dst []byte) ([]byte, error) {
	return appendUint5(dst, uint64(x)), nil
}

func (c MinFinalCLTVExpiryDelta) appendData(dst []byte) ([]byte, error) {
	return appendUint5(dst, uint64(c)), nil
}

func (n Payee) appendData(dst []byte) ([]byte, error) {
	if n.Key == nil {
		return nil, ErrInvalidPayee
	}
	return appendBits8to5(dst, n.Key.SerializeCompressed()), nil
}

func (m Metadata) appendData(dst []byte) ([]byte, error) {
	return appendBits8to5(dst, m), nil
}

func (f Features) appendData(dst []byte) ([]byte, error) {
	return appendFeatures5(dst, f), nil
}

func (r RawField) appendData(dst []byte) ([]byte, error) {
	if r.Tag > 31 {
		return nil, fmt.Errorf("%w: type %d", ErrInvalidField, r.Tag)
	}
	for _, v := range r.Data {
		if v > 31 {
			return nil, fmt.Errorf("%w: %v data is not 5-bit",
				ErrInvalidField, r.Tag)
		}
	}
	return append(dst, r.Data...), nil
}

// ShortChannelID identifies a channel by the block height, transaction index
// and output index of its funding output (BOLT 7).
type ShortChannelID uint64

// NewShortChannelID packs a block height, transaction index and output
// index.
func NewShortChannelID(block, tx uint32, out uint16) ShortChannelID {
	return ShortChannelID(uint64(block&0xffffff)<<40 |
		uint64(tx&0xffffff)<<16 | uint64(out))
}

// BlockHeight returns the height of the funding block.
func (s ShortChannelID) BlockHeight() uint32 { return uint32(s >> 40) }

// TxIndex returns the funding transaction's index in its block.
func (s ShortChannelID) TxIndex() uint32 { return uint32(s>>16) & 0xffffff }

// OutputIndex returns the funding output's index.
func (s ShortChannelID) OutputIndex() uint16 { return uint16(s) }

// String formats the ID as BOLT 7 does: 539268x845x1.
func (s ShortChannelID) String() string {
	return fmt.Sprintf("%dx%dx%d", s.BlockHeight(), s.TxIndex(),
		s.OutputIndex())
}

// HopHint is one channel of a private route towards the payee: NodeID is the
// node at the start of the channel, and the fee and delta are that node's
// policy for it (BOLT 7 channel_update).
type HopHint struct {
	NodeID                    *btcec.PublicKey
	ChannelID                 ShortChannelID
	FeeBaseMSat               uint32
	FeeProportionalMillionths uint32
	CLTVExpiryDelta           uint16
}

// hopHintLen is the serialized size of a HopHint.
const hopHintLen = 33 + 8 + 4 + 4 + 2

// RouteHint is the `r` field: a route from a public node to the payee, in
// forward order.
type RouteHint []HopHint

// Type implements Field.
func (RouteHint) Type() FieldType { return FieldRouteHint }

func (r RouteHint) appendData(dst []byte) ([]byte, error) {
	if len(r) == 0 {
		return nil, fmt.Errorf("%w: no hops", ErrInvalidRouteHint)
	}
	b := make([]byte, 0, len(r)*hopHintLen)
	for _, h := range r {
		if h.NodeID == nil {
			return nil, fmt.Errorf("%w: hop without node id",
				ErrInvalidRouteHint)
		}
		b = append(b, h.NodeID.SerializeCompressed()...)
		b = binary.BigEndian.AppendUint64(b, uint64(h.ChannelID))
		b = binary.BigEndian.AppendUint32(b, h.FeeBaseMSat)
		b = binary.BigEndian.AppendUint32(b, h.FeeProportionalMillionths)
		b = binary.BigEndian.AppendUint16(b, h.CLTVExpiryDelta)
	}
	return appendBits8to5(dst, b), nil
}

func decodeRouteHint(data []byte) (RouteHint, error) {
	b, err := bits5to8(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRouteHint, err)
	}
	if len(b) == 0 || len(b)%hopHintLen != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of "+
			"hops", ErrInvalidRouteHint, len(b))
	}
	hint := make(RouteHint, 0, len(b)/hopHintLen)
	for ; len(b) > 0; b = b[hopHintLen:] {
		key, err := parseKey(b[:33])
		if err != nil {
			return nil, fmt.Errorf("%w: node id: %w",
				ErrInvalidRouteHint, err)
		}
		hint = append(hint, HopHint{
			NodeID:      key,
			ChannelID:   ShortChannelID(binary.BigEndian.Uint64(b[33:])),
			FeeBaseMSat: binary.BigEndian.Uint32(b[41:]),
			FeeProportionalMillionths: binary.BigEndian.Uint32(
				b[45:],
			),
			CLTVExpiryDelta: binary.BigEndian.Uint16(b[49:]),
		})
	}
	return hint, nil
}

// decodeHash32 reads a 52-group field holding 32 bytes.
func decodeHash32(data []byte) ([32]byte, error) {
	var h [32]byte
	b, err := bits5to8(data)
	if err != nil {
		return h, err
	}
	copy(h[:], b)
	return h, nil
}

// fixedLen returns the data_length BOLT 11 fixes for a field type, or 0.
func fixedLen(t FieldType) int {
	switch t {
	case FieldPaymentHash, FieldPaymentSecret, FieldDescriptionHash:
		return 52
	case FieldPayee:
		return 53
	}
	return 0
}

// decodeField interprets one tagged field. A field of a fixed-length type
// with another length comes back as a RawField, or as an error when strict.
func decodeField(t FieldType, data []byte, cfg *decodeConfig) (Field, error) {
	if want := fixedLen(t); want != 0 && len(data) != want {
		if cfg.strictLengths {
			return nil, fmt.Errorf("%w: %v has %d groups, want %d",
				ErrInvalidFieldLength, t, len(data), want)
		}
		return RawField{Tag: t, Data: data}, nil
	}

	switch t {
	case FieldPaymentHash:
		h, err := decodeHash32(data)
		return PaymentHash(h), err

	case FieldPaymentSecret:
		h, err := decodeHash32(data)
		return PaymentSecret(h), err

	case FieldDescriptionHash:
		h, err := decodeHash32(data)
		return DescriptionHash(h), err

	case FieldPayee:
		b, err := bits5to8(data)
		if err != nil {
			return nil, err
		}
		key, err := parseKey(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPayee, err)
		}
		return Payee{Key: key}, nil

	case FieldDescription:
		b, err := bits5to8(data)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, ErrInvalidDescription
		}
		return Description(b), nil

	case FieldMetadata:
		b, err := bits5to8(data)
		if err != nil {
			return nil, err
		}
		return Metadata(b), nil

	case FieldExpiry, FieldMinFinalCLTV:
		if len(data) > 0 && data[0] == 0 {
			return nil, fmt.Errorf("%w: %v", ErrNonMinimalField, t)
		}
		v, err := uintFrom5(data)
		if err != nil {
			return nil, fmt.Errorf("%v: %w", t, err)
		}
		if t == FieldExpiry {
			return Expiry(v), nil
		}
		return MinFinalCLTVExpiryDelta(v), nil

	case FieldFeatures:
		if len(data) > 0 && data[0] == 0 {
			return nil, fmt.Errorf("%w: %v", ErrNonMinimalField, t)
		}
		if len(data) == 0 {
			// A writer must omit an empty `9`; keep this one
			// verbatim so the invoice re-encodes as it came.
			return RawField{Tag: t, Data: data}, nil
		}
		return featuresFrom5(data), nil

	case FieldFallback:
		return decodeFallback(data, cfg.net)

	case FieldRouteHint:
		return decodeRouteHint(data)
	}

	return RawField{Tag: t, Data: data}, nil
}
