package macaroons

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/macaroon.v2"
)

// testStore opens a store with cheap key derivation.
func testStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenStoreN(path, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLndIdentifier(t *testing.T) {
	data, err := os.ReadFile("testdata/lnd_admin_macaroon.hex")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	id, err := DecodeID(mac.Id())
	if err != nil {
		t.Fatal(err)
	}
	if string(id.StorageID) != "0" {
		t.Errorf("storage id %q", id.StorageID)
	}
	if hex.EncodeToString(id.Nonce) != "9b6d802e18017d1bf4536d078c932975" {
		t.Errorf("nonce %x", id.Nonce)
	}
	for _, op := range []Op{{"onchain", "write"}, {"peers", "read"}, {"signer", "generate"}, {"macaroon", "generate"}} {
		if !slices.Contains(id.Ops, op) {
			t.Errorf("op %v missing from %v", op, id.Ops)
		}
	}
	if len(id.Ops) != 19 {
		t.Errorf("%d ops, want 19", len(id.Ops))
	}
	if got := id.Encode(); !bytes.Equal(got, mac.Id()) {
		t.Fatalf("re-encoded id differs:\n got %x\nwant %x", got, mac.Id())
	}
}

func TestDecodeIDRejects(t *testing.T) {
	for _, b := range [][]byte{nil, {2, 0x0a, 0}, {3, 0x0a, 0x05, 1}, {3, 0xff}} {
		if _, err := DecodeID(b); !errors.Is(err, ErrBadID) {
			t.Errorf("DecodeID(%x) = %v, want ErrBadID", b, err)
		}
	}
}

func TestStoreLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "macaroons.db")
	s := testStore(t, path)
	if _, err := s.RootKey(DefaultRootKeyID); !errors.Is(err, ErrStoreLocked) {
		t.Fatalf("locked store gave a key: %v", err)
	}
	if err := s.Unlock([]byte("password1")); err != nil {
		t.Fatal(err)
	}
	key1, err := s.RootKey(DefaultRootKeyID)
	if err != nil || len(key1) != RootKeyLen {
		t.Fatalf("root key %x, %v", key1, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("store mode %v", st.Mode().Perm())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The key is not on disk in the clear.
	disk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(disk, key1) {
		t.Fatal("root key stored unencrypted")
	}

	s = testStore(t, path)
	if err := s.Unlock([]byte("wrong")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := s.Unlock([]byte("password1")); err != nil {
		t.Fatal(err)
	}
	if key, _ := s.RootKey(DefaultRootKeyID); !bytes.Equal(key, key1) {
		t.Fatal("root key changed across reopen")
	}

	if err := s.ChangePassword([]byte("bad"), []byte("password2"), false); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("change with wrong password: %v", err)
	}
	if err := s.ChangePassword([]byte("password1"), []byte("password2"), false); err != nil {
		t.Fatal(err)
	}
	if key, _ := s.RootKey(DefaultRootKeyID); !bytes.Equal(key, key1) {
		t.Fatal("password change replaced the root key")
	}
	if err := s.Unlock([]byte("password1")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("old password still works: %v", err)
	}
	if err := s.ChangePassword([]byte("password2"), []byte("password3"), true); err != nil {
		t.Fatal(err)
	}
	key3, _ := s.RootKey(DefaultRootKeyID)
	if bytes.Equal(key3, key1) {
		t.Fatal("rotation kept the root key")
	}

	if err := s.Reset([]byte("fresh")); err != nil {
		t.Fatal(err)
	}
	if key, _ := s.RootKey(DefaultRootKeyID); bytes.Equal(key, key3) || len(key) != RootKeyLen {
		t.Fatal("reset kept the root key")
	}
	if err := s.Unlock([]byte("password3")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("old password after reset: %v", err)
	}
	if err := s.Unlock([]byte("fresh")); err != nil {
		t.Fatal(err)
	}
}

// fixedKey is a RootKeySource for verification tests.
type fixedKey []byte

func (k fixedKey) RootKey(id string) ([]byte, error) {
	if id != DefaultRootKeyID {
		return nil, ErrUnknownRootKey
	}
	return k, nil
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	svc := NewService(fixedKey(bytes.Repeat([]byte{7}, 32)), func() time.Time { return now })
	other := NewService(fixedKey(bytes.Repeat([]byte{8}, 32)), nil)
	peer := net.ParseIP("127.0.0.1")
	write := []Op{{"onchain", "write"}}
	read := []Op{{"onchain", "read"}}

	bake := func(s *Service, ops []Op, caveats ...string) []byte {
		t.Helper()
		mac, err := s.Bake(ops)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range caveats {
			if err := mac.AddFirstPartyCaveat([]byte(c)); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := mac.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	admin := bake(svc, AdminPermissions())
	tampered := slices.Clone(admin)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name     string
		raw      []byte
		required []Op
		method   string
		peer     net.IP
		want     error
	}{
		{"admin write", admin, write, "", peer, nil},
		{"readonly read", bake(svc, ReadPermissions()), read, "", peer, nil},
		{"readonly write", bake(svc, ReadPermissions()), write, "", peer, ErrPermissionDenied},
		{"invoice onchain write", bake(svc, InvoicePermissions()), write, "", peer, ErrPermissionDenied},
		{"uri grant", bake(svc, []Op{{EntityURI, "/lnrpc.Lightning/SendCoins"}}), write, "/lnrpc.Lightning/SendCoins", peer, nil},
		{"uri other method", bake(svc, []Op{{EntityURI, "/lnrpc.Lightning/GetInfo"}}), write, "/lnrpc.Lightning/SendCoins", peer, ErrPermissionDenied},
		{"garbage", []byte("not a macaroon"), read, "", peer, ErrInvalidMacaroon},
		{"empty", nil, read, "", peer, ErrInvalidMacaroon},
		{"tampered signature", tampered, read, "", peer, ErrInvalidMacaroon},
		{"other root key", bake(other, AdminPermissions()), read, "", peer, ErrInvalidMacaroon},
		{"time-before future", bake(svc, AdminPermissions(), TimeBeforeCaveat(now.Add(time.Minute))), read, "", peer, nil},
		{"time-before past", bake(svc, AdminPermissions(), TimeBeforeCaveat(now.Add(-time.Second))), read, "", peer, ErrInvalidMacaroon},
		{"time-before garbage", bake(svc, AdminPermissions(), "time-before tomorrow"), read, "", peer, ErrInvalidMacaroon},
		{"ipaddr match", bake(svc, AdminPermissions(), IPAddrCaveat(peer)), read, "", peer, nil},
		{"ipaddr mismatch", bake(svc, AdminPermissions(), IPAddrCaveat(net.ParseIP("10.0.0.1"))), read, "", peer, ErrInvalidMacaroon},
		{"ipaddr unknown peer", bake(svc, AdminPermissions(), IPAddrCaveat(peer)), read, "", nil, ErrInvalidMacaroon},
		{"unknown caveat", bake(svc, AdminPermissions(), "lnd-custom foo bar"), read, "", peer, ErrInvalidMacaroon},
		{"empty caveat", bake(svc, AdminPermissions(), ""), read, "", peer, ErrInvalidMacaroon},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.Verify(tc.raw, tc.method, tc.required, tc.peer)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWriteDefaultFiles(t *testing.T) {
	dir := t.TempDir()
	s := testStore(t, filepath.Join(dir, "macaroons.db"))
	if err := s.Unlock([]byte("pw")); err != nil {
		t.Fatal(err)
	}
	svc := NewService(s, nil)
	macDir := filepath.Join(dir, "data", "chain", "bitcoin", "regtest")
	admin, err := svc.WriteDefaultFiles(t.Context(), macDir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{AdminFile: 0o600, ReadOnlyFile: 0o644, InvoiceFile: 0o644}
	for name, perm := range want {
		st, err := os.Stat(filepath.Join(macDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != perm {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), perm)
		}
	}
	if err := svc.Verify(admin, "", []Op{{"onchain", "write"}}, nil); err != nil {
		t.Fatalf("admin macaroon rejected: %v", err)
	}
	ro, err := os.ReadFile(filepath.Join(macDir, ReadOnlyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Verify(ro, "", []Op{{"onchain", "write"}}, nil); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("readonly wrote: %v", err)
	}

	// Kept without overwrite, replaced with it.
	again, err := svc.WriteDefaultFiles(t.Context(), macDir, false)
	if err != nil || !bytes.Equal(again, admin) {
		t.Fatalf("admin rewritten without overwrite (%v)", err)
	}
	fresh, err := svc.WriteDefaultFiles(t.Context(), macDir, true)
	if err != nil || bytes.Equal(fresh, admin) {
		t.Fatalf("admin not rewritten with overwrite (%v)", err)
	}
}

// TestRootKeyIDs: macaroons baked under another root key id verify until
// that id is deleted, which revokes them all and no other; the keys are
// encrypted on disk and survive a reopen and a password change.
func TestRootKeyIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "macaroons.db")
	s := testStore(t, path)
	if _, err := s.CreateRootKey("1"); !errors.Is(err, ErrStoreLocked) {
		t.Fatalf("create while locked: %v", err)
	}
	if err := s.Unlock([]byte("pw")); err != nil {
		t.Fatal(err)
	}
	svc := NewService(s, nil)
	read := []Op{{"info", "read"}}
	bake := func(id string) []byte {
		t.Helper()
		mac, err := svc.BakeWithID(id, []Op{{"info", "read"}})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mac.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	if _, err := svc.BakeWithID("7", read); !errors.Is(err, ErrUnknownRootKey) {
		t.Fatalf("bake with a missing id: %v", err)
	}
	key7, err := s.CreateRootKey("7")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.CreateRootKey("7"); !bytes.Equal(again, key7) {
		t.Fatal("CreateRootKey replaced an existing key")
	}
	if _, err := s.CreateRootKey("42"); err != nil {
		t.Fatal(err)
	}
	def, seven, fortyTwo := bake(DefaultRootKeyID), bake("7"), bake("42")
	for _, raw := range [][]byte{def, seven, fortyTwo} {
		if err := svc.Verify(raw, "", read, nil); err != nil {
			t.Fatalf("fresh macaroon rejected: %v", err)
		}
	}
	if ids, _ := s.RootKeyIDs(); strings.Join(ids, ",") != "0,42,7" {
		t.Fatalf("ids %v", ids)
	}

	// Encrypted at rest, kept across a reopen and a password change.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(disk, key7) {
		t.Fatal("root key 7 stored unencrypted")
	}
	s = testStore(t, path)
	if err := s.ChangePassword([]byte("pw"), []byte("pw2"), false); err != nil {
		t.Fatal(err)
	}
	svc = NewService(s, nil)
	if err := svc.Verify(seven, "", read, nil); err != nil {
		t.Fatalf("macaroon of id 7 after reopen and password change: %v", err)
	}

	// Deleting 7 revokes its macaroons and nothing else.
	if ok, err := s.DeleteRootKey("7"); !ok || err != nil {
		t.Fatalf("delete 7: %v, %v", ok, err)
	}
	if err := svc.Verify(seven, "", read, nil); !errors.Is(err, ErrInvalidMacaroon) {
		t.Fatalf("revoked macaroon: %v", err)
	}
	for _, raw := range [][]byte{def, fortyTwo} {
		if err := svc.Verify(raw, "", read, nil); err != nil {
			t.Fatalf("other macaroon revoked too: %v", err)
		}
	}
	if ok, err := s.DeleteRootKey("7"); ok || err != nil {
		t.Fatalf("second delete: %v, %v", ok, err)
	}
	if _, err := s.DeleteRootKey(DefaultRootKeyID); !errors.Is(err, ErrDeletionForbidden) {
		t.Fatalf("delete default: %v", err)
	}
	// A new key under a deleted id does not revive old macaroons.
	if _, err := s.CreateRootKey("7"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Verify(seven, "", read, nil); !errors.Is(err, ErrInvalidMacaroon) {
		t.Fatalf("macaroon revived by a new key under its id: %v", err)
	}

	// Rotation replaces every key.
	if err := s.ChangePassword([]byte("pw2"), []byte("pw3"), true); err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{def, fortyTwo} {
		if err := svc.Verify(raw, "", read, nil); !errors.Is(err, ErrInvalidMacaroon) {
			t.Fatalf("macaroon survived rotation: %v", err)
		}
	}
	if ids, _ := s.RootKeyIDs(); strings.Join(ids, ",") != "0,42,7" {
		t.Fatalf("ids after rotation %v", ids)
	}
}
