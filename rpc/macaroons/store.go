package macaroons

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// RootKeyLen is the length of the root key.
const RootKeyLen = 32

// DefaultRootKeyID is the storage id of the root key of the default
// macaroons (admin, readonly, invoice), as lnd's. Other ids are decimal
// numbers too, chosen by whoever bakes (BakeMacaroon's root_key_id).
const DefaultRootKeyID = "0"

var (
	bucketName = []byte("macrootkeys")
	encKeyName = []byte("enckey")
)

// Scrypt parameters for deriving the encryption key from the password.
const (
	DefaultScryptN = 1 << 15
	scryptR        = 8
	scryptP        = 1
	saltLen        = 32
	encKeyRecLen   = 1 + 12 + saltLen
	encKeyVersion  = 1
	nonceLen       = 24
	sealedLen      = nonceLen + RootKeyLen + secretbox.Overhead
)

var (
	// ErrStoreLocked is returned while the store awaits the password.
	ErrStoreLocked = errors.New("macaroon store is locked")

	// ErrWrongPassword is returned when the password does not decrypt the
	// root key.
	ErrWrongPassword = errors.New("wrong password for macaroon store")

	// ErrCorruptStore is returned for records of the wrong shape.
	ErrCorruptStore = errors.New("macaroon store record is corrupt")

	// ErrUnknownRootKey is returned for a root key id the store does not
	// hold (never created, or deleted: its macaroons are revoked).
	ErrUnknownRootKey = errors.New("unknown macaroon root key id")

	// ErrDeletionForbidden is returned for deleting the default root key,
	// lnd's text.
	ErrDeletionForbidden = errors.New("the specified ID cannot be deleted")
)

// Store keeps the root keys, each encrypted, in a bbolt file, one record
// per root key id beside the key derivation record. It starts locked;
// Unlock with the wallet password decrypts every root key (and, the first
// time, creates the default one).
type Store struct {
	db      *bolt.DB
	scryptN int

	mu     sync.RWMutex
	encKey *[32]byte
	// roots are the decrypted root keys by id; nil while locked.
	roots map[string][]byte
}

// OpenStore opens or creates the store file at path (mode 0600).
func OpenStore(path string) (*Store, error) {
	return OpenStoreN(path, DefaultScryptN)
}

// OpenStoreN is OpenStore with a chosen scrypt cost N for new passwords
// (a power of two; tests use small ones). Existing records keep theirs.
func OpenStoreN(path string, scryptN int) (*Store, error) {
	if scryptN < 2 || scryptN > 1<<20 || scryptN&(scryptN-1) != 0 {
		return nil, fmt.Errorf("scrypt N %d is not a power of two in 2..2^20", scryptN)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open macaroon store %s: %w", path, err)
	}
	// The file may predate us with wider permissions.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketName)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init macaroon store: %w", err)
	}
	return &Store{db: db, scryptN: scryptN}, nil
}

// Close closes the file and forgets the keys.
func (s *Store) Close() error {
	s.mu.Lock()
	s.forget()
	s.mu.Unlock()
	return s.db.Close()
}

// Unlock derives the encryption key from password and decrypts every root
// key. On a new store it records the key derivation parameters and creates
// the default root key.
func (s *Store) Unlock(password []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		rec := b.Get(encKeyName)
		var key *[32]byte
		var err error
		if rec == nil {
			rec, key, err = newEncKey(password, s.scryptN)
			if err != nil {
				return err
			}
			if err := b.Put(encKeyName, rec); err != nil {
				return err
			}
		} else {
			key, err = deriveKey(password, rec)
			if err != nil {
				return err
			}
		}
		if b.Get([]byte(DefaultRootKeyID)) == nil {
			if err := putNewRootKey(b, key, DefaultRootKeyID); err != nil {
				return err
			}
		}
		roots, err := openAll(b, key)
		if err != nil {
			return err
		}
		s.encKey, s.roots = key, roots
		return nil
	})
}

// putNewRootKey stores a fresh random root key under id, sealed with key.
func putNewRootKey(b *bolt.Bucket, key *[32]byte, id string) error {
	root := make([]byte, RootKeyLen)
	if _, err := rand.Read(root); err != nil {
		return err
	}
	sealed, err := seal(key, root)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), sealed)
}

// openAll decrypts every root key record of b with key.
func openAll(b *bolt.Bucket, key *[32]byte) (map[string][]byte, error) {
	roots := make(map[string][]byte)
	err := b.ForEach(func(k, v []byte) error {
		if string(k) == string(encKeyName) {
			return nil
		}
		root, err := open(key, v)
		if err != nil {
			return err
		}
		roots[string(k)] = root
		return nil
	})
	return roots, err
}

// forget drops the decrypted keys. Called with mu held.
func (s *Store) forget() {
	for _, r := range s.roots {
		clear(r)
	}
	s.encKey, s.roots = nil, nil
}

// Reset discards every root key and the password record and creates the
// default root key anew under password: for a new wallet, whose
// credentials must not depend on whatever an earlier wallet in the same
// directory left behind. Every macaroon baked before stops working.
func (s *Store) Reset(password []byte) error {
	s.mu.Lock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketName); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketName)
		return err
	})
	s.forget()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("reset macaroon store: %w", err)
	}
	return s.Unlock(password)
}

