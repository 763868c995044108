package routing

import (
	"bytes"
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// fakeNet stands for the switch and the network behind it in the payment
// router's unit tests: it peels each onion with the real node keys, moves
// liquidity along the route, and answers as BOLT 4 says, encrypting
// failures with the real shared secrets. Only the links and the wire are
// missing.
type fakeNet struct {
	t    *testing.T
	self *fakeNode

	mu       sync.Mutex
	nodes    map[Vertex]*fakeNode
	chans    map[lnwire.ShortChannelID]*fakeChan
	invoices map[[32]byte]*fakeInvoice
	offline  map[Vertex]bool

	// results and waiters: the switch's result store.
	results map[uint64]AttemptResult
	waiters map[uint64][]chan AttemptResult
	sent    map[uint64]int // SendHTLC calls that dispatched, by id
	// hold keeps results back until release (HTLCs stuck downstream).
	hold     bool
	held     map[uint64]AttemptResult
	cleaned  []map[uint64]struct{}
	reserved map[uint64][]reservation
}

type fakeNode struct {
	key    *btcec.PrivateKey
	v      Vertex
	router *sphinx.Router
}

type fakeChan struct {
	id     lnwire.ShortChannelID
	a, b   Vertex
	bal    map[Vertex]lnwire.MilliSatoshi
	policy map[Vertex]Policy // the policy each end really applies
}

type fakeInvoice struct {
	preimage [32]byte
	addr     [32]byte
	amount   lnwire.MilliSatoshi
	parts    []uint64 // attempt ids of MPP parts held
	got      lnwire.MilliSatoshi
}

type reservation struct {
	ch   *fakeChan
	from Vertex
	amt  lnwire.MilliSatoshi
}

func newFakeNet(t *testing.T) *fakeNet {
	n := &fakeNet{
		t:        t,
		nodes:    make(map[Vertex]*fakeNode),
		chans:    make(map[lnwire.ShortChannelID]*fakeChan),
		invoices: make(map[[32]byte]*fakeInvoice),
		offline:  make(map[Vertex]bool),
		results:  make(map[uint64]AttemptResult),
		waiters:  make(map[uint64][]chan AttemptResult),
		sent:     make(map[uint64]int),
		held:     make(map[uint64]AttemptResult),
		reserved: make(map[uint64][]reservation),
	}
	n.self = n.node(1)
	return n
}

// node returns the node of seed b, creating it.
func (n *fakeNet) node(b byte) *fakeNode {
	seed := sha256.Sum256([]byte{b})
	key, _ := btcec.PrivKeyFromBytes(seed[:])
	var v Vertex
	copy(v[:], key.PubKey().SerializeCompressed())
	if nd, ok := n.nodes[v]; ok {
		return nd
	}
	nd := &fakeNode{key: key, v: v, router: sphinx.NewRouter(sphinx.PrivKeyECDH{Key: key}, nil)}
	n.nodes[v] = nd
	return nd
}

// addChannel opens a channel between a and b with bal on each side, both
// ends applying pol, and puts it in g with pol (or announced, if set).
func (n *fakeNet) addChannel(g *Graph, id uint64, a, b *fakeNode, balA, balB lnwire.MilliSatoshi, pol Policy) *fakeChan {
	scid := lnwire.NewShortChanIDFromInt(id)
	c := &fakeChan{id: scid, a: a.v, b: b.v,
		bal:    map[Vertex]lnwire.MilliSatoshi{a.v: balA, b.v: balB},
		policy: map[Vertex]Policy{a.v: pol, b.v: pol}}
	n.chans[scid] = c
	n1, n2 := a.v, b.v
	if bytes.Compare(n1[:], n2[:]) > 0 {
		n1, n2 = n2, n1
	}
	capacity := (balA + balB).ToSatoshis()
	if err := g.AddChannel(ChannelInfo{ID: scid, Node1: n1, Node2: n2, Capacity: capacity}); err != nil {
		n.t.Fatal(err)
	}
	for d := range 2 {
		if err := g.UpdatePolicy(scid, d, pol); err != nil {
			n.t.Fatal(err)
		}
	}
	return c
}

func (n *fakeNet) addInvoice(preimage [32]byte, amt lnwire.MilliSatoshi) [32]byte {
	hash := sha256.Sum256(preimage[:])
	n.invoices[hash] = &fakeInvoice{preimage: preimage, addr: [32]byte{preimage[0], 0xad}, amount: amt}
	return hash
}

func (n *fakeNet) dispatcher() Dispatcher {
	return Dispatcher{
		SendHTLC:            n.sendHTLC,
		GetAttemptResult:    n.getResult,
		CleanAttemptResults: n.clean,
		Bandwidth:           n.bandwidth,
	}
}

func (n *fakeNet) bandwidth(id lnwire.ShortChannelID) (lnwire.MilliSatoshi, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.chans[id]
	if c == nil || n.offline[c.other(n.self.v)] {
		return 0, false
	}
	return c.bal[n.self.v], true
}

func (c *fakeChan) other(v Vertex) Vertex {
	if c.a == v {
		return c.b
	}
	return c.a
}

func (n *fakeNet) clean(keep map[uint64]struct{}) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cleaned = append(n.cleaned, keep)
	for id := range n.results {
		if _, ok := keep[id]; !ok {
			delete(n.results, id)
		}
	}
	return nil
}

