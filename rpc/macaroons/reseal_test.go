package macaroons

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// TestResealInstall: Reseal changes nothing until Install; Install makes
// the new password open the same root key (or a new one with rotate), and
// installing the same result again is harmless.
func TestResealInstall(t *testing.T) {
	s, err := OpenStoreN(filepath.Join(t.TempDir(), "macaroons.db"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old, next := []byte("old password"), []byte("new password")
	if err := s.Unlock(old); err != nil {
		t.Fatal(err)
	}
	root, _ := s.RootKey(DefaultRootKeyID)
	root = append([]byte(nil), root...)

	if _, err := s.Reseal([]byte("wrong"), next, false); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Reseal with a wrong password: %v", err)
	}
	r, err := s.Reseal(old, next, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(old); err != nil {
		t.Fatalf("Reseal changed the store: %v", err)
	}
	for range 2 {
		if err := s.Install(r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RootKey(DefaultRootKeyID); !errors.Is(err, ErrStoreLocked) {
			t.Fatalf("store not locked after Install: %v", err)
		}
		if err := s.Unlock(old); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("old password after Install: %v", err)
		}
		if err := s.Unlock(next); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.RootKey(DefaultRootKeyID); !bytes.Equal(got, root) {
			t.Fatal("root key changed without rotate")
		}
	}

	rotated, err := s.Reseal(next, old, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Install(rotated); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(old); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.RootKey(DefaultRootKeyID); bytes.Equal(got, root) {
		t.Fatal("rotate kept the root key")
	}
	if err := s.Install([]byte{resealVersion, 3}); !errors.Is(err, ErrCorruptStore) {
		t.Fatalf("Install of garbage: %v", err)
	}
}
