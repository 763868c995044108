package itest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// closeDepth is the confirmations after which xlnd calls a cooperative
// close of a small channel final.
const closeDepth = 3

// chanPointProto is a channel point "txid:index" for a request.
func chanPointProto(t *testing.T, point string) *lnrpc.ChannelPoint {
	t.Helper()
	i := strings.LastIndexByte(point, ':')
	var idx uint32
	_, err := fmt.Sscan(point[i+1:], &idx)
	check(t, err)
	return &lnrpc.ChannelPoint{FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{
		FundingTxidStr: point[:i]}, OutputIndex: idx}
}

// openActive opens a channel from a to b and waits until it is active on
// both; it returns the channel point and the funding fee.
func openActive(t *testing.T, nw *harness.Network, a, b *harness.Node,
	ct lnrpc.CommitmentType) (string, int64) {

	t.Helper()
	_, point := openChannel(t, nw, a, b, ct)
	tx, err := nw.WaitTx(point[:strings.IndexByte(point, ':')])
	check(t, err)
	_, err = nw.Mine(3)
	check(t, err)
	waitActive(t, a, point)
	waitActive(t, b, point)
	return point, tx.Fee
}

// waitingClose waits until n shows point as waiting for its closing
// transaction and returns that transaction's id.
func waitingClose(t *testing.T, n *harness.Node, point string) string {
	t.Helper()
	var txid string
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.PendingChannels(context.Background(),
			&lnrpc.PendingChannelsRequest{IncludeRawTx: true})
		if err != nil {
			return err
		}
		for _, w := range resp.WaitingCloseChannels {
			if w.Channel.ChannelPoint == point && w.ClosingTxid != "" {
				if w.ClosingTxHex == "" || w.LimboBalance > resp.TotalLimboBalance {
					return fmt.Errorf("waiting close %v", w)
				}
				txid = w.ClosingTxid
				return nil
			}
		}
		return fmt.Errorf("%s: %s not waiting close in %v", n.Name(), point,
			resp.WaitingCloseChannels)
	}, harness.SyncTimeout)
	check(t, err)
	return txid
}

// waitClosed waits until n lists point among its cooperatively closed
// channels and returns its summary.
func waitClosed(t *testing.T, n *harness.Node, point string) *lnrpc.ChannelCloseSummary {
	t.Helper()
	var found *lnrpc.ChannelCloseSummary
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.ClosedChannels(context.Background(),
			&lnrpc.ClosedChannelsRequest{Cooperative: true})
		if err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.ChannelPoint == point {
				found = c
				return nil
			}
		}
		return fmt.Errorf("%s: %s not closed", n.Name(), point)
	}, harness.SyncTimeout)
	check(t, err)
	return found
}

// walletTotal is a node's confirmed plus unconfirmed wallet balance.
func walletTotal(t *testing.T, n *harness.Node) int64 {
	t.Helper()
	b, err := n.Balance()
	check(t, err)
	return b.TotalBalance
}

