package rpc

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/chainrpc"
	"lnd.xprv/rpc/lnrpc/verrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
	"lnd.xprv/rpc/macaroons"
	"lnd.xprv/wallet"
)

// fakeKit is a WalletKit for the rpc package's tests: it signs nothing
// and funds from one fixed coin.
type fakeKit struct {
	mu       sync.Mutex
	released []wire.OutPoint
	funds    []wallet.FundRequest
	coin     wallet.Utxo
	fee      btcutil.Amount
}

func newFakeKit() *fakeKit {
	return &fakeKit{
		coin: wallet.Utxo{OutPoint: wire.OutPoint{Hash: chainhash.Hash{0xc0}, Index: 1},
			Value: 1_000_000, PkScript: append([]byte{0x00, 0x14}, make([]byte, 20)...)},
		fee: 500,
	}
}

func (k *fakeKit) Accounts() ([]wallet.Account, error) {
	return []wallet.Account{{Type: wallet.AddressP2WPKH, XPub: "vpubX", Path: "m/84'/1'/0'", External: 2},
		{Type: wallet.AddressP2TR, XPub: "tpubX", Path: "m/86'/1'/0'"}}, nil
}
func (k *fakeKit) FeeRate(context.Context, wallet.FeePreference) (chain.SatPerKWeight, error) {
	return 2500, nil
}
func (k *fakeKit) RelayFeePerKW() chain.SatPerKWeight { return 253 }
func (k *fakeKit) DeriveKey(loc wallet.KeyLocator) (wallet.KeyDescriptor, error) {
	return wallet.KeyDescriptor{}, wallet.ErrUnknownKey
}
func (k *fakeKit) DeriveNextKey(wallet.KeyFamily) (wallet.KeyDescriptor, error) {
	return wallet.KeyDescriptor{}, wallet.ErrUnknownKey
}
func (k *fakeKit) NewAddress(wallet.AddressType, bool) (btcutil.Address, error) {
	return nil, wallet.ErrLocked
}
func (k *fakeKit) LeaseOutput(wallet.LockID, wire.OutPoint, time.Duration) (time.Time, error) {
	return time.Unix(1_900_000_000, 0), nil
}
func (k *fakeKit) ReleaseOutput(_ wallet.LockID, op wire.OutPoint) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.released = append(k.released, op)
	return nil
}
func (k *fakeKit) ListLeases() ([]wallet.Lease, error)                  { return nil, nil }
func (k *fakeKit) PublishTx(context.Context, *wire.MsgTx, string) error { return nil }
func (k *fakeKit) LabelTransaction(chainhash.Hash, string, bool) error  { return wallet.ErrUnknownTx }
func (k *fakeKit) SignOwnInputs(*wire.MsgTx, map[wire.OutPoint]*wire.TxOut) ([]wallet.SignedInput, error) {
	return nil, nil
}
func (k *fakeKit) SendOutputs(context.Context, []*wire.TxOut, wallet.FeePreference, int32, string) (*wire.MsgTx, error) {
	return nil, wallet.ErrInsufficientFunds
}

// Fund spends the one coin to the outputs, change last.
func (k *fakeKit) Fund(_ context.Context, req wallet.FundRequest) (*wallet.FundedTx, error) {
	k.mu.Lock()
	k.funds = append(k.funds, req)
	k.mu.Unlock()
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&k.coin.OutPoint, nil, nil))
	var paid int64
	for _, o := range req.Outputs {
		tx.AddTxOut(o)
		paid += o.Value
	}
	change := int64(k.coin.Value) - paid - int64(k.fee)
	if change < 0 {
		return nil, &wallet.InsufficientFundsError{Needed: btcutil.Amount(paid), Available: k.coin.Value}
	}
	tx.AddTxOut(wire.NewTxOut(change, k.coin.PkScript))
	return &wallet.FundedTx{Tx: tx, Inputs: []wallet.Utxo{k.coin}, ChangeIndex: len(req.Outputs),
		Fee: k.fee, LockID: req.LockID, Expiry: time.Unix(1_900_000_000, 0)}, nil
}

