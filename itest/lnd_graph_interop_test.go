package itest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// lndPolicy and lndEdge are lncli describegraph's JSON (64-bit numbers
// as strings, as lnd prints them).
type lndPolicy struct {
	TimeLockDelta uint32 `json:"time_lock_delta"`
	MinHtlc       string `json:"min_htlc"`
	FeeBaseMsat   string `json:"fee_base_msat"`
	FeeRate       string `json:"fee_rate_milli_msat"`
	Disabled      bool   `json:"disabled"`
	MaxHtlcMsat   string `json:"max_htlc_msat"`
}

type lndEdge struct {
	ChannelID   string     `json:"channel_id"`
	ChanPoint   string     `json:"chan_point"`
	Node1Pub    string     `json:"node1_pub"`
	Node2Pub    string     `json:"node2_pub"`
	Capacity    string     `json:"capacity"`
	Node1Policy *lndPolicy `json:"node1_policy"`
	Node2Policy *lndPolicy `json:"node2_policy"`
}

type lndGraph struct {
	Nodes []struct {
		PubKey    string `json:"pub_key"`
		Alias     string `json:"alias"`
		Color     string `json:"color"`
		Addresses []struct {
			Addr string `json:"addr"`
		} `json:"addresses"`
	} `json:"nodes"`
	Edges []lndEdge `json:"edges"`
}

// samePolicy compares a policy as lnd shows it with one as xlnd does.
func samePolicy(l *lndPolicy, x *lnrpc.RoutingPolicy) error {
	if l == nil || x == nil {
		return fmt.Errorf("policy missing: lnd %v, xlnd %v", l, x)
	}
	got := fmt.Sprintf("delta %d min %s base %s rate %s max %s disabled %v",
		l.TimeLockDelta, l.MinHtlc, l.FeeBaseMsat, l.FeeRate, l.MaxHtlcMsat, l.Disabled)
	want := fmt.Sprintf("delta %d min %d base %d rate %d max %d disabled %v",
		x.TimeLockDelta, x.MinHtlc, x.FeeBaseMsat, x.FeeRateMilliMsat, x.MaxHtlcMsat, x.Disabled)
	if got != want {
		return fmt.Errorf("lnd shows %s, xlnd %s", got, want)
	}
	return nil
}

// checkGraphInterop: once the channels between lnd and xlnd are 6 deep,
// lnd's describegraph holds xlnd's node (alias, color, address) and
// every channel with both ends' policies, xlnd's DescribeGraph holds
// lnd's node and the same channels, and the two agree on every policy;
// xlnd's own end shows lnd's policy defaults, which xlnd announces.
func checkGraphInterop(t *testing.T, lnd *lndNode, xl *harness.Node, points []string) {
	t.Helper()
	err := harness.WaitFor(func() error {
		var lg lndGraph
		if err := lnd.lncli(&lg, "describegraph"); err != nil {
			return err
		}
		xg, err := xl.RPC.DescribeGraph(context.Background(), &lnrpc.ChannelGraphRequest{})
		if err != nil {
			return err
		}
		found := false
		for _, n := range lg.Nodes {
			if n.PubKey == xl.PubKey() {
				found = n.Alias == xl.Name() && n.Color == "#3399ff" &&
					len(n.Addresses) == 1 && n.Addresses[0].Addr == xl.P2PAddr()
				if !found {
					return fmt.Errorf("lnd's view of xlnd's node: %+v", n)
				}
			}
		}
		if !found {
			return fmt.Errorf("lnd lacks xlnd's node among %d", len(lg.Nodes))
		}
		found = false
		for _, n := range xg.Nodes {
			found = found || n.PubKey == lnd.pub && n.Alias != ""
		}
		if !found {
			return fmt.Errorf("xlnd lacks lnd's node: %v", xg.Nodes)
		}
		lEdges := map[string]lndEdge{}
		for _, e := range lg.Edges {
			lEdges[e.ChanPoint] = e
		}
		xEdges := map[string]*lnrpc.ChannelEdge{}
		for _, e := range xg.Edges {
			xEdges[e.ChanPoint] = e
		}
		for _, p := range points {
			le, ok := lEdges[p]
			xe := xEdges[p]
			if !ok || xe == nil {
				return fmt.Errorf("channel %s: in lnd's graph %v, in xlnd's %v", p, ok, xe != nil)
			}
			if le.ChannelID != strconv.FormatUint(xe.ChannelId, 10) || le.Node1Pub != xe.Node1Pub ||
				le.Node2Pub != xe.Node2Pub || le.Capacity != strconv.FormatInt(xe.Capacity, 10) {
				return fmt.Errorf("channel %s: lnd %+v, xlnd %v", p, le, xe)
			}
			if err := samePolicy(le.Node1Policy, xe.Node1Policy); err != nil {
				return fmt.Errorf("channel %s node 1: %w", p, err)
			}
			if err := samePolicy(le.Node2Policy, xe.Node2Policy); err != nil {
				return fmt.Errorf("channel %s node 2: %w", p, err)
			}
			ours := xe.Node1Policy
			if xe.Node2Pub == xl.PubKey() {
				ours = xe.Node2Policy
			}
			if err := checkPolicy(ours, xe.Capacity); err != nil {
				return fmt.Errorf("channel %s, xlnd's end: %w", p, err)
			}
		}
		return nil
	}, 3*harness.SyncTimeout)
	check(t, err)
}

