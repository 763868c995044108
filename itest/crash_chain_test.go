//go:build crashpoint

package itest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/contractcourt"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// The on-chain half of the crash test, on the nodes of the funding
// scenarios after the cooperative closes. Force close: alice closes one
// of her channels with bob by force, the victim dies at the point and
// restarts, blocks are mined as the close needs them (the commitment,
// the CSV delay of alice's to_local, each sweep), and then both list
// the channel closed by force with the same commitment, every output of
// it but the anchors is swept back to its owner's wallet, and each
// node's total moved by exactly what came back less what its channel
// held. Breach: mallory (the breachtest build) broadcasts a revoked
// commitment of her channel with alice, alice dies at the point and
// restarts, and her justice transaction takes every output of it but
// the anchors; the channel ends closed as a breach.

type chainCrashScenario struct {
	point  crashpoint.Point
	victim string // alice (who force-closes; the breach's victim) or bob

	// htlc: alice's commitment carries an HTLC she offered bob (a hold
	// invoice of his, never settled), which she times out on chain
	// through her HTLC-timeout transaction.
	htlc bool
}

var forceCrashScenarios = []chainCrashScenario{
	// First, while no other contract of alice's can become final
	// meanwhile: the point is then reached for this close.
	{point: crashpoint.ContractFinal, victim: "alice"},
	{point: crashpoint.ForceCloseRecorded, victim: "alice"},
	{point: crashpoint.ForceCloseBroadcast, victim: "alice"},
	{point: crashpoint.CommitmentConfirmed, victim: "alice"},
	{point: crashpoint.CommitmentConfirmed, victim: "bob"},
	// Bob's to_remote is swept as the commitment confirms (one block
	// of CSV with anchors); alice's to_local after its delay.
	{point: crashpoint.SweepRecorded, victim: "bob"},
	{point: crashpoint.SweepRecorded, victim: "alice"},
	{point: crashpoint.OutputResolved, victim: "alice"},
	{point: crashpoint.HTLCTxPublished, victim: "alice", htlc: true},
}

var breachCrashScenarios = []chainCrashScenario{
	{point: crashpoint.BreachDetected, victim: "alice"},
	{point: crashpoint.JusticeRecorded, victim: "alice"},
}

// maxCloseFeeRate is the most, in sat/vB, a transaction of a close may
// pay here: the fee estimator's regtest fallback is far below it.
const maxCloseFeeRate = 100

// chainLimit bounds one scenario's wait for its close to resolve.
const chainLimit = 3 * time.Minute

// runForceCrash force-closes one of alice's channels with bob with the
// victim told to die at the point, and checks the outcome.
func runForceCrash(t *testing.T, nw *harness.Network, alice, bob *harness.Node,
	sc chainCrashScenario) {

	t.Helper()
	victim := map[string]*harness.Node{"alice": alice, "bob": bob}[sc.victim]
	victim.SetEnv(crashpoint.EnvVar + "=" + string(sc.point))
	check(t, victim.Restart())
	ensureConnected(t, nw, alice, bob)
	point := crashChannel(t, nw, alice, bob)
	waitActive(t, alice, point)
	var htlcAmt int64
	var htlcHash [32]byte
	if sc.htlc {
		htlcAmt = 50_000
		point, htlcHash = holdHTLC(t, alice, bob, htlcAmt)
	}
	ac, bc := waitActive(t, alice, point), waitActive(t, bob, point)
	if inFlight(ac) != htlcAmt || inFlight(bc) != htlcAmt {
		t.Fatalf("channel %s carries %d sat of HTLCs, want %d", point,
			inFlight(ac), htlcAmt)
	}
	nodes := []*harness.Node{alice, bob}
	before := map[*harness.Node]int64{alice: nodeTotal(t, alice), bob: nodeTotal(t, bob)}
	// An HTLC alice offered is hers until it settles.
	held := map[*harness.Node]int64{alice: ac.LocalBalance + ac.CommitFee +
		anchorOutputs + htlcAmt, bob: bc.LocalBalance}
	before[alice] += htlcAmt
	from, err := nw.TipHeight()
	check(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := alice.RPC.CloseChannel(ctx, &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point), Force: true})
	check(t, err)
	go drain(stream)
	driveChain(t, nw, victim, sc.point, point, nodes)

	commit := checkClosedBy(t, nw, point, map[*harness.Node]lnrpc.ChannelCloseSummary_ClosureType{
		alice: lnrpc.ChannelCloseSummary_LOCAL_FORCE_CLOSE,
		bob:   lnrpc.ChannelCloseSummary_REMOTE_FORCE_CLOSE})
	owner := checkSweptBack(t, nw, from, commit, nodes, before, held)
	for i, o := range commit.TxOut {
		want := map[int64]*harness.Node{ac.LocalBalance: alice, bc.LocalBalance: bob,
			htlcAmt: alice}[o.Value]
		if want != nil && owner[wire.OutPoint{Hash: commit.TxHash(), Index: uint32(i)}] != want {
			t.Fatalf("output %d of the commitment (%d sat) not swept to %s", i, o.Value, want.Name())
		}
	}
	checkNothingPending(t, nodes...)
	if sc.htlc {
		// Timed out on chain, the HTLC fails alice's payment (BOLT 5).
		waitPaymentStatus(t, alice, htlcHash, lnrpc.Payment_FAILED)
	}
}

