package itest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// holdAmt is the HTLC that keeps a closing channel from negotiating.
const holdAmt = 20_000

// waitShutdown waits until n lists point as open but inactive: with the
// peer connected, the channel is in shutdown. If orAgreed, a channel
// already waiting for its closing transaction will do too.
func waitShutdown(t *testing.T, n *harness.Node, point string, orAgreed bool) {
	t.Helper()
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.ListChannels(context.Background(), &lnrpc.ListChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.ChannelPoint == point {
				if c.Active {
					return fmt.Errorf("%s: %s still active", n.Name(), point)
				}
				return nil
			}
		}
		if orAgreed {
			pend, err := n.RPC.PendingChannels(context.Background(),
				&lnrpc.PendingChannelsRequest{})
			if err != nil {
				return err
			}
			for _, w := range pend.WaitingCloseChannels {
				if w.Channel.ChannelPoint == point {
					return nil
				}
			}
		}
		return fmt.Errorf("%s: %s not listed", n.Name(), point)
	}, harness.SyncTimeout)
	check(t, err)
}

// noWaitingClose checks that n shows point neither waiting for a
// closing transaction nor closed.
func noWaitingClose(t *testing.T, n *harness.Node, point string) {
	t.Helper()
	pend, err := n.RPC.PendingChannels(t.Context(), &lnrpc.PendingChannelsRequest{})
	check(t, err)
	closed, err := n.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{})
	check(t, err)
	for _, w := range pend.WaitingCloseChannels {
		if w.Channel.ChannelPoint == point {
			t.Fatalf("%s: %s waiting close: %v", n.Name(), point, w)
		}
	}
	for _, c := range closed.Channels {
		if c.ChannelPoint == point {
			t.Fatalf("%s: %s closed: %v", n.Name(), point, c)
		}
	}
}

