package rpc

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/chainrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/rpc/lnrpc/verrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
	"lnd.xprv/rpc/macaroons"
)

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v (%v), want %v", status.Code(err), err, code)
	}
}

// TestPermissionsMatchDescriptors: every Lightning method has a permission
// entry and every entry names a real method; the unlocker and state
// services need none.
func TestPermissionsMatchDescriptors(t *testing.T) {
	perms := Permissions()
	seen := make(map[string]bool)
	files := []protoreflect.FileDescriptor{
		lnrpc.File_lightning_proto, lnrpc.File_walletunlocker_proto, lnrpc.File_stateservice_proto,
		walletrpc.File_walletrpc_walletkit_proto, chainrpc.File_chainrpc_chainnotifier_proto,
		verrpc.File_verrpc_verrpc_proto,
		invoicesrpc.File_invoicesrpc_invoices_proto,
		routerrpc.File_routerrpc_router_proto,
	}
	for _, fd := range files {
		for i := 0; i < fd.Services().Len(); i++ {
			svc := fd.Services().Get(i)
			for j := 0; j < svc.Methods().Len(); j++ {
				full := "/" + string(svc.FullName()) + "/" + string(svc.Methods().Get(j).Name())
				seen[full] = true
				_, ok := perms[full]
				switch string(svc.FullName()) {
				case unlockerServiceName, stateServiceName:
					if ok {
						t.Errorf("%s needs no macaroon but has permissions", full)
					}
				default:
					if !ok {
						t.Errorf("%s has no permission entry", full)
					}
				}
			}
		}
	}
	for m, ops := range perms {
		if !seen[m] {
			t.Errorf("permission entry %s names no method", m)
		}
		if len(ops) == 0 {
			t.Errorf("%s requires nothing", m)
		}
	}
	// Lightning's node, wallet and peer calls, its graph calls, its
	// invoice calls, its channel calls, its forwarding calls, its
	// payment calls; WalletUnlocker's, State's, WalletKit's (with the
	// sweeper's), ChainNotifier's, Versioner's, Invoices', Router's
	// (mission control, payments).
	if want := 21 + 6 + 5 + 4 + 8 + 3 + 4 + 2 + 18 + 3 + 1 + 5 + 4 + 6; len(seen) != want {
		t.Errorf("%d methods in the descriptors, want %d", len(seen), want)
	}
}

func TestLockedStateGatesLightning(t *testing.T) {
	h := newHarness(t, true)
	ctx := t.Context()
	state := lnrpc.NewStateClient(h.conn(nil))
	unlocker := lnrpc.NewWalletUnlockerClient(h.conn(nil))
	ln := lnrpc.NewLightningClient(h.conn(nil))

	st, err := state.GetState(ctx, &lnrpc.GetStateRequest{})
	if err != nil || st.State != lnrpc.WalletState_LOCKED {
		t.Fatalf("state %v, %v", st, err)
	}
	_, err = ln.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	wantCode(t, err, codes.Unavailable)
	if !strings.Contains(err.Error(), "wallet locked, unlock it to enable full RPC access") {
		t.Fatalf("message: %v", err)
	}

	_, err = unlocker.UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{WalletPassword: []byte("wrong password")})
	wantCode(t, err, codes.InvalidArgument)
	_, err = unlocker.UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{})
	wantCode(t, err, codes.InvalidArgument)

	if _, err := unlocker.UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.srv.Unlocked():
	default:
		t.Fatal("Unlocked not closed after UnlockWallet")
	}
	if h.srv.State() != lnrpc.WalletState_UNLOCKED {
		t.Fatalf("state %v", h.srv.State())
	}
	// Unlocked but not active: Lightning still refused.
	_, err = h.lightning(macaroons.AdminFile).GetInfo(ctx, &lnrpc.GetInfoRequest{})
	wantCode(t, err, codes.Unavailable)

	if err := h.srv.Activate(h.node.backend()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.lightning(macaroons.AdminFile).GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatal(err)
	}
	// The unlocker is closed now.
	_, err = unlocker.UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	wantCode(t, err, codes.Unavailable)
	_, err = unlocker.GenSeed(ctx, &lnrpc.GenSeedRequest{})
	wantCode(t, err, codes.Unavailable)
	h.srv.SetServerActive()
	if st, _ := state.GetState(ctx, &lnrpc.GetStateRequest{}); st.GetState() != lnrpc.WalletState_SERVER_ACTIVE {
		t.Fatalf("state %v", st)
	}
}

