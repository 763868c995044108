package funding

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// FuzzFundingMessages drives two managers, alice and bob, through an
// opening steered by the fuzz input: the real messages they send each
// other are delivered, dropped, replayed or delivered with fields
// replaced, arbitrary wire bytes are decoded and handed to either side,
// and peers connect and disconnect in between. Every message a manager
// receives went through lnwire's encoding, as from a real connection.
//
// After the sequence: nothing panicked or hung, a node only broadcast a
// funding transaction for which it had received a funding_signed its
// peer really made, no coin stays leased once the peers disconnect, and
// both managers still open a clean channel with a fresh node.
func FuzzFundingMessages(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFunding(t, data)
	})
}

// Fuzz operations, one input byte each (mod fuzzOps), followed by their
// arguments.
const (
	opDeliver    = iota // deliver the next queued message
	opMutate            // deliver it with a field replaced
	opDrop              // drop it
	opRaw               // decode bytes and hand them to a node
	opReplay            // deliver a message seen before, mutated, to either side
	opDisconnect        // a node sees its peer disconnect
	opConnect           // a node sees its peer connect
	opOpen              // a node opens a channel to the other
	opConfirm           // the last funding transaction confirms
	fuzzOps
)

const (
	maxFuzzSteps = 64
	maxFuzzOpens = 3
)

// fuzzInput hands out the fuzz input; zeros once it is used up.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) done() bool { return len(in.b) == 0 }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) bytes(n int) []byte {
	out := make([]byte, n)
	k := copy(out, in.b)
	in.b = in.b[k:]
	return out
}

func (in *fuzzInput) u16() uint16 { return binary.BigEndian.Uint16(in.bytes(2)) }
func (in *fuzzInput) u32() uint32 { return binary.BigEndian.Uint32(in.bytes(4)) }
func (in *fuzzInput) u64() uint64 { return binary.BigEndian.Uint64(in.bytes(8)) }

// key is a valid public key made from fuzz bytes (hashed: zero bytes
// would give the point at infinity, which has no encoding).
func (in *fuzzInput) key() *btcec.PublicKey {
	h := sha256.Sum256(in.bytes(32))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k.PubKey()
}

// amount is a small or a full-range amount: small ones hit the limits.
func (in *fuzzInput) amount() uint64 {
	if in.byte()&1 == 0 {
		return uint64(in.u32())
	}
	return in.u64()
}

func (in *fuzzInput) chanType() *lnwire.RawFeatureVector {
	switch in.byte() % 4 {
	case 0:
		return nil
	case 1:
		return lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired)
	case 2:
		return lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired,
			lnwire.AnchorsZeroFeeHtlcTxRequired)
	default:
		fv, err := lnwire.NewRawFeatureVectorFromBytes(in.bytes(int(in.byte() % 8)))
		if err != nil {
			return nil
		}
		return fv
	}
}

// signedKey identifies a funding_signed.
type signedKey struct {
	id  lnwire.ChannelID
	sig lnwire.Sig
}

// fuzzRun is one fuzzed exchange between alice and bob.
type fuzzRun struct {
	t      *testing.T
	net    *network
	a, b   *node
	in     *fuzzInput
	seen   []envelope
	opens  int
	signed map[signedKey]bool // funding_signed a node made
	valid  map[*node]map[lnwire.ChannelID]bool
}

func fuzzFunding(t *testing.T, data []byte) *fuzzRun {
	net := &network{nodes: map[[33]byte]*node{}}
	c := newFakeChain()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	// Channels that open are dropped: nothing reads them here. Two
	// openings per peer let one flow meet a persisted one.
	noReady := func(cfg *Config) {
		cfg.ChannelReady = func(*lnwallet.Channel) {}
		cfg.MaxPendingPerPeer = 2
	}
	r := &fuzzRun{t: t, net: net, in: &fuzzInput{data},
		a:      newNodeWith(t, net, "alice", 1, c, clk, noReady),
		b:      newNodeWith(t, net, "bob", 2, c, clk, noReady),
		signed: map[signedKey]bool{},
		valid:  map[*node]map[lnwire.ChannelID]bool{},
	}
	for step := 0; step < maxFuzzSteps && !r.in.done(); step++ {
		r.step()
	}
	r.net.take()
	r.checkBroadcasts(r.a)
	r.checkBroadcasts(r.b)
	r.checkPersisted(r.a)
	r.checkPersisted(r.b)

	r.a.m.PeerDisconnected(r.b.pub())
	r.b.m.PeerDisconnected(r.a.pub())
	for _, n := range []*node{r.a, r.b} {
		if l := n.w.numLeases(); l != 0 {
			t.Fatalf("%s: %d coins leased after the peer disconnected", n.name, l)
		}
	}
	r.checkUsable()
	return r
}

