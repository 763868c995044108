package htlcswitch

import (
	"context"
	"crypto/sha256"
	"math/rand"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

var farFuture = time.Unix(1<<40, 0)

// line is alice -- bob -- carol, connected and active.
type line struct {
	a, ba, bc, c *side
	ab, bcConn   *conn
}

func startLine(t *testing.T) *line {
	t.Helper()
	a, ba, bc, c := newLine(t)
	for _, s := range []*side{a, ba, bc, c} {
		s.startLink()
	}
	l := &line{a: a, ba: ba, bc: bc, c: c}
	l.connect(t)
	return l
}

func (l *line) connect(t *testing.T) {
	t.Helper()
	l.ab = connect(t, l.a, l.ba, true)
	l.bcConn = connect(t, l.bc, l.c, true)
	eventually(t, "all active", func() bool {
		return l.a.link.Active() && l.ba.link.Active() &&
			l.bc.link.Active() && l.c.link.Active()
	})
}

// restartBob drops bob's connections, restarts him and reconnects.
func (l *line) restartBob(t *testing.T) {
	t.Helper()
	l.ab.close(t, l.a, l.ba)
	l.bcConn.close(t, l.bc, l.c)
	l.ba.node.restart()
	l.connect(t)
}

// restartAll restarts the three nodes, each with HTLCs of the others.
func (l *line) restartAll(t *testing.T) {
	t.Helper()
	l.ab.close(t, l.a, l.ba)
	l.bcConn.close(t, l.bc, l.c)
	l.a.node.restart()
	l.ba.node.restart()
	l.c.node.restart()
	l.connect(t)
}

// viaBob is the add alice (or carol) sends to pay amt at the far end
// through bob: bob's fee and time-lock delta added (default policy).
func viaBob(t *testing.T, next lnwire.ShortChannelID, to *side,
	final sphinx.HopPayload, hash [32]byte) *lnwire.UpdateAddHTLC {

	t.Helper()
	pol := DefaultForwardingPolicy()
	amt := lnwire.MilliSatoshi(final.AmtToForward)
	scid := next.ToUint64()
	bob := sphinx.HopPayload{AmtToForward: uint64(amt),
		OutgoingCLTV: final.OutgoingCLTV, ShortChannelID: &scid}
	blob, _ := routeOnion(t, hash, []hopSpec{
		{bobKey(to), bob}, {to.idKey.PubKey(), final}})
	return &lnwire.UpdateAddHTLC{Amount: amt + pol.Fee(amt),
		PaymentHash: hash, Expiry: final.OutgoingCLTV + pol.TimeLockDelta,
		OnionBlob: blob}
}

// bobKey finds bob's identity: the remote node of to's channel.
func bobKey(to *side) *btcec.PublicKey {
	st, _ := to.db.FetchOpenChannel(to.op)
	return st.RemoteNode
}

// openCircuits counts a node's circuits and forwarding packages.
func openRecords(t *testing.T, n *node) (circuits, pkgs int) {
	t.Helper()
	mustOK(t, n.db.View(func(tx kvdb.RTx) error {
		cs, err := channeldb.ListCircuits(tx)
		if err != nil {
			return err
		}
		circuits = len(cs)
		for _, s := range n.sides {
			ps, err := channeldb.ListFwdPkgs(tx, s.scid)
			if err != nil {
				return err
			}
			pkgs += len(ps)
		}
		return nil
	}))
	return circuits, pkgs
}

func forwardingLog(t *testing.T, n *node) []channeldb.ForwardingEvent {
	t.Helper()
	var page *channeldb.ForwardingLogPage
	mustOK(t, n.db.View(func(tx kvdb.RTx) error {
		var err error
		page, err = channeldb.QueryForwardingLog(tx,
			channeldb.ForwardingLogQuery{NumMax: 10_000,
				End: farFuture})
		return err
	}))
	return page.Events
}

// noHTLCs waits until no HTLC is left on any channel of the line.
func (l *line) noHTLCs(t *testing.T) {
	t.Helper()
	eventually(t, "every HTLC removed", func() bool {
		waitQuiet(t, l.a, l.ba, l.bc, l.c)
		for _, s := range []*side{l.a, l.ba, l.bc, l.c} {
			st, err := s.db.FetchOpenChannel(s.op)
			if err != nil || len(st.LocalCommit.HTLCs)+
				len(st.RemoteCommit.HTLCs) != 0 {
				return false
			}
		}
		return true
	})
}

// TestForwardTwoHops: alice pays carol through bob; bob earns his fee
// and logs the forward, and no circuit or package is left.
func TestForwardTwoHops(t *testing.T) {
	l := startLine(t)
	const amt = lnwire.MilliSatoshi(5_000_000)
	inv := addInvoice(t, l.c, amt)
	final := finalHop(inv, amt, testHeight+100)
	add := viaBob(t, l.bc.scid, l.c, final, inv.PaymentHash)
	before := [4]uint64{localBalance(t, l.a), localBalance(t, l.ba),
		localBalance(t, l.bc), localBalance(t, l.c)}

	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 1, add))
	res := waitResult(t, l.a, 1)
	if !res.Settled || res.Preimage != *inv.Preimage {
		t.Fatalf("result %+v, want settled", res)
	}
	l.noHTLCs(t)
	fee := uint64(add.Amount - amt)
	after := [4]uint64{localBalance(t, l.a), localBalance(t, l.ba),
		localBalance(t, l.bc), localBalance(t, l.c)}
	want := [4]uint64{before[0] - uint64(add.Amount),
		before[1] + uint64(add.Amount), before[2] - uint64(amt),
		before[3] + uint64(amt)}
	if after != want {
		t.Fatalf("balances %v, want %v", after, want)
	}
	if after[1]+after[2]-before[1]-before[2] != fee {
		t.Fatalf("bob earned %d, want %d", after[1]+after[2]-before[1]-before[2], fee)
	}
	evs := forwardingLog(t, l.ba.node)
	if len(evs) != 1 || evs[0].AmtIn != add.Amount || evs[0].AmtOut != amt ||
		evs[0].IncomingChanID != l.ba.scid || evs[0].OutgoingChanID != l.bc.scid {
		t.Fatalf("forwarding log %+v", evs)
	}
	eventually(t, "bob's records cleared", func() bool {
		c, p := openRecords(t, l.ba.node)
		return c == 0 && p == 0
	})
}

