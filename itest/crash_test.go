//go:build crashpoint

package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// This file is the crash test (make crashtest): xlnd built with the
// crashpoint tag kills itself at a named persisted step; the node is
// restarted and what it persisted must be complete. Each scenario runs
// on the same two nodes, one after the other, so that every later
// scenario also checks that the earlier crashes left nothing behind.

const (
	crashChanCap  = 300_000
	crashChanPush = 20_000
	anchorOutputs = 2 * 330 // the opener pays both anchors
)

// role is the node killed in a scenario.
type role uint8

const (
	opener role = iota
	accepter
)

func (r role) String() string { return [...]string{"opener", "accepter"}[r] }

// crashScenario kills one node at one point of a channel opening.
type crashScenario struct {
	point  crashpoint.Point
	victim role

	// opens: the channel opens after the restart; otherwise it leaves
	// no trace on the opener.
	opens bool

	// mine: blocks are mined before the point is reached (the point
	// follows the confirmation).
	mine bool

	// peerFirst: the victim is stopped (SIGSTOP) while the blocks are
	// mined and resumed once the peer sent its channel_ready, so that
	// it has the peer's channel_ready before its own confirmation: the
	// channel opens at the confirmation, with our channel_ready still
	// unsent when the point kills us.
	peerFirst bool
}

// crashScenarios are the funding flow's points for each role that
// reaches them (issue 11: SIGKILL the opener at each step, and the
// accepter). The accepter's kill before funding_signed comes last: its
// channel stays pending until it gives up on the funding transaction
// (2016 blocks), which the scenario waits for.
var crashScenarios = []crashScenario{
	{point: crashpoint.FundingCreated, victim: opener},
	{point: crashpoint.FundingBeforeBroadcast, victim: opener, opens: true},
	{point: crashpoint.FundingAfterBroadcast, victim: opener, opens: true},
	{point: crashpoint.FundingConfirmed, victim: opener, opens: true, mine: true},
	{point: crashpoint.FundingConfirmed, victim: opener, opens: true, mine: true, peerFirst: true},
	{point: crashpoint.FundingReadyReceived, victim: opener, opens: true, mine: true},
	{point: crashpoint.FundingOpen, victim: opener, opens: true, mine: true},
	{point: crashpoint.FundingOpen, victim: opener, opens: true, mine: true, peerFirst: true},
	{point: crashpoint.FundingConfirmed, victim: accepter, opens: true, mine: true},
	{point: crashpoint.FundingConfirmed, victim: accepter, opens: true, mine: true, peerFirst: true},
	{point: crashpoint.FundingReadyReceived, victim: accepter, opens: true, mine: true},
	{point: crashpoint.FundingOpen, victim: accepter, opens: true, mine: true},
	{point: crashpoint.FundingOpen, victim: accepter, opens: true, mine: true, peerFirst: true},
	{point: crashpoint.FundingSignedPersisted, victim: accepter},
}

// TestCrashPoints runs every scenario, prints how many crash points it
// exercised, and fails if a point reachable on this node (crashpoint.All
// without Waits) was never reached.
func TestCrashPoints(t *testing.T) {
	if !crashpoint.Enabled {
		t.Fatal("built without the crashpoint tag")
	}
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	requireBinaryHasPoints(t, nw)

	reached := make(map[crashpoint.Point]bool)
	ran := 0
	// run runs one scenario as a subtest; the nodes' state after a
	// failed one is no longer what the next start from.
	run := func(name string, p crashpoint.Point, f func(t *testing.T)) {
		start := time.Now()
		ok := t.Run(name, func(t *testing.T) {
			f(t)
			reached[p] = true
			ran++
			t.Logf("passed in %v", time.Since(start).Round(time.Millisecond))
		})
		if !ok {
			t.FailNow()
		}
	}
	for _, sc := range crashScenarios {
		name := fmt.Sprintf("%s/%s", sc.victim, sc.point)
		if sc.peerFirst {
			name += "/peer-ready-first"
		}
		run(name, sc.point, func(t *testing.T) { runCrashScenario(t, nw, alice, bob, sc) })
	}
	// The closes take the channels the openings left.
	for _, sc := range closeCrashScenarios {
		run("close/"+sc.name(), sc.point, func(t *testing.T) {
			runCloseCrash(t, nw, alice, bob, sc)
		})
	}
	for _, sc := range forceCrashScenarios {
		run("force/"+sc.victim+"/"+string(sc.point), sc.point, func(t *testing.T) {
			runForceCrash(t, nw, alice, bob, sc)
		})
	}
	var mallory *harness.Node
	for _, sc := range breachCrashScenarios {
		run("breach/"+sc.victim+"/"+string(sc.point), sc.point, func(t *testing.T) {
			if mallory == nil {
				mallory = startCheater(t, nw)
			}
			runBreachCrash(t, nw, alice, mallory, sc)
		})
	}
	t.Run("payments", func(t *testing.T) {
		ran += runPaymentCrashes(t, reached)
	})
	total := len(crashScenarios) + len(closeCrashScenarios) + len(forceCrashScenarios) +
		len(breachCrashScenarios) + len(payCrashScenarios) + len(holdCrashScenarios)
	if ran != total {
		t.Logf("%d of %d scenarios selected: coverage not checked", ran, total)
		return
	}

	var missing, waiting []string
	for _, i := range crashpoint.All() {
		switch {
		case reached[i.Point]:
		case i.Waits != "":
			waiting = append(waiting, fmt.Sprintf("%s (waits for %s)", i.Point, i.Waits))
		default:
			missing = append(missing, string(i.Point))
		}
	}
	fmt.Printf("crashtest: %d of %d crash points exercised in %d scenarios\n",
		len(reached), len(crashpoint.All()), ran)
	for _, w := range waiting {
		fmt.Printf("crashtest: not reachable yet: %s\n", w)
	}
	if len(missing) > 0 {
		t.Fatalf("crash points never reached: %s", strings.Join(missing, ", "))
	}
}