// graphInteropChannels opens a channel each way between xlnd and lnd
// (one at a time: xlnd allows one pending channel per peer), each open
// at 3 blocks and announced 3 blocks later, and returns their funding
// points.
//
// Between the two, lnd is given time to take our first channel_update
// (sent at channel_ready) into its graph, as the 30 minutes of 3 real
// blocks would: if the 6th block comes while lnd still applies it, lnd
// (with option_scid_alias) replaces its graph edge for the channel under
// it, the update fails with "edge not found", and lnd caches that
// rejection by channel and sender and drops every later update of ours
// for the channel (seen with lnd built from /work/lnd-src).
func graphInteropChannels(t *testing.T, nw *harness.Network, lnd *lndNode, xl *harness.Node) []string {
	t.Helper()
	pub, err := hexPub(lnd.pub)
	check(t, err)
	resp, err := xl.RPC.OpenChannelSync(context.Background(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: 700_000})
	check(t, err)
	txid, err := chainHash(resp.GetFundingTxidBytes())
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	ours := fmt.Sprintf("%s:%d", txid, resp.OutputIndex)
	_, err = nw.Mine(3)
	check(t, err)
	lnd.waitActive(ours)
	lndHasOurPolicy(t, lnd, xl, waitActive(t, xl, ours).ChanId)

	var open struct {
		Txid string `json:"funding_txid"`
	}
	err = harness.WaitFor(func() error {
		return lnd.lncli(&open, "openchannel", "--node_key", xl.PubKey(), "--local_amt", "800000")
	}, harness.SyncTimeout)
	check(t, err)
	tx, err := nw.WaitTx(open.Txid)
	check(t, err)
	theirs := ""
	for i, out := range tx.Tx.TxOut {
		if out.Value == 800_000 {
			theirs = fmt.Sprintf("%s:%d", open.Txid, i)
		}
	}
	_, err = nw.Mine(3)
	check(t, err)
	lnd.waitActive(theirs)
	lndHasOurPolicy(t, lnd, xl, waitActive(t, xl, theirs).ChanId)
	_, err = nw.Mine(3)
	check(t, err)
	return []string{ours, theirs}
}

