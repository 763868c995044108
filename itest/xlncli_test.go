package itest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// cliJSON runs xlncli and decodes its JSON output into v.
func cliJSON(t *testing.T, n *harness.Node, v any, args ...string) {
	t.Helper()
	out, err := n.CLI(args...)
	check(t, err)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("xlncli %q: output is not JSON (%v):\n%s", args, err, out)
	}
}

// cliGetInfo is the part of getinfo's JSON the test reads (lnd's names).
type cliGetInfo struct {
	IdentityPubkey string   `json:"identity_pubkey"`
	Alias          string   `json:"alias"`
	BlockHeight    int64    `json:"block_height"`
	SyncedToChain  bool     `json:"synced_to_chain"`
	URIs           []string `json:"uris"`
	Chains         []struct {
		Chain   string `json:"chain"`
		Network string `json:"network"`
	} `json:"chains"`
}

// TestXlncli drives nodes through bin/xlncli: getinfo with explicit paths
// and with the default ones found from --lnddir and --network, connect and
// listpeers, newaddress, walletbalance, estimatefee, sendcoins,
// listchaintxns, listunspent, stop; before a wallet exists, getinfo's hint
// to create it and create's hint at the script flags; and a password wallet
// made with create --password_file and opened with unlock --stdin.
func TestXlncli(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	tip, err := nw.TipHeight()
	check(t, err)

	explicit := alice.CLIArgs()
	discovered := []string{"--network=regtest", "--lnddir=" + alice.DataDir(), "--rpcserver=" + alice.RPCAddr()}
	for name, args := range map[string][]string{"explicit paths": explicit, "--lnddir": discovered} {
		var info cliGetInfo
		cliJSON(t, alice, &info, append(args, "getinfo")...)
		if info.IdentityPubkey != alice.PubKey() || info.Alias != "alice" ||
			info.BlockHeight != int64(tip) || !info.SyncedToChain ||
			!slices.Contains(info.URIs, alice.URI()) ||
			len(info.Chains) != 1 || info.Chains[0].Chain != "bitcoin" || info.Chains[0].Network != "regtest" {
			t.Errorf("getinfo with %s: %+v (want pubkey %s, height %d)", name, info, alice.PubKey(), tip)
		}
	}

	_, err = alice.CLI(append(explicit, "connect", bob.URI())...)
	check(t, err)
	check(t, bob.WaitPeer(alice.PubKey()))
	var peers struct {
		Peers []struct {
			PubKey  string `json:"pub_key"`
			Address string `json:"address"`
			Inbound bool   `json:"inbound"`
		} `json:"peers"`
	}
	cliJSON(t, alice, &peers, append(explicit, "listpeers")...)
	if len(peers.Peers) != 1 || peers.Peers[0].PubKey != bob.PubKey() ||
		peers.Peers[0].Address != bob.P2PAddr() || peers.Peers[0].Inbound {
		t.Errorf("listpeers: %+v, want bob outbound at %s", peers, bob.P2PAddr())
	}

	var addr struct {
		Address string `json:"address"`
	}
	cliJSON(t, alice, &addr, append(explicit, "newaddress", "p2tr")...)
	decoded, err := btcutil.DecodeAddress(addr.Address, regtest.Params)
	if _, ok := decoded.(*btcutil.AddressTaproot); err != nil || !ok {
		t.Errorf("newaddress p2tr: %q (%T, %v)", addr.Address, decoded, err)
	}

	var bal map[string]any
	cliJSON(t, alice, &bal, append(explicit, "walletbalance")...)
	for _, field := range []string{"total_balance", "confirmed_balance", "unconfirmed_balance"} {
		if v, ok := bal[field]; !ok || (v != "0" && v != float64(0)) {
			t.Errorf("walletbalance: %s = %v, want 0 (%v)", field, v, bal)
		}
	}

	// On-chain commands: sendcoins, listchaintxns, listunspent,
	// estimatefee.
	check(t, nw.Fund(alice, 10_000_000))
	bobAddr, err := bob.NewAddress(t.Context(), lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	var fee struct {
		FeeSat string `json:"fee_sat"`
	}
	cliJSON(t, alice, &fee, append(explicit, "estimatefee", `{"`+bobAddr.EncodeAddress()+`": 1000000}`)...)
	if fee.FeeSat == "" || fee.FeeSat == "0" {
		t.Errorf("estimatefee: fee_sat %q", fee.FeeSat)
	}
	var sent struct {
		Txid string `json:"txid"`
	}
	cliJSON(t, alice, &sent, append(explicit, "sendcoins", "--addr="+bobAddr.EncodeAddress(),
		"--amt=1000000", "--sat_per_vbyte=3", "--force")...)
	tx, err := nw.WaitTx(sent.Txid)
	check(t, err)
	if tx.FeeRate() < 2.9 || tx.FeeRate() > 3.5 {
		t.Errorf("sendcoins --sat_per_vbyte=3 paid %.2f sat/vB", tx.FeeRate())
	}
	_, err = nw.Mine(6)
	check(t, err)
	check(t, bob.WaitConfirmedBalance(1_000_000))
	var txns struct {
		Transactions []struct {
			TxHash string `json:"tx_hash"`
		} `json:"transactions"`
	}
	cliJSON(t, alice, &txns, append(explicit, "listchaintxns")...)
	if !slices.ContainsFunc(txns.Transactions, func(tx struct {
		TxHash string `json:"tx_hash"`
	}) bool {
		return tx.TxHash == sent.Txid
	}) {
		t.Errorf("listchaintxns lacks %s: %+v", sent.Txid, txns)
	}
	// lncli prints listunspent with encoding/json (numbers, outpoint as
	// txid:index), not protojson.
	var unspent struct {
		Utxos []struct {
			AmountSat int64  `json:"amount_sat"`
			Outpoint  string `json:"outpoint"`
		} `json:"utxos"`
	}
	cliJSON(t, alice, &unspent, append(explicit, "listunspent")...)
	want := 10_000_000 - 1_000_000 - tx.Fee
	if len(unspent.Utxos) != 1 || unspent.Utxos[0].AmountSat != want ||
		!strings.HasPrefix(unspent.Utxos[0].Outpoint, sent.Txid+":") {
		t.Errorf("listunspent after paying bob: %+v, want the change output of %d sat", unspent, want)
	}

	_, err = alice.CLI(append(explicit, "stop")...)
	check(t, err)
	state, err := alice.WaitExit(harness.StopTimeout)
	check(t, err)
	if !state.Success() {
		t.Errorf("xlnd exited with %s after xlncli stop", state)
	}

	// A password wallet, created and unlocked through xlncli.
	password := "xlncli password 1"
	carol, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: []byte(password)})
	check(t, err)
	_, err = carol.StartLocked()
	check(t, err)
	// Before the wallet exists: the CLI says so and how to create it, and
	// create with no terminal and no input names the script flags.
	discoveredCarol := []string{"--network=regtest", "--lnddir=" + carol.DataDir(), "--rpcserver=" + carol.RPCAddr()}
	if _, err := carol.CLI(append(discoveredCarol, "getinfo")...); err == nil ||
		!strings.Contains(err.Error(), "wallet does not exist yet") || !strings.Contains(err.Error(), "xlncli create") {
		t.Errorf("getinfo before create: %v", err)
	}
	if _, err := carol.CLI(append(carol.CLIArgs(), "create")...); err == nil ||
		!strings.Contains(err.Error(), "--password_file") {
		t.Errorf("create without a terminal: %v", err)
	}
	pwFile := filepath.Join(carol.DataDir(), "password.txt")
	check(t, os.WriteFile(pwFile, []byte(password+"\n"), 0o600))
	var seed struct {
		Mnemonic []string `json:"cipher_seed_mnemonic"`
	}
	out, err := carol.CLI(append(carol.CLIArgs(), "create", "--password_file="+pwFile)...)
	check(t, err)
	if err := json.Unmarshal(firstJSON(out), &seed); err != nil || len(seed.Mnemonic) != 24 {
		t.Errorf("create --password_file printed %q (%v)", out, err)
	}
	check(t, carol.WaitActive())
	carolKey := carol.PubKey()
	check(t, carol.Stop())
	_, err = carol.StartLocked()
	check(t, err)
	_, err = carol.CLIInput([]byte(password+"\n"), append(carol.CLIArgs(), "unlock", "--stdin")...)
	check(t, err)
	check(t, carol.WaitActive())
	if carol.PubKey() != carolKey {
		t.Errorf("carol's identity after unlock %s, want %s", carol.PubKey(), carolKey)
	}
}

// firstJSON is the first JSON object in out (create may print more after
// it).
func firstJSON(out []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(out))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return out
	}
	return raw
}
