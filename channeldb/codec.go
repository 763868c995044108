package channeldb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// recWriter builds a record; the encoding is big-endian, lengths are
// explicit. (The name keeps clear of the open-channel codec.)
type recWriter struct{ b []byte }

func (w *recWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *recWriter) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *recWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *recWriter) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *recWriter) uvarint(v uint64) {
	w.b = binary.AppendUvarint(w.b, v)
}

func (w *recWriter) bool(v bool) {
	if v {
		w.u8(1)
	} else {
		w.u8(0)
	}
}

func (w *recWriter) raw(v []byte) { w.b = append(w.b, v...) }

// bytes writes a length-prefixed (uvarint) byte string.
func (w *recWriter) bytes(v []byte) {
	w.uvarint(uint64(len(v)))
	w.raw(v)
}

func (w *recWriter) pubkey(k *btcec.PublicKey) { w.raw(k.SerializeCompressed()) }
func (w *recWriter) outpoint(op wire.OutPoint) { w.raw(outpointKey(op)) }

// recReader decodes a record. The first failure sticks: later reads
// return zero values, and err reports the first.
type recReader struct {
	b   []byte
	off int
	err error
}

var (
	errTruncated = errors.New("truncated")
	errTrailing  = errors.New("trailing bytes")
)

func (r *recReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *recReader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail(fmt.Errorf("%w: %s needs %d bytes at offset %d, %d left",
			errTruncated, what, n, r.off, len(r.b)-r.off))
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *recReader) u8(what string) uint8 {
	if v := r.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (r *recReader) u16(what string) uint16 {
	if v := r.take(2, what); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *recReader) u32(what string) uint32 {
	if v := r.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *recReader) u64(what string) uint64 {
	if v := r.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *recReader) uvarint(what string) uint64 { return r.uvarintNamed(what, "") }

// uvarintNamed is uvarint of the field named what+suffix, the name
// joined only for an error (count's names are on every record's path).
func (r *recReader) uvarintNamed(what, suffix string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		if n == 0 {
			r.fail(fmt.Errorf("%w: %s%s at offset %d", errTruncated, what, suffix, r.off))
		} else {
			r.fail(fmt.Errorf("%s%s at offset %d: varint overflows", what, suffix, r.off))
		}
		return 0
	}
	// Minimal: as many bytes as v's significant bits need, 7 a byte.
	if n != max(1, (bits.Len64(v)+6)/7) {
		r.fail(fmt.Errorf("%s%s at offset %d: varint not minimally encoded", what, suffix, r.off))
		return 0
	}
	r.off += n
	return v
}

func (r *recReader) bool(what string) bool {
	switch r.u8(what) {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(fmt.Errorf("%s: not a boolean", what))
	return false
}

// bytes reads a length-prefixed byte string of at most max bytes, copied
// out of the transaction's memory.
func (r *recReader) bytes(max int, what string) []byte {
	n := r.uvarint(what + " length")
	if r.err == nil && n > uint64(max) {
		r.fail(fmt.Errorf("%s: length %d exceeds %d", what, n, max))
	}
	if r.err != nil {
		return nil
	}
	return clone(r.take(int(n), what))
}

func (r *recReader) hash(what string) (h chainhash.Hash) {
	copy(h[:], r.take(32, what))
	return h
}

func (r *recReader) bytes32(what string) (v [32]byte) {
	copy(v[:], r.take(32, what))
	return v
}

func (r *recReader) pubkey(what string) *btcec.PublicKey {
	v := r.take(33, what)
	if v == nil {
		return nil
	}
	k, err := btcec.ParsePubKey(v)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return nil
	}
	return k
}

func (r *recReader) outpoint(what string) wire.OutPoint {
	v := r.take(36, what)
	if v == nil {
		return wire.OutPoint{}
	}
	op, _ := parseOutpointKey(v)
	return op
}

// amount reads a satoshi amount, which no valid record holds above 21M
// BTC.
func (r *recReader) amount(what string) btcutil.Amount {
	return r.checkAmount(r.u64(what), what)
}

func (r *recReader) varAmount(what string) btcutil.Amount {
	return r.checkAmount(r.uvarint(what), what)
}

func (r *recReader) checkAmount(v uint64, what string) btcutil.Amount {
	if v > btcutil.MaxSatoshi {
		r.fail(fmt.Errorf("%s: %d sat exceeds 21M BTC", what, v))
		return 0
	}
	return btcutil.Amount(v)
}

// count reads a list length, refusing one that cannot fit in what is
// left given each element's minimum size.
func (r *recReader) count(minSize int, what string) int {
	n := r.uvarintNamed(what, " count")
	if r.err == nil && n > uint64(len(r.b)-r.off)/uint64(minSize) {
		r.fail(fmt.Errorf("%w: %d %s cannot fit in %d bytes",
			errTruncated, n, what, len(r.b)-r.off))
	}
	if r.err != nil || n > math.MaxInt32 {
		return 0
	}
	return int(n)
}

// version checks the record's leading version byte.
func (r *recReader) version(want uint8) {
	if v := r.u8("version"); r.err == nil && v != want {
		r.fail(fmt.Errorf("%w %d (this code writes %d)", ErrUnknownVersion, v, want))
	}
}

// done checks that the whole record was read and returns the first
// failure.
func (r *recReader) done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("%w: %d after offset %d", errTrailing, len(r.b)-r.off, r.off))
	}
	return r.err
}

// finish is done, naming the record in the error.
func (r *recReader) finish(kind, key string) error {
	if err := r.done(); err != nil {
		return NewRecordError(kind, key, err)
	}
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// outpointKey is the 36-byte key of a channel point: txid, then the
// index big-endian.
func outpointKey(op wire.OutPoint) []byte {
	k := make([]byte, 36)
	copy(k, op.Hash[:])
	binary.BigEndian.PutUint32(k[32:], op.Index)
	return k
}

func parseOutpointKey(k []byte) (wire.OutPoint, bool) {
	var op wire.OutPoint
	if len(k) != 36 {
		return op, false
	}
	copy(op.Hash[:], k)
	op.Index = binary.BigEndian.Uint32(k[32:])
	return op, true
}

func u64Key(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
