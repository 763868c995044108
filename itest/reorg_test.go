package itest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// reorgOut takes block out of the best chain (btcd's invalidateblock)
// and restarts btcd, which keeps no mempool: what the block held is then
// in no chain and no mempool, until a node sends it again.
func reorgOut(t *testing.T, nw *harness.Network, block chainhash.Hash) {
	t.Helper()
	check(t, nw.Btcd().InvalidateBlock(block))
	check(t, nw.Btcd().Restart())
}

// spenderIn returns the mempool transaction spending op, nil if none
// shows within a few seconds.
func spenderIn(t *testing.T, nw *harness.Network, op wire.OutPoint) *harness.ChainTx {
	t.Helper()
	c := nw.Btcd().Client()
	var found string
	err := harness.WaitFor(func() error {
		txids, err := c.GetRawMempool()
		if err != nil {
			return err
		}
		for _, h := range txids {
			tx, err := c.GetRawTransaction(h)
			if err != nil {
				continue
			}
			for _, in := range tx.MsgTx().TxIn {
				if in.PreviousOutPoint == op {
					found = h.String()
					return nil
				}
			}
		}
		return fmt.Errorf("no spend of %v in the mempool", op)
	}, 3*time.Second)
	if err != nil {
		return nil
	}
	tx, err := nw.WaitTx(found)
	check(t, err)
	return tx
}

// mineUntilSpender mines a block at a time, at most max, until a
// transaction spending op is in the mempool, and returns it.
func mineUntilSpender(t *testing.T, nw *harness.Network, op wire.OutPoint, max int) *harness.ChainTx {
	t.Helper()
	for i := 0; ; i++ {
		if tx := spenderIn(t, nw, op); tx != nil {
			return tx
		}
		if i == max {
			t.Fatalf("no spend of %v after %d blocks", op, max)
		}
		_, err := nw.Mine(1)
		check(t, err)
	}
}

