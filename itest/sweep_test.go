package itest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// mineEmpty mines n blocks holding only their coinbase, so that what
// waits in the mempool stays there: a sweep that does not confirm.
func mineEmpty(t *testing.T, nw *harness.Network, n int) {
	t.Helper()
	c := nw.Btcd().Client()
	for range n {
		tip, height, err := c.GetBestBlock()
		check(t, err)
		hdr, err := c.GetBlockHeader(tip)
		check(t, err)
		sig, err := txscript.NewScriptBuilder().AddInt64(int64(height) + 1).
			AddInt64(0).Script()
		check(t, err)
		cb := wire.NewMsgTx(1)
		cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
			SignatureScript: sig, Sequence: wire.MaxTxInSequenceNum})
		cb.AddTxOut(wire.NewTxOut(0, []byte{txscript.OP_RETURN}))
		blk := &wire.MsgBlock{Header: wire.BlockHeader{Version: 0x20000000,
			PrevBlock: *tip, MerkleRoot: cb.TxHash(), Bits: hdr.Bits,
			Timestamp: hdr.Timestamp.Add(time.Second)}}
		check(t, blk.AddTransaction(cb))
		target := blockchain.CompactToBig(hdr.Bits)
		for blockchain.HashToBig(ptr(blk.Header.BlockHash())).Cmp(target) > 0 {
			blk.Header.Nonce++
		}
		check(t, c.SubmitBlock(btcutil.NewBlock(blk), nil))
	}
	check(t, nw.WaitSynced())
}

func ptr[T any](v T) *T { return &v }

func pendingSweeps(t *testing.T, n *harness.Node) *walletrpc.PendingSweepsResponse {
	t.Helper()
	ps, err := walletKit(t, n).PendingSweeps(t.Context(), &walletrpc.PendingSweepsRequest{})
	check(t, err)
	return ps
}

// TestSweepBumpDeadline: the peer's force close leaves bob's to_remote
// to sweep; the sweep does not confirm (blocks come without it). Bob
// bumps it with xlncli with a budget and a deadline 3 blocks away: the
// sweep is replaced at the next block, then at every block at a higher
// fee, reaching the budget at the deadline and never passing it, and it
// confirms. Bob's wallet gains his balance less the final fee.
func TestSweepBumpDeadline(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	point, _, bc := openActiveBoth(t, nw, alice, bob, lnrpc.CommitmentType_STATIC_REMOTE_KEY)
	bobBefore := confirmedBalance(t, bob)

	commit, _ := forceClose(t, nw, alice, point)
	toRemote := commitOutput(t, commit, bc.LocalBalance)
	_, err := nw.Mine(1)
	check(t, err)
	first := waitSpender(t, nw, toRemote)
	p := pendingSweep(pendingSweeps(t, bob), toRemote)
	if p == nil || p.Budget != uint64(bc.LocalBalance/2) || p.DeadlineHeight != 0 ||
		p.BroadcastAttempts != 1 || p.SatPerVbyte == 0 {
		t.Fatalf("pending sweep %v", p)
	}

	const budget = 20_000
	tip, err := nw.TipHeight()
	check(t, err)
	out, err := bob.CLI(append(bob.CLIArgs(), "wallet", "bumpfee", "--budget",
		fmt.Sprint(budget), "--deadline_delta", "3", toRemote.String())...)
	check(t, err)
	t.Logf("bumpfee: %s", out)
	p = pendingSweep(pendingSweeps(t, bob), toRemote)
	if p == nil || p.Budget != budget || p.DeadlineHeight != uint32(tip+3) || p.Immediate {
		t.Fatalf("pending sweep after bumpfee %v", p)
	}
	// A deadline without a budget is refused, saying what to add.
	if out, err := bob.CLI(append(bob.CLIArgs(), "wallet", "bumpfee", "--deadline_delta", "3",
		toRemote.String())...); err == nil || !strings.Contains(err.Error(), "InvalidArgument") ||
		!strings.Contains(err.Error(), "budget must be set if deadline_delta is set") {
		t.Fatalf("bumpfee without a budget: %v %s", err, out)
	}

	// Not immediate: the sweep is replaced at the next block, then
	// at each block until the deadline.
	prev := first
	for h := tip + 1; h <= tip+3; h++ {
		mineEmpty(t, nw, 1)
		var next *harness.ChainTx
		check(t, harness.WaitFor(func() error {
			s := waitSpender(t, nw, toRemote)
			if s.Tx.TxHash() == prev.Tx.TxHash() {
				return fmt.Errorf("height %d: sweep %v not replaced", h, s.Tx.TxHash())
			}
			next = s
			return nil
		}, harness.SyncTimeout))
		t.Logf("height %d: fee %d (%.1f sat/vB)", h, next.Fee, next.FeeRate())
		if next.Fee <= prev.Fee || next.Fee > budget {
			t.Fatalf("height %d: fee %d after %d, budget %d", h, next.Fee, prev.Fee, budget)
		}
		prev = next
	}
	if prev.Fee < budget*99/100 {
		t.Fatalf("fee at the deadline %d, budget %d", prev.Fee, budget)
	}
	ps := pendingSweep(pendingSweeps(t, bob), toRemote)
	// The rate is the fee over the weight: within 2 sat/vB of btcd's
	// (which rounds the vsize up) either way.
	if ps == nil || ps.BroadcastAttempts != 4 || math.Abs(float64(ps.SatPerVbyte)-prev.FeeRate()) > 2 {
		t.Fatalf("pending sweep at the deadline %v (last %.1f sat/vB)", ps, prev.FeeRate())
	}
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, bob, point)
	if got := confirmedBalance(t, bob) - bobBefore; got != bc.LocalBalance-prev.Fee {
		t.Fatalf("bob gained %d, want %d less a fee of %d", got, bc.LocalBalance, prev.Fee)
	}
}

