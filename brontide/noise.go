package brontide

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

const (
	// protocolName is hashed into the initial handshake state.
	protocolName = "Noise_XK_secp256k1_ChaChaPoly_SHA256"

	// prologue is mixed into the handshake digest after the protocol
	// name.
	prologue = "lightning"

	// handshakeVersion is the only act version BOLT 8 defines.
	handshakeVersion = 0

	// macSize is the size of a Poly1305 tag.
	macSize = chacha20poly1305.Overhead

	// pubKeySize is the size of a compressed secp256k1 public key.
	pubKeySize = 33

	// ActOneSize is the size of act one: version, ephemeral key, tag.
	ActOneSize = 1 + pubKeySize + macSize

	// ActTwoSize is the size of act two: version, ephemeral key, tag.
	ActTwoSize = 1 + pubKeySize + macSize

	// ActThreeSize is the size of act three: version, encrypted static
	// key with its tag, final tag.
	ActThreeSize = 1 + pubKeySize + macSize + macSize

	// MaxMessageSize is the largest Lightning message BOLT 8 carries.
	MaxMessageSize = 65535

	// LengthHeaderSize is the size of an encrypted length prefix: two
	// bytes of big-endian length and their tag.
	LengthHeaderSize = 2 + macSize

	// MaxPacketSize is the largest packet on the wire: header, the
	// largest message, and the message tag.
	MaxPacketSize = LengthHeaderSize + MaxMessageSize + macSize

	// keyRotationInterval is the nonce value at which a transport key is
	// rotated (BOLT 8 "Lightning Message Key Rotation").
	keyRotationInterval = 1000
)

// hkdf64 returns the two 32-byte halves of HKDF-SHA256(salt, ikm) with empty
// info, as BOLT 8 defines HKDF.
func hkdf64(salt, ikm []byte) (first, second [32]byte) {
	r := hkdf.New(sha256.New, ikm, salt, nil)
	var out [64]byte
	// HKDF-SHA256 can produce up to 8160 bytes; 64 never fails.
	if _, err := io.ReadFull(r, out[:]); err != nil {
		panic("brontide: hkdf cannot produce 64 bytes: " + err.Error())
	}
	copy(first[:], out[:32])
	copy(second[:], out[32:])
	return first, second
}

// newAEAD builds a ChaCha20-Poly1305 instance. A 32-byte key never fails.
func newAEAD(key [32]byte) cipher.AEAD {
	aead, err := chacha20poly1305.New(key[:])
	if err != nil {
		panic("brontide: chacha20poly1305 rejects a 32-byte key: " + err.Error())
	}
	return aead
}

// cipherState is one direction of key material: a ChaCha20-Poly1305 key,
// its 64-bit nonce and, for transport keys, the chaining key used to rotate
// it.
type cipherState struct {
	nonce  uint64
	key    [32]byte
	salt   [32]byte // chaining key for rotation (sck or rck)
	aead   cipher.AEAD
	rotate bool // transport keys rotate, handshake keys do not
	nb     [chacha20poly1305.NonceSize]byte
	lbuf   [2]byte // length prefix scratch, kept here so it does not escape
}

func (c *cipherState) init(key, salt [32]byte, rotate bool) {
	c.key = key
	c.salt = salt
	c.nonce = 0
	c.rotate = rotate
	c.aead = newAEAD(key)
}

// nonceBytes encodes the nonce as 32 zero bits followed by the 64-bit
// little-endian counter, the Noise convention BOLT 8 follows.
func (c *cipherState) nonceBytes() []byte {
	binary.LittleEndian.PutUint64(c.nb[4:], c.nonce)
	return c.nb[:]
}

// advance increments the nonce and rotates the key once it reaches 1000.
func (c *cipherState) advance() {
	c.nonce++
	if c.rotate && c.nonce == keyRotationInterval {
		salt, key := hkdf64(c.salt[:], c.key[:])
		c.init(key, salt, true)
	}
}

