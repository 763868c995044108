package htlcswitch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// This file holds a link's normal operation (BOLT 2): our updates and
// the peer's go through lnwallet.Channel, and commitment rounds are
// batched.

// Commitment batching. A round costs a few fsyncs on each side (our
// commitment_signed, the peer's revoke_and_ack, its commitment_signed
// and our revoke_and_ack are each persisted before they are sent or
// acted on): about 1-10 ms on an SSD, whatever the number of HTLCs in
// it. Waiting DefaultBatchDelay after the first update lets the HTLCs
// that arrive meanwhile share the round while adding less than one
// fsync's time to a lone payment; DefaultBatchSize updates sign at once,
// so that a burst never waits and a commitment_signed stays well below
// BOLT 2's 483 HTLCs a side (each HTLC adds a signature to make and to
// check).
const (
	DefaultBatchDelay = 5 * time.Millisecond
	DefaultBatchSize  = 100
)

// holdCheckInterval is how often held exit-hop HTLCs are checked against
// the chain's height.
const holdCheckInterval = 30 * time.Second

type batchConfig struct {
	delay time.Duration
	size  int
}

func newBatchConfig(sw *Switch) batchConfig {
	b := batchConfig{delay: DefaultBatchDelay, size: DefaultBatchSize}
	if sw != nil {
		if sw.cfg.BatchDelay > 0 {
			b.delay = sw.cfg.BatchDelay
		}
		if sw.cfg.BatchSize > 0 {
			b.size = sw.cfg.BatchSize
		}
	}
	return b
}

// opState is what the link's goroutine keeps between messages.
type opState struct {
	// outbox holds our updates applied to the channel but not yet
	// sent: they leave with the commitment_signed that covers them,
	// after it (and the records below) are persisted.
	outbox   []lnwire.Message
	offered  []*addPacket // adds in outbox
	removing []*removal   // removals in outbox

	// waiting are removals to apply once the channel is active again.
	waiting []*removal

	// needSign: the peer's updates wait for our commitment_signed.
	needSign bool

	// inflight are the peer's locked-in HTLCs we have not resolved,
	// by id; held those the invoice registry holds.
	inflight map[uint64]*inHTLC

	// failDust are the peer's HTLCs the state machine marked to fail
	// for dust exposure, until decided.
	failDust map[uint64]bool

	// peeled are the onions of the peer's adds, peeled on receipt
	// (link_peel.go), by HTLC id.
	peeled map[uint64]*prePeeled

	// decided are the registry's decisions on exit-hop HTLCs made in
	// the write that locked them in (link_fold.go), by HTLC id; nil
	// for one held.
	decided map[uint64]*invoices.Resolution

	resumed bool // forwarding packages redone once
}

func (o *opState) init() {
	o.inflight = map[uint64]*inHTLC{}
	o.failDust = map[uint64]bool{}
	o.peeled = map[uint64]*prePeeled{}
	o.decided = map[uint64]*invoices.Resolution{}
}

// inHTLC is an incoming HTLC being decided.
type inHTLC struct {
	add    *lnwire.UpdateAddHTLC
	secret sphinx.Hash256
	ref    pkgRef
	held   bool
}

// activate makes the channel usable on the current connection: removals
// waiting for the connection are applied, and a round starts if one is
// due.
func (l *Link) activate() {
	l.setActive(true)
	waiting := l.ops.waiting
	l.ops.waiting = nil
	for _, rm := range waiting {
		l.applyRemoval(rm)
	}
	// The peer's updates acknowledged before the disconnection may
	// still need our signature.
	l.ops.needSign = true
	l.commit()
}

// dropUnsent forgets the updates no commitment_signed covered, as the
// state machine does on reconnection (BOLT 2): our adds fail back to
// where they came from, our removals wait for the next connection.
func (l *Link) dropUnsent() {
	if l.ops.inflight == nil {
		return
	}
	offered := l.ops.offered
	// The peer's uncommitted adds are forgotten too; the ids of those
	// it did commit come back with the same onions.
	clear(l.ops.peeled)
	l.ops.waiting = append(l.ops.removing, l.ops.waiting...)
	l.ops.outbox, l.ops.offered, l.ops.removing = nil, nil, nil
	l.timerC = nil
	if l.timer != nil {
		l.timer.Stop()
	}
	if len(offered) > 0 && l.sw != nil {
		l.sw.dropped(offered)
	}
}

