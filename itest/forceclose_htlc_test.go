package itest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// mineTo mines until the tip is at height.
func mineTo(t *testing.T, nw *harness.Network, height int32) {
	t.Helper()
	tip, err := nw.TipHeight()
	check(t, err)
	if height > tip {
		_, err = nw.Mine(int(height - tip))
		check(t, err)
	}
}

// TestForceCloseHTLC: mallory (the breachtest build, for its way to send
// an HTLC) pays a hold invoice of alice over a static-remote-key
// channel, and force-closes with the HTLC in flight. Alice takes her
// to_remote at once; mallory's HTLC-timeout transaction goes out when the
// HTLC expires, and after her delay she sweeps her to_local and the HTLC
// transaction's output. Each wallet gains exactly its share less the
// fees of the transactions it made.
func TestForceCloseHTLC(t *testing.T) {
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
	for _, ct := range []lnrpc.CommitmentType{lnrpc.CommitmentType_STATIC_REMOTE_KEY,
		lnrpc.CommitmentType_ANCHORS} {

		t.Run(ct.String(), func(t *testing.T) {
			forceCloseHTLC(t, nw, mallory, alice, inv, ct)
		})
		t.Run(ct.String()+" by the receiver", func(t *testing.T) {
			receiverForceCloses(t, nw, mallory, alice, inv, ct)
		})
	}
}

// receiverForceCloses: alice, holding mallory's HTLC without its
// preimage, force-closes. Mallory takes her balance at once and the HTLC
// straight from alice's commitment once it expires; alice her balance
// after her delay.
func receiverForceCloses(t *testing.T, nw *harness.Network, mallory, alice *harness.Node,
	inv invoicesrpc.InvoicesClient, ct lnrpc.CommitmentType) {

	point, mc, ac := openActiveBoth(t, nw, mallory, alice, ct)
	const htlcAmt = 200_000
	sendHeld(t, mallory, alice, inv, point, htlcAmt)
	var mBal int64
	check(t, harness.WaitFor(func() error {
		c := waitActive(t, alice, point)
		if c.RemoteBalance > mc.LocalBalance-htlcAmt {
			return fmt.Errorf("alice's commitment has no HTLC yet: %d", c.RemoteBalance)
		}
		mBal = c.RemoteBalance
		return nil
	}, harness.SyncTimeout))
	info, err := mallory.Info()
	check(t, err)
	expiry := int32(info.BlockHeight) + 100
	aliceBefore := confirmedBalance(t, alice)
	malloryBefore := confirmedBalance(t, mallory)

	commit, _ := forceClose(t, nw, alice, point)
	toLocal := commitOutput(t, commit, ac.LocalBalance)
	toRemote := commitOutput(t, commit, mBal)
	htlcOut := commitOutput(t, commit, htlcAmt)
	_, err = nw.Mine(1)
	check(t, err)
	closedAt, err := nw.TipHeight()
	check(t, err)

	s1 := waitSpender(t, nw, toRemote)
	_, err = nw.Mine(1)
	check(t, err)
	mineTo(t, nw, expiry-1)
	if n, err := nw.MempoolSize(); err != nil || n != 0 {
		t.Fatalf("mempool holds %d before the HTLC expired (%v)", n, err)
	}
	mineTo(t, nw, expiry)
	s2 := waitSpender(t, nw, htlcOut)
	if s2.Tx.LockTime < uint32(expiry) || len(s2.Tx.TxIn) != 1 {
		t.Fatalf("HTLC timeout sweep: locktime %d, %d inputs", s2.Tx.LockTime, len(s2.Tx.TxIn))
	}
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, mallory, point)
	if got, want := confirmedBalance(t, mallory)-malloryBefore, mBal+htlcAmt-s1.Fee-s2.Fee; got != want {
		t.Fatalf("mallory gained %d, want %d", got, want)
	}

	csv := int32(ac.LocalConstraints.CsvDelay)
	mineTo(t, nw, closedAt+csv-1)
	s3 := waitSpender(t, nw, toLocal)
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)
	if got := confirmedBalance(t, alice) - aliceBefore; got != ac.LocalBalance-s3.Fee {
		t.Fatalf("alice gained %d, want %d less a fee of %d", got, ac.LocalBalance, s3.Fee)
	}
}