func TestInitWallet(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(map[bool]string{false: "files", true: "stateless"}[stateless], func(t *testing.T) {
			h := newHarness(t, false)
			ctx := t.Context()
			unlocker := lnrpc.NewWalletUnlockerClient(h.conn(nil))
			if st := h.srv.State(); st != lnrpc.WalletState_NON_EXISTING {
				t.Fatalf("state %v", st)
			}
			_, err := lnrpc.NewLightningClient(h.conn(nil)).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			wantCode(t, err, codes.Unavailable)

			seed, err := unlocker.GenSeed(ctx, &lnrpc.GenSeedRequest{})
			if err != nil || len(seed.CipherSeedMnemonic) != 24 {
				t.Fatalf("GenSeed: %v %v", seed, err)
			}
			_, err = unlocker.GenSeed(ctx, &lnrpc.GenSeedRequest{SeedEntropy: make([]byte, 16)})
			wantCode(t, err, codes.InvalidArgument)

			bad := []*lnrpc.InitWalletRequest{
				{WalletPassword: []byte("short")},
				{WalletPassword: []byte(testPassword), CipherSeedMnemonic: seed.CipherSeedMnemonic[:12]},
				{WalletPassword: []byte(testPassword), RecoveryWindow: -1},
				{WalletPassword: []byte(testPassword)},
			}
			for _, req := range bad {
				_, err := unlocker.InitWallet(ctx, req)
				wantCode(t, err, codes.InvalidArgument)
			}

			resp, err := unlocker.InitWallet(ctx, &lnrpc.InitWalletRequest{
				WalletPassword:     []byte(testPassword),
				CipherSeedMnemonic: seed.CipherSeedMnemonic,
				StatelessInit:      stateless,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.AdminMacaroon) == 0 {
				t.Fatal("no admin macaroon in the response")
			}
			if got := h.loader.created; got == nil || len(got.Mnemonic) != 24 || got.Restore {
				t.Fatalf("loader got %+v", got)
			}
			_, statErr := os.Stat(filepath.Join(h.paths.MacaroonDir, macaroons.AdminFile))
			if stateless != os.IsNotExist(statErr) {
				t.Fatalf("stateless=%v but admin.macaroon stat: %v", stateless, statErr)
			}
			if err := h.srv.Activate(h.node.backend()); err != nil {
				t.Fatal(err)
			}
			ln := lnrpc.NewLightningClient(h.conn(resp.AdminMacaroon))
			if _, err := ln.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
				t.Fatalf("returned admin macaroon rejected: %v", err)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	h := newHarness(t, true)
	ctx := t.Context()

	// Create the macaroon files with the first password, as a previous
	// run would have, then stop at LOCKED again with a new server.
	if err := h.srv.MarkUnlocked([]byte(testPassword)); err != nil {
		t.Fatal(err)
	}
	oldAdmin := h.macaroon(macaroons.AdminFile)
	h.srv.Stop()

	h2 := newHarnessIn(t, h.dir, h.loader)
	unlocker := lnrpc.NewWalletUnlockerClient(h2.conn(nil))
	_, err := unlocker.ChangePassword(ctx, &lnrpc.ChangePasswordRequest{
		CurrentPassword: []byte(testPassword), NewPassword: []byte("short"),
	})
	wantCode(t, err, codes.InvalidArgument)
	_, err = unlocker.ChangePassword(ctx, &lnrpc.ChangePasswordRequest{
		CurrentPassword: []byte("not the password"), NewPassword: []byte("a new password"),
	})
	wantCode(t, err, codes.InvalidArgument)

	resp, err := unlocker.ChangePassword(ctx, &lnrpc.ChangePasswordRequest{
		CurrentPassword: []byte(testPassword), NewPassword: []byte("a new password"),
		NewMacaroonRootKey: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h2.srv.Activate(h2.node.backend()); err != nil {
		t.Fatal(err)
	}
	_, err = lnrpc.NewLightningClient(h2.conn(oldAdmin)).GetInfo(ctx, &lnrpc.GetInfoRequest{})
	wantCode(t, err, codes.Unauthenticated)
	if _, err := lnrpc.NewLightningClient(h2.conn(resp.AdminMacaroon)).GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatalf("new admin macaroon: %v", err)
	}
	if _, err := h2.lightning(macaroons.AdminFile).GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatalf("rewritten admin.macaroon: %v", err)
	}
}

// A macaroon store that refuses the change (its password already differs
// from the wallet's) must leave the wallet on its old password too.
func TestChangePasswordRollsBack(t *testing.T) {
	h := newHarness(t, true)
	ctx := t.Context()
	if err := h.srv.MarkUnlocked([]byte("store password")); err != nil {
		t.Fatal(err)
	}
	h.srv.Stop()

	h.loader.mu.Lock()
	h.loader.password = []byte(testPassword)
	h.loader.mu.Unlock()
	h2 := newHarnessIn(t, h.dir, h.loader)
	unlocker := lnrpc.NewWalletUnlockerClient(h2.conn(nil))
	_, err := unlocker.ChangePassword(ctx, &lnrpc.ChangePasswordRequest{
		CurrentPassword: []byte(testPassword), NewPassword: []byte("a new password"),
	})
	wantCode(t, err, codes.Internal)
	if !strings.Contains(err.Error(), "password unchanged") {
		t.Fatalf("error %v", err)
	}
	h.loader.mu.Lock()
	defer h.loader.mu.Unlock()
	if string(h.loader.password) != testPassword {
		t.Fatalf("wallet left on %q", h.loader.password)
	}
}

// newHarnessIn starts a second server over an existing data dir.
func newHarnessIn(t testing.TB, dir string, loader *fakeLoader) *harness {
	t.Helper()
	h := newHarness(t, true, func(c *Config) {
		p := DefaultPaths(dir, "regtest")
		c.TLSCertPath, c.TLSKeyPath, c.MacaroonDir = p.TLSCert, p.TLSKey, p.MacaroonDir
		c.Loader = loader
	})
	h.dir, h.paths, h.loader = dir, DefaultPaths(dir, "regtest"), loader
	return h
}

func TestMacaroonChecksGRPC(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	ctx := t.Context()
	send := &lnrpc.SendCoinsRequest{Addr: "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202", Amount: 1000}
	future := macaroons.TimeBeforeCaveat(time.Now().Add(time.Hour))
	past := macaroons.TimeBeforeCaveat(time.Now().Add(-time.Second))

	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"no macaroon", func() error {
			_, err := lnrpc.NewLightningClient(h.conn(nil)).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.Unauthenticated},
		{"not hex", func() error {
			_, err := lnrpc.NewLightningClient(h.conn(nil)).GetInfo(outgoing(ctx, "zz"), &lnrpc.GetInfoRequest{})
			return err
		}, codes.Unauthenticated},
		{"garbage macaroon", func() error {
			_, err := lnrpc.NewLightningClient(h.conn(nil)).GetInfo(outgoing(ctx, "0201"), &lnrpc.GetInfoRequest{})
			return err
		}, codes.Unauthenticated},
		{"readonly getinfo", func() error {
			_, err := h.lightning(macaroons.ReadOnlyFile).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.OK},
		{"readonly sendcoins", func() error {
			_, err := h.lightning(macaroons.ReadOnlyFile).SendCoins(ctx, send)
			return err
		}, codes.PermissionDenied},
		{"readonly newaddress", func() error {
			_, err := h.lightning(macaroons.ReadOnlyFile).NewAddress(ctx, &lnrpc.NewAddressRequest{})
			return err
		}, codes.PermissionDenied},
		{"invoice newaddress", func() error {
			_, err := h.lightning(macaroons.InvoiceFile).NewAddress(ctx, &lnrpc.NewAddressRequest{})
			return err
		}, codes.OK},
		{"invoice connect", func() error {
			_, err := h.lightning(macaroons.InvoiceFile).ListPeers(ctx, &lnrpc.ListPeersRequest{})
			return err
		}, codes.PermissionDenied},
		{"admin sendcoins", func() error {
			_, err := h.lightning(macaroons.AdminFile).SendCoins(ctx, send)
			return err
		}, codes.OK},
		{"time-before future", func() error {
			_, err := h.lightning(macaroons.AdminFile, future).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.OK},
		{"time-before expired", func() error {
			_, err := h.lightning(macaroons.AdminFile, past).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.Unauthenticated},
		{"ipaddr loopback", func() error {
			_, err := h.lightning(macaroons.AdminFile, macaroons.IPAddrCaveat(net.IPv4(127, 0, 0, 1))).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.OK},
		{"ipaddr other", func() error {
			_, err := h.lightning(macaroons.AdminFile, macaroons.IPAddrCaveat(net.IPv4(10, 9, 8, 7))).GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.Unauthenticated},
		{"unknown caveat", func() error {
			_, err := h.lightning(macaroons.AdminFile, "lnd-custom foo bar").GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}, codes.Unauthenticated},
		{"stream without macaroon", func() error {
			st, err := lnrpc.NewLightningClient(h.conn(nil)).SubscribePeerEvents(ctx, &lnrpc.PeerEventSubscription{})
			if err != nil {
				return err
			}
			_, err = st.Recv()
			return err
		}, codes.Unauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.call(), tc.want)
		})
	}
}

func TestGetInfoAndPeers(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	ctx := t.Context()
	ln := h.lightning(macaroons.AdminFile)

	info, err := ln.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Alias != "alice" || info.BlockHeight != 101 || info.NumPeers != 1 ||
		!info.SyncedToChain || info.BestHeaderTimestamp != 1700000123 ||
		!strings.HasPrefix(info.Version, "0.20.0-beta") || info.CommitHash != "abc" {
		t.Fatalf("info %v", info)
	}
	//lint:ignore SA1019 deprecated in lnd, but apps still read it.
	if len(info.Chains) != 1 || info.Chains[0].Chain != "bitcoin" || info.Chains[0].Network != "regtest" {
		t.Fatalf("chains %v", info.Chains)
	}
	if f := info.Features[12]; f == nil || !f.IsRequired || !f.IsKnown || info.Features[1].IsRequired {
		t.Fatalf("features %v", info.Features)
	}

	peers, err := ln.ListPeers(ctx, &lnrpc.ListPeersRequest{LatestError: true})
	if err != nil {
		t.Fatal(err)
	}
	p := peers.Peers[0]
	if p.PingTime != 1500 || p.SyncType != lnrpc.Peer_ACTIVE_SYNC || len(p.Errors) != 1 ||
		p.Errors[0].Error != "second" || p.BytesSent != 1<<40 {
		t.Fatalf("peer %v", p)
	}

	// Connect: already connected, bad input, self, default port.
	_, err = ln.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{Addr: &lnrpc.LightningAddress{Pubkey: p.PubKey, Host: "127.0.0.1:9736"}})
	wantCode(t, err, codes.AlreadyExists)
	if !strings.Contains(err.Error(), "already connected") {
		t.Fatalf("message %v", err)
	}
	_, err = ln.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{Addr: &lnrpc.LightningAddress{Pubkey: info.IdentityPubkey, Host: "x"}})
	wantCode(t, err, codes.InvalidArgument)
	other := "02" + strings.Repeat("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", 1)
	for _, req := range []*lnrpc.ConnectPeerRequest{
		{},
		{Addr: &lnrpc.LightningAddress{Pubkey: "zz", Host: "h:1"}},
		{Addr: &lnrpc.LightningAddress{Pubkey: other[:20], Host: "h:1"}},
		{Addr: &lnrpc.LightningAddress{Pubkey: other, Host: ""}},
		{Addr: &lnrpc.LightningAddress{Pubkey: other, Host: "h:99999"}},
		{Addr: &lnrpc.LightningAddress{Pubkey: other, Host: "h:1"}, Timeout: 1 << 40},
	} {
		_, err := ln.ConnectPeer(ctx, req)
		wantCode(t, err, codes.InvalidArgument)
	}
	resp, err := ln.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{Addr: &lnrpc.LightningAddress{Pubkey: other, Host: "[::1]"}, Timeout: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Status, "[::1]:9735") || h.node.connects[0] != "[::1]:9735" {
		t.Fatalf("status %q, connects %v", resp.Status, h.node.connects)
	}
	_, err = ln.DisconnectPeer(ctx, &lnrpc.DisconnectPeerRequest{PubKey: other})
	wantCode(t, err, codes.NotFound)
	if _, err := ln.DisconnectPeer(ctx, &lnrpc.DisconnectPeerRequest{PubKey: p.PubKey}); err != nil {
		t.Fatal(err)
	}

	// Peer events stream.
	sub, err := ln.SubscribePeerEvents(ctx, &lnrpc.PeerEventSubscription{})
	if err != nil {
		t.Fatal(err)
	}
	h.node.events <- PeerEvent{PubKey: h.node.peers[0].PubKey, Online: true}
	ev, err := sub.Recv()
	if err != nil || ev.Type != lnrpc.PeerEvent_PEER_ONLINE || ev.PubKey != p.PubKey {
		t.Fatalf("event %v %v", ev, err)
	}

	if _, err := ln.StopDaemon(ctx, &lnrpc.StopRequest{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.node.stopped:
	default:
		t.Fatal("StopDaemon did not call Stop")
	}
}

func TestWalletCalls(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	ctx := t.Context()
	ln := h.lightning(macaroons.AdminFile)
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"

	a, err := ln.NewAddress(ctx, &lnrpc.NewAddressRequest{Type: lnrpc.AddressType_TAPROOT_PUBKEY})
	if err != nil || !strings.HasPrefix(a.Address, "bcrt1p") {
		t.Fatalf("taproot address %v %v", a, err)
	}
	_, err = ln.NewAddress(ctx, &lnrpc.NewAddressRequest{Type: 77})
	wantCode(t, err, codes.InvalidArgument)

	bal, err := ln.WalletBalance(ctx, &lnrpc.WalletBalanceRequest{})
	if err != nil || bal.TotalBalance != 150000 || bal.AccountBalance["default"].GetConfirmedBalance() != 100000 {
		t.Fatalf("balance %v %v", bal, err)
	}

	utxos, err := ln.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 1, MaxConfs: 100})
	if err != nil || len(utxos.Utxos) != 1 || utxos.Utxos[0].Outpoint.OutputIndex != 3 {
		t.Fatalf("utxos %v %v", utxos, err)
	}
	_, err = ln.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 5, MaxConfs: 1})
	wantCode(t, err, codes.InvalidArgument)

	txs, err := ln.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{IndexOffset: 0, MaxTransactions: 1})
	if err != nil || len(txs.Transactions) != 1 || txs.LastIndex != 1 {
		t.Fatalf("txs %v %v", txs, err)
	}
	tx := txs.Transactions[0]
	if tx.RawTxHex == "" || len(tx.OutputDetails) != 1 ||
		tx.OutputDetails[0].OutputType != lnrpc.OutputScriptType_SCRIPT_TYPE_WITNESS_V0_PUBKEY_HASH ||
		!tx.OutputDetails[0].IsOurAddress || !strings.HasPrefix(tx.OutputDetails[0].Address, "bcrt1q") {
		t.Fatalf("tx %v", tx)
	}

	// SendCoins validation.
	bad := []*lnrpc.SendCoinsRequest{
		{Amount: 1000},
		{Addr: "not an address", Amount: 1000},
		{Addr: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Amount: 1000},
		{Addr: "02" + strings.Repeat("ab", 32), Amount: 1000},
		{Addr: addr},
		{Addr: addr, Amount: -5},
		{Addr: addr, Amount: 5, SendAll: true},
		{Addr: addr, Amount: 5, SatPerVbyte: 2, TargetConf: 3},
		{Addr: addr, Amount: 5, SatPerVbyte: 2, SatPerByte: 2},
		{Addr: addr, Amount: 5, MinConfs: 2, SpendUnconfirmed: true},
		{Addr: addr, Amount: 5, Label: strings.Repeat("x", 501)},
		{Addr: addr, Amount: 5, CoinSelectionStrategy: 9},
		{Addr: addr, Amount: 5, Outpoints: []*lnrpc.OutPoint{{TxidStr: "00"}}},
		{Addr: addr, Amount: 5, Outpoints: []*lnrpc.OutPoint{{TxidBytes: make([]byte, 32)}, {TxidBytes: make([]byte, 32)}}},
	}
	for i, req := range bad {
		_, err := ln.SendCoins(ctx, req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("bad send %d: %v", i, err)
		}
	}
	if len(h.node.sends) != 0 {
		t.Fatalf("invalid sends reached the wallet: %d", len(h.node.sends))
	}

	if _, err := ln.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: addr, Amount: 5000, SatPerVbyte: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := ln.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: addr, SendAll: true, SpendUnconfirmed: true, Label: "mine"}); err != nil {
		t.Fatal(err)
	}
	s0, s1 := h.node.sends[0], h.node.sends[1]
	// lnd labels an API send without a label "external".
	if s0.Label != "external" || s1.Label != "mine" {
		t.Fatalf("labels %q, %q", s0.Label, s1.Label)
	}
	if s0.FeeRate != 2500 || s0.TargetConf != 0 || s0.MinConfs != 1 || s0.Amount != 5000 {
		t.Fatalf("send 0 %+v", s0)
	}
	if s1.FeeRate != 0 || s1.TargetConf != 6 || s1.MinConfs != 0 || !s1.SendAll {
		t.Fatalf("send 1 %+v", s1)
	}

	fee, err := ln.EstimateFee(ctx, &lnrpc.EstimateFeeRequest{AddrToAmount: map[string]int64{addr: 10000}})
	if err != nil || fee.FeeSat != 1410 || fee.SatPerVbyte != 10 {
		t.Fatalf("fee %v %v", fee, err)
	}
	_, err = ln.EstimateFee(ctx, &lnrpc.EstimateFeeRequest{})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ln.EstimateFee(ctx, &lnrpc.EstimateFeeRequest{AddrToAmount: map[string]int64{addr: 0}})
	wantCode(t, err, codes.InvalidArgument)
}