// seal appends the encryption of plaintext to dst and advances the nonce.
func (c *cipherState) seal(dst, ad, plaintext []byte) []byte {
	out := c.aead.Seal(dst, c.nonceBytes(), plaintext, ad)
	c.advance()
	return out
}

// open appends the decryption of ciphertext to dst and advances the nonce.
// On failure the nonce does not move; callers treat any failure as fatal.
func (c *cipherState) open(dst, ad, ciphertext []byte) ([]byte, error) {
	out, err := c.aead.Open(dst, c.nonceBytes(), ciphertext, ad)
	if err != nil {
		return nil, ErrMACMismatch
	}
	c.advance()
	return out, nil
}

// handshakeStep is the next thing a Machine expects to do.
type handshakeStep uint8

const (
	stepActOne handshakeStep = iota
	stepActTwo
	stepActThree
	stepDone
	stepFailed
)

// MachineOption configures a Machine.
type MachineOption func(*Machine)

// WithEphemeralKeyGen replaces the ephemeral key generator. BOLT 8 requires
// a fresh random key per session; this option exists so tests can inject
// the fixed keys of the Appendix A vectors. Never use it otherwise.
func WithEphemeralKeyGen(gen func() (*btcec.PrivateKey, error)) MachineOption {
	return func(m *Machine) {
		m.ephemeralGen = gen
	}
}

// Machine is the BOLT 8 state for one session: the Noise_XK handshake and,
// after it, the two transport cipher states. It performs no I/O.
//
// The handshake methods must be called in order by one goroutine. After the
// handshake, the sending methods (EncryptMessage) and the receiving methods
// (DecryptHeader, DecryptBody, DecryptMessage) touch disjoint state, so one
// goroutine may send while another receives; each side on its own is not
// safe for concurrent use.
type Machine struct {
	initiator bool
	step      handshakeStep

	localStatic     ECDH
	localEphemeral  *btcec.PrivateKey
	remoteStatic    *btcec.PublicKey
	remoteEphemeral *btcec.PublicKey
	ephemeralGen    func() (*btcec.PrivateKey, error)

	// Symmetric handshake state: chaining key, handshake digest and the
	// current temporary key (temp_k1, temp_k2, temp_k3 in turn).
	ck [32]byte
	h  [32]byte
	hs cipherState

	send cipherState
	recv cipherState

	// pendingLen is the body length announced by the last decrypted
	// header, or -1 when the next thing to decrypt is a header.
	pendingLen int

	// recvFailed is set once a packet failed to decrypt: the stream is
	// then out of step and nothing more can be read from it. It belongs
	// to the receiving side only, so it does not race with sending.
	recvFailed bool
}

// NewMachine returns the handshake state for one session. The initiator
// must know the responder's static key (remotePub); a responder passes nil
// and learns the initiator's key in act three.
func NewMachine(initiator bool, local ECDH, remotePub *btcec.PublicKey,
	opts ...MachineOption) (*Machine, error) {

	if local == nil || local.PubKey() == nil {
		return nil, ErrNoLocalKey
	}
	if initiator && remotePub == nil {
		return nil, ErrNoRemoteKey
	}

	m := &Machine{
		initiator:    initiator,
		localStatic:  local,
		ephemeralGen: btcec.NewPrivateKey,
		pendingLen:   -1,
	}
	if initiator {
		m.remoteStatic = remotePub
	}
	for _, opt := range opts {
		opt(m)
	}

	m.h = sha256.Sum256([]byte(protocolName))
	m.ck = m.h
	m.mixHash([]byte(prologue))
	if initiator {
		m.mixHash(remotePub.SerializeCompressed())
	} else {
		m.mixHash(local.PubKey().SerializeCompressed())
	}
	return m, nil
}

// mixHash sets h = SHA256(h || data).
func (m *Machine) mixHash(data []byte) {
	s := sha256.New()
	s.Write(m.h[:])
	s.Write(data)
	s.Sum(m.h[:0])
}