// stopped fails back what never left when the link stops.
func (l *Link) stopped() {
	l.dropUnsent()
}

// update handles one of the peer's normal-operation messages.
func (l *Link) update(msg lnwire.Message) {
	var err error
	switch m := msg.(type) {
	case *lnwire.UpdateAddHTLC:
		if err = l.ch.ReceiveHTLC(m); err == nil {
			l.prePeel(m)
		}
	case *lnwire.UpdateFulfillHTLC:
		err = l.ch.ReceiveHTLCSettle(m)
	case *lnwire.UpdateFailHTLC:
		err = l.ch.ReceiveFailHTLC(m)
	case *lnwire.UpdateFailMalformedHTLC:
		err = l.ch.ReceiveMalformedFailHTLC(m)
	case *lnwire.UpdateFee:
		err = l.ch.ReceiveUpdateFee(m)
	case *lnwire.CommitSig:
		err = l.receiveCommitSig(m)
	case *lnwire.RevokeAndAck:
		err = l.receiveRevocation(m)
	default:
		l.log.Info("Channel message not handled", "type", msg.MsgType())
		l.warn(fmt.Sprintf("xlnd does not handle %v on an open channel",
			msg.MsgType()))
		return
	}
	if err != nil {
		l.peerError(msg, err)
	}
}

// peerError answers an update the state machine refused.
func (l *Link) peerError(msg lnwire.Message, err error) {
	var pe *lnwallet.PeerError
	switch {
	case lnwallet.IsFatal(err):
		l.log.Error("Peer violation fails the channel", "type",
			msg.MsgType(), "err", err)
		l.failChannel(err.Error())
	case errors.As(err, &pe):
		l.log.Warn("Peer update refused", "type", msg.MsgType(), "err", err)
		l.warn(err.Error())
		conn := l.conn
		l.disconnect()
		if d, ok := conn.(disconnecter); ok {
			d.Disconnect(err)
		}
	default:
		l.log.Error("Channel update not processed; channel stopped",
			"type", msg.MsgType(), "err", err)
		l.failChannel("internal error")
	}
}

// failChannel sends the BOLT error and never uses the channel again in
// this process; nothing is broadcast here.
func (l *Link) failChannel(text string) {
	l.fail(text)
	l.failed = true
	l.broken.Store(true)
	l.setActive(false)
	l.dropUnsent()
}

// receiveCommitSig takes the peer's commitment_signed and answers it:
// our revocation and, in the same write, our signature of the peer's
// next commitment (with the records of our updates it covers) when we
// may sign; then acts on what the revocation locked in.
func (l *Link) receiveCommitSig(m *lnwire.CommitSig) error {
	if err := l.ch.ReceiveNewCommitment(m); err != nil {
		return err
	}
	p, signed, err := l.ch.RevokeAndSign()
	if err != nil {
		return err
	}
	record, recorded := l.recordPeeled()
	var ops []func(kvdb.RwTx) error
	if record != nil {
		ops = append(ops, record)
	}
	fold := l.foldPackage(p)
	ops = append(ops, fold.op)
	if signed {
		ops = append(ops, l.roundRecords()...)
	}
	out, err := l.persist(p, ops)
	l.finishFold(fold, err == nil)
	if err != nil {
		return err
	}
	recorded()
	if signed {
		// revoke_and_ack, then our updates and commitment_signed.
		l.send(out.Messages[0])
		l.signed(out.Messages[1:])
	} else {
		l.send(out.Messages...)
		l.ops.needSign = true
	}
	l.afterTransition(out, fold)
	l.commit()
	return nil
}

