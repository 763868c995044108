package itest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestLndForceClose (opt-in, XLND_LND_BIN): lnd force-closes a channel
// with xlnd and xlnd takes its to_remote back; xlnd force-closes a
// channel with lnd, lnd records a remote force close paying it what
// xlnd's commitment gave it, and xlnd takes its to_local back after the
// delay lnd asked for. Each wallet gains its balance less the sweep fee.
func TestLndForceClose(t *testing.T) {
	nw := harness.New(t)
	lnd := startLnd(t, nw)
	// A short trickle: lnd pays over a channel once xlnd's policy
	// reaches its graph.
	xl := startNode(t, nw, "xl", announceArgs...)
	check(t, nw.Fund(xl, 5_000_000))
	lnd.fund(t, nw, 5_000_000)
	ctx := context.Background()
	_, err := xl.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
		Addr: &lnrpc.LightningAddress{Pubkey: lnd.pub, Host: lnd.p2p}})
	check(t, err)
	check(t, xl.WaitPeer(lnd.pub))

	t.Run("lnd force-closes", func(t *testing.T) {
		var open struct {
			Txid string `json:"funding_txid"`
		}
		check(t, harness.WaitFor(func() error {
			return lnd.lncli(&open, "openchannel", "--node_key", xl.PubKey(),
				"--local_amt", "500000", "--push_amt", "50000")
		}, harness.SyncTimeout))
		tx, err := nw.WaitTx(open.Txid)
		check(t, err)
		point := ""
		for i, out := range tx.Tx.TxOut {
			if out.Value == 500_000 {
				point = fmt.Sprintf("%s:%d", open.Txid, i)
			}
		}
		_, err = nw.Mine(6)
		check(t, err)
		c := waitActive(t, xl, point)
		lnd.waitActive(point)
		before := confirmedBalance(t, xl)

		txid, idx, _ := strings.Cut(point, ":")
		// lncli prints a line of text before its JSON: find the
		// commitment in the mempool instead.
		check(t, lnd.lncli(nil, "closechannel", "--force", "--funding_txid", txid,
			"--output_index", idx))
		commit := waitSpender(t, nw, parseOutPoint(t, point))
		toRemote := commitOutput(t, commit, c.LocalBalance)
		_, err = nw.Mine(1)
		check(t, err)
		sweep := waitSpender(t, nw, toRemote)
		_, err = nw.Mine(1)
		check(t, err)
		waitResolved(t, xl, point)
		if got := confirmedBalance(t, xl) - before; got != c.LocalBalance-sweep.Fee {
			t.Fatalf("xlnd gained %d, want %d less a fee of %d", got, c.LocalBalance, sweep.Fee)
		}
	})

	t.Run("xlnd force-closes", func(t *testing.T) {
		pub, err := hexPub(lnd.pub)
		check(t, err)
		resp, err := xl.RPC.OpenChannelSync(ctx, &lnrpc.OpenChannelRequest{
			NodePubkey: pub, LocalFundingAmount: 600_000, PushSat: 60_000})
		check(t, err)
		txid, err := chainHash(resp.GetFundingTxidBytes())
		check(t, err)
		_, err = nw.WaitTx(txid)
		check(t, err)
		point := fmt.Sprintf("%s:%d", txid, resp.OutputIndex)
		_, err = nw.Mine(6)
		check(t, err)
		c := waitActive(t, xl, point)
		lc := lnd.waitActive(point)
		before := confirmedBalance(t, xl)

		commit, _ := forceClose(t, nw, xl, point)
		toLocal := commitOutput(t, commit, c.LocalBalance)
		_, err = nw.Mine(1)
		check(t, err)
		closedAt, err := nw.TipHeight()
		check(t, err)

		// xlnd's to_local after the delay lnd asked for.
		csv := int32(c.LocalConstraints.CsvDelay)
		tip, err := nw.TipHeight()
		check(t, err)
		_, err = nw.Mine(int(closedAt + csv - 1 - tip))
		check(t, err)
		sweep := waitSpender(t, nw, toLocal)
		_, err = nw.Mine(1)
		check(t, err)
		waitResolved(t, xl, point)
		if got := confirmedBalance(t, xl) - before; got != c.LocalBalance-sweep.Fee {
			t.Fatalf("xlnd gained %d, want %d less a fee of %d", got, c.LocalBalance, sweep.Fee)
		}

		// lnd agrees: the channel is force closed by our commitment,
		// and what it has in limbo or recovered is its balance
		// (and its anchor). (lnd's
		// own sweeper on regtest refuses btcd's fee estimate above its
		// cap, so lnd is not waited for to list it closed.)
		check(t, harness.WaitFor(func() error {
			var resp struct {
				Force []struct {
					Channel struct {
						ChannelPoint string `json:"channel_point"`
					} `json:"channel"`
					ClosingTxid string `json:"closing_txid"`
					Limbo       string `json:"limbo_balance"`
					Recovered   string `json:"recovered_balance"`
				} `json:"pending_force_closing_channels"`
			}
			if err := lnd.lncli(&resp, "pendingchannels"); err != nil {
				return err
			}
			for _, f := range resp.Force {
				if f.Channel.ChannelPoint != point {
					continue
				}
				var limbo, rec int64
				fmt.Sscan(f.Limbo, &limbo)
				fmt.Sscan(f.Recovered, &rec)
				// lnd counts its anchor in limbo.
				if c.CommitmentType == lnrpc.CommitmentType_ANCHORS {
					limbo -= 330
				}
				if f.ClosingTxid != commit.Tx.TxHash().String() ||
					fmt.Sprint(limbo+rec) != lc.LocalBalance {
					return fmt.Errorf("lnd: %+v, its balance was %s", f, lc.LocalBalance)
				}
				t.Logf("lnd: %+v", f)
				return nil
			}
			return fmt.Errorf("lnd: %s not force closing", point)
		}, harness.SyncTimeout))
	})

	for _, ct := range []string{"anchors", "tweakless"} {
		t.Run("lnd force-closes with HTLCs both ways/"+ct, func(t *testing.T) {
			lndClosesWithHTLCs(t, nw, lnd, xl, ct)
		})
	}
	for _, ct := range []lnrpc.CommitmentType{lnrpc.CommitmentType_ANCHORS,
		lnrpc.CommitmentType_STATIC_REMOTE_KEY} {

		t.Run("xlnd force-closes with HTLCs both ways/"+ct.String(), func(t *testing.T) {
			xlndClosesWithHTLCs(t, nw, lnd, xl, ct)
		})
	}
}
