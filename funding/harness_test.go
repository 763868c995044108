package funding

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/wallet"
)

// Fakes for this package's unit tests only: a wallet over in-memory keys
// and coins, a chain whose confirmations and blocks the test drives, and
// a clock. The channel databases are real bbolt files, and the channels
// real lnwallet state machines.

type fakeWallet struct {
	mu        sync.Mutex
	seed      byte
	next      map[wallet.KeyFamily]uint32
	keys      map[[33]byte]*btcec.PrivateKey
	coins     map[wire.OutPoint]btcutil.Amount
	leases    map[wire.OutPoint]wallet.LockID
	published []*wire.MsgTx

	// node, if set, is the node key (family 6, index 0).
	node *btcec.PrivateKey
}

func newFakeWallet(seed byte, coins ...btcutil.Amount) *fakeWallet {
	w := &fakeWallet{seed: seed, next: map[wallet.KeyFamily]uint32{},
		keys: map[[33]byte]*btcec.PrivateKey{}, coins: map[wire.OutPoint]btcutil.Amount{},
		leases: map[wire.OutPoint]wallet.LockID{}}
	for i, c := range coins {
		op := wire.OutPoint{Index: uint32(i)}
		op.Hash[0], op.Hash[1] = seed, 0xcc
		w.coins[op] = c
	}
	return w
}

func (w *fakeWallet) key(loc wallet.KeyLocator) *btcec.PrivateKey {
	var b [9]byte
	b[0] = w.seed
	binary.BigEndian.PutUint32(b[1:], uint32(loc.Family))
	binary.BigEndian.PutUint32(b[5:], loc.Index)
	h := sha256.Sum256(b[:])
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

func (w *fakeWallet) DeriveNextKey(f wallet.KeyFamily) (wallet.KeyDescriptor, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	loc := wallet.KeyLocator{Family: f, Index: w.next[f]}
	w.next[f]++
	k := w.key(loc)
	w.keys[[33]byte(k.PubKey().SerializeCompressed())] = k
	return wallet.KeyDescriptor{KeyLocator: loc, PubKey: k.PubKey()}, nil
}

func (w *fakeWallet) DerivePrivKey(d wallet.KeyDescriptor) (*btcec.PrivateKey, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d.PubKey == nil {
		if d.Family == wallet.KeyFamilyNodeKey && d.Index == 0 && w.node != nil {
			return w.node, nil
		}
		return w.key(d.KeyLocator), nil
	}
	if k, ok := w.keys[[33]byte(d.PubKey.SerializeCompressed())]; ok {
		return k, nil
	}
	return nil, wallet.ErrUnknownKey
}

func (w *fakeWallet) SignDigest(loc wallet.KeyLocator, digest [32]byte) (*ecdsa.Signature, error) {
	k, err := w.DerivePrivKey(wallet.KeyDescriptor{KeyLocator: loc})
	if err != nil {
		return nil, err
	}
	return ecdsa.Sign(k, digest[:]), nil
}

func (w *fakeWallet) SignOutputRaw(tx *wire.MsgTx, d *wallet.SignDescriptor) (*ecdsa.Signature, error) {
	k, err := w.DerivePrivKey(d.KeyDesc)
	if err != nil {
		return nil, err
	}
	return lnwallet.NewPrivKeySigner(k).SignOutputRaw(tx, &lnwallet.SignDescriptor{
		PubKey: k.PubKey(), SingleTweak: d.SingleTweak, DoubleTweak: d.DoubleTweak,
		WitnessScript: d.WitnessScript, Value: btcutil.Amount(d.Output.Value),
		HashType: d.HashType, InputIndex: d.InputIndex,
	})
}

func (w *fakeWallet) Fund(_ context.Context, req wallet.FundRequest) (*wallet.FundedTx, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var need btcutil.Amount
	for _, o := range req.Outputs {
		need += btcutil.Amount(o.Value)
	}
	const fee = 1000
	for op, v := range w.coins {
		if _, leased := w.leases[op]; leased || v < need+fee {
			continue
		}
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
		for _, o := range req.Outputs {
			tx.AddTxOut(wire.NewTxOut(o.Value, append([]byte(nil), o.PkScript...)))
		}
		tx.AddTxOut(wire.NewTxOut(int64(v-need-fee), append([]byte{0, 20}, make([]byte, 20)...)))
		w.leases[op] = req.LockID
		return &wallet.FundedTx{Tx: tx, Inputs: []wallet.Utxo{{OutPoint: op, Value: v}},
			ChangeIndex: len(tx.TxOut) - 1, Fee: fee, LockID: req.LockID}, nil
	}
	return nil, fmt.Errorf("%w: need %v", wallet.ErrInsufficientFunds, need+fee)
}

func (w *fakeWallet) ReleaseOutput(id wallet.LockID, op wire.OutPoint) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if l, ok := w.leases[op]; ok && l == id {
		delete(w.leases, op)
	}
	return nil
}

