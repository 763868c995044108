package wallet

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/tyler-smith/go-bip39"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// MnemonicWords is the length of the mnemonics this wallet creates.
const MnemonicWords = 24

// InsecurePassword is the password of a wallet created without one (the
// development option, CreateParams.NoPassword). Such a wallet is flagged in
// its database; its seed is only obfuscated, not protected.
var insecurePassword = []byte("xlnd insecure wallet: no password set")

// ScryptParams are the cost parameters of the key derivation that protects
// the seed. They are stored beside the ciphertext, so a wallet opens with
// whatever parameters it was sealed with.
type ScryptParams struct {
	N, R, P uint32
}

// DefaultScryptParams: 2^17 × 8 uses 128 MiB and about half a second, which
// is a one-off at unlock.
var DefaultScryptParams = ScryptParams{N: 1 << 17, R: 8, P: 1}

// validate refuses parameters that scrypt would reject or that would make
// unlocking hang or exhaust memory (a corrupted or hostile database).
func (s ScryptParams) validate() error {
	switch {
	case s.N < 2 || s.N&(s.N-1) != 0:
		return fmt.Errorf("scrypt N %d is not a power of two > 1", s.N)
	case s.N > 1<<22:
		return fmt.Errorf("scrypt N %d too large", s.N)
	case s.R == 0 || s.R > 32:
		return fmt.Errorf("scrypt r %d out of range", s.R)
	case s.P == 0 || s.P > 16:
		return fmt.Errorf("scrypt p %d out of range", s.P)
	}
	return nil
}

const (
	sealVersion = 1
	saltLen     = 32
	// sealHeaderLen: version, N, r, p, salt, nonce.
	sealHeaderLen = 1 + 4 + 4 + 4 + saltLen + chacha20poly1305.NonceSizeX
)

// sealSeed encrypts the BIP 32 seed with a key stretched from password.
// Layout: version(1) N(4) r(4) p(4) salt(32) nonce(24) ciphertext+tag. The
// header is authenticated as associated data, so a changed parameter is a
// failed open, never a silently different key.
func sealSeed(seed, password []byte, params ScryptParams) ([]byte, error) {
	if err := params.validate(); err != nil {
		return nil, err
	}
	hdr := make([]byte, sealHeaderLen)
	hdr[0] = sealVersion
	binary.BigEndian.PutUint32(hdr[1:], params.N)
	binary.BigEndian.PutUint32(hdr[5:], params.R)
	binary.BigEndian.PutUint32(hdr[9:], params.P)
	if _, err := rand.Read(hdr[13:]); err != nil {
		return nil, fmt.Errorf("random salt and nonce: %w", err)
	}
	salt := hdr[13 : 13+saltLen]
	nonce := hdr[13+saltLen:]

	aead, err := sealingAEAD(password, salt, params)
	if err != nil {
		return nil, err
	}
	return aead.Seal(hdr, nonce, seed, hdr), nil
}

// sealingAEAD derives the seed's key from the password with scrypt and
// returns the XChaCha20-Poly1305 cipher over it; the key itself is wiped
// once the cipher holds its expansion.
func sealingAEAD(password, salt []byte, params ScryptParams) (cipher.AEAD, error) {
	key, err := scrypt.Key(password, salt, int(params.N), int(params.R),
		int(params.P), chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	defer zero(key)
	return chacha20poly1305.NewX(key)
}

// openSeed reverses sealSeed. A wrong password (or a tampered blob) is
// ErrWrongPassword; a malformed blob is a different error.
func openSeed(blob, password []byte) ([]byte, error) {
	if len(blob) < sealHeaderLen+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: sealed seed too short (%d bytes)",
			ErrCorruptDB, len(blob))
	}
	if blob[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown seed encryption version %d",
			ErrCorruptDB, blob[0])
	}
	params := ScryptParams{
		N: binary.BigEndian.Uint32(blob[1:]),
		R: binary.BigEndian.Uint32(blob[5:]),
		P: binary.BigEndian.Uint32(blob[9:]),
	}
	if err := params.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptDB, err)
	}
	hdr := blob[:sealHeaderLen]
	salt := hdr[13 : 13+saltLen]
	nonce := hdr[13+saltLen:]
	aead, err := sealingAEAD(password, salt, params)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, nonce, blob[sealHeaderLen:], hdr)
	if err != nil {
		return nil, ErrWrongPassword
	}
	return seed, nil
}

// NewMnemonic returns a fresh 24-word BIP 39 mnemonic (256 bits of entropy
// from crypto/rand). Show it to the operator once; it is the only backup.
func NewMnemonic() (string, error) {
	entropy, err := bip39.NewEntropy(256)
	if err != nil {
		return "", fmt.Errorf("entropy: %w", err)
	}
	defer zero(entropy)
	return bip39.NewMnemonic(entropy)
}

// normalizeMnemonic trims and lowercases a mnemonic and collapses
// whitespace, then checks its length and checksum against the English word
// list. Restores accept the lengths BIP 39 defines (12 to 24 words) so a
// seed from another wallet can be brought in; new wallets get 24.
func normalizeMnemonic(m string) (string, error) {
	words := strings.Fields(strings.ToLower(m))
	switch len(words) {
	case 12, 15, 18, 21, 24:
	default:
		return "", fmt.Errorf("%w: %d words, want 24 (or 12/15/18/21)",
			ErrInvalidMnemonic, len(words))
	}
	if isAezeed(words) {
		return "", ErrAezeedMnemonic
	}
	norm := strings.Join(words, " ")
	if _, err := bip39.MnemonicToByteArray(norm); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidMnemonic, err)
	}
	return norm, nil
}

// seedFromMnemonic returns the 64-byte BIP 39 seed for a mnemonic and
// optional passphrase.
func seedFromMnemonic(mnemonic, passphrase string) ([]byte, error) {
	norm, err := normalizeMnemonic(mnemonic)
	if err != nil {
		return nil, err
	}
	return bip39.NewSeed(norm, passphrase), nil
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// passwordOrDefault maps the empty password of an insecure wallet.
func passwordOrDefault(pw []byte, insecure bool) []byte {
	if insecure && len(pw) == 0 {
		return insecurePassword
	}
	return pw
}

// aezeedVersion0Len is the size of an lnd aezeed (version 0) mnemonic's
// payload: version, ciphertext, salt and checksum, 33 bytes in 24 words.
const aezeedVersion0Len = 33

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// isAezeed reports whether 24 words are an lnd aezeed mnemonic rather than
// a BIP 39 one. Both use the BIP 39 English list, and one aezeed mnemonic in
// 256 also passes the BIP 39 checksum: restoring it as BIP 39 would
// silently derive another wallet. An aezeed packs 33 bytes into the 264
// bits of its words: a version byte (0), then bytes whose CRC-32C is the
// last four. A BIP 39 mnemonic matches that by chance once in 2^40.
func isAezeed(words []string) bool {
	if len(words) != 24 {
		return false
	}
	var payload [aezeedVersion0Len]byte
	bit := 0
	for _, w := range words {
		idx, ok := bip39.GetWordIndex(w)
		if !ok {
			return false
		}
		for i := 10; i >= 0; i-- {
			if idx>>i&1 == 1 {
				payload[bit/8] |= 0x80 >> (bit % 8)
			}
			bit++
		}
	}
	if payload[0] != 0 {
		return false
	}
	sum := crc32.Checksum(payload[:aezeedVersion0Len-4], castagnoli)
	return binary.BigEndian.Uint32(payload[aezeedVersion0Len-4:]) == sum
}
