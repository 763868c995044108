package shachain

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// MaxIndex is the index of the first secret of a channel (2^48 - 1); later
// commitments count down from it.
const MaxIndex uint64 = 1<<48 - 1

// ErrIndexOutOfRange is returned for an index that does not fit in 48 bits.
var ErrIndexOutOfRange = errors.New("shachain: index exceeds 48 bits")

// IndexForCommitment maps a commitment number (0 for the first commitment)
// to its shachain index.
func IndexForCommitment(commitNum uint64) (uint64, error) {
	if commitNum > MaxIndex {
		return 0, ErrIndexOutOfRange
	}
	return MaxIndex - commitNum, nil
}

// deriveSecret applies the BOLT 3 derive_secret step: starting from base,
// whose index shares bits 47..bits with index, flip and hash for every set
// bit of index below bits.
func deriveSecret(base [32]byte, bits uint8, index uint64) [32]byte {
	p := base
	for b := int(bits) - 1; b >= 0; b-- {
		if index&(1<<uint(b)) != 0 {
			p[b/8] ^= 1 << (uint(b) % 8)
			p = sha256.Sum256(p[:])
		}
	}
	return p
}

// Producer generates the per-commitment secrets of one channel from its
// seed. The seed must stay secret; the Producer never reveals it.
type Producer struct {
	seed [32]byte
}

// NewProducer returns a Producer for the given seed.
func NewProducer(seed [32]byte) *Producer {
	return &Producer{seed: seed}
}

// AtIndex returns the secret at a 48-bit shachain index
// (generate_from_seed).
func (p *Producer) AtIndex(index uint64) ([32]byte, error) {
	if index > MaxIndex {
		return [32]byte{}, fmt.Errorf("generate secret %d: %w", index,
			ErrIndexOutOfRange)
	}
	return deriveSecret(p.seed, 48, index), nil
}

// ForCommitment returns the secret of the given commitment number (0 for the
// first commitment, whose index is 2^48-1).
func (p *Producer) ForCommitment(commitNum uint64) ([32]byte, error) {
	idx, err := IndexForCommitment(commitNum)
	if err != nil {
		return [32]byte{}, fmt.Errorf("commitment %d: %w", commitNum, err)
	}
	return p.AtIndex(idx)
}
