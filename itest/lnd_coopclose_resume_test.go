package itest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// waitInactive waits until lnd lists point, inactive: with xlnd
// connected, the channel is in shutdown (lnd's link flushes).
func (l *lndNode) waitInactive(point string) {
	l.t.Helper()
	err := harness.WaitFor(func() error {
		var resp struct {
			Channels []lndChannel `json:"channels"`
		}
		if err := l.lncli(&resp, "listchannels"); err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.ChannelPoint == point {
				if c.Active {
					return fmt.Errorf("lnd: %s still active", point)
				}
				return nil
			}
		}
		return fmt.Errorf("lnd: %s not listed", point)
	}, harness.SyncTimeout)
	check(l.t, err)
}

// openAnchorsToLnd opens an anchors channel from xlnd to lnd and waits until it
// is active on both.
func openAnchorsToLnd(t *testing.T, nw *harness.Network, xl *harness.Node, lnd *lndNode) string {
	t.Helper()
	pub, err := hexPub(lnd.pub)
	check(t, err)
	cp, err := xl.RPC.OpenChannelSync(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: chanCap, PushSat: chanPush,
		CommitmentType: lnrpc.CommitmentType_ANCHORS})
	check(t, err)
	txid, err := chainHash(cp.GetFundingTxidBytes())
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	_, err = nw.Mine(6)
	check(t, err)
	point := fmt.Sprintf("%s:%d", txid, cp.OutputIndex)
	waitActive(t, xl, point)
	lnd.waitActive(point)
	return point
}

// waitClosedCoop waits until lnd lists point as closed cooperatively by
// txid, settling settled to lnd.
func (l *lndNode) waitClosedCoop(point, txid string, settled int64) {
	l.t.Helper()
	check(l.t, harness.WaitFor(func() error {
		var resp struct {
			Channels []struct {
				Point   string `json:"channel_point"`
				Txid    string `json:"closing_tx_hash"`
				Type    string `json:"close_type"`
				Settled string `json:"settled_balance"`
			} `json:"channels"`
		}
		if err := l.lncli(&resp, "closedchannels"); err != nil {
			return err
		}
		for _, ch := range resp.Channels {
			if ch.Point == point {
				if ch.Txid != txid || ch.Type != "COOPERATIVE_CLOSE" ||
					ch.Settled != fmt.Sprint(settled) {

					return fmt.Errorf("lnd: %+v", ch)
				}
				return nil
			}
		}
		return fmt.Errorf("lnd: %s not closed", point)
	}, harness.SyncTimeout))
}

// logLndWarnings puts lnd's errors and warnings in the test log at the
// end, RPC, backup and health-check noise aside.
func logLndWarnings(t *testing.T, nw *harness.Network) {
	t.Cleanup(func() {
		b, _ := os.ReadFile(filepath.Join(nw.Dir(), "lnd.out"))
		for _, line := range strings.Split(string(b), "\n") {
			if (strings.Contains(line, "[ERR]") || strings.Contains(line, "[WRN]")) &&
				!strings.Contains(line, "RPCS:") && !strings.Contains(line, "CHBU:") &&
				!strings.Contains(line, "HLCK:") {

				t.Logf("lnd: %s", line)
			}
		}
	})
}

// connectLnd connects xlnd to lnd unless they are.
func connectLnd(t *testing.T, xl *harness.Node, lnd *lndNode) {
	t.Helper()
	err := harness.WaitFor(func() error {
		p, err := xl.Peer(lnd.pub)
		if err != nil || p != nil {
			return err
		}
		_, err = xl.RPC.ConnectPeer(context.Background(), &lnrpc.ConnectPeerRequest{
			Addr: &lnrpc.LightningAddress{Pubkey: lnd.pub, Host: lnd.p2p}})
		if err != nil && !strings.Contains(err.Error(), "already connected") {
			return err
		}
		return fmt.Errorf("connecting to lnd")
	}, harness.SyncTimeout)
	check(t, err)
}

