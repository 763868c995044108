package itest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/chainrpc"
	"lnd.xprv/rpc/lnrpc/signrpc"
	"lnd.xprv/rpc/lnrpc/verrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// walletKit is a WalletKit client of n with its admin macaroon.
func walletKit(t *testing.T, n *harness.Node) walletrpc.WalletKitClient {
	t.Helper()
	conn, err := n.Conn(n.AdminMacaroonPath())
	check(t, err)
	return walletrpc.NewWalletKitClient(conn)
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v (%v), want %v", what, status.Code(err), err, code)
	}
}

// restStatus makes a REST call and returns its HTTP status and body.
func restStatus(t *testing.T, n *harness.Node, method, path string, body any) (int, []byte) {
	t.Helper()
	code, resp, err := n.REST(method, path, body, n.AdminMacaroonPath())
	check(t, err)
	return code, resp
}

func scriptOf(t *testing.T, addr string) []byte {
	t.Helper()
	a, err := btcutil.DecodeAddress(addr, &chaincfg.RegressionNetParams)
	check(t, err)
	s, err := txscript.PayToAddrScript(a)
	check(t, err)
	return s
}

// TestWalletKit drives WalletKit over gRPC and REST on real nodes:
// accounts, fee estimate, addresses that then receive funds, unspent
// outputs, leases, keys across a restart, a PSBT funded by one node paying
// another and published, SendOutputs, and labels.
func TestWalletKit(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kit := walletKit(t, alice)

	// Accounts: BIP 84 and BIP 86, regtest coin type, the same over REST.
	accts, err := kit.ListAccounts(ctx, &walletrpc.ListAccountsRequest{})
	check(t, err)
	// lnd's order: BIP 49 (lnd's hybrid nested account), 84, 86.
	if len(accts.Accounts) != 3 ||
		accts.Accounts[0].AddressType != walletrpc.AddressType_HYBRID_NESTED_WITNESS_PUBKEY_HASH ||
		accts.Accounts[0].DerivationPath != "m/49'/1'/0'" ||
		!strings.HasPrefix(accts.Accounts[0].ExtendedPublicKey, "upub") ||
		accts.Accounts[1].AddressType != walletrpc.AddressType_WITNESS_PUBKEY_HASH ||
		accts.Accounts[1].DerivationPath != "m/84'/1'/0'" ||
		!strings.HasPrefix(accts.Accounts[1].ExtendedPublicKey, "vpub") ||
		accts.Accounts[2].AddressType != walletrpc.AddressType_TAPROOT_PUBKEY ||
		accts.Accounts[2].DerivationPath != "m/86'/1'/0'" ||
		!strings.HasPrefix(accts.Accounts[2].ExtendedPublicKey, "tpub") {
		t.Fatalf("accounts %v", accts.Accounts)
	}
	var restAccts struct {
		Accounts []struct {
			Name        string `json:"name"`
			AddressType string `json:"address_type"`
			XPub        string `json:"extended_public_key"`
		} `json:"accounts"`
	}
	restJSON(t, alice, "GET", "/v2/wallet/accounts", nil, alice.ReadOnlyMacaroonPath(), &restAccts)
	if len(restAccts.Accounts) != 3 || restAccts.Accounts[2].AddressType != "TAPROOT_PUBKEY" ||
		restAccts.Accounts[1].XPub != accts.Accounts[1].ExtendedPublicKey || restAccts.Accounts[0].Name != "default" {
		t.Fatalf("REST accounts %+v", restAccts)
	}

	// Fee estimate, at or above the relay floor.
	fee, err := kit.EstimateFee(ctx, &walletrpc.EstimateFeeRequest{ConfTarget: 6})
	check(t, err)
	if fee.SatPerKw < fee.MinRelayFeeSatPerKw || fee.MinRelayFeeSatPerKw < 253 {
		t.Fatalf("fee estimate %v", fee)
	}
	var restFee struct {
		SatPerKw string `json:"sat_per_kw"`
	}
	restJSON(t, alice, "GET", "/v2/wallet/estimatefee/6", nil, alice.ReadOnlyMacaroonPath(), &restFee)
	if restInt(t, restFee.SatPerKw) != fee.SatPerKw {
		t.Fatalf("REST fee %v, gRPC %v", restFee.SatPerKw, fee.SatPerKw)
	}

	// NextAddr over gRPC (taproot) and REST (p2wkh); funds arrive and
	// ListUnspent shows them with their types.
	trAddr, err := kit.NextAddr(ctx, &walletrpc.AddrRequest{Type: walletrpc.AddressType_TAPROOT_PUBKEY})
	check(t, err)
	var wkh struct {
		Addr string `json:"addr"`
	}
	restJSON(t, alice, "POST", "/v2/wallet/address/next", `{"type":"WITNESS_PUBKEY_HASH"}`, alice.AdminMacaroonPath(), &wkh)
	if !strings.HasPrefix(trAddr.Addr, "bcrt1p") || !strings.HasPrefix(wkh.Addr, "bcrt1q") {
		t.Fatalf("next addresses %q %q", trAddr.Addr, wkh.Addr)
	}
	for addr, amt := range map[string]btcutil.Amount{trAddr.Addr: 2_000_000, wkh.Addr: 3_000_000} {
		a, err := btcutil.DecodeAddress(addr, &chaincfg.RegressionNetParams)
		check(t, err)
		_, err = nw.Btcd().SendToAddress(a, amt)
		check(t, err)
	}
	_, err = nw.Mine(6)
	check(t, err)
	check(t, alice.WaitConfirmedBalance(5_000_000))
	utxos, err := kit.ListUnspent(ctx, &walletrpc.ListUnspentRequest{MinConfs: 1})
	check(t, err)
	byAddr := map[string]*lnrpc.Utxo{}
	for _, u := range utxos.Utxos {
		byAddr[u.Address] = u
	}
	if u := byAddr[trAddr.Addr]; u == nil || u.AmountSat != 2_000_000 || u.AddressType != lnrpc.AddressType_TAPROOT_PUBKEY {
		t.Fatalf("taproot output in %v", utxos.Utxos)
	}
	if u := byAddr[wkh.Addr]; u == nil || u.AmountSat != 3_000_000 || u.AddressType != lnrpc.AddressType_WITNESS_PUBKEY_HASH {
		t.Fatalf("p2wkh output in %v", utxos.Utxos)
	}
	var restUtxos struct {
		Utxos []struct {
			Address   string `json:"address"`
			AmountSat string `json:"amount_sat"`
		} `json:"utxos"`
	}
	restJSON(t, alice, "POST", "/v2/wallet/utxos", `{"min_confs":1}`, alice.ReadOnlyMacaroonPath(), &restUtxos)
	if len(restUtxos.Utxos) != 2 {
		t.Fatalf("REST utxos %+v", restUtxos)
	}

	// Leases: taken over gRPC, seen over both, refused to another id over
	// REST, released over REST.
	op := byAddr[trAddr.Addr].Outpoint
	id := bytes.Repeat([]byte{0x42}, 32)
	lease, err := kit.LeaseOutput(ctx, &walletrpc.LeaseOutputRequest{Id: id, Outpoint: op, ExpirationSeconds: 3600})
	check(t, err)
	if exp := time.Unix(int64(lease.Expiration), 0); time.Until(exp) < 50*time.Minute {
		t.Fatalf("lease ends at %v", exp)
	}
	leases, err := kit.ListLeases(ctx, &walletrpc.ListLeasesRequest{})
	check(t, err)
	if len(leases.LockedUtxos) != 1 || !bytes.Equal(leases.LockedUtxos[0].Id, id) ||
		leases.LockedUtxos[0].Value != 2_000_000 {
		t.Fatalf("leases %v", leases.LockedUtxos)
	}
	bal, err := alice.Balance()
	check(t, err)
	if bal.LockedBalance != 2_000_000 {
		t.Fatalf("locked balance %d", bal.LockedBalance)
	}
	otherLease := map[string]any{"id": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		"outpoint": map[string]any{"txid_str": op.TxidStr, "output_index": op.OutputIndex}}
	if code, body := restStatus(t, alice, "POST", "/v2/wallet/utxos/lease", otherLease); code == http.StatusOK {
		t.Fatalf("lease of a leased output by another id: %s", body)
	}
	var restLeases struct {
		Locked []struct {
			Value string `json:"value"`
		} `json:"locked_utxos"`
	}
	restJSON(t, alice, "POST", "/v2/wallet/utxos/leases", nil, alice.ReadOnlyMacaroonPath(), &restLeases)
	if len(restLeases.Locked) != 1 || restLeases.Locked[0].Value != "2000000" {
		t.Fatalf("REST leases %+v", restLeases)
	}
	release := map[string]any{"id": base64.StdEncoding.EncodeToString(id),
		"outpoint": map[string]any{"txid_str": op.TxidStr, "output_index": op.OutputIndex}}
	restJSON(t, alice, "POST", "/v2/wallet/utxos/release", release, alice.AdminMacaroonPath(), nil)
	leases, err = kit.ListLeases(ctx, &walletrpc.ListLeasesRequest{})
	check(t, err)
	if len(leases.LockedUtxos) != 0 {
		t.Fatalf("leases after release %v", leases.LockedUtxos)
	}

	// Keys: DeriveNextKey hands out 0, 1; DeriveKey agrees, over REST too,
	// and both survive a restart.
	k0, err := kit.DeriveNextKey(ctx, &walletrpc.KeyReq{KeyFamily: 42})
	check(t, err)
	k1, err := kit.DeriveNextKey(ctx, &walletrpc.KeyReq{KeyFamily: 42})
	check(t, err)
	if k0.KeyLoc.KeyIndex != 0 || k1.KeyLoc.KeyIndex != 1 || bytes.Equal(k0.RawKeyBytes, k1.RawKeyBytes) {
		t.Fatalf("next keys %v %v", k0, k1)
	}
	var restKey struct {
		Raw string `json:"raw_key_bytes"`
	}
	restJSON(t, alice, "POST", "/v2/wallet/key", `{"key_family":42,"key_index":1}`, alice.AdminMacaroonPath(), &restKey)
	if restKey.Raw != base64.StdEncoding.EncodeToString(k1.RawKeyBytes) {
		t.Fatalf("REST DeriveKey %s, want %x", restKey.Raw, k1.RawKeyBytes)
	}
	var restNext struct {
		Loc struct {
			Index int `json:"key_index"`
		} `json:"key_loc"`
	}
	restJSON(t, alice, "POST", "/v2/wallet/key/next", `{"key_family":43}`, alice.AdminMacaroonPath(), &restNext)
	check(t, alice.Restart())
	kit = walletKit(t, alice)
	again, err := kit.DeriveKey(ctx, &signrpc.KeyLocator{KeyFamily: 42, KeyIndex: 1})
	check(t, err)
	k2, err := kit.DeriveNextKey(ctx, &walletrpc.KeyReq{KeyFamily: 42})
	check(t, err)
	if !bytes.Equal(again.RawKeyBytes, k1.RawKeyBytes) || k2.KeyLoc.KeyIndex != 2 || restNext.Loc.Index != 0 {
		t.Fatalf("after restart: key 1 %x (was %x), next index %d", again.RawKeyBytes, k1.RawKeyBytes, k2.KeyLoc.KeyIndex)
	}

	// A PSBT paying bob: template from outside naming alice's taproot
	// coin, funded (change added) and signed by alice, finalized,
	// published over REST; bob receives it.
	bobAddr, err := bob.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	trHash, err := chainhash.NewHashFromStr(op.TxidStr)
	check(t, err)
	trOut := wire.OutPoint{Hash: *trHash, Index: op.OutputIndex}
	template := wire.NewMsgTx(2)
	template.AddTxIn(wire.NewTxIn(&trOut, nil, nil))
	template.TxIn[0].Sequence = wire.MaxTxInSequenceNum - 2 // signals RBF
	template.AddTxOut(wire.NewTxOut(1_000_000, scriptOf(t, bobAddr.EncodeAddress())))
	packet, err := psbt.NewFromUnsignedTx(template)
	check(t, err)
	var tbuf bytes.Buffer
	check(t, packet.Serialize(&tbuf))
	funded, err := kit.FundPsbt(ctx, &walletrpc.FundPsbtRequest{
		Template: &walletrpc.FundPsbtRequest_Psbt{Psbt: tbuf.Bytes()},
		Fees:     &walletrpc.FundPsbtRequest_SatPerVbyte{SatPerVbyte: 5}})
	check(t, err)
	if len(funded.LockedUtxos) != 1 || funded.LockedUtxos[0].Outpoint.TxidStr != op.TxidStr ||
		funded.LockedUtxos[0].Outpoint.OutputIndex != op.OutputIndex || funded.ChangeOutputIndex < 0 {
		t.Fatalf("funded %v", funded)
	}
	leases, err = kit.ListLeases(ctx, &walletrpc.ListLeasesRequest{})
	check(t, err)
	if len(leases.LockedUtxos) != len(funded.LockedUtxos) {
		t.Fatalf("%d leases for %d funded inputs", len(leases.LockedUtxos), len(funded.LockedUtxos))
	}
	signed, err := kit.SignPsbt(ctx, &walletrpc.SignPsbtRequest{FundedPsbt: funded.FundedPsbt})
	check(t, err)
	if len(signed.SignedInputs) != len(funded.LockedUtxos) {
		t.Fatalf("signed inputs %v of %d", signed.SignedInputs, len(funded.LockedUtxos))
	}
	final, err := kit.FinalizePsbt(ctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: signed.SignedPsbt})
	check(t, err)
	finalTx := &wire.MsgTx{}
	check(t, finalTx.Deserialize(bytes.NewReader(final.RawFinalTx)))
	if len(finalTx.TxIn) != 1 || finalTx.TxIn[0].PreviousOutPoint != trOut ||
		finalTx.TxIn[0].Sequence != wire.MaxTxInSequenceNum-2 || len(finalTx.TxIn[0].Witness) != 1 {
		t.Fatalf("final transaction's input %+v", finalTx.TxIn)
	}
	publish := map[string]string{"tx_hex": base64.StdEncoding.EncodeToString(final.RawFinalTx), "label": "psbt to bob"}
	restJSON(t, alice, "POST", "/v2/wallet/tx", publish, alice.AdminMacaroonPath(), nil)
	chainTx, err := nw.WaitTx(finalTx.TxHash().String())
	check(t, err)
	if r := chainTx.FeeRate(); r < 4.9 || r > 5.5 {
		t.Fatalf("PSBT transaction pays %.2f sat/vB, asked 5", r)
	}
	_, err = nw.Mine(1)
	check(t, err)
	check(t, bob.WaitConfirmedBalance(1_000_000))
	if tx := findTx(t, alice, finalTx.TxHash().String()); tx == nil || tx.Label != "psbt to bob" || tx.NumConfirmations != 1 {
		t.Fatalf("alice's record of the PSBT transaction: %v", tx)
	}

	// SendOutputs over REST at an exact sat/kw rate.
	bobAddr2, err := bob.NewAddress(ctx, lnrpc.AddressType_TAPROOT_PUBKEY)
	check(t, err)
	send := map[string]any{"sat_per_kw": 2500, "outputs": []map[string]any{{"value": 400_000,
		"pk_script": base64.StdEncoding.EncodeToString(scriptOf(t, bobAddr2.EncodeAddress()))}}}
	var sent struct {
		RawTx string `json:"raw_tx"`
	}
	restJSON(t, alice, "POST", "/v2/wallet/send", send, alice.AdminMacaroonPath(), &sent)
	raw, err := base64.StdEncoding.DecodeString(sent.RawTx)
	check(t, err)
	sentTx := &wire.MsgTx{}
	check(t, sentTx.Deserialize(bytes.NewReader(raw)))
	chainTx, err = nw.WaitTx(sentTx.TxHash().String())
	check(t, err)
	if r := chainTx.FeeRate(); r < 9.9 || r > 10.6 {
		t.Fatalf("SendOutputs pays %.2f sat/vB, asked 2500 sat/kw", r)
	}

	// Labels: set over gRPC, kept without overwrite, replaced with it
	// over REST; GetTransactions shows the last.
	txid := sentTx.TxHash()
	_, err = kit.LabelTransaction(ctx, &walletrpc.LabelTransactionRequest{Txid: txid[:], Label: "to bob"})
	check(t, err)
	_, err = kit.LabelTransaction(ctx, &walletrpc.LabelTransactionRequest{Txid: txid[:], Label: "again"})
	wantCode(t, "relabel without overwrite", err, codes.AlreadyExists)
	relabel := map[string]any{"txid": base64.StdEncoding.EncodeToString(txid[:]), "label": "rent", "overwrite": true}
	restJSON(t, alice, "POST", "/v2/wallet/tx/label", relabel, alice.AdminMacaroonPath(), nil)
	if tx := findTx(t, alice, txid.String()); tx == nil || tx.Label != "rent" {
		t.Fatalf("label after relabel: %v", tx)
	}
	_, err = nw.Mine(1)
	check(t, err)
	check(t, bob.WaitConfirmedBalance(1_400_000))

	// Garbage PSBTs are refused as such, over both.
	_, err = kit.FinalizePsbt(ctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: []byte("psbt\xff garbage")})
	wantCode(t, "garbage PSBT", err, codes.InvalidArgument)
	if code, body := restStatus(t, alice, "POST", "/v2/wallet/psbt/sign", `{"funded_psbt":"cHNidP8="}`); code != http.StatusBadRequest {
		t.Fatalf("REST sign of a truncated PSBT: HTTP %d %s", code, body)
	}
}