// requireBinaryHasPoints checks that the xlnd under test was built with
// the crashpoint tag: an ordinary binary would never die and every
// scenario would time out instead of failing clearly.
func requireBinaryHasPoints(t *testing.T, nw *harness.Network) {
	t.Helper()
	path := filepath.Join(nw.BinDir(), "xlnd")
	bin, err := os.ReadFile(path)
	check(t, err)
	if !bytes.Contains(bin, []byte(crashpoint.Marker)) {
		t.Fatalf("%s has no crash points: build it with -tags crashpoint "+
			"(make crashtest)", path)
	}
}

// runCrashScenario has alice open a channel to bob with the victim told
// to die at the scenario's point, restarts it, and checks the outcome.
func runCrashScenario(t *testing.T, nw *harness.Network, alice, bob *harness.Node,
	sc crashScenario) {

	t.Helper()
	victim, peer := alice, bob
	if sc.victim == accepter {
		victim, peer = bob, alice
	}
	before := map[*harness.Node]int64{alice: nodeTotal(t, alice), bob: nodeTotal(t, bob)}
	chansBefore := len(listChannels(t, alice))

	victim.SetEnv(crashpoint.EnvVar + "=" + string(sc.point))
	check(t, victim.Restart())
	ensureConnected(t, nw, alice, bob)

	pub, err := hexPub(bob.PubKey())
	check(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = alice.RPC.OpenChannel(ctx, &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: crashChanCap,
		PushSat: crashChanPush, CommitmentType: lnrpc.CommitmentType_ANCHORS})
	check(t, err)
	var fundingTxid string
	if sc.mine {
		fundingTxid = waitFundingTx(t, nw, alice)
		mineForCrash(t, nw, victim, peer, fundingTxid, sc.peerFirst)
	}
	waitCrashed(t, victim, sc.point)

	victim.SetEnv()
	check(t, victim.Start())
	ensureConnected(t, nw, alice, bob)

	switch {
	case sc.opens:
		if fundingTxid == "" {
			// The restarted opener broadcasts what it persisted.
			fundingTxid = waitFundingTx(t, nw, alice)
			_, err := nw.Mine(3)
			check(t, err)
		} else {
			check(t, nw.WaitSynced())
		}
		checkCrashOpened(t, nw, alice, bob, fundingTxid, before, chansBefore)
	case sc.victim == opener:
		checkNoTrace(t, nw, alice, bob, before, chansBefore)
	default:
		checkAccepterForgets(t, nw, alice, bob, before, chansBefore)
	}
}

