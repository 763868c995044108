package shachain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

var (
	// ErrSecretMismatch is returned when a new secret does not derive the
	// secrets already stored: the sender is not using one seed.
	ErrSecretMismatch = errors.New("shachain: secret does not derive " +
		"previously received secrets")

	// ErrUnexpectedIndex is returned when a secret arrives out of order:
	// the first must have index 2^48-1 and each next one the index below.
	ErrUnexpectedIndex = errors.New("shachain: secret index out of order")

	// ErrUnknownIndex is returned by LookUp for a secret not received yet.
	ErrUnknownIndex = errors.New("shachain: secret for index not received")

	// ErrInvalidEncoding is returned by Decode for malformed input.
	ErrInvalidEncoding = errors.New("shachain: invalid store encoding")
)

// numBuckets is one bucket per count of trailing zero bits (0..48).
const numBuckets = 49

type element struct {
	index  uint64
	secret [32]byte
}

// Store is the receiver's compact storage of a peer's per-commitment
// secrets: at most 49 (index, secret) pairs from which every secret received
// so far can be derived. The zero value is an empty store. A Store is not
// safe for concurrent use.
type Store struct {
	// known[b] holds the most recent secret whose index has b trailing
	// zeros; buckets fill from 0 upward, so known[:n] are all valid.
	known [numBuckets]element
	n     int

	// next is the index the next inserted secret must have.
	next uint64
	// started reports that a secret has been inserted.
	started bool
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{}
}

// bucketFor returns the number of trailing zeros of a 48-bit index, 48 for
// index 0 (where_to_put_secret).
func bucketFor(index uint64) int {
	if index == 0 {
		return 48
	}
	return bits.TrailingZeros64(index)
}

// NextIndex returns the index the next secret must carry.
func (s *Store) NextIndex() uint64 {
	if !s.started {
		return MaxIndex
	}
	return s.next
}

// Insert adds the secret for index (insert_secret). Secrets must arrive in
// order, starting at index 2^48-1 and counting down, and each must derive
// the secrets it makes redundant; otherwise the store is left unchanged and
// ErrUnexpectedIndex or ErrSecretMismatch is returned.
func (s *Store) Insert(index uint64, secret [32]byte) error {
	if index > MaxIndex {
		return fmt.Errorf("insert secret %d: %w", index,
			ErrIndexOutOfRange)
	}
	if s.started && s.next == MaxIndex+1 {
		return fmt.Errorf("insert secret %d: store is full: %w", index,
			ErrUnexpectedIndex)
	}
	if want := s.NextIndex(); index != want {
		return fmt.Errorf("insert secret %d, want %d: %w", index, want,
			ErrUnexpectedIndex)
	}

	b := bucketFor(index)
	for i := 0; i < b && i < s.n; i++ {
		got := deriveSecret(secret, uint8(b), s.known[i].index)
		if got != s.known[i].secret {
			return fmt.Errorf("insert secret %d: %w", index,
				ErrSecretMismatch)
		}
	}

	s.known[b] = element{index: index, secret: secret}
	if b+1 > s.n {
		s.n = b + 1
	}
	s.started = true
	if index == 0 {
		// Every index has been received; mark the store as full.
		s.next = MaxIndex + 1
	} else {
		s.next = index - 1
	}
	return nil
}

// LookUp returns the secret received for index (derive_old_secret).
func (s *Store) LookUp(index uint64) ([32]byte, error) {
	if index > MaxIndex {
		return [32]byte{}, fmt.Errorf("look up %d: %w", index,
			ErrIndexOutOfRange)
	}
	for b := 0; b < s.n; b++ {
		mask := ^(uint64(1)<<uint(b) - 1)
		if index&mask == s.known[b].index {
			return deriveSecret(s.known[b].secret, uint8(b), index),
				nil
		}
	}
	return [32]byte{}, fmt.Errorf("look up %d: %w", index, ErrUnknownIndex)
}

// LookUpCommitment returns the secret of the given commitment number.
func (s *Store) LookUpCommitment(commitNum uint64) ([32]byte, error) {
	idx, err := IndexForCommitment(commitNum)
	if err != nil {
		return [32]byte{}, err
	}
	return s.LookUp(idx)
}

// Len returns the number of stored (index, secret) pairs.
func (s *Store) Len() int {
	return s.n
}

// elementSize is one serialized bucket: 8-byte index, 32-byte secret.
const elementSize = 8 + 32

// MarshalBinary encodes the store as one count byte followed by that many
// buckets, each an 8-byte big-endian index and a 32-byte secret, lowest
// bucket first. An empty store encodes as a single zero byte.
func (s *Store) MarshalBinary() ([]byte, error) {
	out := make([]byte, 1, 1+s.n*elementSize)
	out[0] = byte(s.n)
	for i := 0; i < s.n; i++ {
		out = binary.BigEndian.AppendUint64(out, s.known[i].index)
		out = append(out, s.known[i].secret[:]...)
	}
	return out, nil
}

// UnmarshalBinary decodes a store written by MarshalBinary. It checks that
// the buckets are exactly those a store filled in order would hold, so a
// decoded store accepts the next secret in sequence and nothing else.
func (s *Store) UnmarshalBinary(data []byte) error {
	if len(data) < 1 {
		return fmt.Errorf("%w: empty", ErrInvalidEncoding)
	}
	n := int(data[0])
	if n > numBuckets {
		return fmt.Errorf("%w: %d buckets", ErrInvalidEncoding, n)
	}
	if len(data) != 1+n*elementSize {
		return fmt.Errorf("%w: length %d for %d buckets",
			ErrInvalidEncoding, len(data), n)
	}

	var d Store
	d.n = n
	minIndex := MaxIndex + 1
	for i := 0; i < n; i++ {
		off := 1 + i*elementSize
		e := element{index: binary.BigEndian.Uint64(data[off:])}
		copy(e.secret[:], data[off+8:off+elementSize])
		if e.index > MaxIndex {
			return fmt.Errorf("%w: index %d", ErrInvalidEncoding,
				e.index)
		}
		d.known[i] = e
		minIndex = min(minIndex, e.index)
	}
	if n == 0 {
		*s = d
		return nil
	}

	// After receiving every index from MaxIndex down to minIndex, bucket
	// b holds the lowest index >= minIndex with exactly b trailing zeros,
	// and the buckets for which such an index exists are 0..n-1.
	for b := 0; b < numBuckets; b++ {
		want, ok := lowestWithZeros(minIndex, b)
		if b >= n {
			if ok {
				return fmt.Errorf("%w: bucket %d missing",
					ErrInvalidEncoding, b)
			}
			break
		}
		if !ok || d.known[b].index != want {
			return fmt.Errorf("%w: bucket %d holds index %d",
				ErrInvalidEncoding, b, d.known[b].index)
		}
	}

	d.started = true
	if minIndex == 0 {
		d.next = MaxIndex + 1
	} else {
		d.next = minIndex - 1
	}
	*s = d
	return nil
}

// lowestWithZeros returns the lowest index in [from, MaxIndex] with exactly
// b trailing zero bits (index 0 for b == 48).
func lowestWithZeros(from uint64, b int) (uint64, bool) {
	if b == 48 {
		return 0, from == 0
	}
	step := uint64(1) << uint(b)
	// Round up to a multiple of 2^b, then to an odd multiple.
	x := (from + step - 1) &^ (step - 1)
	if (x>>uint(b))&1 == 0 {
		x += step
	}
	return x, x <= MaxIndex
}