// TestCoopCloseResume: a cooperative close started by either side and
// cut by a kill -9 of either side, or by a disconnection, completes
// after the restart or reconnection. An HTLC held by bob keeps the
// channel in shutdown (both shutdowns exchanged, no closing_signed yet)
// across the cut, so the cut falls at the same step every time. After
// the restart the victim still lists the channel, inactive, and nothing
// waits close; the closer's new CloseChannel follows the close in
// progress (after a disconnection its first stream still does); once
// bob settles the HTLC the close completes on the retransmitted
// shutdowns, with the settled balances and no force close.
func TestCoopCloseResume(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	for i, c := range []struct{ bobCloses, bobDies, disconnect bool }{
		{false, false, false}, {false, true, false}, {true, false, false},
		{true, true, false}, {false, false, true},
	} {
		closer, victim := alice, alice
		if c.bobCloses {
			closer = bob
		}
		if c.bobDies {
			victim = bob
		}
		name := fmt.Sprintf("%s closes, %s killed", closer.Name(), victim.Name())
		if c.disconnect {
			name = fmt.Sprintf("%s closes, disconnected", closer.Name())
		}
		t.Run(name, func(t *testing.T) {
			point, _ := openActive(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
			waitActive(t, bob, point)

			// Alice pays bob's hold invoice: the HTLC stays.
			pre := [32]byte{0xc0, byte(i)}
			hash := sha256.Sum256(pre[:])
			inv, err := invoicesClient(t, bob).AddHoldInvoice(t.Context(),
				&invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: holdAmt})
			check(t, err)
			rc := router(t, alice)
			pctx, pcancel := context.WithCancel(t.Context())
			defer pcancel()
			ps, err := rc.SendPaymentV2(pctx, &routerrpc.SendPaymentRequest{
				PaymentRequest: inv.PaymentRequest, TimeoutSeconds: 60, FeeLimitSat: 100})
			check(t, err)
			go func() {
				for {
					if _, err := ps.Recv(); err != nil {
						return
					}
				}
			}()
			check(t, harness.WaitFor(func() error {
				got, err := bob.RPC.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: hash[:]})
				if err != nil {
					return err
				}
				if got.State != lnrpc.Invoice_ACCEPTED {
					return fmt.Errorf("hold invoice %v", got.State)
				}
				return nil
			}, harness.SyncTimeout))

			// Without no_wait the HTLC refuses the close (lnd's
			// check and text); with it the close starts, and both
			// sides reach shutdown and wait for the HTLC.
			s, err := closer.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
				ChannelPoint: chanPointProto(t, point)})
			if err == nil {
				_, err = s.Recv()
			}
			if err == nil || !strings.Contains(err.Error(),
				"cannot coop close channel with active htlcs (number of active htlcs: 1)") {

				t.Fatalf("close with an HTLC in flight, no no_wait: %v", err)
			}
			ctx1, cancel1 := context.WithCancel(t.Context())
			defer cancel1()
			stream := closeNoWait(t, ctx1, closer, point)
			waitShutdown(t, alice, point, false)
			waitShutdown(t, bob, point, false)
			noWaitingClose(t, alice, point)
			noWaitingClose(t, bob, point)

			if c.disconnect {
				// No restart: the shutdowns are retransmitted on
				// the new connection, and the operator's stream
				// lives on.
				_, err := alice.RPC.DisconnectPeer(t.Context(),
					&lnrpc.DisconnectPeerRequest{PubKey: bob.PubKey()})
				check(t, err)
				check(t, alice.WaitNoPeer(bob.PubKey()))
				ensureConnectedTo(t, alice, bob)
			} else {
				victim.Kill()
				check(t, victim.Start())
				ensureConnectedTo(t, alice, bob)
				if len(victim.LogLines("Cooperative close resumes", "chan_point="+point)) == 0 {
					t.Fatalf("%s did not resume the close", victim.Name())
				}
			}
			waitShutdown(t, victim, point, false)
			noWaitingClose(t, victim, point)

			if victim == closer && !c.disconnect {
				// Its stream ended with it. A new request with a
				// fee is refused; one without follows the close.
				s, err := closer.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
					ChannelPoint: chanPointProto(t, point), SatPerVbyte: 9,
					NoWait: true})
				if err == nil {
					_, err = s.Recv()
				}
				if status.Code(err) != codes.FailedPrecondition ||
					!strings.Contains(err.Error(), "already being closed") {

					t.Fatalf("close with new fee limits: %v", err)
				}
				stream = closeNoWait(t, ctx1, closer, point)
			}

			_, err = invoicesClient(t, bob).SettleInvoice(t.Context(),
				&invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
			check(t, err)
			up, err := stream.Recv()
			check(t, err)
			pending := up.GetClosePending()
			if pending == nil {
				t.Fatalf("first update %v, want close_pending", up)
			}
			txid, err := chainHash(pending.Txid)
			check(t, err)
			closeTx, err := nw.WaitTx(txid)
			check(t, err)
			for _, n := range []*harness.Node{alice, bob} {
				if got := waitingClose(t, n, point); got != txid {
					t.Fatalf("%s waits for %s, not %s", n.Name(), got, txid)
				}
			}
			_, err = nw.Mine(closeDepth)
			check(t, err)
			up, err = stream.Recv()
			check(t, err)
			if done := up.GetChanClose(); done == nil || !done.Success {
				t.Fatalf("second update %v, want chan_close", up)
			}
			for _, n := range []*harness.Node{alice, bob} {
				sum := waitClosed(t, n, point)
				want := int64(chanPush + holdAmt)
				if n == alice {
					want = chanCap - chanPush - holdAmt - closeTx.Fee
				}
				if sum.ClosingTxHash != txid || sum.SettledBalance != want ||
					sum.CloseType != lnrpc.ChannelCloseSummary_COOPERATIVE_CLOSE {

					t.Fatalf("%s: summary %v, want %d settled by %s",
						n.Name(), sum, want, txid)
				}
			}
			waitPaymentStatus(t, alice, hash, lnrpc.Payment_SUCCEEDED)
		})
	}
}

// closeNoWait asks n to close point with no_wait, as lncli does, and
// checks the stream's first update: close_instant with one HTLC.
func closeNoWait(t *testing.T, ctx context.Context, n *harness.Node,
	point string) lnrpc.Lightning_CloseChannelClient {

	t.Helper()
	stream, err := n.RPC.CloseChannel(ctx, &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point), NoWait: true})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	if in := up.GetCloseInstant(); in == nil || in.NumPendingHtlcs != 1 {
		t.Fatalf("%s: first update %v, want close_instant with 1 HTLC", n.Name(), up)
	}
	return stream
}

// ensureConnectedTo waits until alice and bob are connected again,
// asking alice to connect if neither did.
func ensureConnectedTo(t *testing.T, alice, bob *harness.Node) {
	t.Helper()
	err := harness.WaitFor(func() error {
		p, err := alice.Peer(bob.PubKey())
		if err != nil {
			return err
		}
		if p == nil {
			ctx, cancel := context.WithTimeout(context.Background(), harness.SyncTimeout)
			defer cancel()
			_, err := alice.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
				Addr: &lnrpc.LightningAddress{Pubkey: bob.PubKey(), Host: bob.P2PAddr()}})
			if err != nil && !strings.Contains(err.Error(), "already connected") {
				return err
			}
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	check(t, alice.WaitPeer(bob.PubKey()))
	check(t, bob.WaitPeer(alice.PubKey()))
}