// ChangePassword re-encrypts every root key under newPassword, after
// checking oldPassword, in one transaction (Reseal, then Install). The
// store is unlocked afterwards. With rotate every root key is replaced
// too, invalidating every macaroon baked before (the ids stay). The daemon
// changes the wallet's password and the store's together through Reseal
// and Install instead.
func (s *Store) ChangePassword(oldPassword, newPassword []byte, rotate bool) error {
	r, err := s.Reseal(oldPassword, newPassword, rotate)
	if err != nil {
		return err
	}
	if err := s.Install(r); err != nil {
		return err
	}
	return s.Unlock(newPassword)
}

// RootKey returns the decrypted root key stored under id: ErrStoreLocked
// while locked, ErrUnknownRootKey if there is none.
func (s *Store) RootKey(id string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.roots == nil {
		return nil, ErrStoreLocked
	}
	root, ok := s.roots[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownRootKey, id)
	}
	// A copy: the store wipes its own when a key is deleted or the
	// store locked.
	return slices.Clone(root), nil
}

// CreateRootKey makes sure a root key is stored under id, creating a random
// one if there is none, and returns it. The new key is on disk, encrypted,
// before it is returned.
func (s *Store) CreateRootKey(id string) ([]byte, error) {
	if id == "" || id == string(encKeyName) {
		return nil, fmt.Errorf("root key id %q is reserved", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roots == nil {
		return nil, ErrStoreLocked
	}
	if root, ok := s.roots[id]; ok {
		return slices.Clone(root), nil
	}
	var root []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		if err := putNewRootKey(b, s.encKey, id); err != nil {
			return err
		}
		var err error
		root, err = open(s.encKey, b.Get([]byte(id)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create root key %q: %w", id, err)
	}
	s.roots[id] = root
	return slices.Clone(root), nil
}

// RootKeyIDs lists the ids of the stored root keys, sorted.
func (s *Store) RootKeyIDs() ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.roots == nil {
		return nil, ErrStoreLocked
	}
	ids := make([]string, 0, len(s.roots))
	for id := range s.roots {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// DeleteRootKey deletes the root key stored under id, revoking every
// macaroon baked with it, and reports whether there was one. The default
// root key cannot be deleted (ErrDeletionForbidden).
func (s *Store) DeleteRootKey(id string) (bool, error) {
	if id == DefaultRootKeyID || id == string(encKeyName) {
		return false, ErrDeletionForbidden
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roots == nil {
		return false, ErrStoreLocked
	}
	root, ok := s.roots[id]
	if !ok {
		return false, nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketName).Delete([]byte(id))
	})
	if err != nil {
		return false, fmt.Errorf("delete root key %q: %w", id, err)
	}
	clear(root)
	delete(s.roots, id)
	return true, nil
}

// newEncKey returns a fresh derivation record and the key it yields for
// password.
func newEncKey(password []byte, n int) ([]byte, *[32]byte, error) {
	rec := make([]byte, encKeyRecLen)
	rec[0] = encKeyVersion
	binary.BigEndian.PutUint32(rec[1:], uint32(n))
	binary.BigEndian.PutUint32(rec[5:], scryptR)
	binary.BigEndian.PutUint32(rec[9:], scryptP)
	if _, err := rand.Read(rec[13:]); err != nil {
		return nil, nil, err
	}
	key, err := deriveKey(password, rec)
	return rec, key, err
}

func deriveKey(password, rec []byte) (*[32]byte, error) {
	if len(rec) != encKeyRecLen || rec[0] != encKeyVersion {
		return nil, fmt.Errorf("%w: key derivation record", ErrCorruptStore)
	}
	n := int(binary.BigEndian.Uint32(rec[1:]))
	r := int(binary.BigEndian.Uint32(rec[5:]))
	p := int(binary.BigEndian.Uint32(rec[9:]))
	// Bound the parameters so a tampered file cannot exhaust memory.
	if n < 2 || n > 1<<20 || r < 1 || r > 32 || p < 1 || p > 16 {
		return nil, fmt.Errorf("%w: scrypt parameters", ErrCorruptStore)
	}
	k, err := scrypt.Key(password, rec[13:], n, r, p, 32)
	if err != nil {
		return nil, fmt.Errorf("derive macaroon store key: %w", err)
	}
	var key [32]byte
	copy(key[:], k)
	return &key, nil
}

func seal(key *[32]byte, root []byte) ([]byte, error) {
	var nonce [nonceLen]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	return secretbox.Seal(nonce[:], root, &nonce, key), nil
}

func open(key *[32]byte, sealed []byte) ([]byte, error) {
	if len(sealed) != sealedLen {
		return nil, fmt.Errorf("%w: root key record", ErrCorruptStore)
	}
	var nonce [nonceLen]byte
	copy(nonce[:], sealed)
	root, ok := secretbox.Open(nil, sealed[nonceLen:], &nonce, key)
	if !ok {
		return nil, ErrWrongPassword
	}
	return root, nil
}
