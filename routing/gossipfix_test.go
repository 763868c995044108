package routing

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// Fixtures for the gossip tests: real secp256k1 keys and signatures, and
// a chain of blocks in memory (fakeChain, this package's stand-in for the
// chain backend).

var testChain = *chaincfg.RegressionNetParams.GenesisHash

func testKey(t testing.TB, b byte) *btcec.PrivateKey {
	t.Helper()
	var k [32]byte
	k[0], k[31] = 0x42, b
	priv, _ := btcec.PrivKeyFromBytes(k[:])
	return priv
}

func raw33(k *btcec.PrivateKey) (r [33]byte) {
	copy(r[:], k.PubKey().SerializeCompressed())
	return r
}

func sign(t testing.TB, k *btcec.PrivateKey, data []byte) lnwire.Sig {
	t.Helper()
	s, err := lnwire.NewSigFromSignature(ecdsa.Sign(k, chainhash.DoubleHashB(data)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeChain is a best chain of blocks with a UTXO set.
type fakeChain struct {
	mu     sync.Mutex
	blocks []*wire.MsgBlock
	spent  map[wire.OutPoint]bool
}

func newFakeChain() *fakeChain {
	c := &fakeChain{spent: make(map[wire.OutPoint]bool)}
	c.mine() // genesis
	return c
}

// mine appends a block holding txs (after a coinbase) and returns its
// height.
func (c *fakeChain) mine(txs ...*wire.MsgTx) int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	cb := wire.NewMsgTx(2)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: ^uint32(0)},
		SignatureScript: []byte{byte(len(c.blocks)), 1, 2}})
	cb.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	b := &wire.MsgBlock{Transactions: append([]*wire.MsgTx{cb}, txs...)}
	if n := len(c.blocks); n > 0 {
		b.Header.PrevBlock = c.blocks[n-1].BlockHash()
	}
	b.Header.Nonce = uint32(len(c.blocks))
	c.blocks = append(c.blocks, b)
	for _, tx := range txs {
		for _, in := range tx.TxIn {
			c.spent[in.PreviousOutPoint] = true
		}
	}
	return int32(len(c.blocks) - 1)
}

func (c *fakeChain) BestBlock(context.Context) (chainhash.Hash, int32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.blocks) - 1
	return c.blocks[n].BlockHash(), int32(n), nil
}

func (c *fakeChain) BlockHash(_ context.Context, h int32) (chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h < 0 || int(h) >= len(c.blocks) {
		return chainhash.Hash{}, chain.ErrBlockNotFound
	}
	return c.blocks[h].BlockHash(), nil
}

func (c *fakeChain) Block(_ context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.blocks {
		if b.BlockHash() == hash {
			return b, nil
		}
	}
	return nil, chain.ErrBlockNotFound
}

func (c *fakeChain) UnspentOutput(_ context.Context, op wire.OutPoint, _ bool) (*wire.TxOut, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spent[op] {
		return nil, nil
	}
	for _, b := range c.blocks {
		for _, tx := range b.Transactions {
			if tx.TxHash() == op.Hash && int(op.Index) < len(tx.TxOut) {
				return tx.TxOut[op.Index], nil
			}
		}
	}
	return nil, nil
}

// testChannel is a channel between two nodes with real keys, funded in a
// block of a fakeChain.
type testChannel struct {
	node1, node2, btc1, btc2 *btcec.PrivateKey
	ann                      *lnwire.ChannelAnnouncement
	fundingTx                *wire.MsgTx
	capacity                 int64
}