// TestPsbtTwoWallets: alice and bob each fund half of one transaction;
// alice signs her inputs with SignPsbt, bob signs his and finalizes with
// FinalizePsbt, and the transaction confirms.
func TestPsbtTwoWallets(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	carol := startNode(t, nw, "carol")
	check(t, nw.Fund(alice, 5_000_000))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	akit, bkit := walletKit(t, alice), walletKit(t, bob)
	// Bob's coin is nested P2WPKH, so his inputs are finalized with a
	// redeem script.
	nested, err := bkit.NextAddr(ctx, &walletrpc.AddrRequest{Type: walletrpc.AddressType_NESTED_WITNESS_PUBKEY_HASH})
	check(t, err)
	nestedAddr, err := btcutil.DecodeAddress(nested.Addr, &chaincfg.RegressionNetParams)
	check(t, err)
	if _, ok := nestedAddr.(*btcutil.AddressScriptHash); !ok {
		t.Fatalf("nested address %s is not P2SH", nested.Addr)
	}
	_, err = nw.Btcd().SendToAddress(nestedAddr, 5_000_000)
	check(t, err)
	_, err = nw.Mine(6)
	check(t, err)
	check(t, bob.WaitConfirmedBalance(5_000_000))
	bu, err := bkit.ListUnspent(ctx, &walletrpc.ListUnspentRequest{MinConfs: 1})
	check(t, err)
	if len(bu.Utxos) != 1 || bu.Utxos[0].AddressType != lnrpc.AddressType_NESTED_PUBKEY_HASH {
		t.Fatalf("bob's coins %v", bu.Utxos)
	}

	carolAddr, err := carol.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	fund := func(k walletrpc.WalletKitClient) *psbt.Packet {
		res, err := k.FundPsbt(ctx, &walletrpc.FundPsbtRequest{
			Template: &walletrpc.FundPsbtRequest_Raw{Raw: &walletrpc.TxTemplate{
				Outputs: map[string]uint64{carolAddr.EncodeAddress(): 1_500_000}}},
			Fees: &walletrpc.FundPsbtRequest_SatPerVbyte{SatPerVbyte: 3}})
		check(t, err)
		p, err := psbt.NewFromRawBytes(bytes.NewReader(res.FundedPsbt), false)
		check(t, err)
		return p
	}
	pa := fund(akit)
	// Bob funds over REST.
	var bobFunded struct {
		Psbt string `json:"funded_psbt"`
	}
	restJSON(t, bob, "POST", "/v2/wallet/psbt/fund", map[string]any{
		"raw":           map[string]any{"outputs": map[string]any{carolAddr.EncodeAddress(): "1500000"}},
		"sat_per_vbyte": 3}, bob.AdminMacaroonPath(), &bobFunded)
	rawB, err := base64.StdEncoding.DecodeString(bobFunded.Psbt)
	check(t, err)
	pb, err := psbt.NewFromRawBytes(bytes.NewReader(rawB), false)
	check(t, err)

	// One transaction: both parties' inputs and change, carol's output
	// twice (3,000,000 in all).
	joint := wire.NewMsgTx(2)
	var inputs []psbt.PInput
	for _, p := range []*psbt.Packet{pa, pb} {
		for i, in := range p.UnsignedTx.TxIn {
			joint.AddTxIn(wire.NewTxIn(&in.PreviousOutPoint, nil, nil))
			inputs = append(inputs, psbt.PInput{WitnessUtxo: p.Inputs[i].WitnessUtxo})
		}
		for _, out := range p.UnsignedTx.TxOut {
			joint.AddTxOut(out)
		}
	}
	jp, err := psbt.NewFromUnsignedTx(joint)
	check(t, err)
	jp.Inputs = inputs
	var buf bytes.Buffer
	check(t, jp.Serialize(&buf))

	// Bob cannot finalize before alice signed.
	_, err = bkit.FinalizePsbt(ctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: buf.Bytes()})
	wantCode(t, "finalize without alice's signatures", err, codes.FailedPrecondition)

	signed, err := akit.SignPsbt(ctx, &walletrpc.SignPsbtRequest{FundedPsbt: buf.Bytes()})
	check(t, err)
	if len(signed.SignedInputs) != len(pa.UnsignedTx.TxIn) {
		t.Fatalf("alice signed %v, has %d inputs", signed.SignedInputs, len(pa.UnsignedTx.TxIn))
	}
	for _, i := range signed.SignedInputs {
		if int(i) >= len(pa.UnsignedTx.TxIn) {
			t.Fatalf("alice signed bob's input %d", i)
		}
	}
	// Bob finalizes over REST.
	var final struct {
		RawFinalTx string `json:"raw_final_tx"`
	}
	restJSON(t, bob, "POST", "/v2/wallet/psbt/finalize",
		map[string]string{"funded_psbt": base64.StdEncoding.EncodeToString(signed.SignedPsbt)},
		bob.AdminMacaroonPath(), &final)
	rawTx, err := base64.StdEncoding.DecodeString(final.RawFinalTx)
	check(t, err)
	_, err = bkit.PublishTransaction(ctx, &walletrpc.Transaction{TxHex: rawTx, Label: "joint"})
	check(t, err)
	tx := &wire.MsgTx{}
	check(t, tx.Deserialize(bytes.NewReader(rawTx)))
	_, err = nw.WaitTx(tx.TxHash().String())
	check(t, err)
	_, err = nw.Mine(1)
	check(t, err)
	check(t, carol.WaitConfirmedBalance(3_000_000))
	// Each funder paid its half and its fee, and got its change.
	for _, n := range []*harness.Node{alice, bob} {
		check(t, n.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
			if b.UnconfirmedBalance != 0 || b.ConfirmedBalance >= 3_500_000 || b.ConfirmedBalance < 3_490_000 {
				return errors.New("balance not settled")
			}
			return nil
		}))
	}
}

