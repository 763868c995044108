package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"gopkg.in/macaroon.v2"

	"lnd.xprv/internal/netparams"
	"lnd.xprv/rpc/cert"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/wallet"
)

const testPassword = "correct horse"

// fakeLoader is an in-memory WalletLoader.
type fakeLoader struct {
	mu       sync.Mutex
	exists   bool
	password []byte
	created  *CreateWalletParams
}

func (f *fakeLoader) WalletExists(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exists, nil
}

func (f *fakeLoader) NewMnemonic(_ context.Context, entropy []byte) ([]string, error) {
	words := make([]string, 24)
	for i := range words {
		words[i] = "abandon"
	}
	words[23] = "art"
	return words, nil
}

func (f *fakeLoader) CreateWallet(_ context.Context, p CreateWalletParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.exists {
		return ErrWalletExists
	}
	f.exists, f.password, f.created = true, p.Password, &p
	return nil
}

func (f *fakeLoader) OpenWallet(_ context.Context, password []byte, _ int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.exists {
		return ErrWalletNotFound
	}
	if !bytes.Equal(password, f.password) {
		return ErrWrongPassword
	}
	return nil
}

// ChangePassword follows the wallet's protocol with linked: Reseal, then
// (the commit point) Install and change.
func (f *fakeLoader) ChangePassword(_ context.Context, old, new []byte, linked LinkedSecrets) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !bytes.Equal(old, f.password) {
		return ErrWrongPassword
	}
	if linked != nil {
		r, err := linked.Reseal(old, new)
		if err != nil {
			return err
		}
		if err := linked.Install(r); err != nil {
			return err
		}
	}
	f.password = new
	return nil
}

func (f *fakeLoader) FinishPasswordChange(context.Context, LinkedSecrets) (bool, error) {
	return false, nil
}

// fakeNode implements every Backend interface.
type fakeNode struct {
	mu       sync.Mutex
	identity *btcec.PublicKey
	peers    []PeerInfo
	events   chan PeerEvent
	sends    []*SendRequest
	connects []string
	stopped  chan struct{}
	stopOnce sync.Once

	// manyTxs, if set, is how many transactions Transactions lists.
	manyTxs int
}

func newFakeNode(t testing.TB) *fakeNode {
	t.Helper()
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	peerPriv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &fakeNode{
		identity: priv.PubKey(),
		peers: []PeerInfo{{
			PubKey:    peerPriv.PubKey(),
			Address:   "127.0.0.1:9736",
			BytesSent: 1 << 40,
			BytesRecv: 42,
			PingTime:  1500 * time.Microsecond,
			SyncType:  SyncActive,
			Features:  []Feature{{Bit: 1, Name: "data-loss-protect", Known: true}},
			Errors: []TimestampedError{
				{Time: time.Unix(1700000000, 0), Error: "first"},
				{Time: time.Unix(1700000001, 0), Error: "second"},
			},
		}},
		events:  make(chan PeerEvent, 8),
		stopped: make(chan struct{}),
	}
}

func (n *fakeNode) backend() *Backend {
	return &Backend{Info: n, Chain: n, Peers: n, Wallet: n, Stop: func() {
		n.stopOnce.Do(func() { close(n.stopped) })
	}}
}

func (n *fakeNode) IdentityKey(context.Context) (*btcec.PublicKey, error) {
	return n.identity, nil
}

func (n *fakeNode) NodeInfo(context.Context) (*Info, error) {
	return &Info{
		IdentityKey: n.identity,
		Alias:       "alice",
		Color:       "#3399ff",
		URIs:        []string{hex.EncodeToString(n.identity.SerializeCompressed()) + "@127.0.0.1:9735"},
		Features: []Feature{
			{Bit: 1, Name: "data-loss-protect", Known: true},
			{Bit: 12, Name: "static-remote-key", Known: true},
		},
	}, nil
}

func (n *fakeNode) BestBlock(context.Context) (*BlockStamp, error) {
	h := chainhash.DoubleHashH([]byte("tip"))
	return &BlockStamp{Height: 101, Hash: h, Timestamp: time.Unix(1700000123, 0)}, nil
}

