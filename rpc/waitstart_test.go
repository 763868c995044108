package rpc

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"lnd.xprv/rpc/lnrpc"
)

// TestWaitToStart: a standby's server answers the State service only, in
// WAITING_TO_START, until Proceed; then the wallet's state shows and the
// unlocker works.
func TestWaitToStart(t *testing.T) {
	h := newHarness(t, true, func(c *Config) { c.WaitToStart = true })
	ctx := t.Context()
	state := lnrpc.NewStateClient(h.conn(nil))
	unlocker := lnrpc.NewWalletUnlockerClient(h.conn(nil))
	ln := lnrpc.NewLightningClient(h.conn(nil))

	st, err := state.GetState(ctx, &lnrpc.GetStateRequest{})
	if err != nil || st.State != lnrpc.WalletState_WAITING_TO_START {
		t.Fatalf("state %v, %v; want WAITING_TO_START", st, err)
	}
	_, err = unlocker.UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	wantCode(t, err, codes.Unavailable)
	if !strings.Contains(err.Error(), "waiting to start") {
		t.Fatalf("unlock while waiting: %v", err)
	}
	_, err = ln.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	wantCode(t, err, codes.Unavailable)

	if err := h.srv.Proceed(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := state.GetState(ctx, &lnrpc.GetStateRequest{}); err != nil ||
		st.State != lnrpc.WalletState_LOCKED {
		t.Fatalf("state after Proceed %v, %v; want LOCKED", st, err)
	}
	h.unlockAndActivate()
	if st, _ := state.GetState(ctx, &lnrpc.GetStateRequest{}); st.GetState() != lnrpc.WalletState_RPC_ACTIVE {
		t.Fatalf("state after unlock %v", st.GetState())
	}
}
