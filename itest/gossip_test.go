package itest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/itest/harness"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

func gossipSign(t *testing.T, k *btcec.PrivateKey, data []byte) lnwire.Sig {
	t.Helper()
	s, err := lnwire.NewSigFromSignature(ecdsa.Sign(k, chainhash.DoubleHashB(data)))
	check(t, err)
	return s
}

func raw33(k *btcec.PrivateKey) (r [33]byte) {
	copy(r[:], k.PubKey().SerializeCompressed())
	return r
}

// TestGossipFromRawPeer funds a real 2-of-2 output on the regtest chain,
// then hands xlnd, over a raw BOLT 8 connection, the channel's signed
// channel_announcement (after a forged one), both channel_updates and a
// node_announcement. DescribeGraph shows the channel with both policies
// and the node; a restart keeps them; spending the funding output on
// chain removes the channel.
func TestGossipFromRawPeer(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node := startNode(t, nw, "alice", "--trickledelay=100")
	btcd := nw.Btcd()

	keys := make([]*btcec.PrivateKey, 4) // node 1, node 2, bitcoin 1, bitcoin 2
	for i := range keys {
		k, err := btcec.NewPrivateKey()
		check(t, err)
		keys[i] = k
	}
	if n1, n2 := raw33(keys[0]), raw33(keys[1]); bytes.Compare(n1[:], n2[:]) > 0 {
		keys[0], keys[1] = keys[1], keys[0]
	}
	witnessScript, pkScript, err := lnwallet.FundingScript(keys[2].PubKey(), keys[3].PubKey())
	check(t, err)
	const capacity = 500_000
	fundingTx, err := btcd.SendTo(pkScript, capacity)
	check(t, err)
	hashes, err := nw.Mine(6)
	check(t, err)
	block, err := btcd.Client().GetBlock(&hashes[0])
	check(t, err)
	_, height := btcd.BestBlock()
	height -= 5
	var scid lnwire.ShortChannelID
	for i, tx := range block.Transactions {
		if tx.TxHash() == fundingTx.TxHash() {
			for j, out := range tx.TxOut {
				if bytes.Equal(out.PkScript, pkScript) {
					scid = lnwire.ShortChannelID{BlockHeight: uint32(height), TxIndex: uint32(i), TxPosition: uint16(j)}
				}
			}
		}
	}
	if scid.BlockHeight == 0 {
		t.Fatal("funding transaction not in the first mined block")
	}
	check(t, node.WaitHeight(height+5))

	ann := &lnwire.ChannelAnnouncement{
		Features: lnwire.NewRawFeatureVector(), ChainHash: regtestChain(), ShortChannelID: scid,
		NodeID1: raw33(keys[0]), NodeID2: raw33(keys[1]), BitcoinKey1: raw33(keys[2]), BitcoinKey2: raw33(keys[3]),
	}
	data, err := ann.DataToSign()
	check(t, err)
	ann.NodeSig1, ann.NodeSig2 = gossipSign(t, keys[0], data), gossipSign(t, keys[1], data)
	ann.BitcoinSig1, ann.BitcoinSig2 = gossipSign(t, keys[2], data), gossipSign(t, keys[3], data)
	forged := *ann
	forged.BitcoinSig2 = forged.BitcoinSig1

	ts := uint32(time.Now().Unix())
	update := func(dir int, fee uint32) *lnwire.ChannelUpdate {
		u := &lnwire.ChannelUpdate{ChainHash: regtestChain(), ShortChannelID: scid, Timestamp: ts,
			MessageFlags: lnwire.MsgFlagMustBeOne, ChannelFlags: lnwire.ChanUpdateChanFlags(dir),
			TimeLockDelta: 40, HtlcMinimumMsat: 1000, BaseFee: fee, FeeRate: 10,
			HtlcMaximumMsat: capacity * 1000 / 2}
		d, err := u.DataToSign()
		check(t, err)
		u.Signature = gossipSign(t, keys[dir], d)
		return u
	}
	alias, _ := lnwire.NewNodeAlias("raw-node-1")
	nodeAnn := &lnwire.NodeAnnouncement{Features: lnwire.NewRawFeatureVector(), Timestamp: ts,
		NodeID: raw33(keys[0]), RGBColor: lnwire.RGB{0xab, 0xcd, 0xef}, Alias: alias}
	d, err := nodeAnn.DataToSign()
	check(t, err)
	nodeAnn.Signature = gossipSign(t, keys[0], d)

	p := dialRaw(t, node)
	p.send(&lnwire.Init{GlobalFeatures: lnwire.NewRawFeatureVector(),
		Features: lnwire.NewRawFeatureVector(append(xlndRequired, lnwire.GossipQueriesOptional)...),
		Networks: []chainhash.Hash{regtestChain()}})
	_, err = p.next(func(m lnwire.Message) bool { _, ok := m.(*lnwire.Init); return ok })
	check(t, err)
	check(t, node.WaitPeer(p.pub))
	for _, m := range []lnwire.Message{&forged, ann, update(0, 1000), update(1, 2000), nodeAnn} {
		p.send(m)
	}

	ctx := context.Background()
	describe := func() (*lnrpc.ChannelGraph, error) {
		c, cancel := context.WithTimeout(ctx, harness.SyncTimeout)
		defer cancel()
		return node.RPC.DescribeGraph(c, &lnrpc.ChannelGraphRequest{})
	}
	checkGraph := func() error {
		g, err := describe()
		if err != nil {
			return err
		}
		if len(g.Edges) != 1 {
			return fmt.Errorf("%d edges", len(g.Edges))
		}
		e := g.Edges[0]
		switch {
		case e.ChannelId != scid.ToUint64() || e.Capacity != capacity:
			return fmt.Errorf("edge %v", e)
		case e.ChanPoint != (wire.OutPoint{Hash: fundingTx.TxHash(), Index: uint32(scid.TxPosition)}).String():
			return fmt.Errorf("chan point %s", e.ChanPoint)
		case e.Node1Policy == nil || e.Node2Policy == nil:
			return errors.New("a policy is missing")
		case e.Node1Policy.FeeBaseMsat != 1000 || e.Node2Policy.FeeBaseMsat != 2000 ||
			e.Node2Policy.MaxHtlcMsat != capacity*1000/2 || e.Node1Policy.TimeLockDelta != 40:
			return fmt.Errorf("policies %v %v", e.Node1Policy, e.Node2Policy)
		}
		for _, n := range g.Nodes {
			if n.PubKey == hex.EncodeToString(nodeAnn.NodeID[:]) && n.Alias == "raw-node-1" && n.Color == "#abcdef" {
				return nil
			}
		}
		return fmt.Errorf("node announcement missing: %v", g.Nodes)
	}
	check(t, harness.WaitFor(checkGraph, harness.SyncTimeout))
	_, err = node.WaitLogLine(harness.SyncTimeout, "Bad gossip dropped", "bad signature")
	check(t, err)

	// QueryProbability scores a direction of the channel as lnd does: the
	// a priori 0.6 for an amount it can carry (far below the capacity),
	// 0 above its htlc_maximum_msat.
	n1, n2 := raw33(keys[0]), raw33(keys[1])
	if p := queryProb(t, node, n1, n2, 10_000); p != 0.6 {
		t.Fatalf("queryprob over the channel: %v", p)
	}
	if p := queryProb(t, node, n2, n1, capacity*1000/2+1); p != 0 {
		t.Fatalf("queryprob above htlc_maximum_msat: %v", p)
	}

	// A restart keeps the graph.
	check(t, node.Stop())
	check(t, node.Start())
	check(t, harness.WaitFor(checkGraph, harness.SyncTimeout))

	// Spending the funding output closes the channel.
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: fundingTx.TxHash(), Index: uint32(scid.TxPosition)}, nil, nil))
	spend.AddTxOut(wire.NewTxOut(capacity-10_000, pkScript))
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, capacity)
	hashCache := txscript.NewTxSigHashes(spend, fetcher)
	witness := wire.TxWitness{nil}
	sigKeys := []*btcec.PrivateKey{keys[2], keys[3]}
	if b1, b2 := raw33(keys[2]), raw33(keys[3]); bytes.Compare(b1[:], b2[:]) > 0 {
		sigKeys[0], sigKeys[1] = sigKeys[1], sigKeys[0]
	}
	for _, k := range sigKeys {
		sig, err := txscript.RawTxInWitnessSignature(spend, hashCache, 0, capacity, witnessScript, txscript.SigHashAll, k)
		check(t, err)
		witness = append(witness, sig)
	}
	spend.TxIn[0].Witness = append(witness, witnessScript)
	_, err = btcd.Client().SendRawTransaction(spend, true)
	check(t, err)
	_, err = nw.Mine(1)
	check(t, err)
	check(t, harness.WaitFor(func() error {
		g, err := describe()
		if err != nil {
			return err
		}
		if len(g.Edges) != 0 {
			return fmt.Errorf("%d edges after the close", len(g.Edges))
		}
		return nil
	}, harness.SyncTimeout))
	if p := queryProb(t, node, n1, n2, 10_000); p != 0 {
		t.Fatalf("queryprob after the close: %v", p)
	}
}

// queryProb is routerrpc QueryProbability's answer on node.
func queryProb(t *testing.T, node *harness.Node, from, to [33]byte, amtMsat int64) float64 {
	t.Helper()
	conn, err := node.Conn(node.ReadOnlyMacaroonPath())
	check(t, err)
	resp, err := routerrpc.NewRouterClient(conn).QueryProbability(t.Context(),
		&routerrpc.QueryProbabilityRequest{FromNode: from[:], ToNode: to[:], AmtMsat: amtMsat})
	check(t, err)
	return resp.Probability
}