// drain reads a close stream until it ends (with its node's death, or
// the scenario's end).
func drain(s lnrpc.Lightning_CloseChannelClient) {
	for {
		if _, err := s.Recv(); err != nil {
			return
		}
	}
}

// driveChain mines blocks as the close of point needs them until every
// node has it resolved: one block whenever the mempool holds a
// transaction, the blocks to the maturity a node reports when it holds
// none, one more if nothing moved for a while. The victim is restarted
// once it died at its point; it must die there.
func driveChain(t *testing.T, nw *harness.Network, victim *harness.Node,
	p crashpoint.Point, point string, nodes []*harness.Node) {

	t.Helper()
	deadline := time.Now().Add(chainLimit)
	crashed := false
	idle := time.Now()
	for {
		if time.Now().After(deadline) {
			t.Fatalf("%s not resolved after %v (%s crashed at %s: %v)",
				point, chainLimit, victim.Name(), p, crashed)
		}
		if !crashed && victim.LogContains(crashpoint.Marker+string(p)) {
			waitCrashed(t, victim, p)
			victim.SetEnv()
			check(t, victim.Start())
			crashed = true
			idle = time.Now()
			continue
		}
		if resolvedOn(point, nodes) == nil {
			if crashed {
				return
			}
			// Every output spent and the victim still up: its
			// point comes with the contract's final depth.
			mineLive(t, nw, contractcourt.DefaultFinalDepth)
			idle = time.Now()
			continue
		}
		n, err := nw.MempoolSize()
		check(t, err)
		mine := 0
		switch left := blocksToMaturity(point, nodes); {
		case n > 0:
			mine = 1
		case left > 0:
			mine = int(left)
		case time.Since(idle) > 5*time.Second && victim.Running():
			// A step that waits for the next block.
			mine = 1
		}
		if mine == 0 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		mineLive(t, nw, mine)
		idle = time.Now()
	}
}

// mineLive mines blocks and waits until every node still running has
// synced to them; a node that dies meanwhile (the victim at its point)
// is not waited for.
func mineLive(t *testing.T, nw *harness.Network, blocks int) {
	t.Helper()
	_, err := nw.Btcd().Generate(blocks)
	check(t, err)
	tip, err := nw.TipHeight()
	check(t, err)
	for _, n := range nw.Nodes() {
		err := harness.WaitFor(func() error {
			if !n.Running() {
				return nil
			}
			info, err := n.Info()
			if err != nil {
				return err
			}
			if info.BlockHeight < uint32(tip) || !info.SyncedToChain {
				return fmt.Errorf("%s at %d, tip %d", n.Name(), info.BlockHeight, tip)
			}
			return nil
		}, harness.SyncTimeout)
		check(t, err)
	}
}

