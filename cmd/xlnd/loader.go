package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tyler-smith/go-bip39"

	"lnd.xprv/rpc"
	"lnd.xprv/wallet"
)

// walletLoader creates and opens the wallet for the WalletUnlocker service
// (rpc.WalletLoader) and keeps the wallet it opened for the daemon.
type walletLoader struct {
	cfg wallet.Config

	mu sync.Mutex
	w  *wallet.Wallet
	// restored: the wallet was created at this start from an existing
	// seed, so it rescans the chain (GetRecoveryInfo).
	restored bool
}

var _ rpc.WalletLoader = (*walletLoader)(nil)

func (l *walletLoader) WalletExists(context.Context) (bool, error) {
	return wallet.Exists(l.cfg)
}

func (l *walletLoader) NewMnemonic(_ context.Context, entropy []byte) ([]string, error) {
	if entropy == nil {
		m, err := wallet.NewMnemonic()
		if err != nil {
			return nil, err
		}
		return strings.Fields(m), nil
	}
	m, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return nil, fmt.Errorf("seed entropy: %w", err)
	}
	return strings.Fields(m), nil
}

// CreateWallet creates the wallet. Restored words (any but those GenSeed
// just handed out) make the first start rescan the chain.
func (l *walletLoader) CreateWallet(_ context.Context, p rpc.CreateWalletParams) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil {
		return rpc.ErrWalletExists
	}
	w, _, err := wallet.Create(l.cfg, wallet.CreateParams{
		Password:   p.Password,
		Mnemonic:   strings.Join(p.Mnemonic, " "),
		Passphrase: string(p.Passphrase),
		Restore:    p.Restore,
	})
	if err != nil {
		return mapWalletErr(err)
	}
	l.w = w
	l.restored = p.Restore
	return nil
}

// restoredNow reports whether the wallet was restored from a seed at this
// start.
func (l *walletLoader) restoredNow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.restored
}

func (l *walletLoader) createInsecure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, _, err := wallet.Create(l.cfg, wallet.CreateParams{NoPassword: true})
	if err != nil {
		return err
	}
	l.w = w
	return nil
}

func (l *walletLoader) OpenWallet(_ context.Context, password []byte, _ int32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil {
		return l.w.Unlock(password)
	}
	w, err := wallet.Open(l.cfg)
	if err != nil {
		return mapWalletErr(err)
	}
	if err := w.Unlock(password); err != nil {
		w.Stop()
		return mapWalletErr(err)
	}
	l.w = w
	return nil
}

func (l *walletLoader) ChangePassword(_ context.Context, old, new []byte, linked rpc.LinkedSecrets) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.w
	if w == nil {
		var err error
		if w, err = wallet.Open(l.cfg); err != nil {
			return mapWalletErr(err)
		}
	}
	// The wallet re-seals its seed, and the macaroon store's root keys
	// in the same atomic change, whether locked or not; the daemon
	// carries on with it unlocked.
	err := w.ChangePassword(old, new, walletLink(linked))
	if err == nil {
		err = w.Unlock(new)
	}
	if err != nil {
		if l.w == nil {
			w.Stop()
		}
		return mapWalletErr(err)
	}
	l.w = w
	return nil
}

// FinishPasswordChange completes a password change a crash interrupted,
// before the wallet can be unlocked.
func (l *walletLoader) FinishPasswordChange(_ context.Context, linked rpc.LinkedSecrets) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.w
	if w == nil {
		// Exists opens the file itself: only while we do not hold it.
		exists, err := wallet.Exists(l.cfg)
		if err != nil || !exists {
			return false, err
		}
		if w, err = wallet.Open(l.cfg); err != nil {
			return false, mapWalletErr(err)
		}
		defer w.Stop()
	}
	return w.FinishPasswordChange(walletLink(linked))
}

// walletLink keeps a nil interface nil across the conversion.
func walletLink(linked rpc.LinkedSecrets) wallet.LinkedSecrets {
	if linked == nil {
		return nil
	}
	return linked
}

// opened returns the wallet once created or unlocked.
func (l *walletLoader) opened() *wallet.Wallet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w
}

// close stops the wallet and closes its database.
func (l *walletLoader) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil {
		l.w.Stop()
	}
}

// mapWalletErr gives the RPC layer the errors it knows.
func mapWalletErr(err error) error {
	switch {
	case errors.Is(err, wallet.ErrWrongPassword):
		return fmt.Errorf("%w", rpc.ErrWrongPassword)
	case errors.Is(err, wallet.ErrNoWallet):
		return fmt.Errorf("%w", rpc.ErrWalletNotFound)
	}
	return err
}
