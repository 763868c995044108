package itest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// openActiveBoth opens a channel from a to b of type ct and waits until
// both sides have it active.
func openActiveBoth(t *testing.T, nw *harness.Network, a, b *harness.Node,
	ct lnrpc.CommitmentType) (string, *lnrpc.Channel, *lnrpc.Channel) {

	t.Helper()
	stream, point := openChannel(t, nw, a, b, ct)
	_, err := nw.Mine(3)
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	if up.GetChanOpen() == nil {
		t.Fatalf("update %v, want chan_open", up)
	}
	return point, waitActive(t, a, point), waitActive(t, b, point)
}

// parseOutPoint reads "txid:index".
func parseOutPoint(t *testing.T, s string) wire.OutPoint {
	t.Helper()
	var txid string
	var idx uint32
	_, err := fmt.Sscanf(s, "%64s:%d", &txid, &idx)
	check(t, err)
	h, err := chainhash.NewHashFromStr(txid)
	check(t, err)
	return wire.OutPoint{Hash: *h, Index: idx}
}

// waitSpender waits until a transaction spending op is in btcd's
// mempool and returns it with its fee.
func waitSpender(t *testing.T, nw *harness.Network, op wire.OutPoint) *harness.ChainTx {
	t.Helper()
	c := nw.Btcd().Client()
	var found string
	err := harness.WaitFor(func() error {
		txids, err := c.GetRawMempool()
		if err != nil {
			return err
		}
		for _, h := range txids {
			tx, err := c.GetRawTransaction(h)
			if err != nil {
				continue
			}
			for _, in := range tx.MsgTx().TxIn {
				if in.PreviousOutPoint == op {
					found = h.String()
					return nil
				}
			}
		}
		return fmt.Errorf("no spend of %v in the mempool", op)
	}, harness.SyncTimeout)
	check(t, err)
	tx, err := nw.WaitTx(found)
	check(t, err)
	return tx
}

// forceClose closes point by force from n and returns the commitment
// once it is in the mempool, with the stream that reports its
// confirmation.
func forceClose(t *testing.T, nw *harness.Network, n *harness.Node,
	point string) (*harness.ChainTx, lnrpc.Lightning_CloseChannelClient) {

	t.Helper()
	op := parseOutPoint(t, point)
	stream, err := n.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
		ChannelPoint: &lnrpc.ChannelPoint{
			FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{FundingTxidStr: op.Hash.String()},
			OutputIndex: op.Index},
		Force: true})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	p := up.GetClosePending()
	if p == nil {
		t.Fatalf("first update %v, want close_pending", up)
	}
	txid, err := chainhash.NewHash(p.Txid)
	check(t, err)
	tx, err := nw.WaitTx(txid.String())
	check(t, err)
	return tx, stream
}

// pending returns n's PendingChannels.
func pending(t *testing.T, n *harness.Node) *lnrpc.PendingChannelsResponse {
	t.Helper()
	resp, err := n.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
	check(t, err)
	return resp
}

// waitForceClosing waits until n lists point as force closing with a
// maturity height set.
func waitForceClosing(t *testing.T, n *harness.Node, point string) *lnrpc.PendingChannelsResponse_ForceClosedChannel {
	t.Helper()
	var found *lnrpc.PendingChannelsResponse_ForceClosedChannel
	check(t, harness.WaitFor(func() error {
		for _, c := range pending(t, n).PendingForceClosingChannels {
			if c.Channel.ChannelPoint == point {
				found = c
				return nil
			}
		}
		return fmt.Errorf("%s: %s not force closing", n.Name(), point)
	}, harness.SyncTimeout))
	return found
}

// waitResolved waits until n no longer lists point as pending.
func waitResolved(t *testing.T, n *harness.Node, point string) {
	t.Helper()
	check(t, harness.WaitFor(func() error {
		resp := pending(t, n)
		for _, c := range resp.PendingForceClosingChannels {
			if c.Channel.ChannelPoint == point {
				return fmt.Errorf("%s: %s still force closing (limbo %d)",
					n.Name(), point, c.LimboBalance)
			}
		}
		for _, c := range resp.WaitingCloseChannels {
			if c.Channel.ChannelPoint == point {
				return fmt.Errorf("%s: %s still waiting close", n.Name(), point)
			}
		}
		return nil
	}, harness.SyncTimeout))
}

