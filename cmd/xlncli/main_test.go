package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/logging"
	"lnd.xprv/internal/netparams"
	"lnd.xprv/rpc"
)

// node is a fake wallet loader and node backend.
type node struct {
	mu       sync.Mutex
	exists   bool
	password []byte
	mnemonic []string
	identity *btcec.PublicKey
	priv     *btcec.PrivateKey
	sends    []*rpc.SendRequest
	stopped  bool
}

func (n *node) WalletExists(context.Context) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exists, nil
}

func (n *node) NewMnemonic(context.Context, []byte) ([]string, error) {
	return strings.Fields(strings.Repeat("zoo ", 23) + "wrong"), nil
}

func (n *node) CreateWallet(_ context.Context, p rpc.CreateWalletParams) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.exists, n.password, n.mnemonic = true, p.Password, p.Mnemonic
	return nil
}

func (n *node) OpenWallet(_ context.Context, pw []byte, _ int32) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !bytes.Equal(pw, n.password) {
		return rpc.ErrWrongPassword
	}
	return nil
}

func (n *node) ChangePassword(_ context.Context, old, new []byte, _ rpc.LinkedSecrets) error {
	return rpc.ErrWrongPassword
}

func (n *node) FinishPasswordChange(context.Context, rpc.LinkedSecrets) (bool, error) {
	return false, nil
}

func (n *node) IdentityKey(context.Context) (*btcec.PublicKey, error) { return n.identity, nil }

func (n *node) NodeInfo(context.Context) (*rpc.Info, error) {
	return &rpc.Info{IdentityKey: n.identity, Alias: "xlnd-test", Color: "#000000",
		Features: []rpc.Feature{{Bit: 9, Name: "tlv-onion", Known: true}}}, nil
}

func (n *node) BestBlock(context.Context) (*rpc.BlockStamp, error) {
	return &rpc.BlockStamp{Height: 7, Hash: chainhash.Hash{1}, Timestamp: time.Unix(1600000000, 0)}, nil
}

func (n *node) Synced(context.Context) (bool, error) { return true, nil }

func (n *node) SignCompact(_ context.Context, digest [32]byte) ([]byte, error) {
	return ecdsa.SignCompact(n.priv, digest[:], true)
}

func (n *node) KnownNode(_ context.Context, pub *btcec.PublicKey) (bool, error) {
	return pub.IsEqual(n.identity), nil
}

func (n *node) Connect(context.Context, *btcec.PublicKey, string, bool) error { return nil }
func (n *node) Disconnect(context.Context, *btcec.PublicKey) error            { return rpc.ErrPeerNotConnected }
func (n *node) List(context.Context) ([]rpc.PeerInfo, error)                  { return nil, nil }
func (n *node) Subscribe(ctx context.Context) (<-chan rpc.PeerEvent, error) {
	ch := make(chan rpc.PeerEvent)
	go func() { <-ctx.Done(); close(ch) }()
	return ch, nil
}

func (n *node) NewAddress(context.Context, rpc.AddressType, bool, string) (btcutil.Address, error) {
	return btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.RegressionNetParams)
}

func (n *node) Balance(context.Context, string, int32) (*rpc.Balance, error) {
	return &rpc.Balance{Confirmed: 12345}, nil
}

func (n *node) ListUnspent(context.Context, string, int32, int32) ([]rpc.Utxo, error) {
	return []rpc.Utxo{{Amount: 12345, OutPoint: wire.OutPoint{Hash: chainhash.Hash{0xaa}, Index: 1}, Confirmations: 3}}, nil
}

func (n *node) Transactions(context.Context, string, int32, int32) ([]rpc.Transaction, error) {
	return nil, nil
}

func (n *node) SendCoins(_ context.Context, req *rpc.SendRequest) (*chainhash.Hash, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sends = append(n.sends, req)
	return &chainhash.Hash{0xbb}, nil
}

func (n *node) EstimateFee(context.Context, *rpc.FeeRequest) (*rpc.FeeEstimate, error) {
	return &rpc.FeeEstimate{Fee: 300, FeeRate: 1000}, nil
}