// mixKey sets ck, temp_k = HKDF(ck, ikm) and resets the temporary key's
// nonce.
func (m *Machine) mixKey(ikm [32]byte) {
	ck, tempK := hkdf64(m.ck[:], ikm[:])
	m.ck = ck
	m.hs.init(tempK, [32]byte{}, false)
}

// encryptAndHash encrypts plaintext under the temporary key with h as
// associated data, then mixes the ciphertext into h.
func (m *Machine) encryptAndHash(dst, plaintext []byte) []byte {
	out := m.hs.seal(dst, m.h[:], plaintext)
	m.mixHash(out[len(dst):])
	return out
}

// decryptAndHash is the inverse of encryptAndHash.
func (m *Machine) decryptAndHash(ciphertext []byte) ([]byte, error) {
	plain, err := m.hs.open(nil, m.h[:], ciphertext)
	if err != nil {
		return nil, err
	}
	m.mixHash(ciphertext)
	return plain, nil
}

// expect checks that the machine is at step s in the given role.
func (m *Machine) expect(s handshakeStep, initiator bool) error {
	if m.step != s || m.initiator != initiator {
		return ErrWrongState
	}
	return nil
}

// fail marks the machine unusable and returns err.
func (m *Machine) fail(err error) error {
	m.step = stepFailed
	return err
}

// genEphemeral produces this session's ephemeral key.
func (m *Machine) genEphemeral() error {
	e, err := m.ephemeralGen()
	if err != nil {
		return fmt.Errorf("brontide: generate ephemeral key: %w", err)
	}
	if e == nil || e.Key.IsZero() {
		return ErrInvalidPrivKey
	}
	m.localEphemeral = e
	return nil
}

// parsePubKey accepts exactly a 33-byte compressed point.
func parsePubKey(b []byte) (*btcec.PublicKey, error) {
	if len(b) != pubKeySize || (b[0] != 0x02 && b[0] != 0x03) {
		return nil, ErrBadPubKey
	}
	pub, err := btcec.ParsePubKey(b)
	if err != nil {
		return nil, ErrBadPubKey
	}
	return pub, nil
}

// GenActOne is the initiator's first step: "-> e, es".
func (m *Machine) GenActOne() ([ActOneSize]byte, error) {
	var act [ActOneSize]byte
	if err := m.expect(stepActOne, true); err != nil {
		return act, err
	}
	if err := m.genEphemeral(); err != nil {
		return act, m.fail(err)
	}
	ephPub := m.localEphemeral.PubKey().SerializeCompressed()
	m.mixHash(ephPub)
	m.mixKey(ecdh(m.localEphemeral, m.remoteStatic))

	act[0] = handshakeVersion
	copy(act[1:], ephPub)
	m.encryptAndHash(act[1+pubKeySize:1+pubKeySize], nil)
	m.step = stepActTwo
	return act, nil
}

// RecvActOne is the responder's first step: it checks the initiator's act
// one, which proves the initiator knows our static key.
func (m *Machine) RecvActOne(act []byte) error {
	if err := m.expect(stepActOne, false); err != nil {
		return err
	}
	if len(act) != ActOneSize {
		return m.fail(fmt.Errorf("act one: %w", ErrActLength))
	}
	if act[0] != handshakeVersion {
		return m.fail(fmt.Errorf("act one: %w %d", ErrBadVersion, act[0]))
	}
	re, err := parsePubKey(act[1 : 1+pubKeySize])
	if err != nil {
		return m.fail(fmt.Errorf("act one: %w", err))
	}
	m.remoteEphemeral = re
	m.mixHash(act[1 : 1+pubKeySize])

	es, err := m.localStatic.ECDH(re)
	if err != nil {
		return m.fail(fmt.Errorf("act one: static ECDH: %w", err))
	}
	m.mixKey(es)
	if _, err := m.decryptAndHash(act[1+pubKeySize:]); err != nil {
		return m.fail(fmt.Errorf("act one: %w", err))
	}
	m.step = stepActTwo
	return nil
}

