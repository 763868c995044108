//go:build crashpoint

package itest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// The cooperative close half of the crash test. It runs on the nodes of
// the funding scenarios, after them, and closes the channels they
// opened: alice (the opener) or bob asks for the close, the victim
// (either) dies at the point, restarts, and then the close completes:
// one closing transaction, listed by both as
// the cooperative close of the channel once deep enough; alice's total
// less its fee as read from btcd, bob's unchanged; nothing left pending,
// no coin locked, no commitment broadcast.

type closeCrashScenario struct {
	point crashpoint.Point
	// responder: bob is the victim; otherwise alice, who starts the
	// close.
	responder bool
	// bobCloses: bob (who did not open the channel) starts the close
	// instead; bobDies then says who the victim is.
	bobCloses, bobDies bool
}

func (sc closeCrashScenario) name() string {
	switch {
	case sc.bobCloses && sc.bobDies:
		return "bob-closes/bob/" + string(sc.point)
	case sc.bobCloses:
		return "bob-closes/alice/" + string(sc.point)
	case sc.responder:
		return "responder/" + string(sc.point)
	}
	return "initiator/" + string(sc.point)
}

var closeCrashScenarios = []closeCrashScenario{
	{point: crashpoint.CloseShutdownPersisted},
	{point: crashpoint.CloseShutdownReceived},
	{point: crashpoint.CloseShutdownReceived, responder: true},
	// Bob agrees first (alice, the opener, proposes); alice agrees
	// when his closing_signed comes back.
	{point: crashpoint.CloseAgreed},
	{point: crashpoint.CloseAgreed, responder: true},
	{point: crashpoint.CloseConfirmed},
	{point: crashpoint.CloseConfirmed, responder: true},
	// The peer of the opener starts the close: bob stores and sends
	// the first shutdown; alice, the opener, still proposes the fee,
	// so bob agrees first.
	{point: crashpoint.CloseShutdownPersisted, bobCloses: true, bobDies: true},
	{point: crashpoint.CloseShutdownReceived, bobCloses: true},
	{point: crashpoint.CloseShutdownReceived, bobCloses: true, bobDies: true},
	{point: crashpoint.CloseAgreed, bobCloses: true},
	{point: crashpoint.CloseAgreed, bobCloses: true, bobDies: true},
}

// runCloseCrash closes one of alice's channels with bob, the victim told
// to die at the scenario's point, and checks the outcome.
func runCloseCrash(t *testing.T, nw *harness.Network, alice, bob *harness.Node,
	sc closeCrashScenario) {

	t.Helper()
	victim, closer := alice, alice
	if sc.responder || (sc.bobCloses && sc.bobDies) {
		victim = bob
	}
	if sc.bobCloses {
		closer = bob
	}
	point := crashChannel(t, nw, alice, bob)
	before := map[*harness.Node]int64{alice: nodeTotal(t, alice), bob: nodeTotal(t, bob)}

	victim.SetEnv(crashpoint.EnvVar + "=" + string(sc.point))
	check(t, victim.Restart())
	ensureConnected(t, nw, alice, bob)
	waitActive(t, alice, point)
	waitActive(t, bob, point)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := closer.RPC.CloseChannel(ctx, &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point)})
	check(t, err)
	go func() {
		// The stream ends with the closer's death if it is the victim.
		for {
			if _, err := stream.Recv(); err != nil {
				return
			}
		}
	}()
	funding := parseOutPoint(t, point)
	var closing *harness.ChainTx
	if sc.point == crashpoint.CloseConfirmed {
		closing = waitSpender(t, nw, funding)
		// The victim dies as it handles the last of these.
		mineLive(t, nw, closeDepth)
	}
	waitCrashed(t, victim, sc.point)
	victim.SetEnv()
	check(t, victim.Start())
	ensureConnected(t, nw, alice, bob)

	if closing == nil {
		closing = waitSpender(t, nw, funding)
		_, err := nw.Mine(closeDepth)
		check(t, err)
	}
	txid := closing.Tx.TxHash().String()
	for _, n := range []*harness.Node{alice, bob} {
		sum := waitClosed(t, n, point)
		if sum.ClosingTxHash != txid ||
			sum.CloseType != lnrpc.ChannelCloseSummary_COOPERATIVE_CLOSE {

			t.Fatalf("%s: closed by %s as %v; %s spent the funding output",
				n.Name(), sum.ClosingTxHash, sum.CloseType, txid)
		}
	}
	// Killed with the agreement stored and nothing sent: the restarted
	// victim sends the transaction itself.
	if sc.point == crashpoint.CloseAgreed && len(victim.LogLines("Closing transaction broadcast", "chan_point="+point)) == 0 {
		t.Fatalf("%s did not broadcast the agreed closing transaction after its restart",
			victim.Name())
	}
	if len(closing.Tx.TxIn) != 1 || len(closing.Tx.TxOut) != 2 {
		t.Fatalf("closing transaction %s: %d inputs, %d outputs", txid,
			len(closing.Tx.TxIn), len(closing.Tx.TxOut))
	}
	t.Logf("%s restarted; %s closed by %s (fee %d)", victim.Name(), point, txid, closing.Fee)
	checkNothingPending(t, alice, bob)
	checkTotals(t, map[*harness.Node]int64{
		alice: before[alice] - closing.Fee,
		bob:   before[bob],
	})
}

// crashChannel returns an open channel alice opened with bob (the
// caller waits until it is active), opening one if the earlier
// scenarios left none.
func crashChannel(t *testing.T, nw *harness.Network, alice, bob *harness.Node) string {
	t.Helper()
	for _, c := range listChannels(t, alice) {
		if c.RemotePubkey == bob.PubKey() && c.Initiator {
			return c.ChannelPoint
		}
	}
	ensureConnected(t, nw, alice, bob)
	pub, err := hexPub(bob.PubKey())
	check(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cp, err := alice.RPC.OpenChannelSync(ctx, &lnrpc.OpenChannelRequest{NodePubkey: pub,
		LocalFundingAmount: crashChanCap, PushSat: crashChanPush,
		CommitmentType: lnrpc.CommitmentType_ANCHORS})
	check(t, err)
	txid, err := chainTxid(cp)
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	_, err = nw.Mine(3)
	check(t, err)
	point := fmt.Sprintf("%s:%d", txid, cp.OutputIndex)
	waitActive(t, bob, point)
	waitActive(t, alice, point)
	return point
}

// checkNothingPending: on each node no channel is opening, waiting to
// close or force closing, and no coin is locked.
func checkNothingPending(t *testing.T, nodes ...*harness.Node) {
	t.Helper()
	for _, n := range nodes {
		err := harness.WaitFor(func() error {
			resp, err := n.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
			if err != nil {
				return err
			}
			if k := len(resp.PendingOpenChannels) + len(resp.WaitingCloseChannels) +
				len(resp.PendingForceClosingChannels); k != 0 {

				return fmt.Errorf("%s: %d channels pending: %v", n.Name(), k, resp)
			}
			bal, err := n.Balance()
			if err != nil {
				return err
			}
			if bal.LockedBalance != 0 || bal.UnconfirmedBalance != 0 {
				return fmt.Errorf("%s: %d sat locked, %d unconfirmed", n.Name(),
					bal.LockedBalance, bal.UnconfirmedBalance)
			}
			return nil
		}, harness.SyncTimeout)
		check(t, err)
	}
}
