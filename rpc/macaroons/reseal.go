package macaroons

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// A password change of the store is split in two so that the wallet can
// change its seed's password and the store's in one atomic step (see
// wallet.LinkedSecrets): Reseal computes the store's new records without
// writing them, the caller logs them durably, and Install writes them in
// one transaction, as often as a crash makes it replay.

// resealVersion versions the encoding of Reseal's result.
const resealVersion = 1

// resealed is the complete content of the bucket after a password change:
// the key derivation record and every root key, sealed under the new key.
type resealed struct {
	EncKey   []byte
	RootKeys map[string][]byte // storage id -> sealed root key
}

// encode: version(1) enckey length(1) enckey count(2), then per root key
// (in id order) id length(2) id sealed length(2) sealed.
func (r *resealed) encode() []byte {
	var buf bytes.Buffer
	buf.WriteByte(resealVersion)
	buf.WriteByte(byte(len(r.EncKey)))
	buf.Write(r.EncKey)
	ids := make([]string, 0, len(r.RootKeys))
	for id := range r.RootKeys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	buf.Write(binary.BigEndian.AppendUint16(nil, uint16(len(ids))))
	for _, id := range ids {
		buf.Write(binary.BigEndian.AppendUint16(nil, uint16(len(id))))
		buf.WriteString(id)
		buf.Write(binary.BigEndian.AppendUint16(nil, uint16(len(r.RootKeys[id]))))
		buf.Write(r.RootKeys[id])
	}
	return buf.Bytes()
}

// decodeResealed parses Reseal's result; it reads bytes from the wallet
// database, so every length is checked.
func decodeResealed(b []byte) (*resealed, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: resealed store: %s", ErrCorruptStore, what)
	}
	if len(b) < 2 || b[0] != resealVersion {
		return nil, bad("version")
	}
	n := int(b[1])
	b = b[2:]
	if n != encKeyRecLen || len(b) < n+2 {
		return nil, bad("key derivation record")
	}
	r := &resealed{EncKey: append([]byte(nil), b[:n]...), RootKeys: make(map[string][]byte)}
	b = b[n:]
	count := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	var prev string
	for range count {
		if len(b) < 2 {
			return nil, bad("root key id")
		}
		idLen := int(binary.BigEndian.Uint16(b))
		if idLen == 0 || len(b) < 2+idLen+2 {
			return nil, bad("root key id")
		}
		id := string(b[2 : 2+idLen])
		b = b[2+idLen:]
		sLen := int(binary.BigEndian.Uint16(b))
		if sLen != sealedLen || len(b) < 2+sLen {
			return nil, bad("sealed root key")
		}
		if id == string(encKeyName) {
			return nil, bad("root key named like the key record")
		}
		if id <= prev && len(r.RootKeys) > 0 {
			return nil, bad("root key ids not in order")
		}
		prev = id
		r.RootKeys[id] = append([]byte(nil), b[2:2+sLen]...)
		b = b[2+sLen:]
	}
	if len(b) != 0 {
		return nil, bad("trailing bytes")
	}
	return r, nil
}

// Reseal checks oldPassword and returns every root key re-sealed under a
// key derived from newPassword, encoded for Install; the store is not
// changed. With rotate every root key (the ids stay) is replaced by a new
// random one, which voids every macaroon baked before once installed.
func (s *Store) Reseal(oldPassword, newPassword []byte, rotate bool) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var r *resealed
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		rec := b.Get(encKeyName)
		if rec == nil {
			return fmt.Errorf("%w: no password set", ErrStoreLocked)
		}
		oldKey, err := deriveKey(oldPassword, rec)
		if err != nil {
			return err
		}
		newRec, newKey, err := newEncKey(newPassword, s.scryptN)
		if err != nil {
			return err
		}
		r = &resealed{EncKey: newRec, RootKeys: make(map[string][]byte)}
		err = b.ForEach(func(k, v []byte) error {
			if v == nil || bytes.Equal(k, encKeyName) {
				return nil // a nested bucket holds no root key
			}
			root, err := open(oldKey, v)
			if err != nil {
				return fmt.Errorf("root key %q: %w", k, err)
			}
			if rotate {
				root = make([]byte, RootKeyLen)
				if _, err := rand.Read(root); err != nil {
					return err
				}
			}
			sealed, err := seal(newKey, root)
			if err != nil {
				return err
			}
			r.RootKeys[string(k)] = sealed
			return nil
		})
		if err != nil {
			return err
		}
		if _, ok := r.RootKeys[DefaultRootKeyID]; !ok {
			return fmt.Errorf("%w: no root key", ErrCorruptStore)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.encode(), nil
}

// Install makes a Reseal result the store's content in one transaction
// and locks the store (Unlock with the new password opens it). Installing
// the same result again changes nothing.
func (s *Store) Install(resealedRecords []byte) error {
	r, err := decodeResealed(resealedRecords)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		var stale [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if v == nil {
				return nil
			}
			if _, keep := r.RootKeys[string(k)]; !keep && !bytes.Equal(k, encKeyName) {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if err := b.Put(encKeyName, r.EncKey); err != nil {
			return err
		}
		for id, sealed := range r.RootKeys {
			if err := b.Put([]byte(id), sealed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("install macaroon store records: %w", err)
	}
	s.forget()
	return nil
}

// PasswordLink is the store as the wallet's LinkedSecrets: the macaroon
// root keys change password with the seed, atomically.
type PasswordLink struct {
	Store *Store
	// Rotate replaces every root key in the change.
	Rotate bool
}

// Reseal implements wallet.LinkedSecrets.
func (l PasswordLink) Reseal(oldPassword, newPassword []byte) ([]byte, error) {
	return l.Store.Reseal(oldPassword, newPassword, l.Rotate)
}

// Install implements wallet.LinkedSecrets.
func (l PasswordLink) Install(resealed []byte) error { return l.Store.Install(resealed) }