// GenActTwo is the responder's reply: "<- e, ee".
func (m *Machine) GenActTwo() ([ActTwoSize]byte, error) {
	var act [ActTwoSize]byte
	if err := m.expect(stepActTwo, false); err != nil {
		return act, err
	}
	if err := m.genEphemeral(); err != nil {
		return act, m.fail(err)
	}
	ephPub := m.localEphemeral.PubKey().SerializeCompressed()
	m.mixHash(ephPub)
	m.mixKey(ecdh(m.localEphemeral, m.remoteEphemeral))

	act[0] = handshakeVersion
	copy(act[1:], ephPub)
	m.encryptAndHash(act[1+pubKeySize:1+pubKeySize], nil)
	m.step = stepActThree
	return act, nil
}

// RecvActTwo is the initiator's check of the responder's act two.
func (m *Machine) RecvActTwo(act []byte) error {
	if err := m.expect(stepActTwo, true); err != nil {
		return err
	}
	if len(act) != ActTwoSize {
		return m.fail(fmt.Errorf("act two: %w", ErrActLength))
	}
	if act[0] != handshakeVersion {
		return m.fail(fmt.Errorf("act two: %w %d", ErrBadVersion, act[0]))
	}
	re, err := parsePubKey(act[1 : 1+pubKeySize])
	if err != nil {
		return m.fail(fmt.Errorf("act two: %w", err))
	}
	m.remoteEphemeral = re
	m.mixHash(act[1 : 1+pubKeySize])
	m.mixKey(ecdh(m.localEphemeral, re))
	if _, err := m.decryptAndHash(act[1+pubKeySize:]); err != nil {
		return m.fail(fmt.Errorf("act two: %w", err))
	}
	m.step = stepActThree
	return nil
}

// GenActThree is the initiator's last step: "-> s, se". It sends our static
// key encrypted and derives the transport keys.
func (m *Machine) GenActThree() ([ActThreeSize]byte, error) {
	var act [ActThreeSize]byte
	if err := m.expect(stepActThree, true); err != nil {
		return act, err
	}
	se, err := m.localStatic.ECDH(m.remoteEphemeral)
	if err != nil {
		return act, m.fail(fmt.Errorf("act three: static ECDH: %w", err))
	}

	act[0] = handshakeVersion
	// temp_k2 with nonce 1 encrypts the static key.
	m.encryptAndHash(act[1:1], m.localStatic.PubKey().SerializeCompressed())
	m.mixKey(se)
	m.encryptAndHash(act[1+pubKeySize+macSize:1+pubKeySize+macSize], nil)

	m.split()
	return act, nil
}

// RecvActThree is the responder's last step: it learns and authenticates
// the initiator's static key and derives the transport keys.
func (m *Machine) RecvActThree(act []byte) error {
	if err := m.expect(stepActThree, false); err != nil {
		return err
	}
	if len(act) != ActThreeSize {
		return m.fail(fmt.Errorf("act three: %w", ErrActLength))
	}
	if act[0] != handshakeVersion {
		return m.fail(fmt.Errorf("act three: %w %d", ErrBadVersion, act[0]))
	}
	encStatic := act[1 : 1+pubKeySize+macSize]
	tag := act[1+pubKeySize+macSize:]

	rsBytes, err := m.decryptAndHash(encStatic)
	if err != nil {
		return m.fail(fmt.Errorf("act three: static key: %w", err))
	}
	rs, err := parsePubKey(rsBytes)
	if err != nil {
		return m.fail(fmt.Errorf("act three: %w", err))
	}
	m.remoteStatic = rs
	m.mixKey(ecdh(m.localEphemeral, rs))
	if _, err := m.decryptAndHash(tag); err != nil {
		return m.fail(fmt.Errorf("act three: %w", err))
	}

	m.split()
	return nil
}