func (w *fakeWallet) ListLeases() ([]wallet.Lease, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wallet.Lease
	for op, id := range w.leases {
		out = append(out, wallet.Lease{LockID: id, OutPoint: op})
	}
	return out, nil
}

func (w *fakeWallet) numLeases() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.leases)
}

func (w *fakeWallet) SignTx(tx *wire.MsgTx) error {
	for _, in := range tx.TxIn {
		in.Witness = wire.TxWitness{[]byte{1}}
	}
	return nil
}

func (w *fakeWallet) PublishTx(_ context.Context, tx *wire.MsgTx, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, in := range tx.TxIn {
		delete(w.coins, in.PreviousOutPoint)
		delete(w.leases, in.PreviousOutPoint)
	}
	w.published = append(w.published, tx)
	return nil
}

func (w *fakeWallet) lastPublished() *wire.MsgTx {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.published) == 0 {
		return nil
	}
	return w.published[len(w.published)-1]
}

// fakeChain delivers confirmations and blocks when the test says so.
type fakeChain struct {
	mu     sync.Mutex
	height int32
	confs  map[chainhash.Hash][]chan *chain.TxConfirmation
	depths map[chainhash.Hash]uint32
	epochs []chan chain.BlockEvent
}

func newFakeChain() *fakeChain {
	return &fakeChain{height: 100, confs: map[chainhash.Hash][]chan *chain.TxConfirmation{},
		depths: map[chainhash.Hash]uint32{}}
}

func (c *fakeChain) RegisterConfirmations(txid chainhash.Hash, _ []byte,
	n uint32, _ int32) (*chain.ConfirmationEvent, error) {

	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan *chain.TxConfirmation, 1)
	c.confs[txid] = append(c.confs[txid], ch)
	c.depths[txid] = n
	cancel := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		regs := c.confs[txid]
		for i, r := range regs {
			if r == ch {
				c.confs[txid] = append(regs[:i:i], regs[i+1:]...)
				return
			}
		}
	}
	return &chain.ConfirmationEvent{Confirmed: ch, Cancel: cancel}, nil
}

func (c *fakeChain) RegisterBlockEpochs() (*chain.BlockEpochs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan chain.BlockEvent, 4096)
	c.epochs = append(c.epochs, ch)
	return &chain.BlockEpochs{Events: ch, Cancel: func() {}}, nil
}

func (c *fakeChain) BestBlock(context.Context) (chainhash.Hash, int32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return chainhash.Hash{}, c.height, nil
}

func (c *fakeChain) EstimateFeePerKW(context.Context, uint32) (chain.SatPerKWeight, error) {
	return 1000, nil
}

// confirm reports tx at depth to every registration for it.
func (c *fakeChain) confirm(tx *wire.MsgTx, txIndex uint32) {
	c.confirmAs(tx.TxHash(), tx, txIndex)
}

// confirmAs reports tx as the transaction confirmed for txid.
func (c *fakeChain) confirmAs(h chainhash.Hash, tx *wire.MsgTx, txIndex uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.confs[h] {
		ch <- &chain.TxConfirmation{Txid: h, BlockHeight: c.height + 1,
			TxIndex: txIndex, Tx: tx}
	}
	delete(c.confs, h)
}

func (c *fakeChain) registered(txid chainhash.Hash) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.confs[txid])
}

func (c *fakeChain) mine(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		c.height++
		for _, ch := range c.epochs {
			ch <- chain.BlockEvent{Height: c.height}
		}
	}
}

// fakeClock fires After channels when advanced.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, ch)
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		t <- c.now
	}
	c.timers = nil
}

// node is one side: its manager, wallet, database file and what it sent.
type node struct {
	t      testing.TB
	name   string
	key    *btcec.PrivateKey
	w      *fakeWallet
	chain  *fakeChain
	clock  *fakeClock
	dbPath string
	db     *channeldb.DB
	m      *Manager
	feats  *lnwire.FeatureVector
	net    *network
	ready  chan *lnwallet.Channel
	cfgMod func(*Config)
}

// network queues messages between nodes; pump delivers them.
type network struct {
	mu    sync.Mutex
	nodes map[[33]byte]*node
	queue []envelope
	down  bool // drop everything (a disconnection)
}