// mineForCrash mines the funding transaction's three blocks. With
// peerFirst the victim sleeps (SIGSTOP) until the peer has seen them and
// sent its channel_ready.
func mineForCrash(t *testing.T, nw *harness.Network, victim, peer *harness.Node,
	txid string, peerFirst bool) {

	t.Helper()
	if peerFirst {
		check(t, victim.Signal(syscall.SIGSTOP))
	}
	_, err := nw.Btcd().Generate(3)
	check(t, err)
	if !peerFirst {
		return
	}
	_, err = peer.WaitLogLine(harness.SyncTimeout, "funding transaction confirmed", txid)
	check(t, err)
	// The log line comes just before channel_ready is queued to the
	// peer connection; nothing outside the process shows it leave.
	time.Sleep(200 * time.Millisecond)
	// The ordering is a best effort: a victim that reached its point
	// anyway (it saw the blocks before it stopped) has died already,
	// and the outcome is checked the same.
	if err := victim.Signal(syscall.SIGCONT); err != nil &&
		!errors.Is(err, os.ErrProcessDone) {

		t.Fatal(err)
	}
}

// waitCrashed waits for the victim to die at the point: by SIGKILL, with
// the point's line on its stderr.
func waitCrashed(t *testing.T, n *harness.Node, p crashpoint.Point) {
	t.Helper()
	st, err := n.WaitExit(harness.SyncTimeout)
	if err != nil {
		t.Fatalf("%s never reached crash point %s: %v", n.Name(), p, err)
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s exited with %v, not killed at %s", n.Name(), st, p)
	}
	if !n.LogContains(crashpoint.Marker + string(p)) {
		t.Fatalf("%s killed but its output does not name %s", n.Name(), p)
	}
}

// ensureConnected connects alice to bob unless they are (a node with a
// channel reconnects by itself; one without does not).
func ensureConnected(t *testing.T, nw *harness.Network, alice, bob *harness.Node) {
	t.Helper()
	p, err := alice.Peer(bob.PubKey())
	check(t, err)
	if p == nil {
		ctx, cancel := context.WithTimeout(context.Background(), harness.SyncTimeout)
		defer cancel()
		_, err := alice.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
			Addr: &lnrpc.LightningAddress{Pubkey: bob.PubKey(), Host: bob.P2PAddr()}})
		if err != nil && !strings.Contains(err.Error(), "already connected") {
			t.Fatal(err)
		}
	}
	check(t, alice.WaitPeer(bob.PubKey()))
	check(t, bob.WaitPeer(alice.PubKey()))
}