// receiveRevocation takes the peer's revoke_and_ack.
func (l *Link) receiveRevocation(m *lnwire.RevokeAndAck) error {
	p, err := l.ch.ReceiveRevocation(m)
	if err != nil {
		return err
	}
	fold := l.foldPackage(p)
	out, err := l.persist(p, []func(kvdb.RwTx) error{fold.op})
	l.finishFold(fold, err == nil)
	if err != nil {
		return err
	}
	l.afterTransition(out, fold)
	if len(l.ops.outbox) > 0 || l.ops.needSign {
		l.commit()
	}
	return nil
}

// afterTransition acts on a persisted transition's resolutions: the
// results of our attempts stored with it are delivered, the rest of the
// forwarding package it wrote is processed.
func (l *Link) afterTransition(out *lnwallet.Outcome, f *folded) {
	l.publishBandwidth()
	if l.sw != nil {
		l.sw.delivered(f.local)
	}
	r := &out.Resolutions
	if len(r.LockedIn) == 0 && len(r.Settled) == 0 && len(r.Failed) == 0 {
		return
	}
	for _, h := range r.LockedIn {
		if h.FailDust {
			l.ops.failDust[h.Add.ID] = true
		}
	}
	if f.pkg == nil {
		l.log.Error("Forwarding package not found; redone at restart",
			"height", l.ch.State().RemoteCommit.Number)
		return
	}
	l.processPackage(f.pkg, false)
}

// persist writes a transition with extra records in one transaction.
func (l *Link) persist(p *lnwallet.Pending,
	ops []func(kvdb.RwTx) error) (*lnwallet.Outcome, error) {

	out, err := p.Persist(context.Background(),
		txStore{db: l.cfg.DB, ops: ops})
	if err != nil {
		// The state machine refuses everything now: the channel is
		// unusable until reloaded from the store (a restart).
		return nil, err
	}
	return out, nil
}

// txStore is lnwallet.Store writing extra records in the channel's
// transaction.
type txStore struct {
	db  *channeldb.DB
	ops []func(kvdb.RwTx) error
}