type envelope struct {
	from, to *node
	msg      lnwire.Message
}

func (n *node) pub() *btcec.PublicKey { return n.key.PubKey() }

func allFeatures() *lnwire.FeatureVector {
	return lnwire.NewFeatureVector(lnwire.NewRawFeatureVector(
		lnwire.StaticRemoteKeyOptional, lnwire.AnchorsZeroFeeHtlcTxOptional,
		lnwire.ChannelTypeOptional, lnwire.ScidAliasOptional,
		lnwire.WumboChannelsOptional))
}

func newNode(t testing.TB, net *network, name string, seed byte,
	c *fakeChain, clk *fakeClock) *node {

	t.Helper()
	return newNodeWith(t, net, name, seed, c, clk, nil)
}

// newNodeWith is newNode with mod applied to every Config it starts with.
func newNodeWith(t testing.TB, net *network, name string, seed byte,
	c *fakeChain, clk *fakeClock, mod func(*Config)) *node {

	t.Helper()
	k, _ := btcec.PrivKeyFromBytes([]byte{seed, 1, 2, 3})
	n := &node{t: t, name: name, key: k, w: newFakeWallet(seed, 5e6, 5e6, 30e6),
		chain: c, clock: clk, dbPath: filepath.Join(t.TempDir(), name+".db"),
		feats: allFeatures(), net: net, ready: make(chan *lnwallet.Channel, 10),
		cfgMod: mod}
	net.mu.Lock()
	net.nodes[[33]byte(k.PubKey().SerializeCompressed())] = n
	net.mu.Unlock()
	n.start()
	t.Cleanup(n.stop)
	return n
}

// start opens the database file and starts a new manager over it.
func (n *node) start() {
	n.t.Helper()
	db, err := channeldb.Open(n.dbPath)
	if err != nil {
		n.t.Fatal(err)
	}
	n.db = db
	cfg := Config{
		ChainHash: *chaincfg.RegressionNetParams.GenesisHash,
		Wallet:    n.w, Chain: n.chain, DB: db,
		SendMessage: func(peer *btcec.PublicKey, msg lnwire.Message) error {
			return n.net.send(n, peer, msg)
		},
		PeerFeatures: func(peer *btcec.PublicKey) (*lnwire.FeatureVector, bool) {
			p := n.net.node(peer)
			if p == nil {
				return nil, false
			}
			return p.feats, true
		},
		LocalFeatures: n.feats,
		ChannelReady:  func(ch *lnwallet.Channel) { n.ready <- ch },
		NumConfs:      func(btcutil.Amount, lnwire.MilliSatoshi) uint32 { return 3 },
		Clock:         n.clock,
	}
	if n.cfgMod != nil {
		n.cfgMod(&cfg)
	}
	if n.m, err = New(cfg); err != nil {
		n.t.Fatal(err)
	}
	if err := n.m.Start(); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) stop() {
	if n.m != nil {
		n.m.Stop()
		n.m = nil
	}
	if n.db != nil {
		n.db.Close()
		n.db = nil
	}
}

// restart stops the manager, closes the file and starts anew from it.
func (n *node) restart() {
	n.stop()
	n.start()
}

func (net *network) node(pub *btcec.PublicKey) *node {
	net.mu.Lock()
	defer net.mu.Unlock()
	return net.nodes[[33]byte(pub.SerializeCompressed())]
}

func (net *network) send(from *node, to *btcec.PublicKey, msg lnwire.Message) error {
	dst := net.node(to)
	net.mu.Lock()
	defer net.mu.Unlock()
	if dst == nil || net.down {
		return errors.New("not connected")
	}
	net.queue = append(net.queue, envelope{from, dst, msg})
	return nil
}

// pump delivers queued messages until none is left, returning them.
func (net *network) pump() []envelope {
	var seen []envelope
	for {
		net.mu.Lock()
		if len(net.queue) == 0 {
			net.mu.Unlock()
			return seen
		}
		e := net.queue[0]
		net.queue = net.queue[1:]
		net.mu.Unlock()
		seen = append(seen, e)
		if e.to.m != nil {
			e.to.m.HandleMessage(e.from.pub(), e.msg)
		}
	}
}

// take removes and returns the queued messages without delivering them.
func (net *network) take() []envelope {
	net.mu.Lock()
	defer net.mu.Unlock()
	q := net.queue
	net.queue = nil
	return q
}

func newPair(t testing.TB) (*network, *node, *node) {
	net := &network{nodes: map[[33]byte]*node{}}
	c := newFakeChain()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return net, newNode(t, net, "alice", 1, c, clk), newNode(t, net, "bob", 2, c, clk)
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
