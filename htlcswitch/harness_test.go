package htlcswitch

import (
	"context"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// Test harness: two nodes of one channel, each with a real bbolt channel
// database, whose links talk over in-memory connections.

const capacity = btcutil.Amount(1_000_000)

// node is one test node: its identity, its database file, its switch and
// invoice registry, and its sides (one per channel).
type node struct {
	t      testing.TB
	name   string
	idKey  *btcec.PrivateKey
	path   string
	db     *channeldb.DB
	sw     *Switch
	reg    *invoices.Registry
	height atomic.Uint32
	sides  []*side

	// batchDelay overrides the link's batch timer (0: default).
	batchDelay time.Duration

	// feeEstimate is the switch's Config.FeeEstimate, checked every
	// feeInterval.
	feeEstimate func() (chainfee.SatPerKWeight, error)
	feeInterval time.Duration

	// noSync opens the database without fsync.
	noSync bool

	// writes counts the database's read-write transactions (each an
	// fsync unless noSync), for the benchmarks.
	writes atomic.Int64

	// chanUpdate is the switch's Config.ChannelUpdate.
	chanUpdate func(lnwire.ShortChannelID) (*lnwire.ChannelUpdate, error)
}

// side is a node's end of one test channel: its channel keys, the
// channel and its running link.
type side struct {
	*node
	signer *lnwallet.PrivKeySigner
	seed   [32]byte
	cfg    channeldb.ChannelConfig
	op     wire.OutPoint
	scid   lnwire.ShortChannelID
	link   *Link

	// maxDust is the state machine's dust exposure bound (0: default).
	maxDust uint64

	// aliasOnly builds the link as of an option_scid_alias channel type.
	aliasOnly bool
}

func key(r *rand.Rand) *btcec.PrivateKey {
	var b [32]byte
	r.Read(b[:])
	k, _ := btcec.PrivKeyFromBytes(b[:])
	return k
}

func newSide(t testing.TB, r *rand.Rand, name string) *side {
	n := &node{t: t, name: name, idKey: key(r),
		path: filepath.Join(t.TempDir(), "channel.db")}
	n.height.Store(testHeight)
	return n.newSide(r)
}

// newSide makes the node's end of another channel, with fresh keys.
func (n *node) newSide(r *rand.Rand) *side {
	keys := make([]*btcec.PrivateKey, 5)
	for i := range keys {
		keys[i] = key(r)
	}
	s := &side{node: n, signer: lnwallet.NewPrivKeySigner(keys...)}
	n.sides = append(n.sides, s)
	r.Read(s.seed[:])
	s.cfg = channeldb.ChannelConfig{
		ChannelConstraints: channeldb.ChannelConstraints{
			DustLimit: 354, ChanReserve: capacity / 100,
			HtlcMinimumMsat: 1, MaxHtlcValueInFlightMsat: uint64(capacity) * 1000,
			MaxAcceptedHtlcs: 483, CsvDelay: 144,
		},
		FundingKey:              keys[0].PubKey(),
		RevocationBasePoint:     keys[1].PubKey(),
		PaymentBasePoint:        keys[2].PubKey(),
		DelayedPaymentBasePoint: keys[3].PubKey(),
		HtlcBasePoint:           keys[4].PubKey(),
	}
	return s
}

func (s *side) secrets() *shachain.Producer { return shachain.NewProducer(s.seed) }

func (s *side) point(n uint64) *btcec.PublicKey {
	secret, err := s.secrets().ForCommitment(n)
	if err != nil {
		s.t.Fatal(err)
	}
	return lnwallet.CommitPoint(secret)
}

// newChannel builds both records of a new channel opened by a, each
// commitment 0 signed by the other side (what funding_created and
// funding_signed do), and stores each in its side's database.
func newChannel(t testing.TB) (a, b *side) {
	return newChannelSync(t, true)
}

// newChannelSync is newChannel with fsync on or off (off: for fuzzing,
// where nothing is restarted).
func newChannelSync(t testing.TB, sync bool) (a, b *side) {
	r := rand.New(rand.NewSource(7))
	a, b = newSide(t, r, "alice"), newSide(t, r, "bob")
	a.noSync, b.noSync = !sync, !sync
	openChannel(t, r, a, b)
	return a, b
}

// newLine builds alice -- bob -- carol: bob's sides are ba (to alice)
// and bc (to carol), each channel opened by its left node.
func newLine(t testing.TB) (a, ba, bc, c *side) {
	r := rand.New(rand.NewSource(8))
	a, ba = newSide(t, r, "alice"), newSide(t, r, "bob")
	openChannel(t, r, a, ba)
	bc = ba.node.newSide(r)
	c = newSide(t, r, "carol")
	openChannel(t, r, bc, c)
	return a, ba, bc, c
}

// openChannel opens a channel from a to b, in their databases.
func openChannel(t testing.TB, r *rand.Rand, a, b *side) {
	var op wire.OutPoint
	r.Read(op.Hash[:])
	scid := lnwire.NewShortChanIDFromInt(r.Uint64())
	mk := func(me, them *side, opener bool, local, remote uint64) *channeldb.OpenChannel {
		commit := channeldb.ChannelCommitment{LocalBalanceMsat: local,
			RemoteBalanceMsat: remote, FeeRate: 2500}
		return &channeldb.OpenChannel{
			FundingOutpoint: op, Capacity: capacity,
			ChanType:    uint8(lnwallet.ChannelTypeStaticRemoteKey),
			IsInitiator: opener, ShortChannelID: scid,
			RemoteNode:  them.idKey.PubKey(),
			LocalConfig: me.cfg, RemoteConfig: them.cfg,
			LocalCommit: commit, RemoteCommit: commit,
			RemoteCurrentPoint: them.point(0), RemoteNextPoint: them.point(1),
			RevocationStore: shachain.NewStore(),
		}
	}
	total := uint64(capacity) * 1000
	sa := mk(a, b, true, total-100_000_000, 100_000_000)
	sb := mk(b, a, false, 100_000_000, total-100_000_000)
	signFirst(t, a, b, sa, sb)
	signFirst(t, b, a, sb, sa)
	for _, x := range []struct {
		s  *side
		st *channeldb.OpenChannel
	}{{a, sa}, {b, sb}} {
		x.s.op = op
		x.s.scid = scid
		if x.s.db == nil {
			x.s.open()
		}
		err := x.s.db.PersistChannel(context.Background(),
			&channeldb.ChannelUpdate{State: x.st})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func signFirst(t testing.TB, signer, owner *side, signerSt, ownerSt *channeldb.OpenChannel) {
	t.Helper()
	sig, err := lnwallet.SignFirstCommitment(signerSt, signer.signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := lnwallet.ReceiveFirstSignature(ownerSt, owner.secrets(), sig); err != nil {
		t.Fatal(err)
	}
}

// open opens the node's database file.
func (s *node) open() {
	s.t.Helper()
	var opts []kvdb.Option
	if s.noSync {
		opts = append(opts, kvdb.WithNoSync())
	}
	backend, err := kvdb.OpenBolt(s.path, opts...)
	if err != nil {
		s.t.Fatal(err)
	}
	db, err := channeldb.OpenBackend(countingBackend{backend, &s.writes})
	if err != nil {
		s.t.Fatal(err)
	}
	s.db = db
	s.t.Cleanup(func() { _ = db.Close() })
}

// channel resumes the state machine from the stored record, as the
// daemon does at start.
func (s *side) channel() *lnwallet.Channel {
	s.t.Helper()
	st, err := s.db.FetchOpenChannel(s.op)
	if err != nil {
		s.t.Fatal(err)
	}
	ch, err := lnwallet.NewChannel(st, lnwallet.Config{Signer: s.signer,
		Secrets: s.secrets(), MaxDustExposureMsat: s.maxDust})
	if err != nil {
		s.t.Fatal(err)
	}
	return ch
}

// readyMessage is our channel_ready, as funding.ReadyMessage builds it.
func (s *side) readyMessage() (*lnwire.ChannelReady, error) {
	return &lnwire.ChannelReady{ChanID: lnwire.NewChanIDFromOutPoint(s.op),
		NextPerCommitmentPoint: s.point(1)}, nil
}

// testHeight is the chain height the nodes of a test see.
const testHeight = 1000

// startSwitch starts the side's invoice registry and switch over its
// database.
func (s *node) startSwitch() {
	s.t.Helper()
	s.reg = invoices.New(invoices.Config{DB: s.db,
		Net: &chaincfg.RegressionNetParams, Sign: bolt11.KeySigner(s.idKey),
		BestHeight: func() (uint32, error) { return s.height.Load(), nil }})
	mustOK(s.t, s.reg.Start())
	s.sw = New(Config{DB: s.db, NodeKey: sphinx.PrivKeyECDH{Key: s.idKey},
		ExitHop: s.reg, BestHeight: s.height.Load,
		DefaultPolicy: DefaultForwardingPolicy(), BatchDelay: s.batchDelay,
		ChannelUpdate: s.chanUpdate, FeeEstimate: s.feeEstimate,
		FeeUpdateInterval: s.feeInterval})
	mustOK(s.t, s.sw.Start())
	sw, reg := s.sw, s.reg
	s.t.Cleanup(func() { _ = sw.Stop(); _ = reg.Stop() })
}

// startLink runs a link over the stored channel, in the side's switch.
func (s *side) startLink() {
	s.t.Helper()
	if s.sw == nil {
		s.startSwitch()
	}
	s.link = NewLink(LinkConfig{Channel: s.channel(), DB: s.db,
		ReadyMessage: s.readyMessage, AliasOnly: s.aliasOnly})
	if !s.sw.Links().Add(s.link) {
		s.t.Fatal("link added twice")
	}
}

// restart stops the node's switch and its links, closes and reopens the
// database, and starts a new switch and links from the stored records.
func (s *node) restart() {
	s.t.Helper()
	mustOK(s.t, s.sw.Stop())
	mustOK(s.t, s.reg.Stop())
	if err := s.db.Close(); err != nil {
		s.t.Fatal(err)
	}
	s.sw, s.reg = nil, nil
	s.open()
	for _, x := range s.sides {
		if x.link != nil {
			x.startLink()
		}
	}
}

// copyFile copies a database file (taken while its DB is closed).
func copyFile(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// end is one side of an in-memory connection: what its owner sends goes
// to the other side's link, as the peer's read loop would deliver it
// (channel_ready to the funding manager, so only recorded here).
type end struct {
	mu     sync.Mutex
	sent   []lnwire.Message
	closed bool
	remote *Link
	back   *end
}

var errClosed = errors.New("connection closed")

func (e *end) SendMessage(msgs ...lnwire.Message) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return errClosed
	}
	e.sent = append(e.sent, msgs...)
	e.mu.Unlock()
	if e.remote == nil {
		return nil
	}
	for _, m := range msgs {
		switch m.(type) {
		case *lnwire.ChannelReady, *lnwire.Warning, *lnwire.Error:
			continue
		}
		if err := e.remote.HandleMessage(e.back, m); err != nil {
			return err
		}
	}
	return nil
}

// messages returns what was sent on this end.
func (e *end) messages() []lnwire.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]lnwire.Message(nil), e.sent...)
}