// resolvedOn is nil once every node lists point closed and nothing of
// it pending.
func resolvedOn(point string, nodes []*harness.Node) error {
	for _, n := range nodes {
		resp, err := n.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.WaitingCloseChannels {
			if c.Channel.ChannelPoint == point {
				return fmt.Errorf("%s: waiting close", n.Name())
			}
		}
		for _, c := range resp.PendingForceClosingChannels {
			if c.Channel.ChannelPoint == point {
				return fmt.Errorf("%s: force closing", n.Name())
			}
		}
		closed, err := n.RPC.ClosedChannels(context.Background(), &lnrpc.ClosedChannelsRequest{})
		if err != nil {
			return err
		}
		found := false
		for _, c := range closed.Channels {
			found = found || c.ChannelPoint == point
		}
		if !found {
			return fmt.Errorf("%s: not closed", n.Name())
		}
	}
	return nil
}

// blocksToMaturity is the fewest blocks a running node reports until
// an output of point's close matures (0: none waits).
func blocksToMaturity(point string, nodes []*harness.Node) int32 {
	var least int32
	for _, n := range nodes {
		if !n.Running() {
			continue
		}
		resp, err := n.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
		if err != nil {
			continue
		}
		for _, c := range resp.PendingForceClosingChannels {
			if c.Channel.ChannelPoint != point {
				continue
			}
			left := []int32{c.BlocksTilMaturity}
			for _, h := range c.PendingHtlcs {
				left = append(left, h.BlocksTilMaturity)
			}
			for _, l := range left {
				if l > 0 && (least == 0 || l < least) {
					least = l
				}
			}
		}
	}
	return least
}

// checkClosedBy checks that each node lists point closed with its
// closure type and the same closing transaction, which spends the
// funding output, and returns that transaction.
func checkClosedBy(t *testing.T, nw *harness.Network, point string,
	want map[*harness.Node]lnrpc.ChannelCloseSummary_ClosureType) *wire.MsgTx {

	t.Helper()
	txid := ""
	for n, typ := range want {
		closed, err := n.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{})
		check(t, err)
		var sum *lnrpc.ChannelCloseSummary
		for _, c := range closed.Channels {
			if c.ChannelPoint == point {
				sum = c
			}
		}
		switch {
		case sum == nil:
			t.Fatalf("%s: %s not closed", n.Name(), point)
		case sum.CloseType != typ:
			t.Fatalf("%s: %s closed as %v, want %v", n.Name(), point, sum.CloseType, typ)
		case txid != "" && sum.ClosingTxHash != txid:
			t.Fatalf("%s: closed by %s, the other by %s", n.Name(), sum.ClosingTxHash, txid)
		}
		txid = sum.ClosingTxHash
	}
	tx, err := nw.WaitTx(txid)
	check(t, err)
	if len(tx.Tx.TxIn) != 1 || tx.Tx.TxIn[0].PreviousOutPoint != parseOutPoint(t, point) {
		t.Fatalf("closing transaction %s does not spend %s", txid, point)
	}
	return tx.Tx
}