// fakeNotifier is a chain notifier whose registrations the test counts.
type fakeNotifier struct {
	mu     sync.Mutex
	active map[string]int
	blocks chan chain.BlockEvent
	confs  chan *chain.TxConfirmation
	spends chan *chain.SpendDetail
}

func newFakeNotifier() *fakeNotifier {
	return &fakeNotifier{active: map[string]int{}, blocks: make(chan chain.BlockEvent, 8),
		confs: make(chan *chain.TxConfirmation, 1), spends: make(chan *chain.SpendDetail, 1)}
}

func (n *fakeNotifier) count(kind string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.active[kind]
}

// register counts a registration and returns its Cancel.
func (n *fakeNotifier) register(kind string) func() {
	n.mu.Lock()
	n.active[kind]++
	n.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			n.mu.Lock()
			n.active[kind]--
			n.mu.Unlock()
		})
	}
}

func (n *fakeNotifier) RegisterBlockEpochs() (*chain.BlockEpochs, error) {
	return &chain.BlockEpochs{Events: n.blocks, Cancel: n.register("blocks")}, nil
}
func (n *fakeNotifier) RegisterConfirmations(chainhash.Hash, []byte, uint32, int32) (*chain.ConfirmationEvent, error) {
	return &chain.ConfirmationEvent{Confirmed: n.confs, Updates: make(chan uint32),
		Reorged: make(chan int32), Cancel: n.register("confs")}, nil
}
func (n *fakeNotifier) RegisterSpend(wire.OutPoint, []byte, int32) (*chain.SpendEvent, error) {
	return &chain.SpendEvent{Spend: n.spends, Reorged: make(chan struct{}), Cancel: n.register("spends")}, nil
}
func (n *fakeNotifier) BestBlock(context.Context) (chainhash.Hash, int32, error) {
	return chainhash.Hash{100}, 100, nil
}
func (n *fakeNotifier) BlockHash(_ context.Context, h int32) (chainhash.Hash, error) {
	return chainhash.Hash{byte(h)}, nil
}
func (n *fakeNotifier) Block(context.Context, chainhash.Hash) (*wire.MsgBlock, error) {
	return nil, chain.ErrBlockNotFound
}