func (s txStore) PersistChannel(ctx context.Context, u *channeldb.ChannelUpdate) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Shared with other links' and payments' writes (one fsync): every
	// op starts afresh when run again.
	return s.db.Batch(func(tx kvdb.RwTx) error {
		if err := channeldb.PutChannelTransition(tx, u); err != nil {
			return err
		}
		for _, op := range s.ops {
			if err := op(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// schedule arms the batch timer, or signs at once when the batch is
// full.
func (l *Link) schedule() {
	if len(l.ops.outbox) >= l.batch.size {
		l.commit()
		return
	}
	if l.timerC != nil {
		return
	}
	if l.timer == nil {
		l.timer = time.NewTimer(l.batch.delay)
	} else {
		l.timer.Reset(l.batch.delay)
	}
	l.timerC = l.timer.C
}

// commit signs the peer's next commitment if there is anything to sign
// and we may: the records of the round (circuits of our adds, the
// acknowledgements of our removals) are written with it, then our
// updates and the commitment_signed are sent.
func (l *Link) commit() {
	if !l.active.Load() || (len(l.ops.outbox) == 0 && !l.ops.needSign) {
		return
	}
	p, err := l.ch.SignNextCommitment()
	switch {
	case errors.Is(err, lnwallet.ErrNoUpdates):
		l.ops.needSign = false
		return
	case errors.Is(err, lnwallet.ErrAwaitRevocation),
		errors.Is(err, lnwallet.ErrRevokePending),
		errors.Is(err, lnwallet.ErrNoPointYet):
		// The next revoke_and_ack starts the round.
		return
	case err != nil:
		l.log.Error("Commitment not signed; channel stopped", "err", err)
		l.failChannel("internal error")
		return
	}
	out, err := l.persist(p, l.roundRecords())
	if err != nil {
		l.log.Error("Commitment not persisted; channel stopped", "err", err)
		l.failChannel("internal error")
		return
	}
	l.signed(out.Messages)
}

// roundRecords are the records written with our commitment_signed: the
// circuits of our adds, the records and acknowledgements of our
// removals.
func (l *Link) roundRecords() []func(kvdb.RwTx) error {
	var (
		ops  []func(kvdb.RwTx) error
		acks []pkgRef
	)
	for _, pkt := range l.ops.offered {
		ops = append(ops, circuitOp(pkt))
		if pkt.ack != nil {
			acks = append(acks, *pkt.ack)
		}
	}
	for _, rm := range l.ops.removing {
		ops = append(ops, rm.done...)
		acks = append(acks, rm.acks...)
	}
	return append(ops, func(tx kvdb.RwTx) error { return ackPkgs(tx, acks) })
}

// signed sends our updates and the commitment_signed (sig) covering
// them, now persisted with their records, and acts on them.
func (l *Link) signed(sig []lnwire.Message) {
	msgs := append(l.ops.outbox, sig...)
	offered, removing := l.ops.offered, l.ops.removing
	l.ops.outbox, l.ops.offered, l.ops.removing = nil, nil, nil
	l.ops.needSign = false
	l.send(msgs...)
	if l.sw != nil {
		l.sw.committed(offered)
	}
	for _, rm := range removing {
		for _, f := range rm.after {
			f()
		}
	}
	l.publishBandwidth()
}

// circuitOp writes the circuit of an offered HTLC.
func circuitOp(pkt *addPacket) func(kvdb.RwTx) error {
	c := &channeldb.PaymentCircuit{
		Incoming:       pkt.in,
		Outgoing:       pkt.outgoing,
		IncomingAmount: pkt.inAmount,
		OutgoingAmount: pkt.add.Amount,
		PaymentHash:    pkt.add.PaymentHash,
	}
	if !pkt.local() {
		c.ErrorEncrypter = append([]byte(nil), pkt.secret[:]...)
	}
	return func(tx kvdb.RwTx) error { return channeldb.PutCircuit(tx, c) }
}

// offer queues an HTLC for the link to add (from the switch).
func (l *Link) offer(pkt *addPacket) { l.mbox.push(pkt) }

// resolveIncoming queues the removal of one of the peer's HTLCs.
func (l *Link) resolveIncoming(rm *removal) { l.mbox.push(rm) }

// fromSwitch handles one item of the mailbox.
func (l *Link) fromSwitch(it any) {
	switch v := it.(type) {
	case *addPacket:
		l.addHTLC(v)
	case *removal:
		l.applyRemoval(v)
	case *exitResolved:
		l.exitResolved(v)
	case func():
		// Work that must run on the link's goroutine.
		v()
	case resumeItem:
		if !l.ops.resumed {
			l.ops.resumed = true
			l.resume()
		}
	}
}

// addHTLC offers pkt's HTLC to the peer.
func (l *Link) addHTLC(pkt *addPacket) {
	if !l.active.Load() {
		l.sw.failAdd(pkt, l.unavailable())
		return
	}
	add := *pkt.add
	msg, err := l.ch.AddHTLC(&add)
	if err != nil {
		l.log.Debug("HTLC not offered", "amt", add.Amount, "err", err)
		l.sw.failAdd(pkt, &sphinx.FailTemporaryChannelFailure{
			ChannelUpdate: l.sw.updateFor(l.scid)})
		return
	}
	pkt.outgoing = &channeldb.CircuitKey{ChanID: l.scid, HtlcID: msg.ID}
	l.sw.offered(pkt)
	l.ops.outbox = append(l.ops.outbox, msg)
	l.ops.offered = append(l.ops.offered, pkt)
	l.publishBandwidth()
	l.schedule()
}

// unavailable is the failure for an HTLC to a channel we cannot use
// now.
func (l *Link) unavailable() sphinx.FailureMessage {
	if l.failed {
		return &sphinx.FailPermanentChannelFailure{}
	}
	return &sphinx.FailTemporaryChannelFailure{
		ChannelUpdate: l.sw.updateFor(l.scid)}
}

// checkForward applies the outgoing channel's forwarding policy to an
// HTLC to forward over it; it runs on the incoming link's goroutine and
// reads only what is safe to.
func (l *Link) checkForward(pkt *addPacket) sphinx.FailureMessage {
	sw := l.sw
	if l.broken.Load() {
		return &sphinx.FailPermanentChannelFailure{}
	}
	update := sw.updateFor(l.scid)
	if !l.Active() {
		// The peer is away: the channel is disabled for now (its
		// channel_update will say so once gossiped).
		return &sphinx.FailChannelDisabled{ChannelUpdate: update}
	}
	pol := sw.policy(l.op)
	f := checkPolicy(&pol, &forwardCheck{inAmt: pkt.inAmount,
		outAmt: pkt.add.Amount, inExpiry: pkt.inExpiry,
		outExpiry: pkt.add.Expiry, height: sw.cfg.BestHeight()}, update)
	if f != nil {
		return f
	}
	if pkt.add.Amount > l.Bandwidth() {
		return &sphinx.FailTemporaryChannelFailure{ChannelUpdate: update}
	}
	return nil
}

// applyRemoval settles or fails one of the peer's HTLCs; it leaves with
// the next commitment_signed, whose write includes rm.done.
func (l *Link) applyRemoval(rm *removal) {
	if !l.active.Load() {
		l.ops.waiting = append(l.ops.waiting, rm)
		return
	}
	var (
		msg lnwire.Message
		err error
	)
	switch {
	case rm.settle:
		msg, err = l.ch.SettleHTLC(rm.htlcID, rm.preimage)
	case rm.malformed != nil:
		msg, err = l.ch.MalformedFailHTLC(rm.htlcID,
			rm.malformed.FailureCode, rm.malformed.ShaOnionBlob)
	default:
		msg, err = l.ch.FailHTLC(rm.htlcID, rm.reason)
	}
	switch {
	case errors.Is(err, lnwallet.ErrAlreadyResolved),
		errors.Is(err, lnwallet.ErrUnknownHTLC):
		// Removed before (a replay after a restart): only the
		// records are left to write.
		l.log.Debug("HTLC already removed", "id", rm.htlcID, "err", err)
		l.finishRemoval(rm)
		return
	case err != nil:
		l.log.Error("HTLC not removed", "id", rm.htlcID, "err", err)
		return
	}
	delete(l.ops.inflight, rm.htlcID)
	l.ops.outbox = append(l.ops.outbox, msg)
	l.ops.removing = append(l.ops.removing, rm)
	l.schedule()
}

// finishRemoval writes the records of a removal done earlier.
func (l *Link) finishRemoval(rm *removal) {
	delete(l.ops.inflight, rm.htlcID)
	err := l.cfg.DB.Batch(func(tx kvdb.RwTx) error {
		for _, op := range rm.done {
			if err := op(tx); err != nil {
				return err
			}
		}
		return ackPkgs(tx, rm.acks)
	})
	if err != nil {
		l.log.Error("Removal records not written", "err", err)
		return
	}
	for _, f := range rm.after {
		f()
	}
}

// Bandwidth is what the link can offer now: our balance on both
// commitments less our reserve, the fee we owe as the opener (with
// BOLT 2's fee spike buffer) and the adds not yet signed.
func (l *Link) Bandwidth() lnwire.MilliSatoshi {
	return lnwire.MilliSatoshi(l.bandwidth.Load())
}

func (l *Link) publishBandwidth() {
	st := l.ch.State()
	rc := &st.RemoteCommit
	if st.PendingRemote != nil {
		rc = &st.PendingRemote.Commitment
	}
	bal := min(st.LocalCommit.LocalBalanceMsat, rc.LocalBalanceMsat)
	need := uint64(st.LocalConfig.ChanReserve) * 1000
	if st.IsInitiator {
		n := max(len(st.LocalCommit.HTLCs), len(rc.HTLCs)) +
			len(l.ops.offered) + 1
		t := lnwallet.ChannelType(st.ChanType)
		fee := lnwallet.CommitFee(t,
			2*chainfee.SatPerKWeight(st.LocalCommit.FeeRate), n)
		if t.HasAnchors() {
			fee += 2 * lnwallet.AnchorValue
		}
		need += uint64(fee) * 1000
	}
	for _, p := range l.ops.offered {
		need += uint64(p.add.Amount)
	}
	if bal < need {
		l.bandwidth.Store(0)
		return
	}
	l.bandwidth.Store(bal - need)
}