// pop takes the next queued message, noting the funding_signed made.
func (r *fuzzRun) pop() (envelope, bool) {
	q := r.net.take()
	if len(q) == 0 {
		return envelope{}, false
	}
	r.net.mu.Lock()
	r.net.queue = append(q[1:], r.net.queue...)
	r.net.mu.Unlock()
	e := q[0]
	if fs, ok := e.msg.(*lnwire.FundingSigned); ok {
		r.signed[signedKey{fs.ChanID, fs.CommitSig}] = true
	}
	r.seen = append(r.seen, e)
	if len(r.seen) > 32 {
		r.seen = r.seen[1:]
	}
	return e, true
}

// pick returns the node the input names and its peer.
func (r *fuzzRun) pick() (*node, *node) {
	if r.in.byte()&1 == 0 {
		return r.a, r.b
	}
	return r.b, r.a
}

func (r *fuzzRun) step() {
	switch r.in.byte() % fuzzOps {
	case opDeliver:
		if e, ok := r.pop(); ok {
			r.deliver(e.from, e.to, e.msg)
		}
	case opMutate:
		if e, ok := r.pop(); ok {
			r.deliver(e.from, e.to, r.mutate(e.msg))
		}
	case opDrop:
		r.pop()
	case opRaw:
		to, from := r.pick()
		msg, err := lnwire.ParseMessage(r.in.bytes(int(r.in.u16() % 1024)))
		if err == nil {
			r.deliver(from, to, msg)
		}
	case opReplay:
		if len(r.seen) > 0 {
			e := r.seen[int(r.in.byte())%len(r.seen)]
			from, to := e.from, e.to
			if r.in.byte()&1 == 1 {
				// Back to its sender: the peer knows our ids.
				from, to = to, from
			}
			r.deliver(from, to, r.mutate(e.msg))
		}
	case opDisconnect:
		n, p := r.pick()
		n.m.PeerDisconnected(p.pub())
	case opConnect:
		n, p := r.pick()
		n.m.PeerConnected(p.pub())
	case opOpen:
		n, p := r.pick()
		if r.opens >= maxFuzzOpens {
			return
		}
		r.opens++
		var ct *lnwallet.ChannelType
		switch r.in.byte() % 3 {
		case 1:
			v := lnwallet.ChannelTypeStaticRemoteKey
			ct = &v
		case 2:
			v := lnwallet.ChannelTypeAnchors
			ct = &v
		}
		// A refusal before anything is sent is a fine outcome.
		_, _, _ = n.m.OpenChannel(context.Background(), OpenRequest{
			Peer: p.pub(), LocalAmt: btcutil.Amount(testCap),
			PushMsat: testPush, ChannelType: ct})
	case opConfirm:
		n, _ := r.pick()
		if tx := n.w.lastPublished(); tx != nil {
			n.chain.confirm(tx, uint32(r.in.byte()))
		}
	}
}

// deliver hands msg to a node the way a connection would: encoded and
// decoded again.
func (r *fuzzRun) deliver(from, to *node, msg lnwire.Message) {
	b, err := lnwire.Serialize(msg)
	if err != nil {
		return
	}
	// A mutation a peer could not send (lnwire refuses to decode it)
	// is left out.
	if msg, err = lnwire.ParseMessage(b); err != nil {
		return
	}
	if fs, ok := msg.(*lnwire.FundingSigned); ok &&
		r.signed[signedKey{fs.ChanID, fs.CommitSig}] {

		if r.valid[to] == nil {
			r.valid[to] = map[lnwire.ChannelID]bool{}
		}
		r.valid[to][fs.ChanID] = true
	}
	to.m.HandleMessage(from.pub(), msg)
}