// waitFundingTx waits for alice's pending channel's funding transaction
// to be in btcd's mempool and returns its txid.
func waitFundingTx(t *testing.T, nw *harness.Network, alice *harness.Node) string {
	t.Helper()
	var txid string
	err := harness.WaitFor(func() error {
		resp, err := alice.RPC.PendingChannels(context.Background(),
			&lnrpc.PendingChannelsRequest{})
		if err != nil {
			return err
		}
		if len(resp.PendingOpenChannels) != 1 {
			return fmt.Errorf("%d pending channels", len(resp.PendingOpenChannels))
		}
		txid, _, _ = strings.Cut(resp.PendingOpenChannels[0].Channel.ChannelPoint, ":")
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	return txid
}

// nodeTotal is what a node owns: its wallet, and for each open channel
// its balance, plus the commitment fee and anchors when it opened it
// (both are its money until the channel closes).
func nodeTotal(t *testing.T, n *harness.Node) int64 {
	t.Helper()
	bal, err := n.Balance()
	check(t, err)
	total := bal.TotalBalance
	for _, c := range listChannels(t, n) {
		total += c.LocalBalance
		if c.Initiator {
			total += c.CommitFee + anchorOutputs
		}
	}
	return total
}

func listChannels(t *testing.T, n *harness.Node) []*lnrpc.Channel {
	t.Helper()
	resp, err := n.RPC.ListChannels(context.Background(), &lnrpc.ListChannelsRequest{})
	check(t, err)
	return resp.Channels
}

// checkCrashOpened: the channel is active on both sides and funded on
// chain; no channel was closed; nothing stays pending or locked; each
// node's total moved by the push, the opener's also by the funding fee.
func checkCrashOpened(t *testing.T, nw *harness.Network, alice, bob *harness.Node,
	txid string, before map[*harness.Node]int64, chansBefore int) {

	t.Helper()
	tx, err := nw.WaitTx(txid)
	check(t, err)
	point := ""
	for i, o := range tx.Tx.TxOut {
		if o.Value == crashChanCap {
			point = fmt.Sprintf("%s:%d", txid, i)
		}
	}
	if point == "" {
		t.Fatalf("funding transaction %s has no %d sat output", txid, crashChanCap)
	}
	waitActive(t, alice, point)
	waitActive(t, bob, point)
	if n := len(listChannels(t, alice)); n != chansBefore+1 {
		t.Fatalf("alice has %d channels, want %d", n, chansBefore+1)
	}
	checkSettled(t, nw, alice, bob)
	want := map[*harness.Node]int64{
		alice: before[alice] - tx.Fee - crashChanPush,
		bob:   before[bob] + crashChanPush,
	}
	checkTotals(t, want)
	for _, n := range []*harness.Node{alice, bob} {
		if len(n.LogLines("pending channel reestablished", txid)) > 0 {
			t.Logf("%s answered a channel_reestablish for the channel while pending", n.Name())
		}
	}
}

// checkNoTrace: no channel, nothing pending, no coin locked, every
// balance as before.
func checkNoTrace(t *testing.T, nw *harness.Network, alice, bob *harness.Node,
	before map[*harness.Node]int64, chansBefore int) {

	t.Helper()
	if n := len(listChannels(t, alice)); n != chansBefore {
		t.Fatalf("alice has %d channels, want %d", n, chansBefore)
	}
	checkSettled(t, nw, alice, bob)
	checkTotals(t, before)
}

// checkAccepterForgets: the opener never had funding_signed, so it
// broadcast nothing and forgot the opening; the accepter keeps the
// channel pending until the funding transaction is 2016 blocks late,
// then forgets it.
func checkAccepterForgets(t *testing.T, nw *harness.Network, alice, bob *harness.Node,
	before map[*harness.Node]int64, chansBefore int) {

	t.Helper()
	resp, err := bob.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
	check(t, err)
	if len(resp.PendingOpenChannels) != 1 {
		t.Fatalf("bob: %d pending channels, want the one he signed", len(resp.PendingOpenChannels))
	}
	txid, _, _ := strings.Cut(resp.PendingOpenChannels[0].Channel.ChannelPoint, ":")
	hash, err := chainhash.NewHashFromStr(txid)
	check(t, err)
	if _, err := nw.Btcd().Client().GetRawTransaction(hash); err == nil {
		t.Fatalf("funding transaction %s was broadcast without funding_signed", txid)
	}
	_, err = nw.Mine(2016)
	check(t, err)
	checkNoTrace(t, nw, alice, bob, before, chansBefore)
}

// checkSettled: on both nodes nothing is pending (opening or waiting to
// close), no coin is locked, no channel is closed, and every open
// channel's funding output is unspent: no channel was closed, by force
// or otherwise.
func checkSettled(t *testing.T, nw *harness.Network, nodes ...*harness.Node) {
	t.Helper()
	for _, n := range nodes {
		err := harness.WaitFor(func() error {
			resp, err := n.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
			if err != nil {
				return err
			}
			if k := len(resp.PendingOpenChannels) + len(resp.WaitingCloseChannels); k != 0 {
				return fmt.Errorf("%s: %d channels pending: %v", n.Name(), k, resp)
			}
			bal, err := n.Balance()
			if err != nil {
				return err
			}
			if bal.LockedBalance != 0 {
				return fmt.Errorf("%s: %d sat locked", n.Name(), bal.LockedBalance)
			}
			return nil
		}, harness.SyncTimeout)
		check(t, err)
		closed, err := n.RPC.ClosedChannels(context.Background(), &lnrpc.ClosedChannelsRequest{})
		check(t, err)
		if len(closed.Channels) != 0 {
			t.Fatalf("%s: channels closed: %v", n.Name(), closed.Channels)
		}
		for _, c := range listChannels(t, n) {
			txid, idx, _ := strings.Cut(c.ChannelPoint, ":")
			hash, err := chainhash.NewHashFromStr(txid)
			check(t, err)
			var vout uint32
			_, err = fmt.Sscan(idx, &vout)
			check(t, err)
			out, err := nw.Btcd().Client().GetTxOut(hash, vout, true)
			check(t, err)
			if out == nil {
				t.Fatalf("%s: funding output %s is spent", n.Name(), c.ChannelPoint)
			}
		}
	}
}

// checkTotals waits for each node's total to be the one wanted (the
// wallet may need a moment to see the last blocks).
func checkTotals(t *testing.T, want map[*harness.Node]int64) {
	t.Helper()
	for n, w := range want {
		err := harness.WaitFor(func() error {
			if got := nodeTotal(t, n); got != w {
				return fmt.Errorf("%s owns %d sat, want %d (difference %d)",
					n.Name(), got, w, got-w)
			}
			return nil
		}, harness.SyncTimeout)
		check(t, err)
	}
}