// TestCoopClose: channels of both types, each closed cooperatively by
// one side then the other; the stream reports the broadcast and the
// confirmation, the channel waits close then shows closed on both sides,
// and each wallet ends with what it had less the fees the funding and
// closing transactions paid (the opener pays both) and the push.
func TestCoopClose(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	aliceStart, bobStart := walletTotal(t, alice), walletTotal(t, bob)

	var fees int64
	cases := []struct {
		ct     lnrpc.CommitmentType
		closer *harness.Node
	}{
		{lnrpc.CommitmentType_ANCHORS, alice},
		{lnrpc.CommitmentType_ANCHORS, bob},
		{lnrpc.CommitmentType_STATIC_REMOTE_KEY, alice},
		{lnrpc.CommitmentType_STATIC_REMOTE_KEY, bob},
	}
	for i, c := range cases {
		point, fundFee := openActive(t, nw, alice, bob, c.ct)
		fees += fundFee
		ach := waitActive(t, alice, point)
		bal, err := bob.RPC.ChannelBalance(t.Context(), &lnrpc.ChannelBalanceRequest{})
		check(t, err)
		if bal.LocalBalance.Sat != chanPush || bal.RemoteBalance.Sat != uint64(ach.LocalBalance) {
			t.Fatalf("bob's channel balance %v, channel %v", bal, ach)
		}

		stream, err := c.closer.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
			ChannelPoint: chanPointProto(t, point), SatPerVbyte: uint64(2 + i)})
		check(t, err)
		up, err := stream.Recv()
		check(t, err)
		pending := up.GetClosePending()
		if pending == nil {
			t.Fatalf("first update %v, want close_pending", up)
		}
		txid, err := chainhash.NewHash(pending.Txid)
		check(t, err)
		closeTx, err := nw.WaitTx(txid.String())
		check(t, err)
		fees += closeTx.Fee
		// The opener proposes its rate; the other side accepts it.
		if c.closer == alice && (closeTx.FeeRate() < float64(2+i)-0.5 ||
			closeTx.FeeRate() > float64(2+i)+0.5) {

			t.Errorf("closing fee rate %.2f, asked %d", closeTx.FeeRate(), 2+i)
		}
		for _, n := range []*harness.Node{alice, bob} {
			if got := waitingClose(t, n, point); got != txid.String() {
				t.Fatalf("%s: waiting close with %s, broadcast %s", n.Name(), got, txid)
			}
			list, err := n.RPC.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{})
			check(t, err)
			if len(list.Channels) != 0 {
				t.Fatalf("%s still lists %v", n.Name(), list.Channels)
			}
			info, err := n.Info()
			check(t, err)
			if info.NumPendingChannels != 1 || info.NumActiveChannels != 0 {
				t.Fatalf("%s getinfo: %d pending, %d active", n.Name(),
					info.NumPendingChannels, info.NumActiveChannels)
			}
		}
		// A second close of a closing channel is refused.
		s2, err := bob.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
			ChannelPoint: chanPointProto(t, point)})
		if err == nil {
			_, err = s2.Recv()
		}
		if status.Code(err) != codes.FailedPrecondition ||
			!strings.Contains(err.Error(), "already being closed") {

			t.Fatalf("second close: %v", err)
		}

		// One block: confirmed, not yet final.
		_, err = nw.Mine(1)
		check(t, err)
		err = harness.WaitFor(func() error {
			resp, err := alice.RPC.PendingChannels(t.Context(), &lnrpc.PendingChannelsRequest{})
			if err != nil {
				return err
			}
			for _, w := range resp.WaitingCloseChannels {
				if w.Channel.ChannelPoint == point &&
					w.BlocksTilCloseConfirmed == closeDepth-1 && w.CloseHeight > 0 {

					return nil
				}
			}
			return fmt.Errorf("waiting close after one block: %v", resp.WaitingCloseChannels)
		}, harness.SyncTimeout)
		check(t, err)
		_, err = nw.Mine(closeDepth - 1)
		check(t, err)
		up, err = stream.Recv()
		check(t, err)
		done := up.GetChanClose()
		if done == nil || !done.Success || string(done.ClosingTxid) != string(pending.Txid) {
			t.Fatalf("second update %v, want chan_close", up)
		}
		for _, n := range []*harness.Node{alice, bob} {
			sum := waitClosed(t, n, point)
			if sum.ClosingTxHash != txid.String() || sum.Capacity != chanCap ||
				sum.CloseType != lnrpc.ChannelCloseSummary_COOPERATIVE_CLOSE ||
				sum.CloseHeight == 0 || sum.ChanId == 0 {

				t.Fatalf("%s: summary %v", n.Name(), sum)
			}
			want := int64(chanPush)
			if n == alice {
				want = chanCap - chanPush - closeTx.Fee
			}
			if sum.SettledBalance != want {
				t.Fatalf("%s settled %d, want %d", n.Name(), sum.SettledBalance, want)
			}
			who := func(local bool) lnrpc.Initiator {
				if local {
					return lnrpc.Initiator_INITIATOR_LOCAL
				}
				return lnrpc.Initiator_INITIATOR_REMOTE
			}
			if sum.OpenInitiator != who(n == alice) || sum.CloseInitiator != who(n == c.closer) {
				t.Fatalf("%s: initiators open %v close %v", n.Name(),
					sum.OpenInitiator, sum.CloseInitiator)
			}
		}
	}
	// Force-closed filters exclude them; no filter lists all four.
	resp, err := alice.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{LocalForce: true})
	check(t, err)
	if len(resp.Channels) != 0 {
		t.Fatalf("local_force lists %v", resp.Channels)
	}
	resp, err = alice.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{})
	check(t, err)
	if len(resp.Channels) != len(cases) {
		t.Fatalf("%d closed channels", len(resp.Channels))
	}
	check(t, alice.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
		if want := aliceStart - fees - int64(len(cases))*chanPush; b.TotalBalance != want {
			return fmt.Errorf("alice's wallet %d, want %d", b.TotalBalance, want)
		}
		return nil
	}))
	check(t, bob.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
		if want := bobStart + int64(len(cases))*chanPush; b.TotalBalance != want {
			return fmt.Errorf("bob's wallet %d, want %d", b.TotalBalance, want)
		}
		return nil
	}))
}