// activateSubservers unlocks the harness and activates its fake node with
// a fake WalletKit and notifier.
func activateSubservers(t *testing.T, h *harness) (*fakeKit, *fakeNotifier) {
	t.Helper()
	_, err := lnrpc.NewWalletUnlockerClient(h.conn(nil)).UnlockWallet(t.Context(),
		&lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	kit, n := newFakeKit(), newFakeNotifier()
	b := h.node.backend()
	b.WalletKit, b.Notifier = kit, n
	if err := h.srv.Activate(b); err != nil {
		t.Fatal(err)
	}
	return kit, n
}

// waitCount waits for the notifier's count of kind to reach want.
func waitCount(t *testing.T, n *fakeNotifier, kind string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.count(kind) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s registrations, want %d", n.count(kind), kind, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestChainNotifierStreamsRelease: every stream's registration is
// cancelled when the client goes away, and its events arrive in order.
func TestChainNotifierStreamsRelease(t *testing.T) {
	h := newHarness(t, true)
	_, n := activateSubservers(t, h)
	client := chainrpc.NewChainNotifierClient(h.conn(h.macaroon(macaroons.ReadOnlyFile)))

	// Block epochs: the backlog from height 98 (99, 100), then new blocks.
	ctx, cancel := context.WithCancel(t.Context())
	blocks, err := client.RegisterBlockEpochNtfn(ctx, &chainrpc.BlockEpoch{Hash: make([]byte, 32), Height: 98})
	if err != nil {
		t.Fatal(err)
	}
	n.blocks <- chain.BlockEvent{Height: 100, Hash: chainhash.Hash{100}} // raced the backlog
	n.blocks <- chain.BlockEvent{Height: 101, Hash: chainhash.Hash{101}}
	for _, want := range []uint32{99, 100, 101} {
		ev, err := blocks.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Height != want || ev.Hash[0] != byte(want) {
			t.Fatalf("block %d, want %d", ev.Height, want)
		}
	}
	// A reorg: the disconnected block is not sent, the new one at the
	// same height is (the client sees the height not grow).
	n.blocks <- chain.BlockEvent{Height: 101, Hash: chainhash.Hash{101}, Disconnected: true}
	n.blocks <- chain.BlockEvent{Height: 101, Hash: chainhash.Hash{0xaa}}
	if ev, err := blocks.Recv(); err != nil || ev.Height != 101 || ev.Hash[0] != 0xaa {
		t.Fatalf("block after the reorg %v %v", ev, err)
	}
	waitCount(t, n, "blocks", 1)
	cancel()
	waitCount(t, n, "blocks", 0)

	ctx, cancel = context.WithCancel(t.Context())
	confs, err := client.RegisterConfirmationsNtfn(ctx, &chainrpc.ConfRequest{
		Txid: bytes.Repeat([]byte{1}, 32), Script: []byte{0x51}, NumConfs: 3})
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	n.confs <- &chain.TxConfirmation{Txid: tx.TxHash(), BlockHash: chainhash.Hash{7}, BlockHeight: 90, TxIndex: 2, Tx: tx}
	ev, err := confs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if c := ev.GetConf(); c == nil || c.BlockHeight != 90 || c.TxIndex != 2 || c.BlockHash[0] != 7 {
		t.Fatalf("conf event %v", ev)
	}
	cancel()
	waitCount(t, n, "confs", 0)

	ctx, cancel = context.WithCancel(t.Context())
	spends, err := client.RegisterSpendNtfn(ctx, &chainrpc.SpendRequest{
		Outpoint: &chainrpc.Outpoint{Hash: bytes.Repeat([]byte{2}, 32), Index: 1}})
	if err != nil {
		t.Fatal(err)
	}
	n.spends <- &chain.SpendDetail{SpentOutPoint: wire.OutPoint{Index: 1}, SpenderTxHash: tx.TxHash(),
		SpendingTx: tx, SpendingHeight: 91}
	sev, err := spends.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if s := sev.GetSpend(); s == nil || s.SpendingHeight != 91 {
		t.Fatalf("spend event %v", sev)
	}
	waitCount(t, n, "spends", 1)
	cancel()
	waitCount(t, n, "spends", 0)

	// A REST client that hangs up releases its registration too.
	mac := h.macaroon(macaroons.ReadOnlyFile)
	resp := h.restDo("POST", "/v2/chainnotifier/register/blocks", "{}", mac)
	line := make([]byte, 256)
	if _, err := resp.Body.Read(line); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(line, []byte(`{"result":{"hash":`)) {
		t.Fatalf("REST block stream starts %q", line)
	}
	waitCount(t, n, "blocks", 1)
	resp.Body.Close()
	h.http.CloseIdleConnections()
	waitCount(t, n, "blocks", 0)
}

func TestChainNotifierBadRequests(t *testing.T) {
	h := newHarness(t, true)
	activateSubservers(t, h)
	client := chainrpc.NewChainNotifierClient(h.conn(h.macaroon(macaroons.AdminFile)))
	confCases := []*chainrpc.ConfRequest{
		{Txid: make([]byte, 32), Script: []byte{1}, NumConfs: 1}, // zero txid
		{Txid: []byte{1}, Script: []byte{1}, NumConfs: 1},        // short txid
		{Txid: bytes.Repeat([]byte{1}, 32), NumConfs: 1},         // no script
		{Txid: bytes.Repeat([]byte{1}, 32), Script: []byte{1}},   // no depth
		{Txid: bytes.Repeat([]byte{1}, 32), Script: []byte{1}, NumConfs: 1001},
	}
	for _, req := range confCases {
		s, err := client.RegisterConfirmationsNtfn(t.Context(), req)
		if err == nil {
			_, err = s.Recv()
		}
		wantCode(t, err, codes.InvalidArgument)
	}
	s, err := client.RegisterSpendNtfn(t.Context(), &chainrpc.SpendRequest{})
	if err == nil {
		_, err = s.Recv()
	}
	wantCode(t, err, codes.InvalidArgument)
}

// TestVersioner: GetVersion over gRPC with a read-only macaroon and over
// REST at lnd's path.
func TestVersioner(t *testing.T) {
	h := newHarness(t, true)
	activateSubservers(t, h)
	v, err := verrpc.NewVersionerClient(h.conn(h.macaroon(macaroons.ReadOnlyFile))).
		GetVersion(t.Context(), &verrpc.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "0.20.0-beta" || v.AppMinor != 20 || v.AppPreRelease != "beta" ||
		v.Commit != "xlnd-0.1.0" || v.CommitHash != "abc" || !strings.HasPrefix(v.GoVersion, "go") {
		t.Fatalf("version %v", v)
	}
	resp := h.rest("GET", "/v2/versioner/version", "", h.macaroon(macaroons.ReadOnlyFile))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"app_minor":20`) {
		t.Fatalf("REST version %d %s", resp.StatusCode, body)
	}

	for _, c := range []struct {
		in                  string
		major, minor, patch uint32
		pre, commit         string
	}{
		{"0.20.1-beta xlnd-0.1.0", 0, 20, 1, "beta", "xlnd-0.1.0"},
		{"1.2.3", 1, 2, 3, "", ""},
		{"garbage", 0, 0, 0, "", ""},
		{"", 0, 0, 0, "", ""},
	} {
		v := VersionInfo(c.in, "")
		if v.AppMajor != c.major || v.AppMinor != c.minor || v.AppPatch != c.patch ||
			v.AppPreRelease != c.pre || v.Commit != c.commit {
			t.Errorf("VersionInfo(%q) = %v", c.in, v)
		}
	}
}

// TestWalletKitUnservedAndPermissions: without a WalletKit the calls say
// Unimplemented; a read-only macaroon may list but not spend.
func TestWalletKitUnservedAndPermissions(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	kit := walletrpc.NewWalletKitClient(h.conn(h.macaroon(macaroons.AdminFile)))
	_, err := kit.ListAccounts(t.Context(), &walletrpc.ListAccountsRequest{})
	wantCode(t, err, codes.Unimplemented)

	h2 := newHarness(t, true)
	activateSubservers(t, h2)
	ro := walletrpc.NewWalletKitClient(h2.conn(h2.macaroon(macaroons.ReadOnlyFile)))
	accts, err := ro.ListAccounts(t.Context(), &walletrpc.ListAccountsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(accts.Accounts) != 2 || accts.Accounts[0].AddressType != walletrpc.AddressType_WITNESS_PUBKEY_HASH ||
		accts.Accounts[1].ExtendedPublicKey != "tpubX" || accts.Accounts[0].ExternalKeyCount != 2 {
		t.Fatalf("accounts %v", accts)
	}
	_, err = ro.FundPsbt(t.Context(), &walletrpc.FundPsbtRequest{})
	wantCode(t, err, codes.PermissionDenied)
	fee, err := ro.EstimateFee(t.Context(), &walletrpc.EstimateFeeRequest{ConfTarget: 6})
	if err != nil || fee.SatPerKw != 2500 || fee.MinRelayFeeSatPerKw != 253 {
		t.Fatalf("fee %v %v", fee, err)
	}
	_, err = ro.EstimateFee(t.Context(), &walletrpc.EstimateFeeRequest{})
	wantCode(t, err, codes.InvalidArgument)

	// Errors from the wallet go through the table.
	admin := walletrpc.NewWalletKitClient(h2.conn(h2.macaroon(macaroons.AdminFile)))
	_, err = admin.LabelTransaction(t.Context(), &walletrpc.LabelTransactionRequest{
		Txid: make([]byte, 32), Label: "x"})
	wantCode(t, err, codes.NotFound)
	_, err = admin.LeaseOutput(t.Context(), &walletrpc.LeaseOutputRequest{Id: lndInternalLockID[:],
		Outpoint: &lnrpc.OutPoint{TxidStr: strings.Repeat("ab", 32)}})
	wantCode(t, err, codes.InvalidArgument)
}

// validPsbt is a PSBT paying 10,000 sat with no inputs.
func validPsbt(t testing.TB) []byte {
	t.Helper()
	tx := wire.NewMsgTx(2)
	tx.AddTxOut(wire.NewTxOut(10_000, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{9}, 20)...)))
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPsbtBadInput: malformed PSBTs and templates are InvalidArgument
// from every PSBT call, never a panic or an Unknown.
func TestPsbtBadInput(t *testing.T) {
	h := newHarness(t, true)
	kit, _ := activateSubservers(t, h)
	client := walletrpc.NewWalletKitClient(h.conn(h.macaroon(macaroons.AdminFile)))
	good := validPsbt(t)
	b64, _ := base64.StdEncoding.DecodeString(base64.StdEncoding.EncodeToString(good))
	bad := [][]byte{
		nil,
		[]byte("garbage"),
		[]byte("psbt\xff"),
		good[:len(good)-3],
		[]byte(base64.StdEncoding.EncodeToString(b64)), // base64 text, not binary
		append(append([]byte{}, good...), 0x00, 0x01),
	}
	for _, raw := range bad {
		_, err := client.SignPsbt(t.Context(), &walletrpc.SignPsbtRequest{FundedPsbt: raw})
		wantCode(t, err, codes.InvalidArgument)
		_, err = client.FinalizePsbt(t.Context(), &walletrpc.FinalizePsbtRequest{FundedPsbt: raw})
		wantCode(t, err, codes.InvalidArgument)
		_, err = client.FundPsbt(t.Context(), &walletrpc.FundPsbtRequest{
			Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: raw},
			Fees:     &walletrpc.FundPsbtRequest_SatPerVbyte{SatPerVbyte: 2}})
		wantCode(t, err, codes.InvalidArgument)
	}
	fees := &walletrpc.FundPsbtRequest_SatPerVbyte{SatPerVbyte: 2}
	badFunds := []*walletrpc.FundPsbtRequest{
		{Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}},                              // no fee
		{Template: &walletrpc.FundPsbtRequest_Raw{Raw: &walletrpc.TxTemplate{}}, Fees: fees}, // no outputs
		{Template: &walletrpc.FundPsbtRequest_Raw{Raw: &walletrpc.TxTemplate{Outputs: map[string]uint64{"x": 1}}}, Fees: fees},
		{Template: &walletrpc.FundPsbtRequest_Raw{Raw: &walletrpc.TxTemplate{Outputs: map[string]uint64{
			"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4": 1000}}}, Fees: fees}, // mainnet address
		{Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}, Fees: fees, CustomLockId: []byte{1}},
		{Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}, Fees: fees, Account: "other"},
		{Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}, Fees: fees, MaxFeeRatio: 2},
		{Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}, Fees: fees, MaxFeeRatio: 0.01}, // fee 500 > 100
		{Fees: fees},
	}
	for _, req := range badFunds {
		_, err := client.FundPsbt(t.Context(), req)
		wantCode(t, err, codes.InvalidArgument)
	}
	// The fee-ratio refusal gave the coin back.
	kit.mu.Lock()
	released := len(kit.released)
	kit.mu.Unlock()
	if released != 1 {
		t.Fatalf("%d coins released after the refused funding, want 1", released)
	}

	// A good template funds: the template's output, then change, with
	// the coin's previous output attached and leased under lnd's id.
	res, err := client.FundPsbt(t.Context(), &walletrpc.FundPsbtRequest{
		Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}, Fees: fees})
	if err != nil {
		t.Fatal(err)
	}
	p, err := psbt.NewFromRawBytes(bytes.NewReader(res.FundedPsbt), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.ChangeOutputIndex != 1 || len(p.Inputs) != 1 || p.Inputs[0].WitnessUtxo.Value != 1_000_000 ||
		len(res.LockedUtxos) != 1 || !bytes.Equal(res.LockedUtxos[0].Id, lndInternalLockID[:]) {
		t.Fatalf("funded %v", res)
	}
	// change_type P2TR reaches the wallet; UNSPECIFIED is P2WPKH.
	if _, err := client.FundPsbt(t.Context(), &walletrpc.FundPsbtRequest{
		Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: good}, Fees: fees,
		ChangeType: walletrpc.ChangeAddressType_CHANGE_ADDRESS_TYPE_P2TR}); err != nil {
		t.Fatal(err)
	}
	kit.mu.Lock()
	n := len(kit.funds)
	got := []wallet.AddressType{kit.funds[n-2].ChangeType, kit.funds[n-1].ChangeType}
	kit.mu.Unlock()
	if got[0] != wallet.AddressP2WPKH || got[1] != wallet.AddressP2TR {
		t.Fatalf("change types asked of the wallet: %v", got)
	}
	// Inputs a raw template names reach the wallet in order; repeated or
	// malformed ones are refused.
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"
	in1 := &lnrpc.OutPoint{TxidStr: strings.Repeat("11", 32), OutputIndex: 1}
	in2 := &lnrpc.OutPoint{TxidStr: strings.Repeat("22", 32), OutputIndex: 0}
	raw := func(ins ...*lnrpc.OutPoint) *walletrpc.FundPsbtRequest {
		return &walletrpc.FundPsbtRequest{Fees: fees, Template: &walletrpc.FundPsbtRequest_Raw{
			Raw: &walletrpc.TxTemplate{Inputs: ins, Outputs: map[string]uint64{addr: 10_000}}}}
	}
	if _, err := client.FundPsbt(t.Context(), raw(in2, in1)); err != nil {
		t.Fatal(err)
	}
	kit.mu.Lock()
	asked := kit.funds[len(kit.funds)-1].Inputs
	kit.mu.Unlock()
	if len(asked) != 2 || asked[0].Hash[0] != 0x22 || asked[1].Hash[0] != 0x11 || asked[1].Index != 1 {
		t.Fatalf("inputs asked of the wallet: %v", asked)
	}
	_, err = client.FundPsbt(t.Context(), raw(in1, in1))
	wantCode(t, err, codes.InvalidArgument)
	_, err = client.FundPsbt(t.Context(), raw(&lnrpc.OutPoint{TxidStr: "zz"}))
	wantCode(t, err, codes.InvalidArgument)

	// A PSBT with no inputs is no transaction.
	_, err = client.FinalizePsbt(t.Context(), &walletrpc.FinalizePsbtRequest{FundedPsbt: good})
	wantCode(t, err, codes.InvalidArgument)
	// Nothing of ours signed: finalizing fails as a precondition.
	_, err = client.FinalizePsbt(t.Context(), &walletrpc.FinalizePsbtRequest{FundedPsbt: res.FundedPsbt})
	wantCode(t, err, codes.FailedPrecondition)
	signed, err := client.SignPsbt(t.Context(), &walletrpc.SignPsbtRequest{FundedPsbt: res.FundedPsbt})
	if err != nil || len(signed.SignedInputs) != 0 {
		t.Fatalf("sign %v %v", signed, err)
	}
}

// FuzzPsbtCalls feeds arbitrary bytes to every WalletKit call that parses
// a PSBT or a transaction: each answers or refuses, never panics.
func FuzzPsbtCalls(f *testing.F) {
	f.Add(validPsbt(f))
	f.Add([]byte("psbt\xff\x01\x00"))
	f.Add([]byte{})
	// A PSBT xlnd funded on regtest (lncli wallet psbt fund), and the same
	// after lncli wallet psbt finalize.
	for _, b64 := range []string{fundedRegtestPsbt, finalizedRegtestPsbt} {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	srv := &Server{log: slog.New(slog.DiscardHandler), cfg: Config{}}
	srv.backend.Store(&Backend{WalletKit: newFakeKit()})
	k := &walletKitService{s: srv}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = k.SignPsbt(ctx, &walletrpc.SignPsbtRequest{FundedPsbt: raw})
		_, _ = k.FinalizePsbt(ctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: raw})
		_, _ = k.FundPsbt(ctx, &walletrpc.FundPsbtRequest{
			Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: raw},
			Fees:     &walletrpc.FundPsbtRequest_SatPerKw{SatPerKw: 1000}})
		_, _ = k.PublishTransaction(ctx, &walletrpc.Transaction{TxHex: raw})
	})
}

const (
	fundedRegtestPsbt = "cHNidP8BAHECAAAAAZH0E9LaSNJV2GzDCoh/jwwSZDLjUlD6q8ogpYNaGqf9AAAAAAD/////" +
		"AplSiQAAAAAAFgAUFvZPxRWscKTtABCcvlCN8jRa39lAQg8AAAAAABYAFAO5Kb/Dx6WKW/P+" +
		"oHZiEb6j2dYqAAAAAAABAR+AlpgAAAAAABYAFB+M8lYSayDfuA9PLSheIRc1zqB5AAAA"
	finalizedRegtestPsbt = "cHNidP8BAHECAAAAAZH0E9LaSNJV2GzDCoh/jwwSZDLjUlD6q8ogpYNaGqf9AAAAAAD/////" +
		"AplSiQAAAAAAFgAUFvZPxRWscKTtABCcvlCN8jRa39lAQg8AAAAAABYAFAO5Kb/Dx6WKW/P+" +
		"oHZiEb6j2dYqAAAAAAABAR+AlpgAAAAAABYAFB+M8lYSayDfuA9PLSheIRc1zqB5AQhrAkcw" +
		"RAIgZHT/hPTRNWOICu0d1+2BC2R2kEPi31Q2cEcpjn/huDQCIEVpOCSBZy5fvfY67y2GWMDu" +
		"2NsZbAAfKiPNd51x/Pn2ASEDfj/yKjqDSRqlOXCgzW96KGBHnNlG+3A8sOmYq+xtQowAAAA="
)

// TestStopEndsSubserverStreams: Stop ends open ChainNotifier streams and
// their registrations are released.
func TestStopEndsSubserverStreams(t *testing.T) {
	h := newHarness(t, true)
	_, n := activateSubservers(t, h)
	client := chainrpc.NewChainNotifierClient(h.conn(h.macaroon(macaroons.AdminFile)))
	blocks, err := client.RegisterBlockEpochNtfn(t.Context(), &chainrpc.BlockEpoch{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocks.Recv(); err != nil {
		t.Fatal(err)
	}
	spends, err := client.RegisterSpendNtfn(t.Context(), &chainrpc.SpendRequest{
		Outpoint: &chainrpc.Outpoint{Hash: bytes.Repeat([]byte{3}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	waitCount(t, n, "blocks", 1)
	waitCount(t, n, "spends", 1)
	h.srv.Stop()
	if _, err := blocks.Recv(); err == nil {
		t.Fatal("block stream open after Stop")
	}
	if _, err := spends.Recv(); err == nil {
		t.Fatal("spend stream open after Stop")
	}
	waitCount(t, n, "blocks", 0)
	waitCount(t, n, "spends", 0)
}

func TestWalletAddressType(t *testing.T) {
	cases := []struct {
		in   walletrpc.AddressType
		want wallet.AddressType
		ok   bool
	}{
		{walletrpc.AddressType_UNKNOWN, wallet.AddressP2WPKH, true},
		{walletrpc.AddressType_WITNESS_PUBKEY_HASH, wallet.AddressP2WPKH, true},
		{walletrpc.AddressType_NESTED_WITNESS_PUBKEY_HASH, wallet.AddressNP2WPKH, true},
		{walletrpc.AddressType_TAPROOT_PUBKEY, wallet.AddressP2TR, true},
		{walletrpc.AddressType_HYBRID_NESTED_WITNESS_PUBKEY_HASH, 0, false},
		{walletrpc.AddressType(99), 0, false},
	}
	for _, c := range cases {
		got, err := walletAddressType(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("walletAddressType(%v) = %v, %v", c.in, got, err)
		}
	}
}