// fundChannel mines a funding transaction paying the 2-of-2 of two
// bitcoin keys and returns the signed announcement of the channel
// between nodes a and b (seeds of their keys).
func fundChannel(t testing.TB, c *fakeChain, a, b byte, capacity int64) *testChannel {
	t.Helper()
	tc := &testChannel{node1: testKey(t, a), node2: testKey(t, b),
		btc1: testKey(t, a+100), btc2: testKey(t, b+100), capacity: capacity}
	if k1, k2 := raw33(tc.node1), raw33(tc.node2); bytes.Compare(k1[:], k2[:]) > 0 {
		tc.node1, tc.node2 = tc.node2, tc.node1
		tc.btc1, tc.btc2 = tc.btc2, tc.btc1
	}
	_, pk, err := lnwallet.FundingScript(tc.btc1.PubKey(), tc.btc2.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{a, b, 7}}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
	tx.AddTxOut(wire.NewTxOut(capacity, pk))
	h := c.mine(tx)
	tc.fundingTx = tx
	tc.ann = &lnwire.ChannelAnnouncement{
		Features:       lnwire.NewRawFeatureVector(),
		ChainHash:      testChain,
		ShortChannelID: lnwire.ShortChannelID{BlockHeight: uint32(h), TxIndex: 1, TxPosition: 1},
		NodeID1:        raw33(tc.node1), NodeID2: raw33(tc.node2),
		BitcoinKey1: raw33(tc.btc1), BitcoinKey2: raw33(tc.btc2),
	}
	tc.signAnn(t)
	return tc
}

func (tc *testChannel) signAnn(t testing.TB) {
	data, err := tc.ann.DataToSign()
	if err != nil {
		t.Fatal(err)
	}
	tc.ann.NodeSig1 = sign(t, tc.node1, data)
	tc.ann.NodeSig2 = sign(t, tc.node2, data)
	tc.ann.BitcoinSig1 = sign(t, tc.btc1, data)
	tc.ann.BitcoinSig2 = sign(t, tc.btc2, data)
}

func (tc *testChannel) chanPoint() wire.OutPoint {
	return wire.OutPoint{Hash: tc.fundingTx.TxHash(), Index: 1}
}

// update returns a signed channel_update of direction dir.
func (tc *testChannel) update(t testing.TB, dir int, ts uint32, feeBase uint32) *lnwire.ChannelUpdate {
	t.Helper()
	u := &lnwire.ChannelUpdate{
		ChainHash:       testChain,
		ShortChannelID:  tc.ann.ShortChannelID,
		Timestamp:       ts,
		MessageFlags:    lnwire.MsgFlagMustBeOne,
		ChannelFlags:    lnwire.ChanUpdateChanFlags(dir),
		TimeLockDelta:   40,
		HtlcMinimumMsat: 1000,
		BaseFee:         feeBase,
		FeeRate:         100,
		HtlcMaximumMsat: lnwire.MilliSatoshi(tc.capacity * 1000 / 2),
	}
	resign(t, u, []*btcec.PrivateKey{tc.node1, tc.node2}[dir])
	return u
}

func resign(t testing.TB, u *lnwire.ChannelUpdate, k *btcec.PrivateKey) {
	data, err := u.DataToSign()
	if err != nil {
		t.Fatal(err)
	}
	u.Signature = sign(t, k, data)
}

// nodeAnn returns a signed node_announcement of key k.
func nodeAnn(t testing.TB, k *btcec.PrivateKey, ts uint32, alias string) *lnwire.NodeAnnouncement {
	t.Helper()
	al, _ := lnwire.NewNodeAlias(alias)
	a := &lnwire.NodeAnnouncement{
		Features:  lnwire.NewRawFeatureVector(lnwire.GossipQueriesOptional),
		Timestamp: ts, NodeID: raw33(k), RGBColor: lnwire.RGB{1, 2, 3}, Alias: al,
	}
	data, err := a.DataToSign()
	if err != nil {
		t.Fatal(err)
	}
	a.Signature = sign(t, k, data)
	return a
}

// openTestGraph opens a channel graph over a new database file.
func openTestGraph(t testing.TB) (*ChannelGraph, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "graph.db")
	db, err := channeldb.Open(path, channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g, err := OpenChannelGraph(db)
	if err != nil {
		t.Fatal(err)
	}
	return g, path
}