// waitWaitingClose waits until n lists point as waiting for its closing
// transaction.
func waitWaitingClose(t *testing.T, n *harness.Node, point string) {
	t.Helper()
	check(t, harness.WaitFor(func() error {
		// Errors too are waited out: the node's backend reconnects
		// to the restarted btcd.
		resp, err := n.RPC.PendingChannels(t.Context(), &lnrpc.PendingChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.WaitingCloseChannels {
			if c.Channel.ChannelPoint == point {
				return nil
			}
		}
		return fmt.Errorf("%s: %s not waiting close", n.Name(), point)
	}, harness.SyncTimeout))
}

// waitLimbo waits until n lists point as force closing with amt in
// limbo.
func waitLimbo(t *testing.T, n *harness.Node, point string, amt int64) {
	t.Helper()
	check(t, harness.WaitFor(func() error {
		resp, err := n.RPC.PendingChannels(t.Context(), &lnrpc.PendingChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.PendingForceClosingChannels {
			if c.Channel.ChannelPoint == point && c.LimboBalance == amt {
				return nil
			}
		}
		return fmt.Errorf("%s: %s not force closing with %d in limbo", n.Name(), point, amt)
	}, harness.SyncTimeout))
}

// TestReorgForceClose: alice force-closes; the block holding her
// commitment is reorged out and btcd's mempool emptied while bob is
// down, so alice alone must send it again; it confirms at another
// height, and her to_local's CSV delay counts from there. Bob's sweep of
// his to_remote is then reorged out the same way and he sweeps it
// again. Each wallet ends with its balance less its last sweep's fee.
func TestReorgForceClose(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	point, ac, bc := openActiveBoth(t, nw, alice, bob, lnrpc.CommitmentType_STATIC_REMOTE_KEY)
	aliceBefore := confirmedBalance(t, alice)
	bobBefore := confirmedBalance(t, bob)
	funding := parseOutPoint(t, point)
	csv := int32(ac.LocalConstraints.CsvDelay)

	commit, _ := forceClose(t, nw, alice, point)
	toLocal := commitOutput(t, commit, ac.LocalBalance)
	toRemote := commitOutput(t, commit, bc.LocalBalance)
	check(t, bob.Stop())
	blocks, err := nw.Mine(1)
	check(t, err)
	waitForceClosing(t, alice, point)

	// (a) The commitment's block leaves the chain, and btcd's mempool
	// is emptied: alice goes back to waiting, and sends her commitment
	// again at the next block.
	reorgOut(t, nw, blocks[0])
	waitWaitingClose(t, alice, point)
	again := mineUntilSpender(t, nw, funding, 2)
	if again.Tx.TxHash() != commit.Tx.TxHash() {
		t.Fatalf("funding spent by %v, want the commitment %v", again.Tx.TxHash(), commit.Tx.TxHash())
	}
	_, err = nw.Mine(1)
	check(t, err)
	height, err := nw.TipHeight()
	check(t, err)
	check(t, harness.WaitFor(func() error {
		fc := waitForceClosing(t, alice, point)
		if fc.MaturityHeight != uint32(height+csv) {
			return fmt.Errorf("to_local matures at %d, want %d+%d", fc.MaturityHeight, height, csv)
		}
		return nil
	}, harness.SyncTimeout))

	// (b) Bob, back, sweeps his to_remote; that sweep's block leaves
	// the chain with the mempool: he sweeps it again.
	check(t, bob.Start())
	waitSpender(t, nw, toRemote)
	blocks, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, bob, point)
	reorgOut(t, nw, blocks[0])
	waitLimbo(t, bob, point, bc.LocalBalance)
	remoteSweep := mineUntilSpender(t, nw, toRemote, 4)
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, bob, point)
	if got := confirmedBalance(t, bob) - bobBefore; got != bc.LocalBalance-remoteSweep.Fee {
		t.Fatalf("bob gained %d, want %d less a fee of %d", got, bc.LocalBalance, remoteSweep.Fee)
	}

	// Alice's to_local, not before its delay counted from the new
	// height.
	tip, err := nw.TipHeight()
	check(t, err)
	_, err = nw.Mine(int(height + csv - 2 - tip))
	check(t, err)
	if tx := spenderIn(t, nw, toLocal); tx != nil {
		t.Fatalf("to_local swept before its delay: %v", tx.Tx.TxHash())
	}
	_, err = nw.Mine(1)
	check(t, err)
	localSweep := waitSpender(t, nw, toLocal)
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)
	if got := confirmedBalance(t, alice) - aliceBefore; got != ac.LocalBalance-localSweep.Fee {
		t.Fatalf("alice gained %d, want %d less a fee of %d", got, ac.LocalBalance, localSweep.Fee)
	}

	// Final (watches dropped) once the sweep is 100 blocks deep, not
	// a block before.
	swept, err := nw.TipHeight()
	check(t, err)
	_, err = nw.Mine(98)
	check(t, err)
	if fullyResolved(t, alice, point) {
		t.Fatalf("final at a depth of 99")
	}
	_, err = nw.Mine(1)
	check(t, err)
	check(t, harness.WaitFor(func() error {
		if !fullyResolved(t, alice, point) {
			return fmt.Errorf("not final at a depth of 100 (sweep at %d)", swept)
		}
		return nil
	}, harness.SyncTimeout))
}

// fullyResolved reports whether n logged point's contract final.
func fullyResolved(t *testing.T, n *harness.Node, point string) bool {
	t.Helper()
	b, err := os.ReadFile(n.LogPath())
	check(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "Channel fully resolved") && strings.Contains(l, point) {
			return true
		}
	}
	return false
}