// holdPayment is a payment to a hold invoice of its payee.
type holdPayment struct {
	from     *side
	to       *side
	id       uint64
	preimage [32]byte
	amt      lnwire.MilliSatoshi
	sent     lnwire.MilliSatoshi
}

// TestForwardRestartInFlight: HTLCs in flight through bob in both
// directions, held at their payees; bob restarts; then half settle and
// half are cancelled. Every HTLC resolves exactly once: one result per
// attempt, balances conserved to the millisatoshi less bob's logged
// fees, no circuit or package left.
func TestForwardRestartInFlight(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	r := rand.New(rand.NewSource(3))
	before := [4]uint64{localBalance(t, l.a), localBalance(t, l.ba),
		localBalance(t, l.bc), localBalance(t, l.c)}
	var pays []*holdPayment
	for i := 0; i < 8; i++ {
		p := &holdPayment{from: l.a, to: l.c, id: uint64(100 + i),
			amt: lnwire.MilliSatoshi(1_000_000 + 1000*i)}
		next := l.bc.scid
		if i%2 == 1 {
			p.from, p.to, next = l.c, l.a, l.ba.scid
		}
		r.Read(p.preimage[:])
		hash := sha256.Sum256(p.preimage[:])
		inv, err := p.to.reg.AddHoldInvoice(ctx, hash,
			invoices.NewInvoice{Memo: "hold", Value: p.amt})
		mustOK(t, err)
		add := viaBob(t, next, p.to, finalHop(inv, p.amt, testHeight+100), hash)
		p.sent = add.Amount
		mustOK(t, p.from.sw.SendHTLC(p.from.scid, p.id, add))
		pays = append(pays, p)
	}
	// Every payment is held at its payee: all HTLCs locked in.
	eventually(t, "all held", func() bool {
		for _, p := range pays {
			inv, err := p.to.reg.LookupInvoice(ctx, sha256.Sum256(p.preimage[:]))
			if err != nil || inv.State != channeldb.InvoiceAccepted {
				return false
			}
		}
		return true
	})
	if c, _ := openRecords(t, l.ba.node); c != len(pays) {
		t.Fatalf("bob holds %d circuits, want %d", c, len(pays))
	}
	l.restartBob(t)
	// The payers and payees too: the payees' registries hold the HTLCs
	// again when their links redo the packages, the payers' switches
	// reload the circuits of their attempts.
	l.restartAll(t)
	eventually(t, "held again", func() bool {
		for _, p := range pays {
			inv, err := p.to.reg.LookupInvoice(ctx, sha256.Sum256(p.preimage[:]))
			if err != nil || inv.State != channeldb.InvoiceAccepted {
				return false
			}
		}
		return true
	})
	for i, p := range pays {
		hash := sha256.Sum256(p.preimage[:])
		if i%4 < 2 {
			mustOK(t, p.to.reg.SettleInvoice(ctx, p.preimage))
		} else {
			mustOK(t, p.to.reg.CancelInvoice(ctx, hash))
		}
	}
	var fees uint64
	flows := [4]int64{}
	for i, p := range pays {
		res := waitResult(t, p.from, p.id)
		settled := i%4 < 2
		if res.Settled != settled {
			t.Fatalf("payment %d: result %+v, want settled %v", i, res, settled)
		}
		if !settled {
			continue
		}
		fees += uint64(p.sent - p.amt)
		if p.from == l.a {
			flows[0] -= int64(p.sent)
			flows[1] += int64(p.sent)
			flows[2] -= int64(p.amt)
			flows[3] += int64(p.amt)
		} else {
			flows[3] -= int64(p.sent)
			flows[2] += int64(p.sent)
			flows[1] -= int64(p.amt)
			flows[0] += int64(p.amt)
		}
	}
	l.noHTLCs(t)
	for i, s := range []*side{l.a, l.ba, l.bc, l.c} {
		if got, want := int64(localBalance(t, s)), int64(before[i])+flows[i]; got != want {
			t.Fatalf("%s's balance on %v: %d, want %d", s.name, s.scid, got, want)
		}
	}
	var logged uint64
	evs := forwardingLog(t, l.ba.node)
	for _, e := range evs {
		logged += uint64(e.Fee())
	}
	if len(evs) != 4 || logged != fees {
		t.Fatalf("bob logged %d forwards earning %d, want 4 earning %d",
			len(evs), logged, fees)
	}
	eventually(t, "bob's records cleared", func() bool {
		c, p := openRecords(t, l.ba.node)
		return c == 0 && p == 0
	})
}