// TestCoopCloseBadRequests: closes that cannot proceed fail with a
// status that says what to fix and leave the channel usable.
func TestCoopCloseBadRequests(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	point, _ := openActive(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)

	closeErr := func(req *lnrpc.CloseChannelRequest) error {
		s, err := alice.RPC.CloseChannel(t.Context(), req)
		if err != nil {
			return err
		}
		_, err = s.Recv()
		return err
	}
	unknown := strings.Repeat("11", 32) + ":0"
	cases := []struct {
		name string
		req  *lnrpc.CloseChannelRequest
		code codes.Code
		text string
	}{
		{"unknown channel", &lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, unknown)},
			codes.NotFound, "no open channel"},
		{"no channel point", &lnrpc.CloseChannelRequest{}, codes.InvalidArgument, "channel_point"},
		{"bad delivery address", &lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, point),
			DeliveryAddress: "bcrt1qnotanaddress"}, codes.InvalidArgument, "invalid delivery address"},
		{"mainnet delivery address", &lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, point),
			DeliveryAddress: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"},
			codes.InvalidArgument, "invalid delivery address"},
		{"force with a fee", &lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, point), Force: true,
			SatPerVbyte: 5}, codes.InvalidArgument, "force close takes no address or fee"},
		{"rate above max", &lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, point),
			SatPerVbyte: 20, MaxFeePerVbyte: 5}, codes.InvalidArgument, "max_fee_per_vbyte"},
	}
	for _, c := range cases {
		err := closeErr(c.req)
		if status.Code(err) != c.code || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.code, c.text)
		}
	}
	// The peer offline: refused, and after its restart the channel is
	// active on both sides again.
	check(t, bob.Stop())
	err := harness.WaitFor(func() error {
		err := closeErr(&lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, point)})
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "offline") {
			return fmt.Errorf("close with the peer offline: %v", err)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	check(t, bob.Start())
	waitActive(t, alice, point)
	waitActive(t, bob, point)
	list, err := alice.RPC.PendingChannels(t.Context(), &lnrpc.PendingChannelsRequest{})
	check(t, err)
	if len(list.WaitingCloseChannels) != 0 {
		t.Fatalf("refused closes left %v", list.WaitingCloseChannels)
	}

	// xlncli: a valid delivery address of alice's wallet, --chan_point.
	addr, err := alice.NewAddress(t.Context(), lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	out, err := alice.CLI(append(alice.CLIArgs(), "closechannel", "--chan_point", point,
		"--delivery_addr", addr.String(), "--sat_per_vbyte", "3")...)
	check(t, err)
	if !strings.Contains(string(out), "closing_txid") {
		t.Fatalf("xlncli closechannel: %s", out)
	}
	txid := waitingClose(t, alice, point)
	tx, err := nw.WaitTx(txid)
	check(t, err)
	paid := false
	for _, o := range tx.Tx.TxOut {
		paid = paid || o.Value == chanCap-chanPush-tx.Fee
	}
	if !paid {
		t.Fatalf("closing tx %v does not pay alice", tx.Tx.TxOut)
	}
	_, err = nw.Mine(closeDepth)
	check(t, err)
	waitClosed(t, bob, point)
	out, err = alice.CLI(append(alice.CLIArgs(), "closedchannels", "--cooperative")...)
	check(t, err)
	if !strings.Contains(string(out), point) || !strings.Contains(string(out), "COOPERATIVE_CLOSE") {
		t.Fatalf("xlncli closedchannels: %s", out)
	}
	out, err = alice.CLI(append(alice.CLIArgs(), "channelbalance")...)
	check(t, err)
	if !strings.Contains(string(out), `"local_balance"`) {
		t.Fatalf("xlncli channelbalance: %s", out)
	}

	// A channel opened with an upfront shutdown address: another
	// delivery address is refused, and the close pays the upfront one.
	upfront, err := alice.NewAddress(t.Context(), lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	bobKey, err := hexPub(bob.PubKey())
	check(t, err)
	cp, err := alice.RPC.OpenChannelSync(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: bobKey, LocalFundingAmount: chanCap, CloseAddress: upfront.String()})
	check(t, err)
	fundTxid, err := chainhash.NewHash(cp.GetFundingTxidBytes())
	check(t, err)
	_, err = nw.WaitTx(fundTxid.String())
	check(t, err)
	point = fmt.Sprintf("%s:%d", fundTxid, cp.OutputIndex)
	_, err = nw.Mine(3)
	check(t, err)
	if c := waitActive(t, alice, point); c.CloseAddress != upfront.String() {
		t.Fatalf("close_address %q, want %q", c.CloseAddress, upfront)
	}
	waitActive(t, bob, point)
	err = closeErr(&lnrpc.CloseChannelRequest{ChannelPoint: chanPointProto(t, point),
		DeliveryAddress: addr.String()})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "upfront") {
		t.Fatalf("close to another address than the upfront one: %v", err)
	}
	s, err := alice.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point)})
	check(t, err)
	up, err := s.Recv()
	check(t, err)
	closeTxid, err := chainhash.NewHash(up.GetClosePending().GetTxid())
	check(t, err)
	tx, err = nw.WaitTx(closeTxid.String())
	check(t, err)
	upScript, err := txscriptPay(upfront.String())
	check(t, err)
	paid = false
	for _, o := range tx.Tx.TxOut {
		paid = paid || (string(o.PkScript) == string(upScript) && o.Value == chanCap-tx.Fee)
	}
	if !paid {
		t.Fatalf("closing tx %v does not pay the upfront address", tx.Tx.TxOut)
	}
}