func (n *fakeNet) getResult(id uint64) (<-chan AttemptResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := make(chan AttemptResult, 1)
	if r, ok := n.results[id]; ok {
		ch <- r
		return ch, nil
	}
	n.waiters[id] = append(n.waiters[id], ch)
	return ch, nil
}

// finish stores an attempt's result and wakes its waiters; the caller
// holds mu.
func (n *fakeNet) finish(id uint64, r AttemptResult) {
	if n.hold {
		n.held[id] = r
		return
	}
	n.results[id] = r
	for _, ch := range n.waiters[id] {
		ch <- r
	}
	delete(n.waiters, id)
}

// release delivers the results held back, and stops holding.
func (n *fakeNet) release() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hold = false
	for id, r := range n.held {
		n.finish(id, r)
	}
	clear(n.held)
}

func (n *fakeNet) sendHTLC(first lnwire.ShortChannelID, id uint64, htlc *lnwire.UpdateAddHTLC) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.results[id]; ok || n.sent[id] > 0 {
		return ErrDuplicateAttempt
	}
	if _, ok := n.held[id]; ok {
		return ErrDuplicateAttempt
	}
	n.sent[id]++
	n.forward(first, id, htlc)
	return nil
}

// forward walks the HTLC along its onion, reserving liquidity hop by hop,
// and produces its result.
func (n *fakeNet) forward(first lnwire.ShortChannelID, id uint64, htlc *lnwire.UpdateAddHTLC) {
	pkt, err := sphinx.DecodeOnionPacket(htlc.OnionBlob[:])
	if err != nil {
		n.t.Errorf("attempt %d: onion: %v", id, err)
		return
	}
	var secrets []sphinx.Hash256
	failAt := func(k int, msg sphinx.FailureMessage) {
		n.refund(id)
		if k < 0 {
			n.finish(id, AttemptResult{LocalFailure: msg})
			return
		}
		reason, err := sphinx.NewFailure(secrets[k], msg)
		if err != nil {
			n.t.Fatal(err)
		}
		for j := k - 1; j >= 0; j-- {
			reason = sphinx.WrapFailure(secrets[j], reason)
		}
		n.finish(id, AttemptResult{Reason: reason})
	}
	amt, prev, scid := htlc.Amount, n.self.v, first
	for hop := 0; ; hop++ {
		c := n.chans[scid]
		if c == nil || (c.a != prev && c.b != prev) || n.offline[c.other(prev)] {
			failAt(hop-1, &sphinx.FailUnknownNextPeer{})
			return
		}
		if c.bal[prev] < amt {
			failAt(hop-1, &sphinx.FailTemporaryChannelFailure{ChannelUpdate: n.update(c, prev)})
			return
		}
		c.bal[prev] -= amt
		n.reserved[id] = append(n.reserved[id], reservation{c, prev, amt})

		nd := n.nodes[c.other(prev)]
		proc, err := nd.router.Peel(pkt, htlc.PaymentHash[:])
		if err != nil {
			n.t.Errorf("attempt %d hop %d: peel: %v", id, hop, err)
			return
		}
		secrets = append(secrets, proc.SharedSecret)
		payload, err := sphinx.DecodeHopPayload(proc.Payload)
		if err != nil {
			n.t.Errorf("attempt %d hop %d: payload: %v", id, hop, err)
			return
		}
		if proc.IsFinal() {
			n.receive(id, hop, amt, htlc.PaymentHash, payload, failAt)
			return
		}
		next := n.chans[lnwire.NewShortChanIDFromInt(*payload.ShortChannelID)]
		if next == nil {
			failAt(hop, &sphinx.FailUnknownNextPeer{})
			return
		}
		pol := next.policy[nd.v]
		fee, _ := pol.Fee(lnwire.MilliSatoshi(payload.AmtToForward))
		if amt < lnwire.MilliSatoshi(payload.AmtToForward)+fee {
			failAt(hop, &sphinx.FailFeeInsufficient{HtlcMsat: uint64(amt), ChannelUpdate: n.update(next, nd.v)})
			return
		}
		amt, prev, scid = lnwire.MilliSatoshi(payload.AmtToForward), nd.v, next.id
		pkt = proc.NextPacket
	}
}