// TestForwardRestartBurst: alice sends a burst of payments to carol
// through bob and bob restarts while they flow, at whatever step each
// is. Every attempt gets exactly one result, a settled attempt is a
// settled invoice and the reverse, and balances are conserved to the
// millisatoshi less bob's logged fees.
func TestForwardRestartBurst(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	before := [4]uint64{localBalance(t, l.a), localBalance(t, l.ba),
		localBalance(t, l.bc), localBalance(t, l.c)}
	const n = 40
	invs := make([]*channeldb.Invoice, n)
	adds := make([]*lnwire.UpdateAddHTLC, n)
	for i := range invs {
		amt := lnwire.MilliSatoshi(2_000_000 + 1000*i)
		invs[i] = addInvoice(t, l.c, amt)
		adds[i] = viaBob(t, l.bc.scid, l.c,
			finalHop(invs[i], amt, testHeight+100), invs[i].PaymentHash)
	}
	for i := range adds {
		mustOK(t, l.a.sw.SendHTLC(l.a.scid, uint64(i), adds[i]))
		if i == n/2 {
			// Some forwards are on bob's disk, in flight.
			eventually(t, "circuits at bob", func() bool {
				c, _ := openRecords(t, l.ba.node)
				return c > 0
			})
			l.restartBob(t)
		}
	}
	var flows [4]int64
	var fees uint64
	settled := 0
	for i := range adds {
		res := waitResult(t, l.a, uint64(i))
		inv, err := l.c.reg.LookupInvoice(ctx, invs[i].PaymentHash)
		mustOK(t, err)
		if res.Settled != (inv.State == channeldb.InvoiceSettled) {
			t.Fatalf("payment %d: result settled %v, invoice %v", i,
				res.Settled, inv.State)
		}
		if !res.Settled {
			continue
		}
		settled++
		amt := invs[i].Value
		fees += uint64(adds[i].Amount - amt)
		flows[0] -= int64(adds[i].Amount)
		flows[1] += int64(adds[i].Amount)
		flows[2] -= int64(amt)
		flows[3] += int64(amt)
	}
	l.noHTLCs(t)
	for i, s := range []*side{l.a, l.ba, l.bc, l.c} {
		if got, want := int64(localBalance(t, s)), int64(before[i])+flows[i]; got != want {
			t.Fatalf("%s's balance on %v: %d, want %d", s.name, s.scid, got, want)
		}
	}
	var logged uint64
	evs := forwardingLog(t, l.ba.node)
	for _, e := range evs {
		logged += uint64(e.Fee())
	}
	if len(evs) != settled || logged != fees {
		t.Fatalf("bob logged %d forwards earning %d, want %d earning %d",
			len(evs), logged, settled, fees)
	}
	t.Logf("%d of %d payments settled across the restart", settled, n)
	eventually(t, "bob's records cleared", func() bool {
		c, p := openRecords(t, l.ba.node)
		return c == 0 && p == 0
	})
}

