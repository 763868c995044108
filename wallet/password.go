package wallet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"lnd.xprv/channeldb/kvdb"
)

// LinkedSecrets is another store whose secrets are sealed with the wallet
// password (the daemon's macaroon root keys). ChangePassword changes both,
// all or nothing: after any crash, either both open with the old password
// or both with the new one.
type LinkedSecrets interface {
	// Reseal checks old against the store and returns its secrets
	// sealed under new, encoded for Install, without changing the store.
	Reseal(old, new []byte) ([]byte, error)

	// Install makes a Reseal result the store's secrets in one
	// transaction. It is replayed after a crash, so it must be
	// idempotent.
	Install(resealed []byte) error
}

// A password change is a small redo log in the wallet database:
//
//  1. The seed is re-sealed under the new password and the linked store's
//     secrets are re-sealed by Reseal, in memory.
//  2. Both ciphertexts are written as one pending record (keyPasswordChange)
//     in one transaction. This is the commit point: before it, nothing
//     changed; after it, the change is completed, never undone.
//  3. The linked store installs its new ciphertexts (its own transaction).
//  4. The new sealed seed replaces the old one and the record is deleted,
//     in one transaction.
//
// A crash after 2 leaves the record; FinishPasswordChange replays 3 and 4
// (both idempotent) before the wallet may be unlocked again, and Unlock
// refuses while the record exists, so the seed and the linked secrets are
// never used under different passwords.

// pendingPassword is the record of step 2.
type pendingPassword struct {
	Seed   []byte // the seed sealed under the new password
	Linked []byte // the linked store's Reseal result; empty if none
}

const pendingPasswordVersion = 1

// encode: version(1) seed length(2) seed linked length(4) linked.
func (p *pendingPassword) encode() []byte {
	b := make([]byte, 0, 1+2+len(p.Seed)+4+len(p.Linked))
	b = append(b, pendingPasswordVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Seed)))
	b = append(b, p.Seed...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Linked)))
	return append(b, p.Linked...)
}

func decodePendingPassword(v []byte) (*pendingPassword, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: password change record: %s", ErrCorruptDB, what)
	}
	if len(v) < 1+2 {
		return nil, bad("short")
	}
	if v[0] != pendingPasswordVersion {
		return nil, bad(fmt.Sprintf("unknown version %d", v[0]))
	}
	n := int(binary.BigEndian.Uint16(v[1:]))
	v = v[3:]
	if len(v) < n+4 {
		return nil, bad("seed length")
	}
	p := &pendingPassword{Seed: append([]byte(nil), v[:n]...)}
	v = v[n:]
	m := binary.BigEndian.Uint32(v)
	v = v[4:]
	if uint64(len(v)) != uint64(m) {
		return nil, bad("linked length")
	}
	if m > 0 {
		p.Linked = append([]byte(nil), v...)
	}
	return p, nil
}

func getPendingPassword(tx kvdb.RTx) (*pendingPassword, error) {
	v := tx.ReadBucket(bucketMeta).Get(keyPasswordChange)
	if v == nil {
		return nil, nil
	}
	return decodePendingPassword(v)
}

// ChangePassword re-seals the seed, and the secrets of linked (nil for
// none), under a new password, atomically across the two stores (see
// above). It works locked or unlocked; old must open the seed and linked's
// secrets. An insecure wallet given a real password becomes a normal one.
// If the linked store fails to install after the commit point, the error
// wraps ErrPasswordChangePending: FinishPasswordChange completes it.
func (w *Wallet) ChangePassword(old, new []byte, linked LinkedSecrets) error {
	if len(new) == 0 {
		return errors.New("wallet: empty new password")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var sealedOld []byte
	err := w.db.View(func(tx kvdb.RTx) error {
		m := tx.ReadBucket(bucketMeta)
		if m.Get(keyPasswordChange) != nil {
			return ErrPasswordChangePending
		}
		sealedOld = append([]byte(nil), m.Get(keySeed)...)
		return nil
	})
	if err != nil {
		return err
	}
	seed, err := openSeed(sealedOld, passwordOrDefault(old, w.insecure))
	if err != nil {
		return err
	}
	defer zero(seed)
	p := &pendingPassword{}
	if p.Seed, err = sealSeed(seed, new, w.cfg.Scrypt); err != nil {
		return err
	}
	if linked != nil {
		if p.Linked, err = linked.Reseal(old, new); err != nil {
			return fmt.Errorf("reseal linked secrets: %w", err)
		}
	}
	// The commit point.
	err = w.db.Update(func(tx kvdb.RwTx) error {
		return tx.ReadWriteBucket(bucketMeta).Put(keyPasswordChange, p.encode())
	})
	if err != nil {
		return err
	}
	return w.completePasswordChange(p, linked)
}

// completePasswordChange runs steps 3 and 4. Called with mu held.
func (w *Wallet) completePasswordChange(p *pendingPassword, linked LinkedSecrets) error {
	if len(p.Linked) > 0 {
		if linked == nil {
			return fmt.Errorf("%w: it changes a linked store (the macaroon "+
				"root keys) that was not given", ErrPasswordChangePending)
		}
		if err := linked.Install(p.Linked); err != nil {
			return fmt.Errorf("%w: install linked secrets: %w",
				ErrPasswordChangePending, err)
		}
	}
	err := w.db.Update(func(tx kvdb.RwTx) error {
		m := tx.ReadWriteBucket(bucketMeta)
		if err := m.Put(keySeed, p.Seed); err != nil {
			return err
		}
		if err := m.Delete(keyInsecure); err != nil {
			return err
		}
		return m.Delete(keyPasswordChange)
	})
	if err != nil {
		return err
	}
	w.insecure = false
	w.log.Info("wallet password changed")
	return nil
}

// FinishPasswordChange completes a password change that a crash
// interrupted after its commit point, reporting whether there was one. Call
// it at start, before Unlock, with the same linked store.
func (w *Wallet) FinishPasswordChange(linked LinkedSecrets) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var p *pendingPassword
	err := w.db.View(func(tx kvdb.RTx) error {
		var err error
		p, err = getPendingPassword(tx)
		return err
	})
	if err != nil || p == nil {
		return false, err
	}
	w.log.Warn("completing an interrupted wallet password change")
	return true, w.completePasswordChange(p, linked)
}
