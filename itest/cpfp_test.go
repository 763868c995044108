package itest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// TestBumpFeeCPFP: BumpFee on the wallet's own unconfirmed output (no
// sweep the sweeper knows) does as lnd: a child spends it to a new
// wallet address at the requested rate, and parent and child confirm in
// the same block. A confirmed output and an unknown one are refused.
func TestBumpFeeCPFP(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	check(t, nw.Fund(alice, 1_000_000))
	ctx := t.Context()
	kit := walletKit(t, alice)

	// Send to ourselves at 1 sat/vB.
	addr, err := alice.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	sent, err := alice.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: addr.String(),
		Amount: 300_000, SatPerVbyte: 1})
	check(t, err)
	parent, err := nw.WaitTx(sent.Txid)
	check(t, err)
	if r := parent.FeeRate(); r < 1 || r >= 2 {
		t.Fatalf("parent pays %.2f sat/vB, want 1", r)
	}
	// Its change output.
	var change *walletrpc.BumpFeeRequest
	var changeValue int64
	for i, o := range parent.Tx.TxOut {
		if o.Value != 300_000 {
			change = &walletrpc.BumpFeeRequest{Outpoint: &lnrpc.OutPoint{
				TxidStr: sent.Txid, OutputIndex: uint32(i)}, SatPerVbyte: 50}
			changeValue = o.Value
		}
	}
	if change == nil {
		t.Fatalf("no change output in %v", parent.Tx)
	}

	resp, err := kit.BumpFee(ctx, change)
	check(t, err)
	if !strings.Contains(resp.Status, "CPFP") {
		t.Errorf("status %q", resp.Status)
	}
	// The child in the mempool: spends the change alone, pays 50 sat/vB
	// (the wallet's size estimate may only overpay), to the wallet.
	parentHash := parent.Tx.TxHash()
	var child *harness.ChainTx
	check(t, harness.WaitFor(func() error {
		pool, err := nw.Btcd().Client().GetRawMempool()
		if err != nil {
			return err
		}
		for _, h := range pool {
			if *h == parentHash {
				continue
			}
			tx, err := nw.WaitTx(h.String())
			if err != nil {
				return err
			}
			if len(tx.Tx.TxIn) == 1 && tx.Tx.TxIn[0].PreviousOutPoint.Hash == parentHash &&
				tx.Tx.TxIn[0].PreviousOutPoint.Index == change.Outpoint.OutputIndex {

				child = tx
				return nil
			}
		}
		return fmt.Errorf("no child of %s in the mempool", parentHash)
	}, harness.SyncTimeout))
	if r := child.FeeRate(); r < 50 || r > 52 {
		t.Errorf("child pays %.2f sat/vB, want 50", r)
	}
	if len(child.Tx.TxOut) != 1 || child.Tx.TxOut[0].Value != changeValue-child.Fee {
		t.Fatalf("child outputs %v", child.Tx.TxOut)
	}
	childHash := child.Tx.TxHash()
	unspent, err := kit.ListUnspent(ctx, &walletrpc.ListUnspentRequest{MinConfs: 0, MaxConfs: 0})
	check(t, err)
	mine := false
	for _, u := range unspent.Utxos {
		if u.Outpoint.GetTxidStr() == childHash.String() {
			mine = true
		}
	}
	if !mine {
		t.Errorf("the child's output is not the wallet's: %v", unspent.Utxos)
	}

	// One block confirms both.
	blocks, err := nw.Mine(1)
	check(t, err)
	for _, h := range []chainhash.Hash{parentHash, childHash} {
		tx, err := nw.Btcd().Client().GetRawTransactionVerbose(&h)
		check(t, err)
		if tx.BlockHash != blocks[0].String() {
			t.Errorf("%s in block %q, want %s", h, tx.BlockHash, blocks[0])
		}
	}

	// The change is spent now: not found; the child's output is
	// confirmed: refused as lnd does; an unknown output: not found.
	check(t, alice.WaitHeight(mustTip(t, nw)))
	if _, err = kit.BumpFee(ctx, change); status.Code(err) != codes.NotFound {
		t.Errorf("bump of a spent output: %v", err)
	}
	_, err = kit.BumpFee(ctx, &walletrpc.BumpFeeRequest{Outpoint: &lnrpc.OutPoint{
		TxidStr: childHash.String(), OutputIndex: 0}, SatPerVbyte: 50})
	if status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "unable to bump fee of a confirmed transaction") {
		t.Errorf("bump of a confirmed output: %v", err)
	}
	_, err = kit.BumpFee(ctx, &walletrpc.BumpFeeRequest{Outpoint: &lnrpc.OutPoint{
		TxidStr: strings.Repeat("ab", 32), OutputIndex: 3}, SatPerVbyte: 50})
	if status.Code(err) != codes.NotFound {
		t.Errorf("bump of an unknown output: %v", err)
	}
}

func mustTip(t *testing.T, nw *harness.Network) int32 {
	t.Helper()
	h, err := nw.TipHeight()
	check(t, err)
	return h
}
