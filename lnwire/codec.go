package lnwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/internal/vartime"
	"lnd.xprv/lnwire/tlv"
)

var (
	// ErrFieldTooLong is returned when encoding a variable-length field
	// whose length does not fit its u16 length prefix.
	ErrFieldTooLong = errors.New("lnwire: field longer than 65535 bytes")

	// ErrInvalidPoint is returned when a point is not a valid compressed
	// secp256k1 public key.
	ErrInvalidPoint = errors.New("lnwire: invalid point")

	// ErrTLVLength is returned when a known TLV record has the wrong
	// length for its type.
	ErrTLVLength = errors.New("lnwire: TLV record has wrong length")

	// ErrExtraConflict is returned when encoding a message whose ExtraTLV
	// holds a type the message encodes itself, or is not in increasing
	// order.
	ErrExtraConflict = errors.New("lnwire: ExtraTLV conflicts with message TLVs")
)

// decoder reads fixed fields from a message payload. The first failure
// sticks; later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) next(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF)
		d.b = nil
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8(what string) uint8 {
	if b := d.next(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16(what string) uint16 {
	if b := d.next(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if b := d.next(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if b := d.next(8, what); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) bytes32(what string) (v [32]byte) {
	if b := d.next(32, what); b != nil {
		copy(v[:], b)
	}
	return v
}

func (d *decoder) chanID(what string) ChannelID {
	return ChannelID(d.bytes32(what))
}

func (d *decoder) hash(what string) chainhash.Hash {
	return chainhash.Hash(d.bytes32(what))
}

func (d *decoder) sig(what string) (s Sig) {
	if b := d.next(64, what); b != nil {
		copy(s[:], b)
	}
	return s
}

func (d *decoder) rawPoint(what string) (p [33]byte) {
	if b := d.next(33, what); b != nil {
		copy(p[:], b)
	}
	return p
}

// point reads and validates a compressed public key.
func (d *decoder) point(what string) *btcec.PublicKey {
	b := d.next(33, what)
	if b == nil {
		return nil
	}
	pk, err := parsePoint(b)
	if err != nil {
		d.err = fmt.Errorf("%s: %w", what, err)
		return nil
	}
	return pk
}

func (d *decoder) scid(what string) ShortChannelID {
	return NewShortChanIDFromInt(d.u64(what))
}

// varBytes reads a u16 length and that many bytes.
func (d *decoder) varBytes(what string) []byte {
	n := d.u16(what + " length")
	return d.next(int(n), what)
}

// rest returns everything not yet read.
func (d *decoder) rest() []byte {
	if d.err != nil {
		return nil
	}
	b := d.b
	d.b = nil
	return b
}

// parsePoint parses a 33-byte compressed point.
func parsePoint(b []byte) (*btcec.PublicKey, error) {
	if len(b) != 33 || (b[0] != 0x02 && b[0] != 0x03) {
		return nil, ErrInvalidPoint
	}
	// The square root on vartime: a point on the wire is public.
	pk, err := vartime.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPoint, err)
	}
	return pk, nil
}

// Encoding helpers. bytes.Buffer writes never fail.

func putU8(w *bytes.Buffer, v uint8) { w.WriteByte(v) }

func putU16(w *bytes.Buffer, v uint16) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	w.Write(b[:])
}

func putU32(w *bytes.Buffer, v uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	w.Write(b[:])
}

func putU64(w *bytes.Buffer, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	w.Write(b[:])
}

// putPoint writes a public key in compressed form; nil is an error.
func putPoint(w *bytes.Buffer, pk *btcec.PublicKey, what string) error {
	if pk == nil {
		return fmt.Errorf("%s: %w: missing", what, ErrInvalidPoint)
	}
	w.Write(pk.SerializeCompressed())
	return nil
}

// putVarBytes writes a u16 length and b.
func putVarBytes(w *bytes.Buffer, b []byte, what string) error {
	if len(b) > math.MaxUint16 {
		return fmt.Errorf("%s: %w", what, ErrFieldTooLong)
	}
	putU16(w, uint16(len(b)))
	w.Write(b)
	return nil
}

// decodeExtension parses the TLV extension of a message. Records whose type
// known accepts are returned in known for the message to decode; other odd
// records are returned in extra, kept verbatim; an unknown even record fails.
func decodeExtension(b []byte, known func(uint64) bool) (knownRecs,
	extra tlv.Stream, err error) {

	if len(b) == 0 {
		return nil, nil, nil
	}
	s, err := tlv.DecodeStream(b)
	if err != nil {
		return nil, nil, fmt.Errorf("extension: %w", err)
	}
	for _, r := range s {
		switch {
		case known != nil && known(r.Type):
			knownRecs = append(knownRecs, r)
		case r.Type%2 == 0:
			return nil, nil, fmt.Errorf("extension: %w: %d",
				tlv.ErrUnknownEvenType, r.Type)
		default:
			extra = append(extra, r)
		}
	}
	return knownRecs, extra, nil
}

// noKnownTLV is the known-type set of a message that defines no TLVs.
func noKnownTLV(uint64) bool { return false }

// encodeExtension writes the message's own records (in increasing type
// order) merged with the caller's extra records.
func encodeExtension(w *bytes.Buffer, own, extra tlv.Stream) error {
	if len(extra) == 0 {
		w.Write(own.AppendTo(w.AvailableBuffer()))
		return nil
	}
	if err := extra.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrExtraConflict, err)
	}
	all := make(tlv.Stream, 0, len(own)+len(extra))
	i, j := 0, 0
	for i < len(own) || j < len(extra) {
		switch {
		case j == len(extra) || (i < len(own) && own[i].Type < extra[j].Type):
			all = append(all, own[i])
			i++
		case i == len(own) || extra[j].Type < own[i].Type:
			all = append(all, extra[j])
			j++
		default:
			return fmt.Errorf("%w: type %d", ErrExtraConflict,
				own[i].Type)
		}
	}
	w.Write(all.AppendTo(w.AvailableBuffer()))
	return nil
}

// tlvFixed checks that a known record has exactly n bytes.
func tlvFixed(r tlv.Record, n int) error {
	if len(r.Value) != n {
		return fmt.Errorf("%w: type %d has %d bytes, want %d",
			ErrTLVLength, r.Type, len(r.Value), n)
	}
	return nil
}
