package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

const (
	chanCap  = 1_000_000
	chanPush = 100_000
)

// openChannel has a open a channel to b and returns its funding point
// once the funding transaction is in btcd's mempool.
func openChannel(t *testing.T, nw *harness.Network, a, b *harness.Node,
	ct lnrpc.CommitmentType) (lnrpc.Lightning_OpenChannelClient, string) {

	t.Helper()
	pub, err := hexPub(b.PubKey())
	check(t, err)
	stream, err := a.RPC.OpenChannel(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: chanCap, PushSat: chanPush,
		CommitmentType: ct})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	pending := up.GetChanPending()
	if pending == nil {
		t.Fatalf("first update %v, want chan_pending", up)
	}
	txid, err := chainhash.NewHash(pending.Txid)
	check(t, err)
	if _, err := nw.WaitTx(txid.String()); err != nil {
		t.Fatal(err)
	}
	return stream, fmt.Sprintf("%v:%d", txid, pending.OutputIndex)
}

func hexPub(s string) ([]byte, error) {
	var b []byte
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

// waitPending waits until n lists point among its pending channels.
func waitPending(t *testing.T, n *harness.Node, point string) *lnrpc.PendingChannelsResponse_PendingOpenChannel {
	t.Helper()
	var found *lnrpc.PendingChannelsResponse_PendingOpenChannel
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
		if err != nil {
			return err
		}
		for _, p := range resp.PendingOpenChannels {
			if p.Channel.ChannelPoint == point {
				found = p
				return nil
			}
		}
		return fmt.Errorf("%s: %s not pending", n.Name(), point)
	}, harness.SyncTimeout)
	check(t, err)
	return found
}

// waitActive waits until n lists point as an active channel.
func waitActive(t *testing.T, n *harness.Node, point string) *lnrpc.Channel {
	t.Helper()
	var found *lnrpc.Channel
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.ListChannels(context.Background(), &lnrpc.ListChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.ChannelPoint == point && c.Active {
				found = c
				return nil
			}
		}
		return fmt.Errorf("%s: %s not active in %v", n.Name(), point, resp.Channels)
	}, harness.SyncTimeout)
	check(t, err)
	return found
}

// checkOpened checks both sides' view of a new channel: the opener pays
// the commitment fee (and the anchors), the push is the peer's, and the
// outputs add up to the capacity.
func checkOpened(t *testing.T, opener, peer *lnrpc.Channel, ct lnrpc.CommitmentType) {
	t.Helper()
	anchors := int64(0)
	if ct == lnrpc.CommitmentType_ANCHORS {
		anchors = 2 * 330
	}
	for _, c := range []*lnrpc.Channel{opener, peer} {
		if c.Capacity != chanCap || c.CommitmentType != ct || c.PushAmountSat != chanPush ||
			c.ChanId == 0 || c.CommitFee != opener.CommitFee {

			t.Fatalf("channel %v", c)
		}
	}
	if !opener.Initiator || peer.Initiator {
		t.Fatal("initiator flags wrong")
	}
	if peer.LocalBalance != chanPush || opener.RemoteBalance != chanPush ||
		opener.LocalBalance != peer.RemoteBalance {

		t.Fatalf("balances: opener %d/%d, peer %d/%d", opener.LocalBalance,
			opener.RemoteBalance, peer.LocalBalance, peer.RemoteBalance)
	}
	if sum := opener.LocalBalance + opener.RemoteBalance + opener.CommitFee + anchors; sum != chanCap {
		t.Fatalf("outputs and fee add up to %d, not the capacity", sum)
	}
}

// TestOpenChannel: alice opens to bob with each channel type and a push;
// after three blocks the channel is active on both sides with the
// expected balances.
func TestOpenChannel(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	for _, ct := range []lnrpc.CommitmentType{lnrpc.CommitmentType_ANCHORS,
		lnrpc.CommitmentType_STATIC_REMOTE_KEY} {

		stream, point := openChannel(t, nw, alice, bob, ct)
		for _, n := range []*harness.Node{alice, bob} {
			p := waitPending(t, n, point)
			if p.Channel.CommitmentType != ct || p.ConfirmationsUntilActive != 3 {
				t.Fatalf("%s: pending %v", n.Name(), p)
			}
		}
		_, err := nw.Mine(3)
		check(t, err)
		up, err := stream.Recv()
		check(t, err)
		if up.GetChanOpen() == nil {
			t.Fatalf("update %v, want chan_open", up)
		}
		checkOpened(t, waitActive(t, alice, point), waitActive(t, bob, point), ct)
	}
	info, err := bob.Info()
	check(t, err)
	if info.NumActiveChannels != 2 || info.NumPendingChannels != 0 {
		t.Fatalf("bob's getinfo: %d active, %d pending", info.NumActiveChannels,
			info.NumPendingChannels)
	}
}