// checkSweptBack follows every transaction mined since height from (the
// network is quiet but for the close: the commitment and what spends
// it). Every output that nothing spent is in a wallet, the anchors of
// commit excepted; each node's total is what it was less what its
// channel held, plus the outputs that came to its wallet, less the
// wallet coins its own transactions spent. It returns, for each output
// of commit, the node whose wallet the transaction spending it paid.
func checkSweptBack(t *testing.T, nw *harness.Network, from int32, commit *wire.MsgTx,
	nodes []*harness.Node, before, held map[*harness.Node]int64) map[wire.OutPoint]*harness.Node {

	t.Helper()
	if n, err := nw.MempoolSize(); err != nil || n != 0 {
		t.Fatalf("mempool holds %d transactions after the close (%v)", n, err)
	}
	c := nw.Btcd().Client()
	tip, err := nw.TipHeight()
	check(t, err)
	var txs []*wire.MsgTx
	for h := from + 1; h <= tip; h++ {
		hash, err := c.GetBlockHash(int64(h))
		check(t, err)
		b, err := c.GetBlock(hash)
		check(t, err)
		txs = append(txs, b.Transactions[1:]...)
	}
	outs := map[wire.OutPoint]int64{}
	spent := map[wire.OutPoint]*wire.MsgTx{}
	for _, tx := range txs {
		for i, o := range tx.TxOut {
			outs[wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}] = o.Value
		}
		for _, in := range tx.TxIn {
			spent[in.PreviousOutPoint] = tx
		}
	}
	wallet := map[wire.OutPoint]*harness.Node{}
	for _, n := range nodes {
		resp, err := n.RPC.ListUnspent(t.Context(), &lnrpc.ListUnspentRequest{MaxConfs: 1 << 30})
		check(t, err)
		for _, u := range resp.Utxos {
			h, err := chainhash.NewHashFromStr(u.Outpoint.TxidStr)
			check(t, err)
			wallet[wire.OutPoint{Hash: *h, Index: u.Outpoint.OutputIndex}] = n
		}
	}
	gain := map[*harness.Node]int64{}
	txOwner := map[*wire.MsgTx]*harness.Node{}
	commitID := commit.TxHash()
	for _, tx := range txs {
		for i, o := range tx.TxOut {
			op := wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}
			if spent[op] != nil {
				continue
			}
			n := wallet[op]
			switch {
			case n != nil:
				gain[n] += o.Value
				txOwner[tx] = n
			case tx.TxHash() == commitID && o.Value == 330:
				// An anchor nobody needed.
			default:
				t.Fatalf("output %v (%d sat) is in no wallet", op, o.Value)
			}
		}
	}
	for _, tx := range txs {
		for _, in := range tx.TxIn {
			if _, ours := outs[in.PreviousOutPoint]; ours || tx.TxHash() == commitID {
				continue
			}
			n := txOwner[tx]
			if n == nil {
				t.Fatalf("%s spends wallet coin %v and pays no wallet", tx.TxHash(), in.PreviousOutPoint)
			}
			prev, err := nw.WaitTx(in.PreviousOutPoint.Hash.String())
			check(t, err)
			gain[n] -= prev.Tx.TxOut[in.PreviousOutPoint.Index].Value
		}
	}
	for _, tx := range txs {
		// No transaction of the close pays more than a sane rate
		// (the estimator's fallback is 25 sat/vB on regtest).
		ct, err := nw.WaitTx(tx.TxHash().String())
		check(t, err)
		if ct.FeeRate() > maxCloseFeeRate {
			t.Errorf("%s pays %d sat (%.1f sat/vB)", tx.TxHash(), ct.Fee, ct.FeeRate())
		}
	}
	want := map[*harness.Node]int64{}
	for n, b := range before {
		want[n] = b - held[n] + gain[n]
		t.Logf("%s: held %d in the channel, got back %d", n.Name(), held[n], gain[n])
	}
	checkTotals(t, want)
	owner := map[wire.OutPoint]*harness.Node{}
	for i := range commit.TxOut {
		op := wire.OutPoint{Hash: commitID, Index: uint32(i)}
		if tx := spent[op]; tx != nil {
			owner[op] = sweptTo(tx, spent, txOwner)
		}
	}
	return owner
}

// sweptTo is the node whose wallet tx, or the transactions spending its
// outputs in turn, paid.
func sweptTo(tx *wire.MsgTx, spent map[wire.OutPoint]*wire.MsgTx,
	txOwner map[*wire.MsgTx]*harness.Node) *harness.Node {

	if n := txOwner[tx]; n != nil {
		return n
	}
	for i := range tx.TxOut {
		if next := spent[wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}]; next != nil {
			if n := sweptTo(next, spent, txOwner); n != nil {
				return n
			}
		}
	}
	return nil
}

