package itest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// restJSON makes a REST call that must answer 200 and decodes the body
// into v (if not nil).
func restJSON(t *testing.T, n *harness.Node, method, path string, body any, macPath string, v any) {
	t.Helper()
	code, resp, err := n.REST(method, path, body, macPath)
	check(t, err)
	if code != http.StatusOK {
		t.Fatalf("REST %s %s: HTTP %d %s", method, path, code, resp)
	}
	if v != nil {
		if err := json.Unmarshal(resp, v); err != nil {
			t.Fatalf("REST %s %s: %v in %s", method, path, err, resp)
		}
	}
}

// int64s are JSON strings in lnd's REST encoding.
func restInt(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an integer string: %q", s)
	}
	return v
}

// TestREST drives a node over REST at lnd's paths with lnd's JSON: state,
// getinfo, newaddress, peers (connect, list, disconnect), balance, utxos,
// transactions, fee estimate, the wallet unlocker, and stop.
func TestREST(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	admin := alice.AdminMacaroonPath()

	var st struct {
		State string `json:"state"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/state", nil, "", &st)
	if st.State != "SERVER_ACTIVE" {
		t.Errorf("GET /v1/state: %q", st.State)
	}

	var info struct {
		IdentityPubkey string `json:"identity_pubkey"`
		BlockHeight    int64  `json:"block_height"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/getinfo", nil, admin, &info)
	if info.IdentityPubkey != alice.PubKey() {
		t.Errorf("GET /v1/getinfo: %+v", info)
	}

	var addr struct {
		Address string `json:"address"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/newaddress?type=TAPROOT_PUBKEY", nil, admin, &addr)
	decoded, err := btcutil.DecodeAddress(addr.Address, regtest.Params)
	if _, ok := decoded.(*btcutil.AddressTaproot); err != nil || !ok {
		t.Errorf("GET /v1/newaddress?type=TAPROOT_PUBKEY: %q (%v)", addr.Address, err)
	}

	connect := map[string]any{"addr": map[string]string{"pubkey": bob.PubKey(), "host": bob.P2PAddr()}}
	restJSON(t, alice, http.MethodPost, "/v1/peers", connect, admin, nil)
	check(t, bob.WaitPeer(alice.PubKey()))
	var peers struct {
		Peers []struct {
			PubKey   string `json:"pub_key"`
			Features map[string]struct {
				Name       string `json:"name"`
				IsRequired bool   `json:"is_required"`
			} `json:"features"`
		} `json:"peers"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/peers", nil, admin, &peers)
	if len(peers.Peers) != 1 || peers.Peers[0].PubKey != bob.PubKey() ||
		!peers.Peers[0].Features["12"].IsRequired {
		t.Errorf("GET /v1/peers: %+v", peers)
	}
	restJSON(t, alice, http.MethodDelete, "/v1/peers/"+bob.PubKey(), nil, admin, nil)
	check(t, alice.WaitNoPeer(bob.PubKey()))

	check(t, nw.Fund(alice, 12_345_678))
	var bal struct {
		Confirmed string `json:"confirmed_balance"`
		Total     string `json:"total_balance"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/balance/blockchain", nil, admin, &bal)
	if restInt(t, bal.Confirmed) != 12_345_678 || restInt(t, bal.Total) != 12_345_678 {
		t.Errorf("GET /v1/balance/blockchain: %+v", bal)
	}
	var utxos struct {
		Utxos []struct {
			AmountSat string `json:"amount_sat"`
		} `json:"utxos"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/utxos?min_confs=1&max_confs=100000", nil, admin, &utxos)
	if len(utxos.Utxos) != 1 || restInt(t, utxos.Utxos[0].AmountSat) != 12_345_678 {
		t.Errorf("GET /v1/utxos: %+v", utxos)
	}
	var txs struct {
		Transactions []struct {
			Amount string `json:"amount"`
		} `json:"transactions"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/transactions", nil, admin, &txs)
	if len(txs.Transactions) != 1 || restInt(t, txs.Transactions[0].Amount) != 12_345_678 {
		t.Errorf("GET /v1/transactions: %+v", txs)
	}
	bobAddr, err := bob.NewAddress(t.Context(), lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	var fee struct {
		FeeSat string `json:"fee_sat"`
	}
	q := url.Values{"AddrToAmount[" + bobAddr.EncodeAddress() + "]": {"100000"}, "target_conf": {"6"}}
	restJSON(t, alice, http.MethodGet, "/v1/transactions/fee?"+q.Encode(), nil, admin, &fee)
	if restInt(t, fee.FeeSat) <= 0 {
		t.Errorf("GET /v1/transactions/fee: %+v", fee)
	}

	restJSON(t, alice, http.MethodPost, "/v1/stop", map[string]any{}, admin, nil)
	state, err := alice.WaitExit(harness.StopTimeout)
	check(t, err)
	if !state.Success() {
		t.Errorf("xlnd exited with %s after POST /v1/stop", state)
	}

	// The wallet unlocker over REST (bytes are base64 in JSON).
	password := "rest password 42"
	carol, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: []byte(password)})
	check(t, err)
	_, err = carol.StartLocked()
	check(t, err)
	var seed struct {
		Mnemonic []string `json:"cipher_seed_mnemonic"`
	}
	restJSON(t, carol, http.MethodGet, "/v1/genseed", nil, "", &seed)
	if len(seed.Mnemonic) != 24 {
		t.Fatalf("GET /v1/genseed: %d words", len(seed.Mnemonic))
	}
	b64 := base64.StdEncoding.EncodeToString
	restJSON(t, carol, http.MethodPost, "/v1/initwallet", map[string]any{
		"wallet_password": b64([]byte(password)), "cipher_seed_mnemonic": seed.Mnemonic,
	}, "", nil)
	check(t, carol.WaitActive())
	check(t, carol.Stop())
	_, err = carol.StartLocked()
	check(t, err)
	code, resp, err := carol.REST(http.MethodPost, "/v1/unlockwallet",
		map[string]any{"wallet_password": b64([]byte("not the password"))}, "")
	check(t, err)
	if code == http.StatusOK {
		t.Errorf("POST /v1/unlockwallet with a wrong password: HTTP %d %s", code, resp)
	}
	restJSON(t, carol, http.MethodPost, "/v1/unlockwallet",
		map[string]any{"wallet_password": b64([]byte(password))}, "", nil)
	check(t, carol.WaitActive())
}