// commitOutput finds the output of commit paying amt.
func commitOutput(t *testing.T, commit *harness.ChainTx, amt int64) wire.OutPoint {
	t.Helper()
	for i, o := range commit.Tx.TxOut {
		if o.Value == amt {
			return wire.OutPoint{Hash: commit.Tx.TxHash(), Index: uint32(i)}
		}
	}
	t.Fatalf("commitment pays no output of %d", amt)
	return wire.OutPoint{}
}

// confirmedBalance is n's confirmed wallet balance once nothing is
// unconfirmed.
func confirmedBalance(t *testing.T, n *harness.Node) int64 {
	t.Helper()
	var bal int64
	check(t, n.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
		if b.UnconfirmedBalance != 0 {
			return fmt.Errorf("unconfirmed %d", b.UnconfirmedBalance)
		}
		bal = b.ConfirmedBalance
		return nil
	}))
	return bal
}

// TestForceClose: each side of a channel of each type force-closes it;
// the closer's to_local comes back after its CSV delay, the other side's
// to_remote at once (one block with anchors), both through the sweeper,
// and what each wallet gains is its balance less the sweep's fee. The
// closer is killed (kill -9) with its commitment unconfirmed and again
// with its sweep unconfirmed, which it then bumps.
func TestForceClose(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	for _, c := range []struct {
		ct     lnrpc.CommitmentType
		closer string
	}{
		{lnrpc.CommitmentType_ANCHORS, "alice"},
		{lnrpc.CommitmentType_ANCHORS, "bob"},
		{lnrpc.CommitmentType_STATIC_REMOTE_KEY, "alice"},
	} {
		t.Run(fmt.Sprintf("%v by %s", c.ct, c.closer), func(t *testing.T) {
			// The last closer restarted: connect again.
			if p, err := alice.Peer(bob.PubKey()); err != nil || p == nil {
				check(t, nw.ConnectNodes(alice, bob, false))
			}
			point, ac, bc := openActiveBoth(t, nw, alice, bob, c.ct)
			closer, other, cc, oc := alice, bob, ac, bc
			if c.closer == "bob" {
				closer, other, cc, oc = bob, alice, bc, ac
			}
			closerBefore := confirmedBalance(t, closer)
			otherBefore := confirmedBalance(t, other)

			commit, _ := forceClose(t, nw, closer, point)
			toLocal := commitOutput(t, commit, cc.LocalBalance)
			toRemote := commitOutput(t, commit, oc.LocalBalance)
			w := pending(t, closer).WaitingCloseChannels
			if len(w) != 1 || w[0].Channel.ChannelPoint != point ||
				w[0].LimboBalance != cc.LocalBalance ||
				w[0].Commitments.LocalTxid != commit.Tx.TxHash().String() {
				t.Fatalf("waiting close: %v", w)
			}

			// The closer crashes (kill -9) before its commitment
			// confirms.
			closer.Kill()
			check(t, closer.Start())
			_, err := nw.Mine(1)
			check(t, err)

			// The other side takes its to_remote back.
			remoteSweep := waitSpender(t, nw, toRemote)
			fc := waitForceClosing(t, closer, point)
			csv := int32(cc.LocalConstraints.CsvDelay)
			tip, err := nw.TipHeight()
			check(t, err)
			// Limbo holds our anchor too (330 sat), as lnd's does.
			if fc.LimboBalance != cc.LocalBalance+anchorAmount(c.ct) ||
				fc.MaturityHeight != uint32(tip+csv) ||
				fc.BlocksTilMaturity != csv {
				t.Fatalf("force closing: %v (tip %d, csv %d)", fc, tip, csv)
			}
			_, err = nw.Mine(1)
			check(t, err)
			waitResolved(t, other, point)
			if got := confirmedBalance(t, other) - otherBefore; got != oc.LocalBalance-remoteSweep.Fee {
				t.Fatalf("%s gained %d, want %d less a fee of %d", other.Name(), got,
					oc.LocalBalance, remoteSweep.Fee)
			}

			// The closer's to_local after its delay; it restarts
			// with the sweep in the mempool.
			_, err = nw.Mine(int(csv) - 3)
			check(t, err)
			if n, err := nw.MempoolSize(); err != nil || n != 0 {
				t.Fatalf("mempool holds %d before the CSV delay (%v)", n, err)
			}
			_, err = nw.Mine(1)
			check(t, err)
			localSweep := waitSpender(t, nw, toLocal)
			if localSweep.Tx.TxIn[0].Sequence != uint32(csv) {
				t.Fatalf("sweep sequence %d", localSweep.Tx.TxIn[0].Sequence)
			}
			closer.Kill()
			check(t, closer.Start())
			localSweep = bumpSweep(t, nw, closer, toLocal, localSweep, cc.LocalBalance)
			_, err = nw.Mine(1)
			check(t, err)
			waitResolved(t, closer, point)
			if got := confirmedBalance(t, closer) - closerBefore; got != cc.LocalBalance-localSweep.Fee {
				t.Fatalf("%s gained %d, want %d less a fee of %d", closer.Name(), got,
					cc.LocalBalance, localSweep.Fee)
			}
		})
	}
}