// receive is the final hop: an invoice paid in full (MPP parts held
// until the total arrives) or a keysend.
func (n *fakeNet) receive(id uint64, hop int, amt lnwire.MilliSatoshi, hash [32]byte,
	p *sphinx.HopPayload, failAt func(int, sphinx.FailureMessage)) {

	details := &sphinx.FailIncorrectOrUnknownPaymentDetails{HtlcMsat: uint64(amt)}
	if pre, ok := p.KeysendPreimage(); ok && sha256.Sum256(pre[:]) == hash {
		n.settle(id, pre)
		return
	}
	inv := n.invoices[hash]
	if inv == nil || p.PaymentData == nil || p.PaymentData.PaymentSecret != inv.addr ||
		lnwire.MilliSatoshi(p.PaymentData.TotalMsat) < inv.amount {
		failAt(hop, details)
		return
	}
	inv.parts = append(inv.parts, id)
	inv.got += amt
	if inv.got < lnwire.MilliSatoshi(p.PaymentData.TotalMsat) {
		return
	}
	for _, part := range inv.parts {
		n.settle(part, inv.preimage)
	}
	inv.parts = nil
}

// settle moves each reserved amount to the far side of its channel.
func (n *fakeNet) settle(id uint64, pre [32]byte) {
	for _, r := range n.reserved[id] {
		r.ch.bal[r.ch.other(r.from)] += r.amt
	}
	delete(n.reserved, id)
	n.finish(id, AttemptResult{Settled: true, Preimage: pre})
}

func (n *fakeNet) refund(id uint64) {
	for _, r := range n.reserved[id] {
		r.ch.bal[r.from] += r.amt
	}
	delete(n.reserved, id)
}

// update is the signed channel_update of c's direction from `from`, with
// the policy it applies.
func (n *fakeNet) update(c *fakeChan, from Vertex) []byte {
	pol := c.policy[from]
	u := &lnwire.ChannelUpdate{
		ShortChannelID:  c.id,
		Timestamp:       1_700_000_000,
		MessageFlags:    lnwire.MsgFlagMustBeOne,
		TimeLockDelta:   pol.CLTVDelta,
		HtlcMinimumMsat: pol.MinHTLC,
		BaseFee:         pol.FeeBaseMsat,
		FeeRate:         pol.FeeRatePPM,
		HtlcMaximumMsat: lnwire.NewMSatFromSatoshis(btcutil.SatoshiPerBitcoin),
	}
	if to := c.other(from); bytes.Compare(from[:], to[:]) > 0 {
		u.ChannelFlags |= lnwire.ChanFlagDirection
	}
	data, err := u.DataToSign()
	if err != nil {
		n.t.Fatal(err)
	}
	u.Signature, err = lnwire.NewSigFromSignature(ecdsa.Sign(n.nodes[from].key, chainhash.DoubleHashB(data)))
	if err != nil {
		n.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := u.Encode(&b); err != nil {
		n.t.Fatal(err)
	}
	return b.Bytes()
}
