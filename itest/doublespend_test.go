package itest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestDoubleSpentSend: alice's unconfirmed send is double-spent by a
// second node restored from her seed, which spends the same coin with a
// higher fee (a BIP 125 replacement in btcd's mempool), then mined. Alice
// notices: her send fails (her log says so), its change leaves her
// balance, the coin counts once (as spent by the replacement), and
// GetTransactions no longer lists the failed send, as lnd's btcwallet
// drops a double-spent transaction, while it lists the replacement.
func TestDoubleSpentSend(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	password := []byte("double spend pw")
	alice, err := nw.AddNode(harness.NodeConfig{Name: "alice", Password: password})
	check(t, err)
	check(t, alice.Start())
	bob := startNode(t, nw, "bob")
	const coin = 10_000_000
	check(t, nw.Fund(alice, coin))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bobAddr, err := bob.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	sendA, err := alice.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
		Addr: bobAddr.EncodeAddress(), Amount: 3_000_000, SatPerVbyte: 2,
	})
	check(t, err)
	txA, err := nw.WaitTx(sendA.Txid)
	check(t, err)
	check(t, alice.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
		if b.UnconfirmedBalance != coin-3_000_000-txA.Fee {
			return fmt.Errorf("balance %v after the send", b)
		}
		return nil
	}))

	// carol holds alice's keys and spends the same coin, with more fee.
	carol, err := nw.AddNode(harness.NodeConfig{Name: "carol", Password: password})
	check(t, err)
	_, err = carol.StartLocked()
	check(t, err)
	check(t, carol.RestoreWallet(password, alice.Mnemonic(), 20))
	check(t, carol.WaitConfirmedBalance(coin))
	sendB, err := carol.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
		Addr: bobAddr.EncodeAddress(), SendAll: true, SatPerVbyte: 20,
	})
	check(t, err)
	txB, err := nw.WaitTx(sendB.Txid)
	check(t, err)
	if txB.Tx.TxIn[0].PreviousOutPoint != txA.Tx.TxIn[0].PreviousOutPoint {
		t.Fatalf("carol's send spends %v, alice's %v", txB.Tx.TxIn[0].PreviousOutPoint,
			txA.Tx.TxIn[0].PreviousOutPoint)
	}
	_, err = nw.Mine(1)
	check(t, err)

	// alice: nothing left, counted once.
	check(t, alice.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
		if b.TotalBalance != 0 || b.ConfirmedBalance != 0 || b.UnconfirmedBalance != 0 {
			return fmt.Errorf("balance %v after the double spend", b)
		}
		return nil
	}))
	utxos, err := alice.RPC.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MaxConfs: 1 << 30})
	check(t, err)
	if len(utxos.Utxos) != 0 {
		t.Errorf("alice's unspent outputs after the double spend: %v", utxos.Utxos)
	}
	if tx := findTx(t, alice, sendA.Txid); tx != nil {
		t.Errorf("GetTransactions still lists the double-spent send: %v", tx)
	}
	if tx := findTx(t, alice, sendB.Txid); tx == nil || tx.Amount != -coin ||
		tx.NumConfirmations != 1 {
		t.Errorf("alice's record of the replacement: %v, want amount %d, 1 confirmation", tx, -coin)
	}
	log, err := os.ReadFile(alice.LogPath())
	check(t, err)
	failed := false
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "wallet transaction failed") && strings.Contains(line, sendA.Txid) {
			failed = true
		}
	}
	if !failed {
		t.Error("alice's log does not report the send as failed")
	}
	check(t, bob.WaitConfirmedBalance(coin-txB.Fee))
	if _, err := alice.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
		Addr: bobAddr.EncodeAddress(), Amount: 1_000_000, SatPerVbyte: 2,
	}); err == nil {
		t.Error("alice spent a coin she no longer has")
	}
}

// TestSendSurvivesMempoolLoss: btcd restarts and forgets alice's
// unconfirmed send (it keeps no mempool on disk). Alice does not give it
// up: she broadcasts it again, as Core's wallet does, and it confirms,
// with both balances right.
func TestSendSurvivesMempoolLoss(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	const coin = 10_000_000
	check(t, nw.Fund(alice, coin))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bobAddr, err := bob.NewAddress(ctx, lnrpc.AddressType_TAPROOT_PUBKEY)
	check(t, err)
	resp, err := alice.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
		Addr: bobAddr.EncodeAddress(), Amount: 2_000_000, SatPerVbyte: 3,
	})
	check(t, err)
	tx, err := nw.WaitTx(resp.Txid)
	check(t, err)

	check(t, nw.Btcd().Restart())
	if n, err := nw.MempoolSize(); err != nil || n != 0 {
		t.Fatalf("mempool after btcd's restart: %d transactions (%v)", n, err)
	}
	// A block (without the send, unless alice was quicker); alice's next
	// pass puts it back.
	_, err = nw.Mine(1)
	check(t, err)
	_, err = nw.WaitTx(resp.Txid)
	check(t, err)
	_, err = nw.Mine(1)
	check(t, err)
	check(t, bob.WaitConfirmedBalance(2_000_000))
	check(t, alice.WaitConfirmedBalance(coin-2_000_000-tx.Fee))
	if got := findTx(t, alice, resp.Txid); got == nil || got.NumConfirmations < 1 ||
		got.BlockHash == "" {
		t.Errorf("alice's record of the send: %v", got)
	}
}
