package macaroons

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/macaroon.v2"

	"lnd.xprv/internal/fsutil"
)

// Location is written into every macaroon baked here.
const Location = "xlnd"

// File names of the default macaroons, as lnd's.
const (
	AdminFile    = "admin.macaroon"
	ReadOnlyFile = "readonly.macaroon"
	InvoiceFile  = "invoice.macaroon"
)

// Caveat conditions understood by Verify.
const (
	CondTimeBefore = "time-before"
	CondIPAddr     = "ipaddr"
)

var (
	// ErrInvalidMacaroon covers a macaroon that cannot be decoded, whose
	// signature does not verify, or one of whose caveats fails. The RPC
	// layer maps it to Unauthenticated.
	ErrInvalidMacaroon = errors.New("invalid macaroon")

	// ErrPermissionDenied is returned when a valid macaroon lacks a
	// permission the call needs.
	ErrPermissionDenied = errors.New("permission denied")
)

// RootKeySource yields the root key stored under an id (ErrUnknownRootKey
// if none); *Store is one.
type RootKeySource interface {
	RootKey(id string) ([]byte, error)
}

// Service bakes and verifies macaroons with the root key of a source.
type Service struct {
	keys RootKeySource
	now  func() time.Time
}

// NewService returns a service over keys. now may be nil for time.Now.
func NewService(keys RootKeySource, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{keys: keys, now: now}
}

// Bake returns a new macaroon granting ops, signed with the default root
// key.
func (s *Service) Bake(ops []Op) (*macaroon.Macaroon, error) {
	return s.BakeWithID(DefaultRootKeyID, ops)
}

// BakeWithID returns a new macaroon granting ops, signed with the root key
// stored under rootKeyID (which must exist).
func (s *Service) BakeWithID(rootKeyID string, ops []Op) (*macaroon.Macaroon, error) {
	root, err := s.keys.RootKey(rootKeyID)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	id := ID{Nonce: nonce, StorageID: []byte(rootKeyID), Ops: ops}
	return macaroon.New(root, id.Encode(), Location, macaroon.V2)
}

// Verify checks the binary macaroon raw for a call to method needing
// required, from a client at peer (nil if unknown). Errors wrap
// ErrInvalidMacaroon or ErrPermissionDenied (or the store's ErrStoreLocked).
// A macaroon whose root key was deleted is invalid.
func (s *Service) Verify(raw []byte, method string, required []Op, peer net.IP) error {
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		return fmt.Errorf("%w: cannot decode: %v", ErrInvalidMacaroon, err)
	}
	id, err := DecodeID(mac.Id())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMacaroon, err)
	}
	root, err := s.keys.RootKey(string(id.StorageID))
	switch {
	case errors.Is(err, ErrUnknownRootKey):
		return fmt.Errorf("%w: %v", ErrInvalidMacaroon, err)
	case err != nil:
		return err
	}
	now := s.now()
	check := func(caveat string) error { return checkCaveat(caveat, now, peer) }
	if err := mac.Verify(root, check, nil); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMacaroon, err)
	}
	return Allows(id.Ops, required, method)
}

// checkCaveat checks one first-party caveat. Anything not understood is
// refused: a caveat is a restriction, and ignoring one would widen access.
func checkCaveat(caveat string, now time.Time, peer net.IP) error {
	cond, arg, _ := strings.Cut(caveat, " ")
	switch cond {
	case CondTimeBefore:
		deadline, err := time.Parse(time.RFC3339Nano, arg)
		if err != nil {
			return fmt.Errorf("caveat %q: bad time: %v", caveat, err)
		}
		if !now.Before(deadline) {
			return fmt.Errorf("macaroon has expired")
		}
		return nil
	case CondIPAddr:
		ip := net.ParseIP(arg)
		if ip == nil {
			return fmt.Errorf("caveat %q: bad IP address", caveat)
		}
		if peer == nil || !ip.Equal(peer) {
			return fmt.Errorf("macaroon locked to different IP address")
		}
		return nil
	}
	return fmt.Errorf("caveat %q not supported", caveat)
}

// TimeBeforeCaveat is the condition lncli adds for --macaroontimeout.
func TimeBeforeCaveat(t time.Time) string {
	return CondTimeBefore + " " + t.UTC().Format(time.RFC3339Nano)
}

// IPAddrCaveat is the condition lncli adds for --macaroonip.
func IPAddrCaveat(ip net.IP) string {
	return CondIPAddr + " " + ip.String()
}

// WriteDefaultFiles bakes admin.macaroon (mode 0600), readonly.macaroon and
// invoice.macaroon (0644) into dir. Existing files are kept unless
// overwrite is set. It returns the serialized admin macaroon it wrote or
// found.
func (s *Service) WriteDefaultFiles(ctx context.Context, dir string, overwrite bool) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	files := []struct {
		name string
		ops  []Op
		perm os.FileMode
	}{
		{AdminFile, AdminPermissions(), 0o600},
		{ReadOnlyFile, ReadPermissions(), 0o644},
		{InvoiceFile, InvoicePermissions(), 0o644},
	}
	var admin []byte
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, f.name)
		if !overwrite {
			if data, err := os.ReadFile(path); err == nil {
				if f.name == AdminFile {
					admin = data
				}
				continue
			}
		}
		raw, err := s.BakeBinary(f.ops)
		if err != nil {
			return nil, fmt.Errorf("bake %s: %w", f.name, err)
		}
		if err := fsutil.WriteFileAtomic(path, raw, f.perm); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		if f.name == AdminFile {
			admin = raw
		}
	}
	return admin, nil
}

// BakeBinary bakes a macaroon granting ops and serialises it.
func (s *Service) BakeBinary(ops []Op) ([]byte, error) {
	return s.BakeBinaryWithID(DefaultRootKeyID, ops)
}

// BakeBinaryWithID is BakeWithID, serialised.
func (s *Service) BakeBinaryWithID(rootKeyID string, ops []Op) ([]byte, error) {
	mac, err := s.BakeWithID(rootKeyID, ops)
	if err != nil {
		return nil, err
	}
	return mac.MarshalBinary()
}