// TestLndCoopCloseResume: cooperative closes between xlnd and lnd cut
// by a kill -9 of either, each side having sent shutdown first. xlnd
// opened the channel and pays a hold invoice of lnd's, so both sides are
// in shutdown waiting for the HTLC when the victim dies. After the
// restart lnd settles; the close completes with one closing transaction
// both list as a cooperative close, xlnd settled its balance less the
// fee, nothing force closed. lnd does not negotiate
// option_simple_close with xlnd: its log shows closing_signed only.
func TestLndCoopCloseResume(t *testing.T) {
	nw := harness.New(t)
	lnd := startLnd(t, nw)
	logLndWarnings(t, nw)
	xl := startNode(t, nw, "xl")
	check(t, nw.Fund(xl, 5_000_000))
	lnd.fund(t, nw, 1_000_000)
	connectLnd(t, xl, lnd)
	check(t, xl.WaitPeer(lnd.pub))
	lndOut := filepath.Join(nw.Dir(), "lnd.out")

	// lnd's lncli against xlnd sets no_wait on every close: taken, and
	// the closing transaction printed, for a cooperative close and a
	// force close.
	t.Run("lncli closechannel against xlnd", func(t *testing.T) {
		for _, force := range []bool{false, true} {
			point := openAnchorsToLnd(t, nw, xl, lnd)
			args := []string{"--rpcserver=" + xl.RPCAddr(),
				"--tlscertpath=" + xl.TLSCertPath(),
				"--macaroonpath=" + xl.AdminMacaroonPath(),
				"closechannel", "--chan_point", point}
			if force {
				args = append(args, "--force")
			}
			ctx, cancel := context.WithTimeout(t.Context(), harness.SyncTimeout)
			out, err := exec.CommandContext(ctx, lnd.cli, args...).Output()
			cancel()
			if err != nil {
				t.Fatalf("lncli closechannel (force %v): %v: %s", force, err, out)
			}
			var res struct {
				Txid string `json:"closing_txid"`
			}
			check(t, json.Unmarshal(out, &res))
			closing := waitSpender(t, nw, parseOutPoint(t, point))
			if got := closing.Tx.TxHash().String(); got != res.Txid {
				t.Fatalf("lncli printed %s, %s spent the funding output", res.Txid, got)
			}
			_, err = nw.Mine(6)
			check(t, err)
			if !force {
				waitClosed(t, xl, point)
			}
		}
	})

	for i, c := range []struct{ lndCloses, lndDies bool }{
		{false, false}, {false, true}, {true, false}, {true, true},
	} {
		who := map[bool]string{false: "xlnd", true: "lnd"}
		name := fmt.Sprintf("%s closes, %s killed", who[c.lndCloses], who[c.lndDies])
		t.Run(name, func(t *testing.T) {
			point := openAnchorsToLnd(t, nw, xl, lnd)

			// xlnd pays lnd's hold invoice; the HTLC stays.
			pre := [32]byte{0x1d, byte(i)}
			hash := sha256.Sum256(pre[:])
			var inv struct {
				PayReq string `json:"payment_request"`
			}
			check(t, lnd.lncli(&inv, "addholdinvoice", hex.EncodeToString(hash[:]),
				"--amt", fmt.Sprint(holdAmt)))
			pctx, pcancel := context.WithCancel(t.Context())
			defer pcancel()
			err := harness.WaitFor(func() error {
				ps, err := router(t, xl).SendPaymentV2(pctx, &routerrpc.SendPaymentRequest{
					PaymentRequest: inv.PayReq, TimeoutSeconds: 60, FeeLimitSat: 100})
				if err != nil {
					return err
				}
				go func() {
					for {
						if _, err := ps.Recv(); err != nil {
							return
						}
					}
				}()
				return nil
			}, harness.SyncTimeout)
			check(t, err)
			check(t, harness.WaitFor(func() error {
				var got struct {
					State string `json:"state"`
				}
				if err := lnd.lncli(&got, "lookupinvoice", hex.EncodeToString(hash[:])); err != nil {
					return err
				}
				if got.State != "ACCEPTED" {
					return fmt.Errorf("lnd's hold invoice %s", got.State)
				}
				return nil
			}, harness.SyncTimeout))

			// The close starts (lncli sets no_wait; xlnd's request
			// too); both sides reach shutdown.
			ctx1, cancel1 := context.WithCancel(t.Context())
			defer cancel1()
			var stream lnrpc.Lightning_CloseChannelClient
			if c.lndCloses {
				go func() {
					// lncli returns once the closing transaction is
					// broadcast, or dies with lnd.
					_, _ = lnd.lncliOutput("closechannel", "--chan_point", point)
				}()
			} else {
				stream = closeNoWait(t, ctx1, xl, point)
			}
			waitShutdown(t, xl, point, false)
			lnd.waitInactive(point)
			noWaitingClose(t, xl, point)

			if c.lndDies {
				lnd.kill()
				lnd.start()
			} else {
				xl.Kill()
				check(t, xl.Start())
				if len(xl.LogLines("Cooperative close resumes", "chan_point="+point)) == 0 {
					t.Fatal("xlnd did not resume the close")
				}
			}
			connectLnd(t, xl, lnd)
			waitShutdown(t, xl, point, false)
			noWaitingClose(t, xl, point)
			if !c.lndCloses && !c.lndDies {
				// xlnd's stream ended with it: a new request
				// follows the close in progress.
				stream = closeNoWait(t, ctx1, xl, point)
			}

			// lnd may take the settle before its link is back.
			check(t, harness.WaitFor(func() error {
				return lnd.lncli(nil, "settleinvoice", hex.EncodeToString(pre[:]))
			}, harness.SyncTimeout))
			var closeTxid string
			if stream != nil {
				up, err := stream.Recv()
				check(t, err)
				pending := up.GetClosePending()
				if pending == nil {
					t.Fatalf("update %v, want close_pending", up)
				}
				closeTxid, err = chainHash(pending.Txid)
				check(t, err)
			}
			closing := waitSpender(t, nw, parseOutPoint(t, point))
			if got := closing.Tx.TxHash().String(); closeTxid != "" && got != closeTxid {
				t.Fatalf("xlnd reported %s, %s spent the funding output", closeTxid, got)
			}
			closeTxid = closing.Tx.TxHash().String()
			if got := waitingClose(t, xl, point); got != closeTxid {
				t.Fatalf("xlnd waits for %s, not %s", got, closeTxid)
			}
			_, err = nw.Mine(6)
			check(t, err)
			sum := waitClosed(t, xl, point)
			want := int64(chanCap - chanPush - holdAmt - closing.Fee)
			if sum.ClosingTxHash != closeTxid || sum.SettledBalance != want ||
				sum.CloseType != lnrpc.ChannelCloseSummary_COOPERATIVE_CLOSE {

				t.Fatalf("xlnd: summary %v, want %d settled by %s", sum, want, closeTxid)
			}
			lnd.waitClosedCoop(point, closeTxid, chanPush+holdAmt)
			waitPaymentStatus(t, xl, hash, lnrpc.Payment_SUCCEEDED)
		})
	}

	// lnd master speaks option_simple_close only with peers that
	// signal it; with xlnd it negotiated with closing_signed.
	b, err := os.ReadFile(lndOut)
	check(t, err)
	log := string(b)
	if !strings.Contains(log, "ClosingSigned") || strings.Contains(log, "ClosingComplete") {
		t.Fatal("lnd's log: no closing_signed, or closing_complete used")
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "ClosingSigned") {
			t.Logf("lnd: %s", line)
			break
		}
	}
}