// runBreachCrash has mallory broadcast a revoked commitment of a new
// channel with alice, alice told to die at the point, and checks that
// the justice transaction took every output but the anchors.
func runBreachCrash(t *testing.T, nw *harness.Network, alice, mallory *harness.Node,
	sc chainCrashScenario) {

	t.Helper()
	alice.SetEnv(crashpoint.EnvVar + "=" + string(sc.point))
	check(t, alice.Restart())
	ensureConnected(t, nw, mallory, alice)
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
	ac = waitActive(t, alice, point)
	nodes := []*harness.Node{alice}
	before := map[*harness.Node]int64{alice: nodeTotal(t, alice)}
	held := map[*harness.Node]int64{alice: ac.LocalBalance}
	from, err := nw.TipHeight()
	check(t, err)

	// Mallory cheats.
	_, err = nw.Btcd().Client().SendRawTransaction(revoked, true)
	check(t, err)
	driveChain(t, nw, alice, sc.point, point, nodes)

	checkClosedBy(t, nw, point, map[*harness.Node]lnrpc.ChannelCloseSummary_ClosureType{
		alice: lnrpc.ChannelCloseSummary_BREACH_CLOSE})
	owner := checkSweptBack(t, nw, from, revoked, []*harness.Node{alice, mallory}, before, held)
	for i, o := range revoked.TxOut {
		op := wire.OutPoint{Hash: revoked.TxHash(), Index: uint32(i)}
		if o.Value != 330 && owner[op] != alice {
			t.Fatalf("output %d of the revoked commitment (%d sat) not taken by alice", i, o.Value)
		}
	}
	checkNothingPending(t, alice)
}

// startCheater starts mallory, the breachtest build, funded and
// connected to alice.
func startCheater(t *testing.T, nw *harness.Network) *harness.Node {
	t.Helper()
	mallory, err := nw.AddNode(harness.NodeConfig{Name: "mallory", Binary: "xlnd-breach"})
	check(t, err)
	if err := mallory.Start(); err != nil {
		t.Fatalf("start the breachtest build (make crashtest builds "+
			"bin/crashpoint/xlnd-breach): %v", err)
	}
	check(t, nw.Fund(mallory, 5_000_000))
	return mallory
}

// holdHTLC has alice pay a hold invoice of bob for amt, waits until bob
// holds the HTLC, and returns the channel that carries it and the hash.
func holdHTLC(t *testing.T, alice, bob *harness.Node, amt int64) (string, [32]byte) {
	t.Helper()
	conn, err := bob.Conn(bob.AdminMacaroonPath())
	check(t, err)
	var pre [32]byte
	_, err = rand.Read(pre[:])
	check(t, err)
	hash := sha256.Sum256(pre[:])
	inv, err := invoicesrpc.NewInvoicesClient(conn).AddHoldInvoice(t.Context(),
		&invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: amt, CltvExpiry: 80})
	check(t, err)
	// The payment stays in flight; its stream ends with alice's death.
	go sendOnce(alice, inv.PaymentRequest, nil)
	var point string
	check(t, harness.WaitFor(func() error {
		i, err := bob.RPC.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: hash[:]})
		if err != nil {
			return err
		}
		if i.State != lnrpc.Invoice_ACCEPTED {
			return fmt.Errorf("invoice %v", i.State)
		}
		for _, c := range listChannels(t, alice) {
			if inFlight(c) == amt {
				point = c.ChannelPoint
				return nil
			}
		}
		return errors.New("alice lists no channel with the HTLC")
	}, harness.SyncTimeout))
	return point, hash
}

// inFlight is what c's HTLCs hold: the capacity less both balances, the
// commitment fee and the anchors (counted from the balances, not read
// from unsettled_balance, so the check does not rest on that field).
func inFlight(c *lnrpc.Channel) int64 {
	return c.Capacity - c.LocalBalance - c.RemoteBalance - c.CommitFee - anchorOutputs
}
