package wallet

import (
	"bytes"
	"errors"
	"testing"
)

// memLink is a linked store in memory: its "secret" opens with one
// password at a time.
type memLink struct {
	password   []byte
	failWrites int // Install fails this many times
}

func (m *memLink) Reseal(old, new []byte) ([]byte, error) {
	if !bytes.Equal(old, m.password) {
		return nil, errors.New("linked store: wrong password")
	}
	return append([]byte("sealed under "), new...), nil
}

func (m *memLink) Install(r []byte) error {
	if m.failWrites > 0 {
		m.failWrites--
		return errors.New("disk full")
	}
	m.password = bytes.TrimPrefix(r, []byte("sealed under "))
	return nil
}

// TestChangePasswordLinked: a linked store that refuses Reseal leaves
// everything as it was; one that fails to Install after the commit point
// leaves the change pending (Unlock refused with either password) until
// FinishPasswordChange completes it with both under the new password.
func TestChangePasswordLinked(t *testing.T) {
	cfg := testConfig(t, nil)
	w := mustCreate(t, cfg, CreateParams{Password: []byte("old")})
	link := &memLink{password: []byte("other")}
	if err := w.ChangePassword([]byte("old"), []byte("new"), link); err == nil {
		t.Fatal("change accepted with the linked store on another password")
	}
	if err := w.Unlock([]byte("old")); err != nil {
		t.Fatalf("refused Reseal changed the wallet: %v", err)
	}

	link = &memLink{password: []byte("old"), failWrites: 2}
	err := w.ChangePassword([]byte("old"), []byte("new"), link)
	if !errors.Is(err, ErrPasswordChangePending) {
		t.Fatalf("failed Install: %v", err)
	}
	for _, pw := range []string{"old", "new"} {
		if err := w.Unlock([]byte(pw)); !errors.Is(err, ErrPasswordChangePending) {
			t.Fatalf("Unlock(%s) with a change pending: %v", pw, err)
		}
	}
	if err := w.ChangePassword([]byte("old"), []byte("newer"), link); !errors.Is(err, ErrPasswordChangePending) {
		t.Fatalf("second change over a pending one: %v", err)
	}
	if _, err := w.FinishPasswordChange(nil); !errors.Is(err, ErrPasswordChangePending) {
		t.Fatalf("finish without the linked store: %v", err)
	}
	if _, err := w.FinishPasswordChange(link); err == nil {
		t.Fatal("finish with a failing Install succeeded")
	}
	done, err := w.FinishPasswordChange(link)
	if err != nil || !done {
		t.Fatalf("finish: %v %v", done, err)
	}
	if string(link.password) != "new" {
		t.Fatalf("linked store on %q", link.password)
	}
	if err := w.Unlock([]byte("old")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("old password after the change: %v", err)
	}
	if err := w.Unlock([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if done, err := w.FinishPasswordChange(link); err != nil || done {
		t.Fatalf("finish with nothing pending: %v %v", done, err)
	}
}
