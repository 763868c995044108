package rpc

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

const (
	// minPasswordLen is lnd's minimum wallet password length.
	minPasswordLen = 8
	// mnemonicWords is the length of xlnd's seeds (BIP 39).
	mnemonicWords = 24
	// seedEntropyLen is the entropy of a 24-word BIP 39 seed.
	seedEntropyLen = 32
)

// unlockerService implements lnrpc.WalletUnlockerServer over the
// WalletLoader. On success it unlocks the macaroon root key with the same
// password and moves the server to UNLOCKED.
type unlockerService struct {
	lnrpc.UnimplementedWalletUnlockerServer
	s *Server
}

func (u *unlockerService) loader() (WalletLoader, error) {
	if u.s.cfg.Loader == nil {
		return nil, status.Error(codes.Unavailable, msgWaitingToStart)
	}
	return u.s.cfg.Loader, nil
}

// stillLocked refuses a call that lost the race against another unlock.
func (u *unlockerService) stillLocked() error {
	select {
	case <-u.s.unlocked:
		return status.Error(codes.Unavailable, msgWalletUnlocked)
	default:
		return nil
	}
}

func (u *unlockerService) GenSeed(ctx context.Context, req *lnrpc.GenSeedRequest) (*lnrpc.GenSeedResponse, error) {
	l, err := u.loader()
	if err != nil {
		return nil, err
	}
	if n := len(req.SeedEntropy); n != 0 && n != seedEntropyLen {
		return nil, invalidf("seed_entropy must be %d bytes (xlnd seeds are %d-word BIP 39 mnemonics), got %d",
			seedEntropyLen, mnemonicWords, n)
	}
	words, err := l.NewMnemonic(ctx, req.SeedEntropy)
	if err != nil {
		return nil, u.s.toStatus(err)
	}
	u.s.rememberSeed(words)
	return &lnrpc.GenSeedResponse{CipherSeedMnemonic: words}, nil
}

func checkNewPassword(field string, pw []byte) error {
	if len(pw) < minPasswordLen {
		return invalidf("%s must have at least %d characters", field, minPasswordLen)
	}
	return nil
}

func (u *unlockerService) InitWallet(ctx context.Context, req *lnrpc.InitWalletRequest) (*lnrpc.InitWalletResponse, error) {
	l, err := u.loader()
	if err != nil {
		return nil, err
	}
	if err := checkNewPassword("wallet_password", req.WalletPassword); err != nil {
		return nil, err
	}
	words := make([]string, 0, len(req.CipherSeedMnemonic))
	for _, w := range req.CipherSeedMnemonic {
		words = append(words, strings.Fields(w)...)
	}
	// A wallet whose words nobody saw has no backup: refuse to make one.
	if len(words) == 0 {
		return nil, invalidf("cipher_seed_mnemonic is required: call GenSeed and show the words, or give the words of the wallet to restore")
	}
	if len(words) != mnemonicWords {
		return nil, invalidf("cipher_seed_mnemonic must have %d words, got %d", mnemonicWords, len(words))
	}
	if req.RecoveryWindow < 0 {
		return nil, invalidf("recovery_window must be >= 0")
	}

	u.s.unlockMu.Lock()
	defer u.s.unlockMu.Unlock()
	if err := u.stillLocked(); err != nil {
		return nil, err
	}
	exists, err := l.WalletExists(ctx)
	if err != nil {
		return nil, u.s.toStatus(err)
	}
	if exists {
		return nil, status.Error(codes.AlreadyExists, ErrWalletExists.Error())
	}
	err = l.CreateWallet(ctx, CreateWalletParams{
		Password:       req.WalletPassword,
		Mnemonic:       words,
		Passphrase:     req.AezeedPassphrase,
		Restore:        !u.s.isFreshSeed(words),
		RecoveryWindow: req.RecoveryWindow,
	})
	if err != nil {
		return nil, u.s.toStatus(err)
	}
	// A new wallet gets fresh macaroon files, replacing any left over.
	admin, err := u.s.openMacaroons(req.WalletPassword, req.StatelessInit, true, true)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "wallet created, but macaroons failed: %v", err)
	}
	u.s.log.Info("Wallet created")
	u.s.setUnlocked()
	return &lnrpc.InitWalletResponse{AdminMacaroon: admin}, nil
}

