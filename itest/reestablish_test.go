package itest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// waitInactive waits until n lists point as an inactive channel.
func waitInactive(t *testing.T, n *harness.Node, point string) {
	t.Helper()
	err := harness.WaitFor(func() error {
		resp, err := n.RPC.ListChannels(context.Background(), &lnrpc.ListChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.ChannelPoint == point && !c.Active {
				return nil
			}
		}
		return fmt.Errorf("%s: %s not listed inactive in %v", n.Name(), point,
			resp.Channels)
	}, harness.SyncTimeout)
	check(t, err)
}

// logCount counts the lines of n's log that contain s.
func logCount(t *testing.T, n *harness.Node, s string) int {
	t.Helper()
	b, err := os.ReadFile(n.LogPath())
	check(t, err)
	return strings.Count(string(b), s)
}

// TestChannelReestablish: an open channel goes inactive while its peer is
// away and active again on both sides after each node restarts, through
// a channel_reestablish exchanged on the new connection, with no message
// refused on the way.
func TestChannelReestablish(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	_, point := openChannel(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	_, err := nw.Mine(3)
	check(t, err)
	waitActive(t, alice, point)
	waitActive(t, bob, point)

	const done = "Channel reestablished"
	// Bob, who accepted alice's connection, goes away: the channel is
	// inactive at alice's until he is back and she reconnects.
	check(t, bob.Stop())
	waitInactive(t, alice, point)
	check(t, bob.Start())
	waitActive(t, alice, point)
	waitActive(t, bob, point)

	// Alice, who dialed, restarts and dials bob again by herself.
	check(t, alice.Restart())
	waitActive(t, alice, point)
	waitActive(t, bob, point)

	for _, n := range []*harness.Node{alice, bob} {
		if got := logCount(t, n, done); got < 2 {
			t.Fatalf("%s reestablished the channel %d times, want 2", n.Name(), got)
		}
		for _, bad := range []string{"warning sent", "Channel update refused",
			"channel_reestablish refused", "failed the channel"} {
			if got := logCount(t, n, bad); got != 0 {
				t.Fatalf("%s logged %q %d times", n.Name(), bad, got)
			}
		}
	}
}