func forceCloseHTLC(t *testing.T, nw *harness.Network, mallory, alice *harness.Node,
	inv invoicesrpc.InvoicesClient, ct lnrpc.CommitmentType) {

	point, mc, _ := openActiveBoth(t, nw, mallory, alice, ct)
	const htlcAmt = 200_000
	sendHeld(t, mallory, alice, inv, point, htlcAmt)
	check(t, harness.WaitFor(func() error {
		c := waitActive(t, mallory, point)
		if c.LocalBalance > mc.LocalBalance-htlcAmt {
			return fmt.Errorf("mallory's commitment has no HTLC yet: %d", c.LocalBalance)
		}
		return nil
	}, harness.SyncTimeout))
	info, err := mallory.Info()
	check(t, err)
	expiry := int32(info.BlockHeight) + 100 // as sendHeld asked
	aliceBefore := confirmedBalance(t, alice)
	malloryBefore := confirmedBalance(t, mallory)

	commit, _ := forceClose(t, nw, mallory, point)
	anchors := 0
	if ct == lnrpc.CommitmentType_ANCHORS {
		anchors = 2
	}
	if len(commit.Tx.TxOut) != 3+anchors {
		t.Fatalf("commitment has %d outputs, want to_local, to_remote, the HTLC and %d anchors",
			len(commit.Tx.TxOut), anchors)
	}
	toRemote := commitOutput(t, commit, chanPush)
	htlcOut := commitOutput(t, commit, htlcAmt)
	var toLocal wire.OutPoint
	var toLocalAmt int64
	for i, o := range commit.Tx.TxOut {
		if o.Value != chanPush && o.Value != htlcAmt && o.Value != 330 {
			toLocal, toLocalAmt = wire.OutPoint{Hash: commit.Tx.TxHash(), Index: uint32(i)}, o.Value
		}
	}
	_, err = nw.Mine(1)
	check(t, err)
	closedAt, err := nw.TipHeight()
	check(t, err)

	// Alice: her balance at once; the HTLC, whose preimage she does
	// not have, stays in limbo until mallory times it out.
	aliceSweep := waitSpender(t, nw, toRemote)
	_, err = nw.Mine(1)
	check(t, err)
	// The block is synced before the court records the spend in it:
	// wait for that. Her anchor stays in limbo with the HTLC.
	check(t, harness.WaitFor(func() error {
		if f := waitForceClosing(t, alice, point); f.LimboBalance != htlcAmt+anchorAmount(ct) {
			return fmt.Errorf("alice's limbo: %v", f)
		}
		return nil
	}, harness.SyncTimeout))
	if got := confirmedBalance(t, alice) - aliceBefore; got != chanPush-aliceSweep.Fee {
		t.Fatalf("alice gained %d, want %d less a fee of %d", got, chanPush, aliceSweep.Fee)
	}

	// Mallory: the HTLC-timeout transaction at the expiry.
	fc := waitForceClosing(t, mallory, point)
	if len(fc.PendingHtlcs) != 1 || fc.PendingHtlcs[0].Incoming || fc.PendingHtlcs[0].Amount != htlcAmt ||
		fc.PendingHtlcs[0].Stage != 1 || fc.PendingHtlcs[0].MaturityHeight != uint32(expiry) ||
		fc.PendingHtlcs[0].Outpoint != htlcOut.String() {
		t.Fatalf("mallory's pending HTLCs: %v", fc.PendingHtlcs)
	}
	mineTo(t, nw, expiry-1)
	if n, err := nw.MempoolSize(); err != nil || n != 0 {
		t.Fatalf("mempool holds %d before the HTLC expired (%v)", n, err)
	}
	mineTo(t, nw, expiry)
	htlcTx := waitSpender(t, nw, htlcOut)
	if htlcTx.Tx.LockTime != uint32(expiry) || len(htlcTx.Tx.TxIn[0].Witness) != 5 {
		t.Fatalf("HTLC-timeout: locktime %d", htlcTx.Tx.LockTime)
	}
	// With anchors the wallet paid the fee: a coin in, change out. The
	// HTLC's own output is the first.
	htlcTxOut := htlcTx.Tx.TxOut[0].Value
	if anchors > 0 {
		if len(htlcTx.Tx.TxIn) < 2 || len(htlcTx.Tx.TxOut) != 2 || htlcTxOut != htlcAmt {
			t.Fatalf("anchors HTLC-timeout: %d inputs, %d outputs, pays %d", len(htlcTx.Tx.TxIn),
				len(htlcTx.Tx.TxOut), htlcTxOut)
		}
	}
	// Mallory crashes with her HTLC transaction in the mempool; after
	// the restart it confirms all the same.
	mallory.Kill()
	check(t, mallory.Start())
	reconnect(t, nw, mallory, alice)
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)
	check(t, harness.WaitFor(func() error {
		fc := waitForceClosing(t, mallory, point)
		if len(fc.PendingHtlcs) != 1 || fc.PendingHtlcs[0].Stage != 2 {
			return fmt.Errorf("mallory's pending HTLCs: %v", fc.PendingHtlcs)
		}
		return nil
	}, harness.SyncTimeout))

	// Her to_local, then the HTLC transaction's output, each after
	// her delay.
	csv := int32(mc.LocalConstraints.CsvDelay)
	mineTo(t, nw, closedAt+csv-1)
	s1 := waitSpender(t, nw, toLocal)
	_, err = nw.Mine(1)
	check(t, err)
	mineTo(t, nw, expiry+1+csv-1)
	s2 := waitSpender(t, nw, wire.OutPoint{Hash: htlcTx.Tx.TxHash(), Index: 0})
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, mallory, point)
	// The HTLC transaction's fee, whoever paid it, and the sweeps'.
	want := toLocalAmt + htlcAmt - htlcTx.Fee - s1.Fee - s2.Fee
	if got := confirmedBalance(t, mallory) - malloryBefore; got != want {
		t.Fatalf("mallory gained %d, want %d (to_local %d + HTLC %d less fees %d, %d, %d)",
			got, want, toLocalAmt, htlcAmt, htlcTx.Fee, s1.Fee, s2.Fee)
	}
}

// reconnect connects a to b unless they are (or just got) connected.
func reconnect(t *testing.T, nw *harness.Network, a, b *harness.Node) {
	t.Helper()
	if p, err := a.Peer(b.PubKey()); err == nil && p != nil {
		return
	}
	if err := nw.ConnectNodes(a, b, false); err != nil && !strings.Contains(err.Error(), "already connected") {
		t.Fatal(err)
	}
	check(t, a.WaitPeer(b.PubKey()))
}