// readJSON decodes a response body into a generic map.
func readJSON(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

func TestRESTAuthAndFormat(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	admin := h.macaroon(macaroons.AdminFile)
	readonly := h.macaroon(macaroons.ReadOnlyFile)
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"

	// Auth: grpc-gateway maps Unauthenticated to 401, PermissionDenied
	// to 403.
	if resp := h.rest("GET", "/v1/getinfo", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no macaroon: %d", resp.StatusCode)
	}
	resp := h.rest("POST", "/v1/transactions", `{"addr":"`+addr+`","amount":"1000"}`, readonly)
	if resp.StatusCode != http.StatusForbidden {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("readonly send: %d %s", resp.StatusCode, b)
	}
	errBody := readJSON(t, resp)
	if errBody["code"] != float64(codes.PermissionDenied) || errBody["message"] == "" {
		t.Fatalf("error body %v", errBody)
	}
	if _, ok := errBody["details"]; !ok {
		t.Fatalf("error body without details: %v", errBody)
	}

	// GetInfo JSON: snake_case, int64 as string, zero values present.
	resp = h.rest("GET", "/v1/getinfo", "", admin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("getinfo: %d", resp.StatusCode)
	}
	info := readJSON(t, resp)
	checks := map[string]any{
		"alias":                 "alice",
		"best_header_timestamp": "1700000123",
		"block_height":          float64(101),
		"num_pending_channels":  float64(0),
		"synced_to_graph":       false,
		"commit_hash":           "abc",
	}
	for k, want := range checks {
		if got, ok := info[k]; !ok || got != want {
			t.Errorf("getinfo %s = %#v (present %v), want %#v", k, got, ok, want)
		}
	}
	chains, _ := info["chains"].([]any)
	if len(chains) != 1 || chains[0].(map[string]any)["network"] != "regtest" {
		t.Errorf("chains %v", info["chains"])
	}
	feats, _ := info["features"].(map[string]any)
	if f, _ := feats["12"].(map[string]any); f["is_required"] != true || f["name"] != "static-remote-key" {
		t.Errorf("features %v", feats)
	}

	// WalletBalance.
	bal := readJSON(t, h.rest("GET", "/v1/balance/blockchain", "", readonly))
	for k, want := range map[string]any{
		"total_balance": "150000", "confirmed_balance": "100000",
		"unconfirmed_balance": "50000", "locked_balance": "0", "reserved_balance_anchor_chan": "0",
	} {
		if bal[k] != want {
			t.Errorf("balance %s = %#v, want %#v", k, bal[k], want)
		}
	}
	if acct, _ := bal["account_balance"].(map[string]any)["default"].(map[string]any); acct["confirmed_balance"] != "100000" {
		t.Errorf("account_balance %v", bal["account_balance"])
	}

	// Input: camelCase names, numbers as strings, any Content-Type, unknown
	// fields ignored.
	resp = h.rest("POST", "/v1/transactions",
		`{"addr":"`+addr+`","amount":2000,"satPerVbyte":"3","whatever":1}`, admin,
		"Content-Type", "text/plain")
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	if txid := readJSON(t, resp)["txid"]; txid == "" || txid == nil {
		t.Fatal("no txid")
	}
	if s := h.node.sends[0]; s.Amount != 2000 || s.FeeRate != 750 {
		t.Fatalf("send %+v", s)
	}

	// Query parameters and unknown ones; enums by name.
	resp = h.rest("GET", "/v1/newaddress?type=TAPROOT_PUBKEY&foo=bar", "", admin)
	if a := readJSON(t, resp)["address"]; !strings.HasPrefix(a.(string), "bcrt1p") {
		t.Fatalf("address %v", a)
	}

	// NotFound maps to 404.
	other := "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	if resp := h.rest("DELETE", "/v1/peers/"+other, "", admin); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("disconnect unknown peer: %d", resp.StatusCode)
	}
	// Validation errors are 400.
	if resp := h.rest("GET", "/v1/transactions/fee", "", admin); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty estimatefee: %d", resp.StatusCode)
	}
	// Map query parameter as lnd documents it.
	resp = h.rest("GET", "/v1/transactions/fee?AddrToAmount["+addr+"]=1000&target_conf=2", "", admin)
	if fee := readJSON(t, resp); fee["fee_sat"] != "1410" || fee["sat_per_vbyte"] != "10" {
		t.Fatalf("fee %v", fee)
	}
}