// TestSettleAfterRestartWithoutNextPeer: bob learns the preimage from
// carol while alice is away, then restarts; carol stays away. Bob's link
// to carol redoes its package from disk, so alice's HTLC is settled as
// soon as she is back.
func TestSettleAfterRestartWithoutNextPeer(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	const amt = lnwire.MilliSatoshi(2_000_000)
	var preimage [32]byte
	preimage[0] = 42
	hash := sha256.Sum256(preimage[:])
	inv, err := l.c.reg.AddHoldInvoice(ctx, hash, invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	add := viaBob(t, l.bc.scid, l.c, finalHop(inv, amt, testHeight+100), hash)
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 1, add))
	eventually(t, "held at carol", func() bool {
		got, err := l.c.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	l.ab.close(t, l.a, l.ba)
	mustOK(t, l.c.reg.SettleInvoice(ctx, preimage))
	// Bob's HTLC to carol is gone once her settle is irrevocable.
	eventually(t, "carol's settle locked in at bob", func() bool {
		waitQuiet(t, l.bc, l.c)
		st, err := l.bc.db.FetchOpenChannel(l.bc.op)
		return err == nil && len(st.LocalCommit.HTLCs)+len(st.RemoteCommit.HTLCs) == 0
	})
	l.bcConn.close(t, l.bc, l.c)
	l.ba.node.restart()
	l.ab = connect(t, l.a, l.ba, true)
	res := waitResult(t, l.a, 1)
	if !res.Settled || res.Preimage != preimage {
		t.Fatalf("result %+v, want settled", res)
	}
	if evs := forwardingLog(t, l.ba.node); len(evs) != 1 {
		t.Fatalf("bob logged %d forwards, want 1", len(evs))
	}
}

// TestForwardByAlias: carol's invoice names her channel from bob by the
// SCID alias bob gave her (BOLT 2: bob must accept it as the channel's
// short id); alice's HTLC for that alias reaches carol, and once the
// channel's link is gone the alias no longer names it.
func TestForwardByAlias(t *testing.T) {
	a, ba, bc, c := newLine(t)
	alias := lnwire.ShortChannelID{BlockHeight: 16_000_000, TxIndex: 1, TxPosition: 7}
	st, err := bc.db.FetchOpenChannel(bc.op)
	mustOK(t, err)
	st.Aliases = []lnwire.ShortChannelID{alias}
	mustOK(t, bc.db.PersistChannel(context.Background(), &channeldb.ChannelUpdate{State: st}))
	for _, s := range []*side{a, ba, bc, c} {
		s.startLink()
	}
	l := &line{a: a, ba: ba, bc: bc, c: c}
	l.connect(t)

	links := l.ba.sw.Links()
	if links.ByShortID(alias) != l.bc.link || links.ByShortID(l.bc.scid) != l.bc.link {
		t.Fatal("bob's link to carol not found by its alias and its scid")
	}
	const amt = lnwire.MilliSatoshi(5_000_000)
	inv := addInvoice(t, l.c, amt)
	add := viaBob(t, alias, l.c, finalHop(inv, amt, testHeight+100), inv.PaymentHash)
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 1, add))
	if res := waitResult(t, l.a, 1); !res.Settled || res.Preimage != *inv.Preimage {
		t.Fatalf("result %+v, want settled", res)
	}
	evs := forwardingLog(t, l.ba.node)
	if len(evs) != 1 || evs[0].OutgoingChanID != l.bc.scid {
		t.Fatalf("forwarding log %+v, want the real outgoing scid", evs)
	}
	links.Remove(lnwire.NewChanIDFromOutPoint(l.bc.op))
	if links.ByShortID(alias) != nil || links.ByShortID(l.bc.scid) != nil {
		t.Fatal("a removed link still found")
	}
}
