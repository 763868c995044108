package itest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/mempool"
	"github.com/btcsuite/btcd/txscript"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestNestedP2WKH: np2wkh addresses (BIP 49, P2SH-P2WPKH) on a real btcd.
// NewAddress hands one out (and the unused variant the same one until it is
// paid); a payment to it confirms and ListUnspent shows it with lnd's
// address type; sendcoins spends it (btcd accepts the P2SH-P2WPKH input at
// the fee rate asked, with Core's anti-fee-sniping lock time and lnd's P2TR
// change); the recipient and the sender's balance are right; and a wallet
// restored from the seed finds the nested coin left unspent.
func TestNestedP2WKH(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	password := []byte("nested segwit pw")
	alice, err := nw.AddNode(harness.NodeConfig{Name: "alice", Password: password})
	check(t, err)
	check(t, alice.Start())
	bob := startNode(t, nw, "bob")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	first, err := alice.NewAddress(ctx, lnrpc.AddressType_NESTED_PUBKEY_HASH)
	check(t, err)
	if _, ok := first.(*btcutil.AddressScriptHash); !ok {
		t.Fatalf("np2wkh address %s is a %T", first, first)
	}
	unused, err := alice.NewAddress(ctx, lnrpc.AddressType_UNUSED_NESTED_PUBKEY_HASH)
	check(t, err)
	if unused.EncodeAddress() != first.EncodeAddress() {
		t.Errorf("unused np2wkh %s, want the unpaid %s", unused, first)
	}
	// xlncli newaddress np2wkh --unused reaches the same address; without
	// --unused it is the next one.
	var cli struct {
		Address string `json:"address"`
	}
	cliJSON(t, alice, &cli, append(alice.CLIArgs(), "newaddress", "--unused", "np2wkh")...)
	if cli.Address != first.EncodeAddress() {
		t.Errorf("xlncli newaddress --unused np2wkh: %s, want %s", cli.Address, first)
	}
	cliJSON(t, alice, &cli, append(alice.CLIArgs(), "newaddress", "np2wkh")...)
	second, err := btcutil.DecodeAddress(cli.Address, regtest.Params)
	check(t, err)
	if _, ok := second.(*btcutil.AddressScriptHash); !ok ||
		second.EncodeAddress() == first.EncodeAddress() {
		t.Fatalf("xlncli newaddress np2wkh: %s after %s", second, first)
	}
	// And over REST, at lnd's path with lnd's enum name.
	var rest struct {
		Address string `json:"address"`
	}
	admin := alice.AdminMacaroonPath()
	restJSON(t, alice, http.MethodGet, "/v1/newaddress?type=UNUSED_NESTED_PUBKEY_HASH", nil, admin, &rest)
	if rest.Address != second.EncodeAddress() {
		t.Errorf("GET /v1/newaddress?type=UNUSED_NESTED_PUBKEY_HASH: %s, want %s", rest.Address, second)
	}

	const big, small = btcutil.Amount(50_000_000), btcutil.Amount(20_000_000)
	_, err = nw.Btcd().SendToAddress(first, big)
	check(t, err)
	_, err = nw.Btcd().SendToAddress(second, small)
	check(t, err)
	_, err = nw.Mine(6)
	check(t, err)
	check(t, alice.WaitConfirmedBalance(int64(big+small)))

	utxos, err := alice.RPC.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 1, MaxConfs: 1 << 30})
	check(t, err)
	if len(utxos.Utxos) != 2 {
		t.Fatalf("unspent outputs: %v", utxos.Utxos)
	}
	for _, u := range utxos.Utxos {
		if u.AddressType != lnrpc.AddressType_NESTED_PUBKEY_HASH ||
			(u.Address != first.EncodeAddress() && u.Address != second.EncodeAddress()) {
			t.Errorf("unspent output %v, want np2wkh to %s or %s", u, first, second)
		}
	}

	var restUtxos struct {
		Utxos []struct {
			AddressType string `json:"address_type"`
			Address     string `json:"address"`
		} `json:"utxos"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/utxos?min_confs=1&max_confs=1000", nil, admin, &restUtxos)
	if len(restUtxos.Utxos) != 2 {
		t.Errorf("GET /v1/utxos: %+v", restUtxos)
	}
	for _, u := range restUtxos.Utxos {
		if u.AddressType != "NESTED_PUBKEY_HASH" {
			t.Errorf("GET /v1/utxos: %+v, want address_type NESTED_PUBKEY_HASH", u)
		}
	}

	// Spend the big coin: more than the small one holds.
	bobAddr, err := bob.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	bobScript, err := txscript.PayToAddrScript(bobAddr)
	check(t, err)
	const sent, rate = 30_000_000, 4
	tipAtSend, err := nw.TipHeight()
	check(t, err)
	resp, err := alice.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
		Addr: bobAddr.EncodeAddress(), Amount: sent, SatPerVbyte: rate,
	})
	check(t, err)
	tx, err := nw.WaitTx(resp.Txid)
	check(t, err)
	if err := checkFee(tx, rate); err != nil {
		t.Error(err)
	}
	if len(tx.Tx.TxIn) != 1 || len(tx.Tx.TxIn[0].SignatureScript) != 23 ||
		len(tx.Tx.TxIn[0].Witness) != 2 {
		t.Fatalf("spend of the np2wkh coin: inputs %v", tx.Tx.TxIn)
	}
	checkAntiFeeSniping(t, tx, tipAtSend)
	var change int64
	for _, out := range tx.Tx.TxOut {
		switch {
		case string(out.PkScript) == string(bobScript):
			if out.Value != sent {
				t.Errorf("bob paid %d, want %d", out.Value, sent)
			}
		case txscript.IsPayToTaproot(out.PkScript):
			change = out.Value
		default:
			t.Errorf("unexpected output %x (change should be p2tr, as lnd's)", out.PkScript)
		}
	}
	if change != int64(big)-sent-tx.Fee {
		t.Errorf("change %d, want %d", change, int64(big)-sent-tx.Fee)
	}

	// btcd mines it: the lock time was valid for the next block.
	_, err = nw.Mine(6)
	check(t, err)
	txid := tx.Tx.TxHash()
	mined, err := nw.Btcd().Client().GetRawTransactionVerbose(&txid)
	check(t, err)
	if mined.Confirmations != 6 {
		t.Fatalf("spend has %d confirmations after 6 blocks", mined.Confirmations)
	}
	check(t, bob.WaitConfirmedBalance(sent))
	want := int64(big+small) - sent - tx.Fee
	check(t, alice.WaitConfirmedBalance(want))

	// A wallet restored from alice's words finds the nested coin left
	// and the p2tr change.
	mnemonic := alice.Mnemonic()
	check(t, alice.Stop())
	carol, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: password})
	check(t, err)
	_, err = carol.StartLocked()
	check(t, err)
	check(t, carol.RestoreWallet(password, mnemonic, 20))
	check(t, carol.WaitConfirmedBalance(want))
	restored, err := carol.RPC.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 1, MaxConfs: 1 << 30})
	check(t, err)
	types := map[lnrpc.AddressType]int64{}
	for _, u := range restored.Utxos {
		types[u.AddressType] += u.AmountSat
	}
	if types[lnrpc.AddressType_NESTED_PUBKEY_HASH] != int64(small) ||
		types[lnrpc.AddressType_TAPROOT_PUBKEY] != change || len(restored.Utxos) != 2 {
		t.Errorf("restored unspent outputs %v, want np2wkh %d and p2tr change %d",
			restored.Utxos, small, change)
	}
}

// checkAntiFeeSniping checks Bitcoin Core's wallet rule: nLockTime is the
// tip height at send time, or up to 99 blocks below it, and every input's
// sequence is not final (Core's default signals BIP 125 replaceability).
func checkAntiFeeSniping(t *testing.T, tx *harness.ChainTx, tip int32) {
	t.Helper()
	lock := int64(tx.Tx.LockTime)
	if lock > int64(tip) || lock <= int64(tip)-100 {
		t.Errorf("lock time %d, want the tip %d or up to 99 below", lock, tip)
	}
	for i, in := range tx.Tx.TxIn {
		if in.Sequence != mempool.MaxRBFSequence {
			t.Errorf("input %d sequence %#x, want %#x", i, in.Sequence, mempool.MaxRBFSequence)
		}
	}
}