// TestReorgBreach: mallory broadcasts a revoked commitment; alice's
// justice transaction confirms, then its block leaves the chain with
// btcd's mempool: alice publishes justice again, and her wallet ends
// with everything less the fee of the justice transaction that stayed.
func TestReorgBreach(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	mallory, err := nw.AddNode(harness.NodeConfig{Name: "mallory", Binary: "xlnd-breach"})
	check(t, err)
	if err := mallory.Start(); err != nil {
		t.Fatalf("start the breachtest build (make build makes bin/xlnd-breach): %v", err)
	}
	check(t, nw.Fund(mallory, 5_000_000))
	check(t, nw.ConnectNodes(mallory, alice, false))
	conn, err := alice.Conn(alice.AdminMacaroonPath())
	check(t, err)
	inv := invoicesrpc.NewInvoicesClient(conn)

	point, _, ac := openActiveBoth(t, nw, mallory, alice, lnrpc.CommitmentType_ANCHORS)
	revoked := saveCommitment(t, mallory, point)
	pre := sendHeld(t, mallory, alice, inv, point, 200_000)
	_, err = inv.SettleInvoice(t.Context(), &invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
	check(t, err)
	waitRemoteBalance(t, mallory, point, chanPush+200_000)
	waitRemoteBalance(t, alice, point, ac.RemoteBalance-200_000)
	var taken int64
	var main wire.OutPoint
	for i, o := range revoked.TxOut {
		if o.Value != 330 {
			taken += o.Value
			main = wire.OutPoint{Hash: revoked.TxHash(), Index: uint32(i)}
		}
	}
	aliceBefore := confirmedBalance(t, alice)

	_, err = nw.Btcd().Client().SendRawTransaction(revoked, true)
	check(t, err)
	_, err = nw.Mine(1)
	check(t, err)
	first := waitSpender(t, nw, main)
	blocks, err := nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)

	reorgOut(t, nw, blocks[0])
	waitLimbo(t, alice, point, taken)
	justice := mineUntilSpender(t, nw, main, 4)
	if len(justice.Tx.TxIn) != len(first.Tx.TxIn) {
		t.Fatalf("justice again spends %d outputs, first %d", len(justice.Tx.TxIn), len(first.Tx.TxIn))
	}
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)
	if got := confirmedBalance(t, alice) - aliceBefore; got != taken-justice.Fee {
		t.Fatalf("alice gained %d, want %d less a fee of %d", got, taken, justice.Fee)
	}
}

// TestReorgCoopClose: a cooperative closing transaction confirms, then
// its block leaves the chain with btcd's mempool before the close is
// final: the closing transaction is sent again, confirms, and the
// channel ends closed with it on both sides.
func TestReorgCoopClose(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	point, _ := openActive(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	funding := parseOutPoint(t, point)

	stream, err := alice.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point)})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	if up.GetClosePending() == nil {
		t.Fatalf("first update %v, want close_pending", up)
	}
	txid, err := chainhash.NewHash(up.GetClosePending().Txid)
	check(t, err)
	_, err = nw.WaitTx(txid.String())
	check(t, err)
	blocks, err := nw.Mine(1)
	check(t, err)

	reorgOut(t, nw, blocks[0])
	again := mineUntilSpender(t, nw, funding, 2)
	if again.Tx.TxHash() != *txid {
		t.Fatalf("funding spent by %v, want the closing transaction %v", again.Tx.TxHash(), txid)
	}
	for _, n := range []*harness.Node{alice, bob} {
		waitWaitingClose(t, n, point)
	}
	_, err = nw.Mine(closeDepth)
	check(t, err)
	for _, n := range []*harness.Node{alice, bob} {
		if s := waitClosed(t, n, point); s.ClosingTxHash != txid.String() {
			t.Fatalf("%s: closed by %s, want %s", n.Name(), s.ClosingTxHash, txid)
		}
	}
	up, err = stream.Recv()
	check(t, err)
	if up.GetChanClose() == nil || !up.GetChanClose().Success {
		t.Fatalf("close stream: %v", up)
	}
}