func (u *unlockerService) UnlockWallet(ctx context.Context, req *lnrpc.UnlockWalletRequest) (*lnrpc.UnlockWalletResponse, error) {
	l, err := u.loader()
	if err != nil {
		return nil, err
	}
	if len(req.WalletPassword) == 0 {
		return nil, invalidf("wallet_password is required")
	}
	if req.RecoveryWindow < 0 {
		return nil, invalidf("recovery_window must be >= 0")
	}

	u.s.unlockMu.Lock()
	defer u.s.unlockMu.Unlock()
	if err := u.stillLocked(); err != nil {
		return nil, err
	}
	if err := u.s.finishPasswordChange(ctx); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := l.OpenWallet(ctx, req.WalletPassword, req.RecoveryWindow); err != nil {
		return nil, u.s.toStatus(err)
	}
	if _, err := u.s.unlockMacaroons(req.WalletPassword, req.StatelessInit, false); err != nil {
		return nil, status.Errorf(codes.Internal, "wallet unlocked, but macaroons failed: %v", err)
	}
	u.s.log.Info("Wallet unlocked")
	u.s.setUnlocked()
	return &lnrpc.UnlockWalletResponse{}, nil
}

func (u *unlockerService) ChangePassword(ctx context.Context, req *lnrpc.ChangePasswordRequest) (*lnrpc.ChangePasswordResponse, error) {
	l, err := u.loader()
	if err != nil {
		return nil, err
	}
	if len(req.CurrentPassword) == 0 {
		return nil, invalidf("current_password is required")
	}
	if err := checkNewPassword("new_password", req.NewPassword); err != nil {
		return nil, err
	}
	if bytes.Equal(req.CurrentPassword, req.NewPassword) {
		return nil, invalidf("new_password must be different from current_password")
	}

	u.s.unlockMu.Lock()
	defer u.s.unlockMu.Unlock()
	if err := u.stillLocked(); err != nil {
		return nil, err
	}
	if err := u.s.finishPasswordChange(ctx); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	// The wallet and the macaroon store change together or not at all.
	link := u.s.passwordLink(req.NewMacaroonRootKey)
	err = l.ChangePassword(ctx, req.CurrentPassword, req.NewPassword, link)
	switch {
	case errors.Is(err, macaroons.ErrWrongPassword), errors.Is(err, macaroons.ErrCorruptStore):
		return nil, status.Errorf(codes.Internal, "password unchanged: the macaroon "+
			"store refused the change: %v", err)
	case err != nil:
		return nil, u.s.toStatus(err)
	}

	var admin []byte
	if link != nil {
		// New files when the root key changed (the old ones are void).
		admin, err = u.s.unlockMacaroons(req.NewPassword, req.StatelessInit, req.NewMacaroonRootKey)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "wallet password changed, but macaroons failed: %v", err)
		}
	}
	u.s.log.Info("Wallet password changed", "new_root_key", req.NewMacaroonRootKey)
	u.s.setUnlocked()
	return &lnrpc.ChangePasswordResponse{AdminMacaroon: admin}, nil
}

// stateServer implements lnrpc.StateServer.
type stateServer struct {
	lnrpc.UnimplementedStateServer
	s *Server
}

func (st *stateServer) GetState(context.Context, *lnrpc.GetStateRequest) (*lnrpc.GetStateResponse, error) {
	return &lnrpc.GetStateResponse{State: st.s.state.get()}, nil
}

func (st *stateServer) SubscribeState(_ *lnrpc.SubscribeStateRequest, stream lnrpc.State_SubscribeStateServer) error {
	err := st.s.state.follow(stream.Context(), func(ws lnrpc.WalletState) error {
		return stream.Send(&lnrpc.SubscribeStateResponse{State: ws})
	})
	return st.s.toStatus(err)
}

// maxFreshSeeds bounds the GenSeed answers remembered.
const maxFreshSeeds = 16

// rememberSeed records words handed out by GenSeed, so that InitWallet can
// tell a brand-new seed from a restore.
func (s *Server) rememberSeed(words []string) {
	s.seedMu.Lock()
	defer s.seedMu.Unlock()
	if len(s.freshSeeds) >= maxFreshSeeds {
		s.freshSeeds = s.freshSeeds[1:]
	}
	s.freshSeeds = append(s.freshSeeds, strings.Join(words, " "))
}

func (s *Server) isFreshSeed(words []string) bool {
	s.seedMu.Lock()
	defer s.seedMu.Unlock()
	return slices.Contains(s.freshSeeds, strings.Join(words, " "))
}