// TestChainNotifier: the block stream sees mined blocks (gRPC and REST), a
// confirmation fires at the requested depth and not before, and a spend
// fires when the output is spent.
func TestChainNotifier(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := alice.Conn(alice.ReadOnlyMacaroonPath())
	check(t, err)
	cn := chainrpc.NewChainNotifierClient(conn)

	// Blocks: the tip first, then each mined block with btcd's hash.
	tip, err := nw.TipHeight()
	check(t, err)
	check(t, alice.WaitHeight(tip))
	blocks, err := cn.RegisterBlockEpochNtfn(ctx, &chainrpc.BlockEpoch{})
	check(t, err)
	first, err := blocks.Recv()
	check(t, err)
	if int32(first.Height) != tip {
		t.Fatalf("first block %d, tip %d", first.Height, tip)
	}
	restBlocks := openRESTStream(t, alice, "/v2/chainnotifier/register/blocks", "{}")
	if ev := restBlocks.next(t); ev["height"] != float64(tip) {
		t.Fatalf("REST first block %v, tip %d", ev, tip)
	}
	mined, err := nw.Mine(2)
	check(t, err)
	for i, h := range mined {
		ev, err := blocks.Recv()
		check(t, err)
		if int32(ev.Height) != tip+int32(i)+1 || !bytes.Equal(ev.Hash, h[:]) {
			t.Fatalf("block %d: %d %x, want %d %v", i, ev.Height, ev.Hash, tip+int32(i)+1, h)
		}
		rev := restBlocks.next(t)
		if rev["height"] != float64(tip+int32(i)+1) || rev["hash"] != base64.StdEncoding.EncodeToString(h[:]) {
			t.Fatalf("REST block %d: %v", i, rev)
		}
	}
	restBlocks.close()

	// Confirmation at depth 3 of a payment to bob.
	bobAddr, err := bob.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	sent, err := alice.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: bobAddr.EncodeAddress(), Amount: 1_000_000, SatPerVbyte: 2})
	check(t, err)
	txid, err := chainhash.NewHashFromStr(sent.Txid)
	check(t, err)
	bobScript := scriptOf(t, bobAddr.EncodeAddress())
	tip, err = nw.TipHeight()
	check(t, err)
	_, err = nw.WaitTx(sent.Txid)
	check(t, err)
	confs, err := cn.RegisterConfirmationsNtfn(ctx, &chainrpc.ConfRequest{
		Txid: txid[:], Script: bobScript, NumConfs: 3, HeightHint: uint32(tip)})
	check(t, err)
	restConfs := openRESTStream(t, alice, "/v2/chainnotifier/register/confirmations",
		map[string]any{"txid": base64.StdEncoding.EncodeToString(txid[:]),
			"script": base64.StdEncoding.EncodeToString(bobScript), "num_confs": 1, "height_hint": tip})
	confBlock, err := nw.Mine(1)
	check(t, err)
	if ev := restConfs.next(t); ev["conf"] == nil {
		t.Fatalf("REST conf event %v", ev)
	} else if c := ev["conf"].(map[string]any); c["block_height"] != float64(tip+1) {
		t.Fatalf("REST conf at %v, want %d", c["block_height"], tip+1)
	}
	restConfs.close()
	_, err = nw.Mine(1)
	check(t, err)
	check(t, alice.WaitHeight(tip+2))
	// Two confirmations: nothing yet.
	early, earlyCancel := context.WithTimeout(ctx, 3*time.Second)
	earlyConfs, err := cn.RegisterConfirmationsNtfn(early, &chainrpc.ConfRequest{
		Txid: txid[:], Script: bobScript, NumConfs: 3, HeightHint: uint32(tip)})
	check(t, err)
	if ev, err := earlyConfs.Recv(); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a 3-conf registration fired at 2 confirmations: %v %v", ev, err)
	}
	earlyCancel()
	_, err = nw.Mine(1)
	check(t, err)
	ev, err := confs.Recv()
	check(t, err)
	c := ev.GetConf()
	if c == nil || c.BlockHeight != uint32(tip+1) || !bytes.Equal(c.BlockHash, confBlock[0][:]) {
		t.Fatalf("conf event %v, want block %d %v", ev, tip+1, confBlock[0])
	}
	confTx := &wire.MsgTx{}
	check(t, confTx.Deserialize(bytes.NewReader(c.RawTx)))
	if confTx.TxHash() != *txid {
		t.Fatalf("conf event carries %v, want %v", confTx.TxHash(), txid)
	}

	// Spend of bob's output: bob sweeps his wallet.
	var op wire.OutPoint
	for i, out := range confTx.TxOut {
		if bytes.Equal(out.PkScript, bobScript) {
			op = wire.OutPoint{Hash: *txid, Index: uint32(i)}
		}
	}
	spends, err := cn.RegisterSpendNtfn(ctx, &chainrpc.SpendRequest{
		Outpoint: &chainrpc.Outpoint{Hash: op.Hash[:], Index: op.Index}, Script: bobScript, HeightHint: uint32(tip)})
	check(t, err)
	check(t, bob.WaitConfirmedBalance(1_000_000))
	aliceAddr, err := alice.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	sweep, err := bob.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: aliceAddr.EncodeAddress(), SendAll: true, SatPerVbyte: 2})
	check(t, err)
	_, err = nw.WaitTx(sweep.Txid)
	check(t, err)
	spentIn, err := nw.Mine(1)
	check(t, err)
	sev, err := spends.Recv()
	check(t, err)
	s := sev.GetSpend()
	if s == nil || chainhash.Hash(s.SpendingTxHash).String() != sweep.Txid ||
		s.SpendingHeight != uint32(tip+4) || s.SpendingOutpoint.Index != op.Index {
		t.Fatalf("spend event %v, want %s at %d (block %v)", sev, sweep.Txid, tip+4, spentIn[0])
	}
}

