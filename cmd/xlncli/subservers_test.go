package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/rpc"
	"lnd.xprv/wallet"
)

// kit is a fake WalletKit that records what it was asked.
type kit struct {
	leases  []wallet.Lease
	labels  map[chainhash.Hash]string
	feePref wallet.FeePreference
}

func (k *kit) Accounts() ([]wallet.Account, error) {
	return []wallet.Account{{Type: wallet.AddressP2WPKH, XPub: "vpub5Y", Path: "m/84'/1'/0'", External: 4}}, nil
}
func (k *kit) FeeRate(_ context.Context, p wallet.FeePreference) (chain.SatPerKWeight, error) {
	k.feePref = p
	return 2500, nil
}
func (k *kit) RelayFeePerKW() chain.SatPerKWeight { return 253 }
func (k *kit) DeriveKey(wallet.KeyLocator) (wallet.KeyDescriptor, error) {
	return wallet.KeyDescriptor{}, wallet.ErrUnknownKey
}
func (k *kit) DeriveNextKey(wallet.KeyFamily) (wallet.KeyDescriptor, error) {
	return wallet.KeyDescriptor{}, wallet.ErrUnknownKey
}
func (k *kit) NewAddress(wallet.AddressType, bool) (btcutil.Address, error) {
	return nil, wallet.ErrLocked
}
func (k *kit) LeaseOutput(id wallet.LockID, op wire.OutPoint, d time.Duration) (time.Time, error) {
	exp := time.Unix(1_900_000_000, 0)
	k.leases = append(k.leases, wallet.Lease{LockID: id, OutPoint: op, Value: 5000, Expiry: exp})
	return exp, nil
}
func (k *kit) ReleaseOutput(id wallet.LockID, op wire.OutPoint) error {
	for i, l := range k.leases {
		if l.OutPoint == op && l.LockID == id {
			k.leases = append(k.leases[:i], k.leases[i+1:]...)
			return nil
		}
	}
	return wallet.ErrLockIDMismatch
}
func (k *kit) ListLeases() ([]wallet.Lease, error)                  { return k.leases, nil }
func (k *kit) PublishTx(context.Context, *wire.MsgTx, string) error { return nil }
func (k *kit) SendOutputs(context.Context, []*wire.TxOut, wallet.FeePreference, int32, string) (*wire.MsgTx, error) {
	return nil, wallet.ErrInsufficientFunds
}
func (k *kit) LabelTransaction(txid chainhash.Hash, label string, overwrite bool) error {
	if _, ok := k.labels[txid]; ok && !overwrite {
		return wallet.ErrLabelExists
	}
	k.labels[txid] = label
	return nil
}
func (k *kit) Fund(context.Context, wallet.FundRequest) (*wallet.FundedTx, error) {
	return nil, &wallet.InsufficientFundsError{Needed: 10, Available: 1}
}
func (k *kit) SignOwnInputs(*wire.MsgTx, map[wire.OutPoint]*wire.TxOut) ([]wallet.SignedInput, error) {
	return nil, nil
}

func TestWalletAndVersionCommands(t *testing.T) {
	e := newEnv(t)
	// Before a wallet: version prints xlncli's part and fails.
	out, _, code := e.cli("", "version")
	if code == 0 || !strings.Contains(out, `"lncli"`) || strings.Contains(out, `"lnd"`) {
		t.Fatalf("version without a daemon: exit %d\n%s", code, out)
	}

	e.mustCLI("", "create", "--password_file", writePw(t))
	k := &kit{labels: map[chainhash.Hash]string{}}
	err := e.srv.Activate(&rpc.Backend{Info: e.node, Chain: e.node, Peers: e.node, Wallet: e.node,
		WalletKit: k, Stop: func() {}})
	if err != nil {
		t.Fatal(err)
	}

	var v struct {
		Lncli, Lnd struct {
			Version   string   `json:"version"`
			AppMinor  int      `json:"app_minor"`
			BuildTags []string `json:"build_tags"`
		}
	}
	if err := json.Unmarshal([]byte(e.mustCLI("", "version")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Lncli.Version != "0.20.0-beta" || v.Lnd.AppMinor != 20 || len(v.Lnd.BuildTags) == 0 {
		t.Fatalf("version %+v", v)
	}

	out = e.mustCLI("", "wallet", "estimatefeerate", "3")
	if !strings.Contains(out, `"sat_per_kw": 2500`) || !strings.Contains(out, `"sat_per_vbyte": 10`) ||
		!strings.Contains(out, `"min_relay_fee_sat_per_kw": 253`) || k.feePref.ConfTarget != 3 {
		t.Fatalf("estimatefeerate: %s (%+v)", out, k.feePref)
	}
	out = e.mustCLI("", "wallet", "accounts", "list")
	if !strings.Contains(out, `"extended_public_key": "vpub5Y"`) || !strings.Contains(out, `"external_key_count": 4`) {
		t.Fatalf("accounts list: %s", out)
	}

	op := (chainhash.Hash{0xaa}).String() + ":1"
	lock := strings.Repeat("ab", 32)
	out = e.mustCLI("", "wallet", "leaseoutput", "--outpoint", op, "--lockid", lock, "--expiry", "60")
	if !strings.Contains(out, `"expiration": "1900000000"`) {
		t.Fatalf("leaseoutput: %s", out)
	}
	out = e.mustCLI("", "wallet", "listleases")
	if !strings.Contains(out, `"outpoint": "`+op+`"`) || !strings.Contains(out, `"id": "`+lock+`"`) {
		t.Fatalf("listleases: %s", out)
	}
	e.mustCLI("", "wallet", "releaseoutput", "--lockid", lock, op)
	if len(k.leases) != 0 {
		t.Fatalf("leases after release: %+v", k.leases)
	}

	txid := (chainhash.Hash{0xcc}).String()
	out = e.mustCLI("", "wallet", "labeltx", txid, "rent")
	if !strings.Contains(out, "labelled with: rent") || k.labels[chainhash.Hash{0xcc}] != "rent" {
		t.Fatalf("labeltx: %s", out)
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"wallet", "labeltx", txid, "again"}, "AlreadyExists"},
		{[]string{"wallet", "estimatefeerate", "0"}, "conf_target out of range"},
		{[]string{"wallet", "publishtx", "zz"}, "tx_hex"},
		{[]string{"wallet", "psbt", "fund", "--outputs", `{"bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202": 10000}`}, "FailedPrecondition"},
		{[]string{"wallet", "psbt", "fund"}, "--outputs or --template_psbt"},
		{[]string{"wallet", "psbt", "fund", "--outputs", `{"a": 1}`, "--inputs", `["nope"]`}, "UTXO outpoint 0"},
		{[]string{"wallet", "psbt", "fund", "--template_psbt", "cHNidP8=", "--inputs", `[]`}, "at the same time"},
		{[]string{"wallet", "psbt", "sign", "bm90IGEgcHNidA=="}, "InvalidArgument"},
		{[]string{"wallet", "psbt", "finalize", "!!"}, "error parsing PSBT"},
		{[]string{"wallet", "accounts", "list", "--address_type", "p2pkh"}, "invalid address type"},
		{[]string{"wallet"}, "command"},
	}
	for _, tc := range tests {
		_, errOut, code := e.cli("", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("xlncli %v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// writePw writes a password file for create.
func writePw(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("s3cret password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