type testEnv struct {
	t    *testing.T
	dir  string
	srv  *rpc.Server
	node *node
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	network, err := netparams.ByName("regtest")
	if err != nil {
		t.Fatal(err)
	}
	p := rpc.DefaultPaths(dir, "regtest")
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{identity: priv.PubKey(), priv: priv}
	srv, err := rpc.New(rpc.Config{
		Network: network, TLSCertPath: p.TLSCert, TLSKeyPath: p.TLSKey,
		RPCListen: []string{"127.0.0.1:0"}, MacaroonDir: p.MacaroonDir, Loader: n,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &testEnv{t: t, dir: dir, srv: srv, node: n}
}

// cli runs xlncli with the standard connection flags and stdin.
func (e *testEnv) cli(stdin string, args ...string) (string, string, int) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	a := &app{
		ctx: e.t.Context(), in: strings.NewReader(stdin), out: &out, err: &errOut,
		stdinFd: -1, stdoutFd: -1, home: e.t.TempDir(),
	}
	full := append([]string{"--xlnddir", e.dir, "-n", "regtest",
		"--rpcserver", e.srv.GRPCAddrs()[0].String()}, args...)
	code := a.run(full)
	return out.String(), errOut.String(), code
}

func (e *testEnv) mustCLI(stdin string, args ...string) string {
	e.t.Helper()
	out, errOut, code := e.cli(stdin, args...)
	if code != 0 {
		e.t.Fatalf("xlncli %v: exit %d: %s", args, code, errOut)
	}
	return out
}

// createAndActivate creates the wallet non-interactively and activates the
// node.
func (e *testEnv) createAndActivate() []string {
	e.t.Helper()
	pwFile := filepath.Join(e.t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret password\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	out := e.mustCLI("", "create", "--password_file", pwFile)
	var seed struct {
		Words []string `json:"cipher_seed_mnemonic"`
	}
	if err := json.Unmarshal([]byte(out), &seed); err != nil {
		e.t.Fatalf("create output %q: %v", out, err)
	}
	logs := logging.New(io.Discard, slog.LevelInfo)
	logs.Logger("PEER")
	logs.Logger("RPCS")
	err := e.srv.Activate(&rpc.Backend{Info: e.node, Chain: e.node, Peers: e.node, Wallet: e.node,
		Stop:   func() { e.node.mu.Lock(); e.node.stopped = true; e.node.mu.Unlock() },
		Logs:   logs,
		Signer: e.node,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return seed.Words
}

func TestGetInfoJSON(t *testing.T) {
	e := newEnv(t)
	words := e.createAndActivate()
	if len(words) != 24 || !slicesEqual(e.node.mnemonic, words) || string(e.node.password) != "s3cret password" {
		t.Fatalf("seed %v, wallet got %v / %q", words, e.node.mnemonic, e.node.password)
	}

	out := e.mustCLI("", "getinfo")
	var info map[string]any
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("getinfo output %q: %v", out, err)
	}
	want := map[string]any{
		"identity_pubkey":       hex.EncodeToString(e.node.identity.SerializeCompressed()),
		"alias":                 "xlnd-test",
		"block_height":          float64(7),
		"best_header_timestamp": "1600000000",
		"num_peers":             float64(0),
		"synced_to_chain":       true,
		"synced_to_graph":       false,
		"uris":                  []any{},
	}
	for k, v := range want {
		got, ok := info[k]
		if !ok {
			t.Errorf("getinfo lacks %s", k)
			continue
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(v)
		if !bytes.Equal(gb, wb) {
			t.Errorf("getinfo %s = %s, want %s", k, gb, wb)
		}
	}
	if !strings.Contains(out, "\n    \"version\": \"0.20.0-beta") {
		t.Errorf("not lncli's 4-space layout or version:\n%s", out)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCommands(t *testing.T) {
	e := newEnv(t)
	e.createAndActivate()

	if out := e.mustCLI("", "state"); !strings.Contains(out, `"state": "RPC_ACTIVE"`) {
		t.Errorf("state: %s", out)
	}
	if out := e.mustCLI("", "newaddress", "p2wkh"); !strings.Contains(out, `"address": "bcrt1q`) {
		t.Errorf("newaddress: %s", out)
	}
	if out := e.mustCLI("", "walletbalance"); !strings.Contains(out, `"confirmed_balance": "12345"`) {
		t.Errorf("walletbalance: %s", out)
	}
	out := e.mustCLI("", "listunspent")
	if !strings.Contains(out, `"outpoint": "`+(chainhash.Hash{0xaa}).String()+`:1"`) || !strings.Contains(out, `"amount_sat": 12345`) {
		t.Errorf("listunspent: %s", out)
	}
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"
	out = e.mustCLI("", "sendcoins", "--addr", addr, "--amt", "5000", "--sat_per_vbyte", "3")
	if !strings.Contains(out, `"txid": "`+(chainhash.Hash{0xbb}).String()) {
		t.Errorf("sendcoins: %s", out)
	}
	e.mustCLI("", "sendcoins", addr, "--sweepall", "--conf_target", "3", "--min_confs", "0")
	if s := e.node.sends; len(s) != 2 || s[0].Amount != 5000 || s[0].FeeRate != 750 ||
		!s[1].SendAll || s[1].TargetConf != 3 || s[1].MinConfs != 0 {
		t.Fatalf("sends %+v", e.node.sends)
	}
	out = e.mustCLI("", "estimatefee", `{"`+addr+`": 10000}`, "--conf_target", "2")
	if !strings.Contains(out, `"fee_sat": "300"`) || !strings.Contains(out, `"sat_per_vbyte": "4"`) {
		t.Errorf("estimatefee: %s", out)
	}
	e.mustCLI("", "listchaintxns")
	e.mustCLI("", "listpeers")

	// Errors: exit 1 and the gRPC error on stderr.
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"connect", "nopubkey"}, "pubkey@host:port"},
		{[]string{"connect", "02aa@host:1"}, "InvalidArgument"},
		{[]string{"disconnect", "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}, "peer is not connected"},
		{[]string{"newaddress", "p2pkh"}, "invalid address type"},
		{[]string{"sendcoins", "--addr", addr}, "amount argument missing"},
		{[]string{"sendcoins", "--addr", addr, "--amt", "5", "--sat_per_vbyte", "2", "--conf_target", "2"}, "not both"},
		{[]string{"estimatefee", "not json"}, "JSON object"},
		{[]string{"--macaroonpath", filepath.Join(e.dir, "data/chain/bitcoin/regtest/readonly.macaroon"), "sendcoins", "--addr", addr, "--amt", "5"}, "PermissionDenied"},
		{[]string{"-n", "testnet", "getinfo"}, "check the network setting"},
		{[]string{"--macaroonip", "10.1.2.3", "getinfo"}, "Unauthenticated"},
		{[]string{"--macaroonip", "bogus", "getinfo"}, "not an IP address"},
		{[]string{"unlock", "--stdin"}, "Unavailable"},
		{[]string{"create", "--password_file", "/nonexistent"}, "wallet already exists"},
		{[]string{"nosuchcommand"}, "Unknown command"},
	}
	for _, tc := range tests {
		_, errOut, code := e.cli("pw\n", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("xlncli %v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}

	e.mustCLI("", "stop")
	if !e.node.stopped {
		t.Fatal("stop did not reach the node")
	}
}

func TestUnlockStdin(t *testing.T) {
	e := newEnv(t)
	e.node.exists, e.node.password = true, []byte("the password")
	// Macaroon files come from the first unlock in a fresh data dir.
	if _, errOut, code := e.cli("wrong password\n", "unlock", "--stdin"); code == 0 || !strings.Contains(errOut, "invalid passphrase") {
		t.Fatalf("wrong password: %d %s", code, errOut)
	}
	if out := e.mustCLI("the password\n", "unlock", "--stdin"); !strings.Contains(out, "successfully unlocked") {
		t.Fatalf("unlock: %s", out)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "data/chain/bitcoin/regtest/admin.macaroon")); err != nil {
		t.Fatal(err)
	}
}

func TestCreateInteractive(t *testing.T) {
	e := newEnv(t)
	// Mismatched passwords once, then a new seed, refused confirmation:
	// no wallet.
	in := "password1\npassword2\npassword1\npassword1\nn\n\nno\n"
	_, errOut, code := e.cli(in, "create")
	if code == 0 || !strings.Contains(errOut, "wallet not created") || e.node.exists {
		t.Fatalf("refused confirmation: exit %d, %s, exists %v", code, errOut, e.node.exists)
	}
	// Restore from typed words.
	words := strings.Repeat("abandon ", 23) + "art"
	in = "password1\npassword1\ny\n" + words + "\n\n"
	out := e.mustCLI(in, "create")
	if !strings.Contains(out, "successfully initialized") || len(e.node.mnemonic) != 24 {
		t.Fatalf("restore: %s %v", out, e.node.mnemonic)
	}
}