// restStream reads one REST server stream line by line. The gateway sends
// its headers with the first message, so the request runs in its own
// goroutine: a stream with nothing to say yet does not block the test.
type restStream struct {
	lines  chan []byte
	errc   chan error
	cancel context.CancelFunc
}

func openRESTStream(t *testing.T, n *harness.Node, path string, body any) *restStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &restStream{lines: make(chan []byte, 16), errc: make(chan error, 1), cancel: cancel}
	go func() {
		resp, err := n.RESTStream(ctx, "POST", path, body, n.ReadOnlyMacaroonPath())
		if err != nil {
			s.errc <- err
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			select {
			case s.lines <- append([]byte(nil), sc.Bytes()...):
			case <-ctx.Done():
				return
			}
		}
		s.errc <- fmt.Errorf("stream ended: %v", sc.Err())
	}()
	t.Cleanup(cancel)
	return s
}

// next returns the next message's result, failing on an error message or
// if none comes within the harness's sync timeout.
func (s *restStream) next(t *testing.T) map[string]any {
	t.Helper()
	var line []byte
	select {
	case line = <-s.lines:
	case err := <-s.errc:
		t.Fatalf("REST stream: %v", err)
	case <-time.After(harness.SyncTimeout):
		t.Fatal("REST stream: no message")
	}
	var msg struct {
		Result map[string]any `json:"result"`
		Error  any            `json:"error"`
	}
	if err := json.Unmarshal(line, &msg); err != nil || msg.Result == nil {
		t.Fatalf("REST stream message %s: %v", line, err)
	}
	return msg.Result
}

