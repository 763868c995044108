package itest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// walletSnapshot is what must survive a restart.
type walletSnapshot struct {
	pubKey  string
	balance int64
	txids   []string
	utxos   int
}

func snapshot(t *testing.T, n *harness.Node) walletSnapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := n.Info()
	check(t, err)
	bal, err := n.Balance()
	check(t, err)
	txs, err := n.RPC.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{EndHeight: -1})
	check(t, err)
	utxos, err := n.RPC.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 0, MaxConfs: 1 << 30})
	check(t, err)
	s := walletSnapshot{pubKey: info.IdentityPubkey, balance: bal.ConfirmedBalance, utxos: len(utxos.Utxos)}
	for _, tx := range txs.Transactions {
		s.txids = append(s.txids, tx.TxHash)
	}
	slices.Sort(s.txids)
	return s
}

// TestStopAndReopen: StopDaemon makes the process exit with status 0,
// leaving no process and no open port behind, and the data directory
// opens again with the same identity, balance and transactions, for a
// wallet with no password and for one created with a password.
func TestStopAndReopen(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	tests := []struct {
		name     string
		password []byte
	}{
		{"nopassword", nil},
		{"password", []byte("hunter2hunter2")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			node, err := nw.AddNode(harness.NodeConfig{Name: tc.name, Password: tc.password})
			check(t, err)
			check(t, node.Start())
			check(t, nw.Fund(node, 30_000_000))
			before := snapshot(t, node)
			if before.balance != 30_000_000 || len(before.txids) != 1 || before.utxos != 1 {
				t.Fatalf("after funding: %+v", before)
			}

			pid := node.PID()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err = node.RPC.StopDaemon(ctx, &lnrpc.StopRequest{})
			check(t, err)
			state, err := node.WaitExit(harness.StopTimeout)
			check(t, err)
			if !state.Success() {
				t.Fatalf("xlnd exited with %s after StopDaemon", state)
			}
			// No process left under that pid (it was reaped by the
			// harness, so a live pid would be another process).
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("pid %d after exit: kill 0 gave %v, want ESRCH", pid, err)
			}
			// Every port it listened on is free again.
			for _, addr := range []string{node.P2PAddr(), node.RPCAddr(), node.RESTAddr()} {
				l, err := listenFree(addr)
				if err != nil {
					t.Errorf("port %s still taken after exit: %v", addr, err)
					continue
				}
				l.Close()
			}

			// Start() unlocks a password wallet with UnlockWallet.
			check(t, node.Start())
			after := snapshot(t, node)
			if after.pubKey != before.pubKey || after.balance != before.balance ||
				!slices.Equal(after.txids, before.txids) || after.utxos != before.utxos {
				t.Fatalf("reopened wallet differs:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestWalletPassword: a wallet created with GenSeed and InitWallet under a
// password opens, after a restart, only with that password; before that
// only the WalletUnlocker and State services answer. ChangePassword then
// replaces the password (and the macaroon root key).
func TestWalletPassword(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	password := []byte("correct horse battery")
	node, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: password})
	check(t, err)

	state, err := node.StartLocked()
	check(t, err)
	if state != lnrpc.WalletState_NON_EXISTING {
		t.Fatalf("fresh node in state %v, want NON_EXISTING", state)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// No wallet, no macaroon, no Lightning service.
	if _, err := node.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err == nil {
		t.Errorf("GetInfo answered before the wallet exists")
	}
	if _, err := os.Stat(node.AdminMacaroonPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin macaroon before InitWallet: %v", err)
	}
	// A password shorter than 8 characters is refused.
	seed, err := node.Unlocker.GenSeed(ctx, &lnrpc.GenSeedRequest{})
	check(t, err)
	if len(seed.CipherSeedMnemonic) != 24 {
		t.Fatalf("GenSeed gave %d words", len(seed.CipherSeedMnemonic))
	}
	_, err = node.Unlocker.InitWallet(ctx, &lnrpc.InitWalletRequest{
		WalletPassword: []byte("short"), CipherSeedMnemonic: seed.CipherSeedMnemonic,
	})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("InitWallet with a 5-character password: %v, want InvalidArgument", err)
	}

	_, err = node.InitWallet(password)
	check(t, err)
	for _, f := range []string{"admin.macaroon", "readonly.macaroon", "invoice.macaroon"} {
		if _, err := os.Stat(node.MacaroonPath(f)); err != nil {
			t.Errorf("after InitWallet: %v", err)
		}
	}
	pubKey := node.PubKey()
	check(t, node.Stop())

	state, err = node.StartLocked()
	check(t, err)
	if state != lnrpc.WalletState_LOCKED {
		t.Fatalf("restarted node in state %v, want LOCKED", state)
	}
	if _, err := node.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err == nil {
		t.Errorf("GetInfo answered while the wallet is locked")
	}
	err = node.Unlock([]byte("wrong password"))
	if err == nil {
		t.Fatal("UnlockWallet with the wrong password succeeded")
	}
	t.Logf("wrong password: %v", err)
	resp, err := node.State.GetState(ctx, &lnrpc.GetStateRequest{})
	check(t, err)
	if resp.State != lnrpc.WalletState_LOCKED {
		t.Fatalf("after a wrong password: state %v, want LOCKED", resp.State)
	}

	check(t, node.Unlock(password))
	check(t, node.WaitActive())
	resp, err = node.State.GetState(ctx, &lnrpc.GetStateRequest{})
	check(t, err)
	if resp.State != lnrpc.WalletState_SERVER_ACTIVE {
		t.Fatalf("after unlock: state %v", resp.State)
	}
	if node.PubKey() != pubKey {
		t.Errorf("identity after unlock %s, want %s", node.PubKey(), pubKey)
	}
	if _, err := os.Stat(filepath.Join(node.DataDir(), "tls.key")); err != nil {
		t.Errorf("tls key: %v", err)
	}

	// ChangePassword on the locked wallet, with a new macaroon root key:
	// it opens the wallet (SubscribeState sees LOCKED, then
	// SERVER_ACTIVE), voids the old macaroons, and only the new password
	// opens the wallet after that.
	oldMac, err := os.ReadFile(node.AdminMacaroonPath())
	check(t, err)
	oldMacPath := filepath.Join(t.TempDir(), "old-admin.macaroon")
	check(t, os.WriteFile(oldMacPath, oldMac, 0o600))
	check(t, node.Stop())
	state, err = node.StartLocked()
	check(t, err)
	if state != lnrpc.WalletState_LOCKED {
		t.Fatalf("restarted node in state %v, want LOCKED", state)
	}
	stream, err := node.State.SubscribeState(ctx, &lnrpc.SubscribeStateRequest{})
	check(t, err)
	first, err := stream.Recv()
	check(t, err)
	if first.State != lnrpc.WalletState_LOCKED {
		t.Errorf("SubscribeState starts with %v, want LOCKED", first.State)
	}
	newPassword := []byte("a brand new password")
	_, err = node.Unlocker.ChangePassword(ctx, &lnrpc.ChangePasswordRequest{
		CurrentPassword: []byte("wrong password"), NewPassword: newPassword,
	})
	if err == nil {
		t.Fatal("ChangePassword with a wrong current password succeeded")
	}
	_, err = node.Unlocker.ChangePassword(ctx, &lnrpc.ChangePasswordRequest{
		CurrentPassword: password, NewPassword: newPassword, NewMacaroonRootKey: true,
	})
	check(t, err)
	for {
		st, err := stream.Recv()
		if err != nil {
			t.Fatalf("SubscribeState after ChangePassword: %v", err)
		}
		if st.State == lnrpc.WalletState_SERVER_ACTIVE {
			break
		}
	}
	check(t, node.WaitActive())
	if node.PubKey() != pubKey {
		t.Errorf("identity after ChangePassword %s, want %s", node.PubKey(), pubKey)
	}
	conn, err := node.Conn(oldMacPath)
	check(t, err)
	_, err = lnrpc.NewLightningClient(conn).GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if c := status.Code(err); c != codes.Unauthenticated && c != codes.PermissionDenied {
		t.Errorf("GetInfo with a macaroon of the replaced root key: %v", err)
	}
	check(t, node.Stop())
	_, err = node.StartLocked()
	check(t, err)
	if err := node.Unlock(password); err == nil {
		t.Fatal("the old password still unlocks the wallet")
	}
	check(t, node.Unlock(newPassword))
	check(t, node.WaitActive())
}

// listenFree is net.Listen on a host:port, for the port checks above.
func listenFree(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// TestCrashAndSignals: a node killed with SIGKILL opens its data directory
// again with the same identity and funds; SIGTERM and SIGINT stop it
// cleanly (status 0).
func TestCrashAndSignals(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node := startNode(t, nw, "alice")
	check(t, nw.Fund(node, 40_000_000))
	before := snapshot(t, node)

	node.Kill()
	check(t, node.Start())
	after := snapshot(t, node)
	if after.pubKey != before.pubKey || after.balance != before.balance ||
		!slices.Equal(after.txids, before.txids) || after.utxos != before.utxos {
		t.Fatalf("wallet after SIGKILL differs:\nbefore %+v\nafter  %+v", before, after)
	}

	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		check(t, node.Signal(sig))
		state, err := node.WaitExit(harness.StopTimeout)
		check(t, err)
		if !state.Success() {
			t.Errorf("xlnd exited with %s after %v", state, sig)
		}
		check(t, node.Start())
	}
	// Blocks mined while it ran are still seen after all this.
	_, err := nw.Mine(2)
	check(t, err)
}

// TestChainBackendRestart: btcd goes away and comes back with its chain;
// the node catches up with blocks mined after and sees a new payment.
func TestChainBackendRestart(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node := startNode(t, nw, "alice")
	check(t, nw.Btcd().Restart())
	_, err := nw.Mine(3)
	check(t, err)
	check(t, nw.Fund(node, 25_000_000))
}

// TestRestoreFromSeed: a wallet restored with InitWallet from another
// node's 24 words has the same identity key and finds its p2wkh and p2tr
// funds on the chain.
func TestRestoreFromSeed(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	password := []byte("restore me please")
	carol, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: password})
	check(t, err)
	check(t, carol.Start())
	check(t, nw.Fund(carol, 30_000_000))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tr, err := carol.NewAddress(ctx, lnrpc.AddressType_TAPROOT_PUBKEY)
	check(t, err)
	_, err = nw.Btcd().SendToAddress(tr, 5_000_000)
	check(t, err)
	_, err = nw.Mine(6)
	check(t, err)
	check(t, carol.WaitConfirmedBalance(35_000_000))
	before := snapshot(t, carol)
	mnemonic := carol.Mnemonic()
	if len(mnemonic) != 24 {
		t.Fatalf("carol's seed has %d words", len(mnemonic))
	}
	check(t, carol.Stop())

	dave, err := nw.AddNode(harness.NodeConfig{Name: "dave", Password: password})
	check(t, err)
	state, err := dave.StartLocked()
	check(t, err)
	if state != lnrpc.WalletState_NON_EXISTING {
		t.Fatalf("fresh node in state %v", state)
	}
	check(t, dave.RestoreWallet(password, mnemonic, 50))
	if dave.PubKey() != before.pubKey {
		t.Errorf("restored identity %s, want %s", dave.PubKey(), before.pubKey)
	}
	check(t, dave.WaitConfirmedBalance(35_000_000))
	// The restored wallet reports its recovery, finished once it has
	// scanned to the tip; a wallet that was not restored reports none.
	check(t, harness.WaitFor(func() error {
		rec, err := dave.RPC.GetRecoveryInfo(ctx, &lnrpc.GetRecoveryInfoRequest{})
		if err != nil {
			return err
		}
		if !rec.RecoveryMode || !rec.RecoveryFinished || rec.Progress != 1 {
			return fmt.Errorf("restored wallet's recovery info %v", rec)
		}
		return nil
	}, 30*time.Second))
	check(t, carol.Start())
	rec, err := carol.RPC.GetRecoveryInfo(ctx, &lnrpc.GetRecoveryInfoRequest{})
	check(t, err)
	if rec.RecoveryMode || rec.RecoveryFinished || rec.Progress != 0 {
		t.Errorf("recovery info of a wallet not restored: %v", rec)
	}
	after := snapshot(t, dave)
	if after.utxos != before.utxos || !slices.Equal(after.txids, before.txids) {
		t.Errorf("restored wallet differs:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestWalletPasswordFile: --wallet-unlock-password-file opens a password
// wallet at start with no UnlockWallet call; with the wrong password in the
// file, xlnd exits non-zero.
func TestWalletPasswordFile(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	password := []byte("password in a file")
	node, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: password})
	check(t, err)
	check(t, node.Start())
	pubKey := node.PubKey()
	check(t, node.Stop())

	file := filepath.Join(t.TempDir(), "password")
	check(t, os.WriteFile(file, append(password, '\n'), 0o600))
	node.SetExtraArgs("--wallet-unlock-password-file=" + file)
	_, err = node.StartLocked()
	check(t, err)
	check(t, node.WaitActive())
	if node.PubKey() != pubKey {
		t.Errorf("identity %s, want %s", node.PubKey(), pubKey)
	}
	check(t, node.Stop())

	check(t, os.WriteFile(file, []byte("not the password\n"), 0o600))
	// As lnd, xlnd refuses to run with a wrong password file: it exits
	// non-zero (StartLocked may still see it LOCKED before that).
	state, err := node.StartLocked()
	if err == nil {
		if state != lnrpc.WalletState_LOCKED && state != lnrpc.WalletState_NON_EXISTING {
			t.Fatalf("a wrong password file opened the wallet (state %v)", state)
		}
		_, err = node.WaitExit(harness.StopTimeout)
		check(t, err)
	}
	if exit := node.LastExit(); exit == nil || exit.Success() {
		t.Fatalf("with a wrong password file: exit %v, want a non-zero exit", exit)
	}
	t.Logf("wrong password file: xlnd exited: %v", node.LastExit())
}
