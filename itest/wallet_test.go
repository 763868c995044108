package itest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// findTx returns the node's GetTransactions entry for txid, or nil.
func findTx(t *testing.T, n *harness.Node, txid string) *lnrpc.Transaction {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := n.RPC.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{EndHeight: -1})
	check(t, err)
	for _, tx := range resp.Transactions {
		if tx.TxHash == txid {
			return tx
		}
	}
	return nil
}

// TestSendCoins: a wallet funded from mined coins pays another with
// sendcoins, by amount and sweeping everything, at a fee rate given in
// sat/vbyte or by confirmation target; the chain, both balances and both
// transaction lists agree after six confirmations.
func TestSendCoins(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")

	const funding = btcutil.Amount(100_000_000)
	check(t, nw.Fund(alice, funding))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The funding shows as one confirmed p2wkh output.
	utxos, err := alice.RPC.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 1, MaxConfs: 1 << 30})
	check(t, err)
	if len(utxos.Utxos) != 1 || utxos.Utxos[0].AmountSat != int64(funding) ||
		utxos.Utxos[0].Confirmations < 6 ||
		utxos.Utxos[0].AddressType != lnrpc.AddressType_WITNESS_PUBKEY_HASH {
		t.Fatalf("alice's unspent outputs after funding: %v", utxos.Utxos)
	}

	// Bad requests are refused and move nothing.
	bobAddr, err := bob.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	mainnetAddr, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.MainNetParams)
	check(t, err)
	bad := []struct {
		name string
		req  *lnrpc.SendCoinsRequest
	}{
		{"more than the balance", &lnrpc.SendCoinsRequest{Addr: bobAddr.EncodeAddress(), Amount: int64(funding) + 1, SatPerVbyte: 1}},
		{"mainnet address", &lnrpc.SendCoinsRequest{Addr: mainnetAddr.EncodeAddress(), Amount: 10_000, SatPerVbyte: 1}},
		{"garbage address", &lnrpc.SendCoinsRequest{Addr: "bcrt1qnotanaddress", Amount: 10_000, SatPerVbyte: 1}},
		{"negative amount", &lnrpc.SendCoinsRequest{Addr: bobAddr.EncodeAddress(), Amount: -5, SatPerVbyte: 1}},
		{"amount and send_all", &lnrpc.SendCoinsRequest{Addr: bobAddr.EncodeAddress(), Amount: 10_000, SendAll: true, SatPerVbyte: 1}},
		{"sat_per_vbyte and target_conf", &lnrpc.SendCoinsRequest{Addr: bobAddr.EncodeAddress(), Amount: 10_000, SatPerVbyte: 1, TargetConf: 6}},
		{"below dust", &lnrpc.SendCoinsRequest{Addr: bobAddr.EncodeAddress(), Amount: 100, SatPerVbyte: 1}},
	}
	for _, tc := range bad {
		resp, err := alice.RPC.SendCoins(ctx, tc.req)
		if err == nil {
			t.Errorf("SendCoins with %s: accepted (txid %s)", tc.name, resp.Txid)
		} else {
			t.Logf("SendCoins with %s: %v", tc.name, err)
		}
	}
	if n, err := nw.MempoolSize(); err != nil || n != 0 {
		t.Fatalf("after refused sends: %d transactions in the mempool (%v)", n, err)
	}
	check(t, alice.WaitConfirmedBalance(int64(funding)))

	tests := []struct {
		name        string
		from, to    *harness.Node
		addrType    lnrpc.AddressType
		amount      int64 // zero: send_all
		satPerVByte uint64
		targetConf  int32
	}{
		{"amount at 5 sat/vbyte to p2wkh", alice, bob, lnrpc.AddressType_WITNESS_PUBKEY_HASH, 20_000_000, 5, 0},
		{"amount by target_conf to p2tr", alice, bob, lnrpc.AddressType_TAPROOT_PUBKEY, 10_000_000, 0, 3},
		{"send_all at 2 sat/vbyte to p2tr", bob, alice, lnrpc.AddressType_TAPROOT_PUBKEY, 0, 2, 0},
		{"send_all by target_conf to p2wkh", alice, bob, lnrpc.AddressType_WITNESS_PUBKEY_HASH, 0, 0, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fromBal, err := tc.from.Balance()
			check(t, err)
			toBal, err := tc.to.Balance()
			check(t, err)
			addr, err := tc.to.NewAddress(ctx, tc.addrType)
			check(t, err)
			if _, taproot := addr.(*btcutil.AddressTaproot); taproot != (tc.addrType == lnrpc.AddressType_TAPROOT_PUBKEY) {
				t.Fatalf("NewAddress(%v) gave %T", tc.addrType, addr)
			}
			pkScript, err := txscript.PayToAddrScript(addr)
			check(t, err)

			if tc.amount > 0 && tc.targetConf > 0 {
				est, err := tc.from.RPC.EstimateFee(ctx, &lnrpc.EstimateFeeRequest{
					AddrToAmount: map[string]int64{addr.EncodeAddress(): tc.amount},
					TargetConf:   tc.targetConf,
				})
				check(t, err)
				if est.FeeSat <= 0 || est.SatPerVbyte == 0 {
					t.Errorf("EstimateFee: %v", est)
				}
			}

			tipAtSend, err := nw.TipHeight()
			check(t, err)
			resp, err := tc.from.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
				Addr:        addr.EncodeAddress(),
				Amount:      tc.amount,
				SendAll:     tc.amount == 0,
				SatPerVbyte: tc.satPerVByte,
				TargetConf:  tc.targetConf,
			})
			check(t, err)
			tx, err := nw.WaitTx(resp.Txid)
			check(t, err)
			checkAntiFeeSniping(t, tx, tipAtSend)
			for _, out := range tx.Tx.TxOut {
				// Change, as lnd makes it for SendCoins, is p2tr.
				if !bytes.Equal(out.PkScript, pkScript) && !txscript.IsPayToTaproot(out.PkScript) {
					t.Errorf("change output %x is not p2tr", out.PkScript)
				}
			}
			t.Logf("tx %s: %d vB, fee %d sat (%.2f sat/vB), %d in, %d out",
				resp.Txid, tx.VSize, tx.Fee, tx.FeeRate(), len(tx.Tx.TxIn), len(tx.Tx.TxOut))

			// What the chain says was paid.
			var paid int64
			paidOutputs := 0
			for _, out := range tx.Tx.TxOut {
				if bytes.Equal(out.PkScript, pkScript) {
					paid += out.Value
					paidOutputs++
				}
			}
			sent := tc.amount
			if tc.amount == 0 {
				sent = fromBal.ConfirmedBalance - tx.Fee
				if len(tx.Tx.TxOut) != 1 {
					t.Errorf("send_all made %d outputs, want 1", len(tx.Tx.TxOut))
				}
			}
			if paidOutputs != 1 || paid != sent {
				t.Errorf("tx pays %d sat in %d outputs to %s, want %d in one", paid, paidOutputs, addr, sent)
			}
			if err := checkFee(tx, tc.satPerVByte); err != nil {
				t.Error(err)
			}

			_, err = nw.Mine(6)
			check(t, err)
			tip, err := nw.TipHeight()
			check(t, err)

			check(t, tc.to.WaitConfirmedBalance(toBal.ConfirmedBalance+sent))
			check(t, tc.from.WaitConfirmedBalance(fromBal.ConfirmedBalance-sent-tx.Fee))
			for _, n := range []*harness.Node{tc.from, tc.to} {
				bal, err := n.Balance()
				check(t, err)
				if bal.UnconfirmedBalance != 0 || bal.TotalBalance != bal.ConfirmedBalance {
					t.Errorf("%s: balance %v after confirmation", n.Name(), bal)
				}
			}

			// Both wallets list the transaction, with their net change.
			sides := []struct {
				n      *harness.Node
				amount int64
			}{
				{tc.from, -(sent + tx.Fee)},
				{tc.to, sent},
			}
			for _, side := range sides {
				got := findTx(t, side.n, resp.Txid)
				if got == nil {
					t.Errorf("%s: GetTransactions does not list %s", side.n.Name(), resp.Txid)
					continue
				}
				if err := checkListedTx(got, side.amount, tip-5); err != nil {
					t.Errorf("%s: %v", side.n.Name(), err)
				}
				if side.n == tc.from && got.TotalFees != tx.Fee {
					t.Errorf("%s: total_fees %d, want %d", side.n.Name(), got.TotalFees, tx.Fee)
				}
			}
		})
	}

	// alice swept everything in the last case.
	bal, err := alice.Balance()
	check(t, err)
	if bal.TotalBalance != 0 {
		t.Errorf("alice's balance after send_all: %v", bal)
	}
}