// mutate returns a copy of msg with one field replaced by fuzz data.
func (r *fuzzRun) mutate(msg lnwire.Message) lnwire.Message {
	in := r.in
	sel := in.byte()
	switch m := msg.(type) {
	case *lnwire.OpenChannel:
		c := *m
		switch sel % 18 {
		case 0:
			c.FundingAmount = btcutil.Amount(in.amount())
		case 1:
			c.PushAmount = lnwire.MilliSatoshi(in.amount())
		case 2:
			c.DustLimit = btcutil.Amount(in.amount())
		case 3:
			c.MaxValueInFlight = lnwire.MilliSatoshi(in.amount())
		case 4:
			c.ChannelReserve = btcutil.Amount(in.amount())
		case 5:
			c.HtlcMinimum = lnwire.MilliSatoshi(in.amount())
		case 6:
			c.FeePerKiloWeight = in.u32()
		case 7:
			c.CsvDelay = in.u16()
		case 8:
			c.MaxAcceptedHTLCs = in.u16()
		case 9:
			c.FundingKey = in.key()
		case 10:
			c.RevocationPoint = in.key()
		case 11:
			c.PaymentPoint = in.key()
		case 12:
			c.FirstCommitmentPoint = in.key()
		case 13:
			copy(c.PendingChannelID[:], in.bytes(32))
		case 14:
			c.ChannelType = in.chanType()
		case 15:
			c.ChannelFlags = lnwire.FundingFlag(in.byte())
		case 16:
			c.UpfrontShutdownScript = in.bytes(int(in.byte() % 40))
		default:
			copy(c.ChainHash[:], in.bytes(32))
		}
		return &c
	case *lnwire.AcceptChannel:
		c := *m
		switch sel % 15 {
		case 0:
			c.DustLimit = btcutil.Amount(in.amount())
		case 1:
			c.MaxValueInFlight = lnwire.MilliSatoshi(in.amount())
		case 2:
			c.ChannelReserve = btcutil.Amount(in.amount())
		case 3:
			c.HtlcMinimum = lnwire.MilliSatoshi(in.amount())
		case 4:
			c.MinAcceptDepth = in.u32()
		case 5:
			c.CsvDelay = in.u16()
		case 6:
			c.MaxAcceptedHTLCs = in.u16()
		case 7:
			c.FundingKey = in.key()
		case 8:
			c.HtlcPoint = in.key()
		case 9:
			c.DelayedPaymentPoint = in.key()
		case 10:
			c.FirstCommitmentPoint = in.key()
		case 11:
			copy(c.PendingChannelID[:], in.bytes(32))
		case 12:
			c.ChannelType = in.chanType()
		case 13:
			c.UpfrontShutdownScript = in.bytes(int(in.byte() % 40))
		default:
			c.FundingKey = m.FirstCommitmentPoint
		}
		return &c
	case *lnwire.FundingCreated:
		c := *m
		switch sel % 5 {
		case 0:
			copy(c.PendingChannelID[:], in.bytes(32))
		case 1:
			copy(c.FundingPoint.Hash[:], in.bytes(32))
		case 2:
			c.FundingPoint.Index = uint32(in.u16())
		case 3:
			copy(c.CommitSig[:], in.bytes(64))
		default:
			c.CommitSig[in.byte()%64] ^= 1 << (in.byte() % 8)
		}
		return &c
	case *lnwire.FundingSigned:
		c := *m
		switch sel % 4 {
		case 0:
			copy(c.ChanID[:], in.bytes(32))
		case 1:
			copy(c.CommitSig[:], in.bytes(64))
		case 2:
			c.CommitSig[in.byte()%64] ^= 1 << (in.byte() % 8)
		default:
			c.ChanID[in.byte()%32] ^= 1 << (in.byte() % 8)
		}
		return &c
	case *lnwire.ChannelReady:
		c := *m
		switch sel % 3 {
		case 0:
			copy(c.ChanID[:], in.bytes(32))
		case 1:
			c.NextPerCommitmentPoint = in.key()
		default:
			scid := lnwire.NewShortChanIDFromInt(in.u64())
			c.AliasScid = &scid
		}
		return &c
	case *lnwire.Error:
		c := *m
		if sel%2 == 0 {
			copy(c.ChanID[:], in.bytes(32))
		} else {
			c.ChanID = lnwire.ChannelID{}
		}
		return &c
	}
	return msg
}

// checkBroadcasts: every funding transaction n published pays a channel
// for which n received a funding_signed its peer made.
func (r *fuzzRun) checkBroadcasts(n *node) {
	n.w.mu.Lock()
	published := append([]*wire.MsgTx(nil), n.w.published...)
	n.w.mu.Unlock()
	for _, tx := range published {
		ok := false
		for i := range tx.TxOut {
			id := lnwire.NewChanIDFromOutPoint(wire.OutPoint{
				Hash: tx.TxHash(), Index: uint32(i)})
			ok = ok || r.valid[n][id]
		}
		if !ok {
			r.t.Fatalf("%s broadcast %v without a valid funding_signed",
				n.name, tx.TxHash())
		}
	}
}