// lndHasOurPolicy waits until lnd's graph holds xlnd's policy of the
// channel chanID.
func lndHasOurPolicy(t *testing.T, lnd *lndNode, xl *harness.Node, chanID uint64) {
	t.Helper()
	err := harness.WaitFor(func() error {
		var e lndEdge
		if err := lnd.lncli(&e, "getchaninfo", strconv.FormatUint(chanID, 10)); err != nil {
			return err
		}
		p := e.Node1Policy
		if e.Node2Pub == xl.PubKey() {
			p = e.Node2Policy
		}
		if p == nil || p.FeeBaseMsat == "" {
			return fmt.Errorf("lnd lacks xlnd's policy of %d: %+v", chanID, e)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
}

// checkClosedPruned starts a second xlnd node connected to xl alone,
// which learns both channels by its historical sync; then lnd
// force-closes the channel at closed and the spend is mined: the
// channel leaves lnd's graph and both xlnd nodes', kept stays.
func checkClosedPruned(t *testing.T, nw *harness.Network, lnd *lndNode, xl *harness.Node, closed, kept string) {
	t.Helper()
	xl2 := startNode(t, nw, "xl2", announceArgs...)
	check(t, nw.ConnectNodes(xl2, xl, false))
	points := func(n *harness.Node) (map[string]bool, error) {
		g, err := n.RPC.DescribeGraph(context.Background(), &lnrpc.ChannelGraphRequest{})
		if err != nil {
			return nil, err
		}
		m := map[string]bool{}
		for _, e := range g.Edges {
			if e.Node1Policy != nil && e.Node2Policy != nil {
				m[e.ChanPoint] = true
			}
		}
		return m, nil
	}
	err := harness.WaitFor(func() error {
		m, err := points(xl2)
		if err != nil {
			return err
		}
		if !m[closed] || !m[kept] {
			return fmt.Errorf("xl2 has not synced the channels: %v", m)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	txid, idx, ok := strings.Cut(closed, ":")
	if !ok {
		t.Fatalf("channel point %q", closed)
	}
	// lncli prints a line of text before its JSON here: the closing
	// transaction is read from pendingchannels.
	check(t, lnd.lncli(nil, "closechannel", "--force", txid, idx))
	var closing string
	err = harness.WaitFor(func() error {
		var pending struct {
			Waiting []struct {
				Channel struct {
					ChannelPoint string `json:"channel_point"`
				} `json:"channel"`
				ClosingTxid string `json:"closing_txid"`
			} `json:"waiting_close_channels"`
		}
		if err := lnd.lncli(&pending, "pendingchannels"); err != nil {
			return err
		}
		for _, w := range pending.Waiting {
			if w.Channel.ChannelPoint == closed && w.ClosingTxid != "" {
				closing = w.ClosingTxid
				return nil
			}
		}
		return fmt.Errorf("lnd is not closing %s", closed)
	}, harness.SyncTimeout)
	check(t, err)
	if _, err := nw.WaitTx(closing); err != nil {
		t.Fatal(err)
	}
	_, err = nw.Mine(1)
	check(t, err)
	err = harness.WaitFor(func() error {
		var lg lndGraph
		if err := lnd.lncli(&lg, "describegraph"); err != nil {
			return err
		}
		xg, err := xl.RPC.DescribeGraph(context.Background(), &lnrpc.ChannelGraphRequest{})
		if err != nil {
			return err
		}
		has := func(points []string, p string) bool {
			for _, q := range points {
				if q == p {
					return true
				}
			}
			return false
		}
		var lp, xp []string
		for _, e := range lg.Edges {
			lp = append(lp, e.ChanPoint)
		}
		for _, e := range xg.Edges {
			xp = append(xp, e.ChanPoint)
		}
		switch {
		case has(lp, closed) || has(xp, closed):
			return fmt.Errorf("closed channel still in lnd's graph (%v) or xlnd's (%v)", has(lp, closed), has(xp, closed))
		case !has(lp, kept) || !has(xp, kept):
			return fmt.Errorf("open channel gone from lnd's graph (%v) or xlnd's (%v)", !has(lp, kept), !has(xp, kept))
		}
		m, err := points(xl2)
		if err != nil {
			return err
		}
		if m[closed] || !m[kept] {
			return fmt.Errorf("xl2's channels: %v", m)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	if _, err := xl.WaitLogLine(harness.SyncTimeout, "Pruned closed channels"); err != nil {
		t.Fatal(err)
	}
}