func (n *fakeNode) Synced(context.Context) (bool, error) { return true, nil }

func (n *fakeNode) Connect(_ context.Context, pub *btcec.PublicKey, addr string, perm bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.peers {
		if p.PubKey.IsEqual(pub) {
			return ErrAlreadyConnected
		}
	}
	n.connects = append(n.connects, addr)
	return nil
}

func (n *fakeNode) Disconnect(_ context.Context, pub *btcec.PublicKey) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.peers {
		if p.PubKey.IsEqual(pub) {
			return nil
		}
	}
	return ErrPeerNotConnected
}

func (n *fakeNode) List(context.Context) ([]PeerInfo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]PeerInfo(nil), n.peers...), nil
}

func (n *fakeNode) Subscribe(ctx context.Context) (<-chan PeerEvent, error) {
	out := make(chan PeerEvent)
	go func() {
		defer close(out)
		for {
			select {
			case ev := <-n.events:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (n *fakeNode) NewAddress(_ context.Context, typ AddressType, unused bool, account string) (btcutil.Address, error) {
	if account != "" && account != "default" {
		return nil, errors.New("account not found")
	}
	switch typ {
	case AddressP2WKH:
		return btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.RegressionNetParams)
	case AddressP2TR:
		return btcutil.NewAddressTaproot(make([]byte, 32), &chaincfg.RegressionNetParams)
	}
	return nil, errors.New("address type not supported")
}

func (n *fakeNode) Balance(context.Context, string, int32) (*Balance, error) {
	return &Balance{Confirmed: 100000, Unconfirmed: 50000}, nil
}

func (n *fakeNode) ListUnspent(_ context.Context, _ string, minConfs, maxConfs int32) ([]Utxo, error) {
	addr, _ := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.RegressionNetParams)
	return []Utxo{{
		Type: AddressP2WKH, Address: addr, Amount: 100000,
		PkScript: []byte{0, 20}, OutPoint: wire.OutPoint{Hash: chainhash.Hash{1}, Index: 3},
		Confirmations: 6,
	}}, nil
}

func (n *fakeNode) Transactions(context.Context, string, int32, int32) ([]Transaction, error) {
	if n.manyTxs > 0 {
		txs := make([]Transaction, n.manyTxs)
		for i := range txs {
			txs[i] = Transaction{Hash: chainhash.Hash{byte(i), byte(i >> 8)}, Amount: btcutil.Amount(i + 1),
				Confirmations: 1, BlockHash: &chainhash.Hash{3}, BlockHeight: 99}
		}
		return txs, nil
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{9}, Index: 1}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(5000, append([]byte{0, 20}, make([]byte, 20)...)))
	return []Transaction{
		{Hash: tx.TxHash(), Amount: 5000, Confirmations: 0, Tx: tx, IsOurOutput: []bool{true}},
		{Hash: chainhash.Hash{2}, Amount: -700, Confirmations: 3, BlockHash: &chainhash.Hash{3}, BlockHeight: 99},
	}, nil
}

// errFakeFunds is what the fake wallet answers for an amount of 999999.
var errFakeFunds = &wallet.InsufficientFundsError{Needed: 999999}

func (n *fakeNode) SendCoins(_ context.Context, req *SendRequest) (*chainhash.Hash, error) {
	if req.Amount == 999999 {
		return nil, fmt.Errorf("send: %w", errFakeFunds)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sends = append(n.sends, req)
	h := chainhash.DoubleHashH([]byte("send"))
	return &h, nil
}

func (n *fakeNode) EstimateFee(context.Context, *FeeRequest) (*FeeEstimate, error) {
	return &FeeEstimate{Fee: 1410, FeeRate: 2500}, nil
}

// harness is a started server with its fakes.
type harness struct {
	t      testing.TB
	srv    *Server
	loader *fakeLoader
	node   *fakeNode
	dir    string
	paths  Paths
	http   *http.Client
}

type harnessOpt func(*Config)

// newHarness starts a server on loopback with a wallet that exists
// (LOCKED) unless exists is false.
func newHarness(t testing.TB, exists bool, opts ...harnessOpt) *harness {
	t.Helper()
	dir := t.TempDir()
	network, err := netparams.ByName("regtest")
	if err != nil {
		t.Fatal(err)
	}
	paths := DefaultPaths(dir, "regtest")
	loader := &fakeLoader{exists: exists, password: []byte(testPassword)}
	cfg := Config{
		Network:     network,
		TLSCertPath: paths.TLSCert,
		TLSKeyPath:  paths.TLSKey,
		RPCListen:   []string{"127.0.0.1:0"},
		RESTListen:  []string{"127.0.0.1:0"},
		MacaroonDir: paths.MacaroonDir,
		Loader:      loader,
		CommitHash:  "abc",
		scryptN:     1 << 10,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &harness{t: t, srv: srv, loader: loader, node: newFakeNode(t), dir: dir, paths: paths}
}

// unlockAndActivate unlocks over gRPC and activates the fake backend.
func (h *harness) unlockAndActivate() {
	h.t.Helper()
	_, err := lnrpc.NewWalletUnlockerClient(h.conn(nil)).UnlockWallet(h.t.Context(),
		&lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	if err != nil {
		h.t.Fatalf("unlock: %v", err)
	}
	if err := h.srv.Activate(h.node.backend()); err != nil {
		h.t.Fatal(err)
	}
}

// macaroonCreds sends a hex macaroon with every call.
type macaroonCreds string

func (m macaroonCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"macaroon": string(m)}, nil
}
func (macaroonCreds) RequireTransportSecurity() bool { return true }

// conn dials the gRPC server with mac (nil: no macaroon).
func (h *harness) conn(mac []byte) *grpc.ClientConn {
	h.t.Helper()
	tlsCfg, err := cert.ClientConfig(h.paths.TLSCert)
	if err != nil {
		h.t.Fatal(err)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg))}
	if mac != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(macaroonCreds(hex.EncodeToString(mac))))
	}
	c, err := grpc.NewClient(h.srv.GRPCAddrs()[0].String(), opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// lightning returns a Lightning client using the macaroon file name.
func (h *harness) lightning(file string, caveats ...string) lnrpc.LightningClient {
	h.t.Helper()
	return lnrpc.NewLightningClient(h.conn(h.macaroon(file, caveats...)))
}

// macaroon reads a macaroon file and adds caveats.
func (h *harness) macaroon(file string, caveats ...string) []byte {
	h.t.Helper()
	raw, err := os.ReadFile(filepath.Join(h.paths.MacaroonDir, file))
	if err != nil {
		h.t.Fatal(err)
	}
	if len(caveats) == 0 {
		return raw
	}
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		h.t.Fatal(err)
	}
	for _, c := range caveats {
		if err := mac.AddFirstPartyCaveat([]byte(c)); err != nil {
			h.t.Fatal(err)
		}
	}
	out, err := mac.MarshalBinary()
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// rest performs an HTTPS request against the gateway; the body is closed
// at cleanup.
func (h *harness) rest(method, path, body string, mac []byte, header ...string) *http.Response {
	h.t.Helper()
	resp := h.restDo(method, path, body, mac, header...)
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// restDo performs an HTTPS request; the caller closes the body.
func (h *harness) restDo(method, path, body string, mac []byte, header ...string) *http.Response {
	h.t.Helper()
	if h.http == nil {
		tlsCfg, err := cert.ClientConfig(h.paths.TLSCert)
		if err != nil {
			h.t.Fatal(err)
		}
		h.http = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
		h.t.Cleanup(h.http.CloseIdleConnections)
	}
	req, err := http.NewRequestWithContext(h.t.Context(), method,
		"https://"+h.srv.RESTAddrs()[0].String()+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if mac != nil {
		req.Header.Set("Grpc-Metadata-macaroon", hex.EncodeToString(mac))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// outgoing returns ctx with a raw macaroon in the metadata.
func outgoing(ctx context.Context, mac string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "macaroon", mac)
}

func hexKey(k *btcec.PublicKey) string { return hex.EncodeToString(k.SerializeCompressed()) }