// TestSweepAnchor: an anchors channel force-closed by alice. Each side's
// anchor (330 sat) is listed by PendingSweeps and counted in limbo while
// the contract is open; at regtest's fee rate (25 sat/vB) it costs more
// than it brings, so it joins no sweep, and once the rest is swept it is
// left on chain: both channels resolve without it. What both wallets
// gain is the channel less the commitment's fee, the two sweeps' fees
// and the two anchors, which stay unspent.
func TestSweepAnchor(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	point, ac, bc := openActiveBoth(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	aliceBefore := confirmedBalance(t, alice)
	bobBefore := confirmedBalance(t, bob)

	commit, _ := forceClose(t, nw, alice, point)
	toLocal := commitOutput(t, commit, ac.LocalBalance)
	toRemote := commitOutput(t, commit, bc.LocalBalance)
	var anchors []wire.OutPoint
	var outSum int64
	for i, o := range commit.Tx.TxOut {
		outSum += o.Value
		if o.Value == 330 {
			anchors = append(anchors, wire.OutPoint{Hash: commit.Tx.TxHash(), Index: uint32(i)})
		}
	}
	if len(anchors) != 2 {
		t.Fatalf("commitment has %d anchors", len(anchors))
	}
	_, err := nw.Mine(1)
	check(t, err)
	bobSweep := waitSpender(t, nw, toRemote)
	if len(bobSweep.Tx.TxIn) != 1 {
		t.Fatalf("bob's sweep spends %d inputs: the anchor is not worth its fee here",
			len(bobSweep.Tx.TxIn))
	}
	// Each side lists its own anchor.
	for _, n := range []*harness.Node{alice, bob} {
		var found *walletrpc.PendingSweep
		for _, a := range anchors {
			if p := pendingSweep(pendingSweeps(t, n), a); p != nil {
				found = p
			}
		}
		if found == nil || found.AmountSat != 330 || found.Budget != 330 ||
			found.WitnessType != walletrpc.WitnessType_COMMITMENT_ANCHOR {
			t.Fatalf("%s's anchor sweep: %v", n.Name(), found)
		}
	}
	if fc := waitForceClosing(t, alice, point); fc.LimboBalance != ac.LocalBalance+330 {
		t.Fatalf("alice's limbo %d, want to_local %d and the anchor", fc.LimboBalance, ac.LocalBalance)
	}

	// Bob's sweep confirms: only his anchor is left, and left on chain.
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, bob, point)

	csv := int(ac.LocalConstraints.CsvDelay)
	_, err = nw.Mine(csv - 2)
	check(t, err)
	aliceSweep := waitSpender(t, nw, toLocal)
	if len(aliceSweep.Tx.TxIn) != 1 {
		t.Fatalf("alice's sweep spends %d inputs", len(aliceSweep.Tx.TxIn))
	}
	_, err = nw.Mine(1)
	check(t, err)
	waitResolved(t, alice, point)
	for _, n := range []*harness.Node{alice, bob} {
		if ps := pendingSweeps(t, n); len(ps.PendingSweeps) != 0 {
			t.Fatalf("%s still sweeps %v", n.Name(), ps.PendingSweeps)
		}
	}
	for _, a := range anchors {
		utxo, err := nw.Btcd().Client().GetTxOut(&a.Hash, a.Index, false)
		check(t, err)
		if utxo == nil {
			t.Fatalf("anchor %v was spent", a)
		}
	}
	// ClosedChannels says what became of each: the balance claimed by
	// its sweep, the anchor abandoned.
	for _, c := range []struct {
		n     *harness.Node
		sweep *harness.ChainTx
		typ   lnrpc.ChannelCloseSummary_ClosureType
	}{
		{alice, aliceSweep, lnrpc.ChannelCloseSummary_LOCAL_FORCE_CLOSE},
		{bob, bobSweep, lnrpc.ChannelCloseSummary_REMOTE_FORCE_CLOSE},
	} {
		cl, err := c.n.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{})
		check(t, err)
		if len(cl.Channels) != 1 || cl.Channels[0].CloseType != c.typ {
			t.Fatalf("%s: closed channels %v", c.n.Name(), cl.Channels)
		}
		got := map[lnrpc.ResolutionType]*lnrpc.Resolution{}
		for _, r := range cl.Channels[0].Resolutions {
			got[r.ResolutionType] = r
		}
		commitRes, anchorRes := got[lnrpc.ResolutionType_COMMIT], got[lnrpc.ResolutionType_ANCHOR]
		if len(got) != 2 || commitRes.Outcome != lnrpc.ResolutionOutcome_CLAIMED ||
			commitRes.SweepTxid != c.sweep.Tx.TxHash().String() ||
			anchorRes.Outcome != lnrpc.ResolutionOutcome_ABANDONED || anchorRes.AmountSat != 330 {
			t.Fatalf("%s: resolutions %v", c.n.Name(), cl.Channels[0].Resolutions)
		}
	}
	aliceGain := confirmedBalance(t, alice) - aliceBefore
	bobGain := confirmedBalance(t, bob) - bobBefore
	if aliceGain != ac.LocalBalance-aliceSweep.Fee || bobGain != bc.LocalBalance-bobSweep.Fee {
		t.Fatalf("alice gained %d (to_local %d, fee %d), bob %d (to_remote %d, fee %d)",
			aliceGain, ac.LocalBalance, aliceSweep.Fee, bobGain, bc.LocalBalance, bobSweep.Fee)
	}
	commitFee := chanCap - outSum
	if aliceGain+bobGain+aliceSweep.Fee+bobSweep.Fee+commitFee+660 != chanCap {
		t.Fatalf("not conserved: gains %d + %d, sweep fees %d + %d, commitment fee %d, "+
			"anchors 660; channel %d", aliceGain, bobGain, aliceSweep.Fee, bobSweep.Fee,
			commitFee, chanCap)
	}
}