// split derives the transport keys from the final chaining key and forgets
// the handshake secrets. The initiator sends with the first key, the
// responder with the second.
func (m *Machine) split() {
	k1, k2 := hkdf64(m.ck[:], nil)
	if m.initiator {
		m.send.init(k1, m.ck, true)
		m.recv.init(k2, m.ck, true)
	} else {
		m.recv.init(k1, m.ck, true)
		m.send.init(k2, m.ck, true)
	}
	m.localEphemeral = nil
	m.hs = cipherState{}
	m.step = stepDone
}

// HandshakeComplete reports whether the transport keys are ready.
func (m *Machine) HandshakeComplete() bool {
	return m.step == stepDone
}

// RemotePub returns the remote static key: known from the start for an
// initiator, learnt in act three by a responder (nil before).
func (m *Machine) RemotePub() *btcec.PublicKey {
	return m.remoteStatic
}

// LocalPub returns our static key.
func (m *Machine) LocalPub() *btcec.PublicKey {
	return m.localStatic.PubKey()
}

// EncryptMessage appends the wire packet for msg to dst: the encrypted
// two-byte length with its tag, then the encrypted message with its tag.
// It consumes two sending nonces. Messages longer than MaxMessageSize are
// refused.
func (m *Machine) EncryptMessage(dst, msg []byte) ([]byte, error) {
	if m.step != stepDone {
		return dst, ErrWrongState
	}
	if len(msg) > MaxMessageSize {
		return dst, ErrMessageTooLarge
	}
	l := m.send.lbuf[:]
	binary.BigEndian.PutUint16(l, uint16(len(msg)))
	dst = m.send.seal(dst, nil, l)
	dst = m.send.seal(dst, nil, msg)
	return dst, nil
}

// DecryptHeader decrypts an encrypted length prefix (LengthHeaderSize
// bytes) and returns the length of the body that follows. The body, len
// plus 16 bytes on the wire, must then be passed to DecryptBody.
func (m *Machine) DecryptHeader(header []byte) (int, error) {
	if m.step != stepDone || m.recvFailed || m.pendingLen >= 0 {
		return 0, ErrWrongState
	}
	if len(header) != LengthHeaderSize {
		return 0, ErrPacketLength
	}
	l, err := m.recv.open(m.recv.lbuf[:0], nil, header)
	if err != nil {
		m.recvFailed = true
		return 0, fmt.Errorf("length header: %w", err)
	}
	m.pendingLen = int(binary.BigEndian.Uint16(l))
	return m.pendingLen, nil
}

// DecryptBody decrypts the body announced by the last DecryptHeader and
// appends the plaintext to dst. body must be exactly the announced length
// plus 16 bytes. dst and body may be the same slice (dst = body[:0]) to
// decrypt in place.
func (m *Machine) DecryptBody(dst, body []byte) ([]byte, error) {
	if m.step != stepDone || m.recvFailed || m.pendingLen < 0 {
		return dst, ErrWrongState
	}
	if len(body) != m.pendingLen+macSize {
		return dst, ErrPacketLength
	}
	out, err := m.recv.open(dst, nil, body)
	if err != nil {
		m.recvFailed = true
		return dst, fmt.Errorf("message body: %w", err)
	}
	m.pendingLen = -1
	return out, nil
}

// DecryptMessage decrypts one whole packet as produced by EncryptMessage
// and returns the message in a new slice. packet must hold exactly one
// packet.
func (m *Machine) DecryptMessage(packet []byte) ([]byte, error) {
	if len(packet) < LengthHeaderSize {
		return nil, ErrPacketLength
	}
	n, err := m.DecryptHeader(packet[:LengthHeaderSize])
	if err != nil {
		return nil, err
	}
	if len(packet) != LengthHeaderSize+n+macSize {
		m.recvFailed = true
		return nil, ErrPacketLength
	}
	return m.DecryptBody(make([]byte, 0, n), packet[LengthHeaderSize:])
}