// checkFee checks a transaction pays rate sat/vbyte (within what an
// estimate of signature sizes allows), or at least the 1 sat/vbyte relay
// floor when the rate came from a confirmation target (rate 0).
func checkFee(tx *harness.ChainTx, rate uint64) error {
	if rate == 0 {
		if tx.Fee < tx.VSize {
			return fmt.Errorf("fee %d sat for %d vB is below 1 sat/vB", tx.Fee, tx.VSize)
		}
		return nil
	}
	lo := int64(rate) * (tx.VSize - 1) // a signature may come out a byte short of the estimate
	hi := int64(rate) * (tx.VSize + tx.VSize/10 + 1)
	if tx.Fee < lo || tx.Fee > hi {
		return fmt.Errorf("fee %d sat for %d vB, want about %d sat/vB (%d..%d)",
			tx.Fee, tx.VSize, rate, lo, hi)
	}
	return nil
}

func checkListedTx(tx *lnrpc.Transaction, amount int64, height int32) error {
	switch {
	case tx.Amount != amount:
		return fmt.Errorf("tx %s: amount %d, want %d", tx.TxHash, tx.Amount, amount)
	case tx.NumConfirmations < 6:
		return fmt.Errorf("tx %s: %d confirmations, want 6", tx.TxHash, tx.NumConfirmations)
	case tx.BlockHeight != height:
		return fmt.Errorf("tx %s: block height %d, want %d", tx.TxHash, tx.BlockHeight, height)
	case tx.BlockHash == "":
		return fmt.Errorf("tx %s: no block hash", tx.TxHash)
	}
	return nil
}