// bumpSweep checks that PendingSweeps lists op, has xlncli bump its fee
// to 50 sat/vB, and returns the replacement once it is in the mempool in
// place of sweep; ListSweeps then lists both.
func bumpSweep(t *testing.T, nw *harness.Network, n *harness.Node, op wire.OutPoint,
	sweep *harness.ChainTx, amt int64) *harness.ChainTx {

	t.Helper()
	conn, err := n.Conn(n.AdminMacaroonPath())
	check(t, err)
	kit := walletrpc.NewWalletKitClient(conn)
	ps, err := kit.PendingSweeps(t.Context(), &walletrpc.PendingSweepsRequest{})
	check(t, err)
	p := pendingSweep(ps, op)
	if p == nil || p.AmountSat != uint32(amt) || p.SatPerVbyte == 0 ||
		p.WitnessType != walletrpc.WitnessType_COMMITMENT_TIME_LOCK || p.Budget != uint64(amt/2) {
		t.Fatalf("pending sweeps: %v", ps.PendingSweeps)
	}
	// Immediate: without it the sweeper waits for the next block, as
	// lnd's does.
	_, err = n.CLI(append(n.CLIArgs(), "wallet", "bumpfee", "--sat_per_vbyte", "50",
		"--immediate", op.String())...)
	check(t, err)
	var bumped *harness.ChainTx
	check(t, harness.WaitFor(func() error {
		b := waitSpender(t, nw, op)
		if b.Tx.TxHash() == sweep.Tx.TxHash() {
			return fmt.Errorf("sweep %v not replaced yet", b.Tx.TxHash())
		}
		bumped = b
		return nil
	}, harness.SyncTimeout))
	if bumped.FeeRate() < 49.5 || bumped.Fee <= sweep.Fee {
		t.Fatalf("bumped sweep pays %d (%.1f sat/vB), first %d", bumped.Fee, bumped.FeeRate(), sweep.Fee)
	}
	ls, err := kit.ListSweeps(t.Context(), &walletrpc.ListSweepsRequest{})
	check(t, err)
	ids := strings.Join(ls.GetTransactionIds().TransactionIds, " ")
	if !strings.Contains(ids, sweep.Tx.TxHash().String()) || !strings.Contains(ids, bumped.Tx.TxHash().String()) {
		t.Fatalf("list sweeps: %s", ids)
	}
	return bumped
}

// pendingSweep finds op among PendingSweeps' answer.
func pendingSweep(ps *walletrpc.PendingSweepsResponse, op wire.OutPoint) *walletrpc.PendingSweep {
	for _, p := range ps.PendingSweeps {
		if p.Outpoint.TxidStr == op.Hash.String() && p.Outpoint.OutputIndex == op.Index {
			return p
		}
	}
	return nil
}

// anchorAmount is our anchor's value on a commitment of type ct.
func anchorAmount(ct lnrpc.CommitmentType) int64 {
	if ct == lnrpc.CommitmentType_ANCHORS {
		return 330
	}
	return 0
}