// checkPersisted: every channel the manager holds as pending has its
// pending record on disk, so that it is resumed after a restart.
func (r *fuzzRun) checkPersisted(n *node) {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	var recs []*channeldb.PendingChannel
	err := n.db.View(func(tx kvdb.RTx) error {
		var err error
		recs, err = channeldb.ListPendingChannels(tx)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	onDisk := map[wire.OutPoint]bool{}
	for _, rec := range recs {
		if rec.ChanPoint != nil {
			onDisk[*rec.ChanPoint] = true
		}
	}
	for op := range n.m.pending {
		if !onDisk[op] {
			r.t.Fatalf("%s: pending channel %v has no record on disk", n.name, op)
		}
	}
}

// checkUsable opens a clean channel from alice to a fresh node and from
// that node to bob.
func (r *fuzzRun) checkUsable() {
	t := r.t
	carol := newNode(t, r.net, "carol", 3, r.a.chain, r.a.clock)
	for _, p := range [][2]*node{{r.a, carol}, {carol, r.b}} {
		from, to := p[0], p[1]
		before := len(from.w.published)
		upd, _, err := from.m.OpenChannel(context.Background(), OpenRequest{
			Peer: to.pub(), LocalAmt: testCap, PushMsat: testPush})
		if err != nil {
			t.Fatalf("%s to %s after the fuzzed exchange: %v", from.name, to.name, err)
		}
		// Messages left from the fuzzed exchange (channel_ready of a
		// confirmed channel) may come in between.
		var u Update
		for i := 0; u.Pending == nil && u.Err == nil; i++ {
			select {
			case u = <-upd:
				continue
			default:
			}
			e, ok := r.pop()
			if !ok || i > 32 {
				u = nextUpdate(t, upd)
				break
			}
			r.deliver(e.from, e.to, e.msg)
		}
		if u.Pending == nil {
			t.Fatalf("%s to %s: update %+v, want pending", from.name, to.name, u)
		}
		if len(from.w.published) != before+1 {
			t.Fatalf("%s to %s: funding transaction not broadcast", from.name, to.name)
		}
	}
}

// fuzzSeeds are the steps of a real opening, from open_channel to
// channel_ready, and the real messages of one as wire bytes.
func fuzzSeeds(f testing.TB) [][]byte {
	flow := []byte{opOpen, 0, 2, opDeliver, opDeliver, opDeliver, opDeliver,
		opConfirm, 0, 7, opConnect, 0, opConnect, 1,
		opDeliver, opDeliver, opDeliver, opDeliver}
	seeds := [][]byte{flow,
		{opOpen, 1, 1, opDeliver, opDeliver, opDeliver, opDeliver},
		{opOpen, 0, 0, opDeliver, opMutate, 4, 0, 0, 0, 0, 30, opDeliver},
		{opOpen, 0, 2, opDeliver, opDeliver, opDeliver, opMutate, 2, 5, 1},
		{opOpen, 0, 2, opDeliver, opDeliver, opDisconnect, 0, opDeliver, opDeliver},
	}

	// The messages of a real opening, each handed to its receiver as
	// bytes.
	net, a, b := newPair(f)
	ct := lnwallet.ChannelTypeAnchors
	if _, _, err := a.m.OpenChannel(context.Background(), OpenRequest{
		Peer: b.pub(), LocalAmt: testCap, PushMsat: testPush,
		ChannelType: &ct}); err != nil {

		f.Fatal(err)
	}
	var raw []byte
	for _, e := range net.pump() {
		b, err := lnwire.Serialize(e.msg)
		if err != nil {
			f.Fatal(err)
		}
		to := byte(0)
		if e.to.name == "bob" {
			to = 1
		}
		raw = append(raw, opRaw, to)
		raw = binary.BigEndian.AppendUint16(raw, uint16(len(b)))
		raw = append(raw, b...)
	}
	return append(seeds, raw)
}

// TestFuzzSeedsReachBroadcast: the seed of a real flow takes the fuzz
// target through to the broadcast and channel_ready, so the checks above
// run over real state.
func TestFuzzSeedsReachBroadcast(t *testing.T) {
	seeds := fuzzSeeds(t)
	r := fuzzFunding(t, seeds[0])
	// Alice's opening before carol's.
	if n := len(r.a.w.published); n != 2 {
		t.Fatalf("alice published %d transactions, want 2", n)
	}
	if len(r.valid[r.a]) != 2 {
		t.Fatalf("alice received %d valid funding_signed, want 2", len(r.valid[r.a]))
	}
	r = fuzzFunding(t, seeds[len(seeds)-1])
	if n := len(r.a.w.published); n != 1 {
		t.Fatalf("raw seed: alice published %d transactions, want only carol's", n)
	}
}
