//go:build unix

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/rpc"
	"lnd.xprv/rpc/macaroons"
	"lnd.xprv/wallet"
)

// Kill points of a password change, one at every step boundary.
const (
	killResealed     = "resealed"      // both re-sealed in memory, nothing written
	killBeforeStore  = "before-store"  // pending record committed, store not changed
	killAfterStore   = "after-store"   // store changed, seed not swapped
	killAfterChanged = "after-changed" // ChangePassword returned
)

const (
	pwKillDirEnv  = "XLND_PWCHANGE_DIR"
	pwKillStepEnv = "XLND_PWCHANGE_KILL"
)

var (
	oldPassword = []byte("the old password")
	newPassword = []byte("the new password")
)

func pwLoader(dir string) *walletLoader {
	return &walletLoader{cfg: wallet.Config{
		DBPath: filepath.Join(dir, "wallet.db"),
		Net:    &chaincfg.RegressionNetParams,
		Scrypt: wallet.ScryptParams{N: 2, R: 1, P: 1},
	}}
}

func pwStore(t *testing.T, dir string) *macaroons.Store {
	t.Helper()
	s, err := macaroons.OpenStoreN(filepath.Join(dir, "macaroons.db"), 2)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// killingLink is the macaroon store's link with a SIGKILL at a step
// boundary of the wallet's password change.
type killingLink struct {
	link macaroons.PasswordLink
	step string
}

func die() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

func (k killingLink) Reseal(old, new []byte) ([]byte, error) {
	r, err := k.link.Reseal(old, new)
	if k.step == killResealed {
		die()
	}
	return r, err
}

func (k killingLink) Install(r []byte) error {
	if k.step == killBeforeStore {
		die()
	}
	err := k.link.Install(r)
	if k.step == killAfterStore {
		die()
	}
	return err
}

// TestChangePasswordKill9 kills the daemon's password change (the real
// wallet and macaroon store, as rpc's ChangePassword drives them) with
// SIGKILL at each step boundary, then starts as the daemon does
// (FinishPasswordChange first): the seed and the macaroon root key open
// with the same password, the old one if the kill came before the commit
// point and the new one after, never one each.
func TestChangePasswordKill9(t *testing.T) {
	if dir := os.Getenv(pwKillDirEnv); dir != "" {
		pwKillChild(t, dir, os.Getenv(pwKillStepEnv))
		return
	}
	for _, tc := range []struct {
		step    string
		wantNew bool
	}{
		{killResealed, false},
		{killBeforeStore, true},
		{killAfterStore, true},
		{killAfterChanged, true},
	} {
		t.Run(tc.step, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			l := pwLoader(dir)
			if err := l.CreateWallet(ctx, rpc.CreateWalletParams{Password: oldPassword,
				Mnemonic: mnemonicWords(t)}); err != nil {
				t.Fatal(err)
			}
			l.close()
			s := pwStore(t, dir)
			if err := s.Unlock(oldPassword); err != nil {
				t.Fatal(err)
			}
			root, _ := s.RootKey(macaroons.DefaultRootKeyID)
			root = append([]byte(nil), root...)
			s.Close()

			cmd := exec.Command(os.Args[0], "-test.run=^TestChangePasswordKill9$", "-test.count=1")
			cmd.Env = append(os.Environ(), pwKillDirEnv+"="+dir, pwKillStepEnv+"="+tc.step)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child did not die: %v\n%s", err, out)
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child ended with %v, want SIGKILL\n%s", err, out)
			}

			// Start as rpc.Server.Start does.
			s = pwStore(t, dir)
			defer s.Close()
			l = pwLoader(dir)
			defer l.close()
			if _, err := l.FinishPasswordChange(ctx, macaroons.PasswordLink{Store: s}); err != nil {
				t.Fatal(err)
			}
			walletOld, walletNew := opensWallet(t, dir, oldPassword), opensWallet(t, dir, newPassword)
			storeOld, storeNew := s.Unlock(oldPassword) == nil, s.Unlock(newPassword) == nil
			t.Logf("after kill at %s: wallet old=%v new=%v, macaroons old=%v new=%v",
				tc.step, walletOld, walletNew, storeOld, storeNew)
			if walletOld != storeOld || walletNew != storeNew {
				t.Fatal("the wallet and the macaroon store are under different passwords")
			}
			if walletNew != tc.wantNew || walletOld == walletNew {
				t.Fatalf("new password opens: %v, want %v", walletNew, tc.wantNew)
			}
			if err := s.Unlock(map[bool][]byte{true: newPassword, false: oldPassword}[tc.wantNew]); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.RootKey(macaroons.DefaultRootKeyID); string(got) != string(root) {
				t.Fatal("the root key changed")
			}
		})
	}
}

func mnemonicWords(t *testing.T) []string {
	t.Helper()
	words, err := pwLoader(t.TempDir()).NewMnemonic(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return words
}

// opensWallet reports whether password unlocks the wallet in dir.
func opensWallet(t *testing.T, dir string, password []byte) bool {
	t.Helper()
	w, err := wallet.Open(pwLoader(dir).cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	err = w.Unlock(password)
	if err != nil && !errors.Is(err, wallet.ErrWrongPassword) {
		t.Fatalf("unlock: %v", err)
	}
	return err == nil
}

func pwKillChild(t *testing.T, dir, step string) {
	s := pwStore(t, dir)
	l := pwLoader(dir)
	link := killingLink{link: macaroons.PasswordLink{Store: s}, step: step}
	if err := l.ChangePassword(context.Background(), oldPassword, newPassword, link); err != nil {
		t.Fatal(err)
	}
	if step == killAfterChanged {
		die()
	}
	t.Fatalf("change returned without reaching kill point %q", step)
}