func TestRESTStreamingState(t *testing.T) {
	h := newHarness(t, true)
	resp := h.rest("GET", "/v1/state/subscribe", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	next := func() string {
		t.Helper()
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		return line
	}
	if got := next(); got != `{"result":{"state":"LOCKED"}}`+"\n" {
		t.Fatalf("first message %q", got)
	}
	h.unlockAndActivate()
	var got []string
	for range 2 {
		got = append(got, next())
	}
	want := []string{`{"result":{"state":"UNLOCKED"}}` + "\n", `{"result":{"state":"RPC_ACTIVE"}}` + "\n"}
	if !slices.Equal(got, want) {
		t.Fatalf("stream %q, want %q", got, want)
	}
	// GetState over REST needs no macaroon either.
	if st := readJSON(t, h.rest("GET", "/v1/state", "", nil)); st["state"] != "RPC_ACTIVE" {
		t.Fatalf("state %v", st)
	}
}

func TestRESTLocked(t *testing.T) {
	h := newHarness(t, true)
	resp := h.rest("GET", "/v1/getinfo", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("locked getinfo: %d", resp.StatusCode)
	}
	if m := readJSON(t, resp)["message"]; !strings.Contains(m.(string), "wallet locked") {
		t.Fatalf("message %v", m)
	}
	// Unlock over REST, base64 password.
	resp = h.rest("POST", "/v1/unlockwallet", `{"wallet_password":"Y29ycmVjdCBob3JzZQ=="}`, nil)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("unlock: %d %s", resp.StatusCode, body)
	}
	if h.srv.State() != lnrpc.WalletState_UNLOCKED {
		t.Fatalf("state %v", h.srv.State())
	}
}