// conn is one connection between the two sides: ab is a's end.
type conn struct{ ab, ba *end }

// connect joins a and b; first says whose link hears of it first.
func connect(t testing.TB, a, b *side, aFirst bool) *conn {
	t.Helper()
	ab, ba := &end{remote: b.link}, &end{remote: a.link}
	ab.back, ba.back = ba, ab
	if aFirst {
		mustOK(t, a.link.PeerConnected(ab))
		mustOK(t, b.link.PeerConnected(ba))
	} else {
		mustOK(t, b.link.PeerConnected(ba))
		mustOK(t, a.link.PeerConnected(ab))
	}
	return &conn{ab, ba}
}

func (c *conn) close(t testing.TB, a, b *side) {
	t.Helper()
	for _, e := range []*end{c.ab, c.ba} {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
	}
	mustOK(t, a.link.PeerDisconnected(c.ab))
	mustOK(t, b.link.PeerDisconnected(c.ba))
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually waits for cond, failing after a generous bound (a hang, not
// a speed measure).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits until both links drained their queues and each end sent
// at least n messages.
func settle(t testing.TB, e *end, n int) []lnwire.Message {
	t.Helper()
	eventually(t, "messages", func() bool { return len(e.messages()) >= n })
	return e.messages()
}

// countingBackend counts the read-write transactions of a backend.
type countingBackend struct {
	kvdb.Backend
	n *atomic.Int64
}

func (b countingBackend) Update(f func(tx kvdb.RwTx) error) error {
	b.n.Add(1)
	return b.Backend.Update(f)
}

// Batch counts a call as one transaction (the caller's), whether or not
// it shared its commit.
func (b countingBackend) Batch(f func(tx kvdb.RwTx) error) error {
	b.n.Add(1)
	return b.Backend.Batch(f)
}
