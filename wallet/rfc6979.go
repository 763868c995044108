package wallet

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/btcec/v2"
)

// nonceRFC6979 is btcec.NonceRFC6979(key, hash, nil, nil, iter) for a
// 32-byte key and hash: RFC 6979's deterministic nonce with HMAC-SHA256,
// skipping iter valid candidates. It makes the same HMAC computations on
// the stack (btcec's allocates its hashers and each MAC, 15 allocations a
// nonce, a tenth of an invoice signature's non-curve work).
func nonceRFC6979(key, hash *[32]byte, iter uint32) btcec.ModNScalar {
	var (
		k, v [32]byte
		// V || 0x00 or 0x01 || key || hash: the longest message.
		msg [32 + 1 + 64]byte
		mac hmac256
	)
	defer func() {
		k, v, msg = [32]byte{}, [32]byte{}, [len(msg)]byte{}
		mac.wipe()
	}()
	for i := range v {
		v[i] = 1
	}
	copy(msg[33:], key[:])
	copy(msg[65:], hash[:])
	// Steps D to G: K = HMAC_K(V || 0x00 || x || h), V = HMAC_K(V),
	// then again with 0x01.
	for _, sep := range [2]byte{0, 1} {
		copy(msg[:32], v[:])
		msg[32] = sep
		mac.sum(&k, &k, msg[:])
		mac.sum(&v, &k, v[:])
	}
	// Step H: V = HMAC_K(V) is the candidate; an invalid one (or one to
	// skip) moves on with K = HMAC_K(V || 0x00), V = HMAC_K(V).
	var generated uint32
	for {
		mac.sum(&v, &k, v[:])
		var s btcec.ModNScalar
		if overflow := s.SetBytes(&v); overflow == 0 && !s.IsZero() {
			generated++
			if generated > iter {
				return s
			}
		}
		s.Zero()
		copy(msg[:32], v[:])
		msg[32] = 0
		mac.sum(&k, &k, msg[:33])
		mac.sum(&v, &k, v[:])
	}
}

// hmac256 computes HMAC-SHA256 with a 32-byte key in buffers of its own,
// which sha256.Sum256 does not keep (so they stay on the caller's stack).
type hmac256 struct {
	// in is the key XOR ipad, then the message; out the key XOR opad,
	// then the inner hash.
	in  [64 + 97]byte
	out [64 + 32]byte
}

// sum sets dst to HMAC-SHA256(key, m); m is at most 97 bytes. dst may be
// key.
func (h *hmac256) sum(dst, key *[32]byte, m []byte) {
	for i := range 64 {
		var b byte
		if i < 32 {
			b = key[i]
		}
		h.in[i] = b ^ 0x36
		h.out[i] = b ^ 0x5c
	}
	n := copy(h.in[64:], m)
	inner := sha256.Sum256(h.in[:64+n])
	copy(h.out[64:], inner[:])
	*dst = sha256.Sum256(h.out[:])
}

func (h *hmac256) wipe() { *h = hmac256{} }