func TestStopEndsStreams(t *testing.T) {
	h := newHarness(t, true)
	st, err := lnrpc.NewStateClient(h.conn(nil)).SubscribeState(t.Context(), &lnrpc.SubscribeStateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := st.Recv()
		done <- err
	}()
	h.srv.Stop()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("stream still open after Stop")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream not ended by Stop")
	}
}

func TestRESTCaveats(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	tests := []struct {
		name    string
		caveats []string
		header  []string
		want    int
	}{
		{"plain", nil, nil, http.StatusOK},
		{"ipaddr of the HTTP client", []string{macaroons.IPAddrCaveat(net.IPv4(127, 0, 0, 1))}, nil, http.StatusOK},
		{"ipaddr elsewhere", []string{macaroons.IPAddrCaveat(net.IPv4(10, 1, 1, 1))}, nil, http.StatusUnauthorized},
		{"forged client address", []string{macaroons.IPAddrCaveat(net.IPv4(10, 1, 1, 1))},
			[]string{"Grpc-Metadata-Xlnd-Gateway-Client", "10.1.1.1:5", "Grpc-Metadata-Xlnd-Gateway-Token", "x", "X-Forwarded-For", "10.1.1.1"},
			http.StatusUnauthorized},
		{"expired", []string{macaroons.TimeBeforeCaveat(time.Now().Add(-time.Minute))}, nil, http.StatusUnauthorized},
		{"unknown caveat", []string{"iprange 10.0.0.0/8"}, nil, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.rest("GET", "/v1/getinfo", "", h.macaroon(macaroons.AdminFile, tc.caveats...), tc.header...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}

	// A direct gRPC caller cannot borrow the gateway's metadata either.
	ln := h.lightning(macaroons.AdminFile, macaroons.IPAddrCaveat(net.IPv4(10, 1, 1, 1)))
	ctx := metadata.AppendToOutgoingContext(t.Context(), gatewayTokenKey, "guess", gatewayClientKey, "10.1.1.1:1")
	_, err := ln.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func TestInitWalletRestore(t *testing.T) {
	h := newHarness(t, false)
	words := strings.Fields(strings.Repeat("zoo ", 23) + "wrong")
	_, err := lnrpc.NewWalletUnlockerClient(h.conn(nil)).InitWallet(t.Context(), &lnrpc.InitWalletRequest{
		WalletPassword: []byte(testPassword), CipherSeedMnemonic: words,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.loader.created; got == nil || !got.Restore {
		t.Fatalf("words not from GenSeed not marked as a restore: %+v", got)
	}
}

func TestRESTStreamError(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	// A stream refused by authentication: lnd's clients read the error
	// object from the body.
	resp := h.rest("GET", "/v1/peers/subscribe", "", nil)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if m["error"]["code"] != float64(codes.Unauthenticated) {
		t.Fatalf("stream error %s (HTTP %d)", body, resp.StatusCode)
	}

	// A working stream: one compact line per event. The gateway sends the
	// headers with the first message, so queue it before asking.
	h.node.events <- PeerEvent{PubKey: h.node.peers[0].PubKey, Online: false}
	resp = h.rest("GET", "/v1/peers/subscribe", "", h.macaroon(macaroons.ReadOnlyFile))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	want := `{"result":{"pub_key":"` + hexKey(h.node.peers[0].PubKey) + `","type":"PEER_OFFLINE"}}` + "\n"
	if line != want {
		t.Fatalf("line %q, want %q", line, want)
	}
}

// TestInitWalletOverLeftovers: a macaroon store left by an earlier wallet
// (other password) does not stop a new wallet; the new one gets new keys.
func TestInitWalletOverLeftovers(t *testing.T) {
	dir := t.TempDir()
	p := DefaultPaths(dir, "regtest")
	if err := os.MkdirAll(p.MacaroonDir, 0o700); err != nil {
		t.Fatal(err)
	}
	old, err := macaroons.OpenStoreN(filepath.Join(p.MacaroonDir, "macaroons.db"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Unlock([]byte("an old password")); err != nil {
		t.Fatal(err)
	}
	old.Close()

	h := newHarnessIn(t, dir, &fakeLoader{})
	resp, err := lnrpc.NewWalletUnlockerClient(h.conn(nil)).InitWallet(t.Context(), &lnrpc.InitWalletRequest{
		WalletPassword: []byte(testPassword), CipherSeedMnemonic: strings.Fields(strings.Repeat("zoo ", 23) + "wrong"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Activate(h.node.backend()); err != nil {
		t.Fatal(err)
	}
	if _, err := lnrpc.NewLightningClient(h.conn(resp.AdminMacaroon)).GetInfo(t.Context(), &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestErrorCodeOverGRPC: a wallet error travels through the table to the
// client with its code and its own message.
func TestErrorCodeOverGRPC(t *testing.T) {
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"
	send := &lnrpc.SendCoinsRequest{Addr: addr, Amount: 999999}

	h := newHarness(t, true)
	h.unlockAndActivate()
	_, err := h.lightning(macaroons.AdminFile).SendCoins(t.Context(), send)
	wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(err.Error(), "insufficient funds") {
		t.Fatalf("message lost: %v", err)
	}
}
