//go:build crashpoint

package itest

import (
	"context"
	"testing"

	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestLndCrashClose: cooperative closes of channels xlnd opened to lnd,
// xlnd dying at each crash point of the close (make crashtest's build,
// XLND_BIN_DIR=bin/crashpoint, with XLND_LND_BIN). xlnd or lnd sends
// shutdown first; the channel is clean, so a restart at
// close-shutdown-received resumes with both shutdowns known and xlnd,
// the opener, proposes its fee right after its retransmitted shutdown;
// at close-agreed xlnd has agreed (lnd signed first) and sends the
// transaction again at start. Each close ends with one cooperative
// closing transaction listed by both, xlnd's balance less the fee
// settled to it, nothing force closed.
func TestLndCrashClose(t *testing.T) {
	if !crashpoint.Enabled {
		t.Fatal("built without the crashpoint tag")
	}
	nw := harness.New(t)
	lnd := startLnd(t, nw)
	logLndWarnings(t, nw)
	xl := startNode(t, nw, "xl")
	requireBinaryHasPoints(t, nw)
	check(t, nw.Fund(xl, 5_000_000))
	connectLnd(t, xl, lnd)
	check(t, xl.WaitPeer(lnd.pub))

	for _, c := range []struct {
		point     crashpoint.Point
		lndCloses bool
	}{
		{crashpoint.CloseShutdownPersisted, false},
		{crashpoint.CloseShutdownReceived, false},
		{crashpoint.CloseAgreed, false},
		{crashpoint.CloseShutdownReceived, true},
		{crashpoint.CloseAgreed, true},
	} {
		name := map[bool]string{false: "xlnd-closes/", true: "lnd-closes/"}[c.lndCloses] +
			string(c.point)
		t.Run(name, func(t *testing.T) {
			point := openAnchorsToLnd(t, nw, xl, lnd)

			xl.SetEnv(crashpoint.EnvVar + "=" + string(c.point))
			check(t, xl.Restart())
			connectLnd(t, xl, lnd)
			waitActive(t, xl, point)
			lnd.waitActive(point)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if c.lndCloses {
				go func() {
					_, _ = lnd.lncliOutput("closechannel", "--chan_point", point)
				}()
			} else {
				stream, err := xl.RPC.CloseChannel(ctx, &lnrpc.CloseChannelRequest{
					ChannelPoint: chanPointProto(t, point)})
				check(t, err)
				go func() {
					for {
						if _, err := stream.Recv(); err != nil {
							return
						}
					}
				}()
			}
			waitCrashed(t, xl, c.point)
			xl.SetEnv()
			check(t, xl.Start())
			connectLnd(t, xl, lnd)

			closing := waitSpender(t, nw, parseOutPoint(t, point))
			closeTxid := closing.Tx.TxHash().String()
			if got := waitingClose(t, xl, point); got != closeTxid {
				t.Fatalf("xlnd waits for %s, %s spent the funding output", got, closeTxid)
			}
			_, err := nw.Mine(6)
			check(t, err)
			sum := waitClosed(t, xl, point)
			want := int64(chanCap - chanPush - closing.Fee)
			if sum.ClosingTxHash != closeTxid || sum.SettledBalance != want ||
				sum.CloseType != lnrpc.ChannelCloseSummary_COOPERATIVE_CLOSE {

				t.Fatalf("xlnd: summary %v, want %d settled by %s", sum, want, closeTxid)
			}
			lnd.waitClosedCoop(point, closeTxid, chanPush)
			if c.point == crashpoint.CloseAgreed && len(xl.LogLines("Closing transaction broadcast", "chan_point="+point)) == 0 {
				t.Fatal("xlnd did not send the agreed closing transaction after its restart")
			}
			t.Logf("xlnd died at %s and restarted; closed by %s (fee %d)",
				c.point, closeTxid, closing.Fee)
		})
	}
}