func (s *restStream) close() { s.cancel() }

// TestVersioner: GetVersion over gRPC and REST with a read-only macaroon,
// and xlncli version.
func TestVersioner(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	conn, err := alice.Conn(alice.ReadOnlyMacaroonPath())
	check(t, err)
	v, err := verrpc.NewVersionerClient(conn).GetVersion(context.Background(), &verrpc.VersionRequest{})
	check(t, err)
	info, err := alice.Info()
	check(t, err)
	if !strings.HasPrefix(info.Version, v.Version+" ") || v.AppMajor != 0 || v.AppMinor < 20 ||
		v.AppPreRelease != "beta" || !strings.HasPrefix(v.GoVersion, "go") {
		t.Fatalf("version %v (getinfo %q)", v, info.Version)
	}
	var rv struct {
		Version   string   `json:"version"`
		BuildTags []string `json:"build_tags"`
	}
	restJSON(t, alice, "GET", "/v2/versioner/version", nil, alice.ReadOnlyMacaroonPath(), &rv)
	if rv.Version != v.Version || strings.Join(rv.BuildTags, ",") != strings.Join(v.BuildTags, ",") {
		t.Fatalf("REST version %+v, gRPC %v", rv, v)
	}
	var cv struct {
		Lncli struct {
			Version string `json:"version"`
		} `json:"lncli"`
		Lnd struct {
			Version    string `json:"version"`
			CommitHash string `json:"commit_hash"`
		} `json:"lnd"`
	}
	cliJSON(t, alice, &cv, append(alice.CLIArgs(), "version")...)
	if cv.Lnd.Version != v.Version || cv.Lncli.Version == "" || cv.Lnd.CommitHash != v.CommitHash {
		t.Fatalf("xlncli version %+v", cv)
	}
}