// TestOpenChannelRestart: both nodes restart between the broadcast of the
// funding transaction and its confirmation; the opener reconnects to its
// channel peer on its own, and once the blocks are mined the channel is
// active on both sides.
func TestOpenChannelRestart(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	// Through xlncli, as an operator would.
	cli := func(n *harness.Node, args ...string) ([]byte, error) {
		return n.CLI(append(n.CLIArgs(), args...)...)
	}
	out, err := cli(alice, "openchannel", "--node_key", bob.PubKey(),
		"--local_amt", fmt.Sprint(chanCap), "--push_amt", fmt.Sprint(chanPush),
		"--channel_type", "anchors")
	check(t, err)
	var opened struct {
		Txid string `json:"funding_txid"`
	}
	check(t, json.Unmarshal(out, &opened))
	tx, err := nw.WaitTx(opened.Txid)
	check(t, err)
	point := ""
	for i, o := range tx.Tx.TxOut {
		if o.Value == chanCap {
			point = fmt.Sprintf("%s:%d", opened.Txid, i)
		}
	}
	waitPending(t, bob, point)
	out, err = cli(bob, "pendingchannels")
	check(t, err)
	var pend struct {
		Open []struct {
			Channel struct {
				Point     string `json:"channel_point"`
				Initiator string `json:"initiator"`
			} `json:"channel"`
		} `json:"pending_open_channels"`
	}
	check(t, json.Unmarshal(out, &pend))
	if len(pend.Open) != 1 || pend.Open[0].Channel.Point != point ||
		pend.Open[0].Channel.Initiator != "INITIATOR_REMOTE" {

		t.Fatalf("xlncli pendingchannels: %s", out)
	}
	check(t, alice.Restart())
	check(t, bob.Restart())
	for _, n := range []*harness.Node{alice, bob} {
		waitPending(t, n, point)
	}
	// Alice, who dialed bob, reconnects to her channel peer by herself.
	check(t, alice.WaitPeer(bob.PubKey()))
	check(t, bob.WaitPeer(alice.PubKey()))
	_, err = nw.Mine(3)
	check(t, err)
	checkOpened(t, waitActive(t, alice, point), waitActive(t, bob, point),
		lnrpc.CommitmentType_ANCHORS)
	out, err = cli(alice, "listchannels")
	check(t, err)
	var list struct {
		Channels []struct {
			Point  string `json:"channel_point"`
			Active bool   `json:"active"`
			Remote string `json:"remote_balance"`
		} `json:"channels"`
	}
	check(t, json.Unmarshal(out, &list))
	if len(list.Channels) != 1 || list.Channels[0].Point != point ||
		!list.Channels[0].Active || list.Channels[0].Remote != fmt.Sprint(chanPush) {

		t.Fatalf("xlncli listchannels: %s", out)
	}
}

// TestOpenChannelBadRequests: requests that cannot open a channel fail
// with a status that says what to fix, and leave no coin locked.
func TestOpenChannelBadRequests(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	carol := startNode(t, nw, "carol")
	check(t, nw.Fund(alice, 1_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	bobKey, err := hexPub(bob.PubKey())
	check(t, err)
	carolKey, err := hexPub(carol.PubKey())
	check(t, err)
	cases := []struct {
		name string
		req  *lnrpc.OpenChannelRequest
		code codes.Code
		text string
	}{
		{"below the minimum", &lnrpc.OpenChannelRequest{NodePubkey: bobKey,
			LocalFundingAmount: 19_999}, codes.InvalidArgument, "below the minimum"},
		{"above the maximum", &lnrpc.OpenChannelRequest{NodePubkey: bobKey,
			LocalFundingAmount: 2_000_000_000}, codes.InvalidArgument, "above the maximum"},
		{"push above the amount", &lnrpc.OpenChannelRequest{NodePubkey: bobKey,
			LocalFundingAmount: 100_000, PushSat: 100_001}, codes.InvalidArgument, "push_sat"},
		{"not connected", &lnrpc.OpenChannelRequest{NodePubkey: carolKey,
			LocalFundingAmount: 100_000}, codes.FailedPrecondition, "not connected"},
		{"not enough funds", &lnrpc.OpenChannelRequest{NodePubkey: bobKey,
			LocalFundingAmount: 5_000_000}, codes.FailedPrecondition, "insufficient funds"},
	}
	for _, c := range cases {
		_, err := alice.RPC.OpenChannelSync(context.Background(), c.req)
		if status.Code(err) != c.code || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.code, c.text)
		}
	}
	bal, err := alice.Balance()
	check(t, err)
	if bal.LockedBalance != 0 || bal.ConfirmedBalance != 1_000_000 {
		t.Fatalf("balance after refusals: %v", bal)
	}
}