// TestCoopCloseRestart: the accepter is killed while the close is being
// negotiated and restarts; the negotiation resumes on reconnection (or
// had finished) and the channel closes. Then a close whose transaction
// is in the mempool survives a restart of the opener: the transaction is
// re-watched and the channel closes once it confirms.
func TestCoopCloseRestart(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	point, _ := openActive(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)

	ctx, cancel := context.WithCancel(t.Context())
	_, err := alice.RPC.CloseChannel(ctx, &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point)})
	check(t, err)
	// The stream is open once the request is sent, not once alice took
	// it. Cancelled right away (as below), the request may never reach
	// her handler (4 of 7 times on a loaded machine), and with bob
	// killed first her link refuses it (peer offline): the test then
	// waited for a close never started. Her channel listed inactive
	// with bob still connected says her shutdown is stored (or the
	// close already agreed).
	waitShutdown(t, alice, point, true)
	bob.Kill()
	cancel()
	check(t, bob.Start())
	txid := waitingClose(t, alice, point)
	if got := waitingClose(t, bob, point); got != txid {
		t.Fatalf("bob waits for %s, alice for %s", got, txid)
	}
	_, err = nw.WaitTx(txid)
	check(t, err)
	_, err = nw.Mine(closeDepth)
	check(t, err)
	waitClosed(t, alice, point)
	waitClosed(t, bob, point)

	// A second channel: its closing transaction is broadcast, then the
	// opener restarts before it confirms. The close may have been agreed
	// before bob died and the channel closed before alice redialled
	// him (backing off): with no channel left she no longer does, so
	// connect them again (the second flake of this test).
	ensureConnectedTo(t, alice, bob)
	point, _ = openActive(t, nw, alice, bob, lnrpc.CommitmentType_STATIC_REMOTE_KEY)
	stream, err := bob.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point)})
	check(t, err)
	_, err = stream.Recv()
	check(t, err)
	txid = waitingClose(t, alice, point)
	check(t, alice.Restart())
	if got := waitingClose(t, alice, point); got != txid {
		t.Fatalf("after restart alice waits for %s, not %s", got, txid)
	}
	_, err = nw.WaitTx(txid)
	check(t, err)
	_, err = nw.Mine(closeDepth)
	check(t, err)
	sum := waitClosed(t, alice, point)
	if sum.ClosingTxHash != txid {
		t.Fatalf("closed by %s, not %s", sum.ClosingTxHash, txid)
	}
	waitClosed(t, bob, point)
}

// txscriptPay is the output script of a regtest address.
func txscriptPay(addr string) ([]byte, error) {
	a, err := btcutil.DecodeAddress(addr, regtest.Params)
	if err != nil {
		return nil, err
	}
	return txscript.PayToAddrScript(a)
}
