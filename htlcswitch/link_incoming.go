package htlcswitch

import (
	"crypto/sha256"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// This file holds what a link does with the updates the peer locked in:
// every forwarding package is processed once its transition is on disk,
// and again after a restart for whatever it had not finished (an entry
// is acknowledged in the same write that makes its outcome durable).

// resumeItem asks a link to redo its forwarding packages: the switch
// sends it once its circuits are loaded, whether or not the peer is
// connected (a preimage learnt downstream must reach the incoming
// channel even if the downstream peer never comes back).
type resumeItem struct{}

// resume redoes the unacknowledged entries of the channel's forwarding
// packages, once per process.
func (l *Link) resume() {
	if l.sw == nil {
		return
	}
	var pkgs []*channeldb.FwdPkg
	err := l.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		pkgs, err = channeldb.ListFwdPkgs(tx, l.scid)
		return err
	})
	if err != nil {
		l.log.Error("Forwarding packages not read", "err", err)
		return
	}
	for _, p := range pkgs {
		l.processPackage(p, true)
	}
	if len(pkgs) > 0 {
		l.log.Info("Forwarding packages resumed", "packages", len(pkgs))
	}
}

// processPackage hands on a package's unacknowledged entries: settles
// and fails of our HTLCs go back through the switch, the peer's adds
// are decided (exit hop, forward, or fail).
func (l *Link) processPackage(p *channeldb.FwdPkg, replay bool) {
	var down []downstream
	for i, u := range p.SettleFails {
		if p.SettleFailFilter.Contains(uint16(i)) {
			continue
		}
		id := removalHTLCID(u.Msg)
		down = append(down, downstream{
			out: channeldb.CircuitKey{ChanID: l.scid, HtlcID: id},
			msg: u.Msg,
			ack: pkgRef{source: p.Source, height: p.Height,
				index: uint16(i), settle: true},
		})
	}
	if len(down) > 0 {
		l.sw.resolveOutgoing(down)
	}
	var adds []*inHTLC
	for i, u := range p.Adds {
		if p.AckFilter.Contains(uint16(i)) {
			continue
		}
		add := u.Msg.(*lnwire.UpdateAddHTLC)
		ref := pkgRef{source: p.Source, height: p.Height, index: uint16(i)}
		if replay && !l.stillLocked(add.ID) {
			// Removed before the restart; only the
			// acknowledgement was missing.
			l.sw.dbAck(func(tx kvdb.RwTx) error { return ackPkg(tx, ref) })
			continue
		}
		if _, ok := l.ops.inflight[add.ID]; ok {
			continue
		}
		h := &inHTLC{add: add, ref: ref}
		l.ops.inflight[add.ID] = h
		adds = append(adds, h)
	}
	if len(adds) > 0 {
		l.decideAdds(adds)
	}
}

func removalHTLCID(msg lnwire.Message) uint64 {
	switch m := msg.(type) {
	case *lnwire.UpdateFulfillHTLC:
		return m.ID
	case *lnwire.UpdateFailHTLC:
		return m.ID
	case *lnwire.UpdateFailMalformedHTLC:
		return m.ID
	}
	return 0
}

// stillLocked reports whether the peer's HTLC id is on both our
// commitments with no removal of ours pending.
func (l *Link) stillLocked(id uint64) bool {
	st := l.ch.State()
	has := func(hs []channeldb.HTLC) bool {
		for i := range hs {
			if hs[i].Incoming && hs[i].ID == id {
				return true
			}
		}
		return false
	}
	if !has(st.LocalCommit.HTLCs) || !has(st.RemoteCommit.HTLCs) {
		return false
	}
	for _, u := range st.LocalLog {
		if removalHTLCID(u.Msg) == id && isRemoval(u.Msg) {
			return false
		}
	}
	return true
}

func isRemoval(msg lnwire.Message) bool {
	switch msg.(type) {
	case *lnwire.UpdateFulfillHTLC, *lnwire.UpdateFailHTLC,
		*lnwire.UpdateFailMalformedHTLC:
		return true
	}
	return false
}

// peeled is an incoming HTLC whose onion was peeled.
type peeled struct {
	h   *inHTLC
	pkt *sphinx.ProcessedPacket
}

// decideAdds peels the onions of a batch of the peer's HTLCs, records
// them in the replay log in one write, and hands each on.
func (l *Link) decideAdds(adds []*inHTLC) {
	var (
		ok      []peeled
		replays []bool
		fresh   []int // indexes in ok not yet in the replay log
		hashes  []sphinx.Hash256
		cltvs   []uint32
		keys    []channeldb.CircuitKey
	)
	for _, h := range adds {
		pre := l.takePeeled(h.add)
		var (
			pp  *sphinx.ProcessedPacket
			err error
		)
		if pre != nil {
			pp, err = pre.pp, pre.err
		} else {
			pp, err = l.peel(h.add)
		}
		if err != nil {
			l.malformed(h, err)
			continue
		}
		h.secret = pp.SharedSecret
		if pre != nil && pre.recorded {
			ok = append(ok, peeled{h: h, pkt: pp})
			replays = append(replays, pre.replay)
			continue
		}
		fresh = append(fresh, len(ok))
		ok = append(ok, peeled{h: h, pkt: pp})
		replays = append(replays, false)
		hashes = append(hashes, pp.ReplayHash())
		cltvs = append(cltvs, h.add.Expiry)
		keys = append(keys, channeldb.CircuitKey{ChanID: l.scid,
			HtlcID: h.add.ID})
	}
	if len(ok) == 0 {
		return
	}
	if len(fresh) > 0 {
		var got []bool
		err := l.cfg.DB.Batch(func(tx kvdb.RwTx) error {
			var err error
			got, err = replayCheck(tx, hashes, cltvs, keys)
			return err
		})
		if err != nil {
			// Decided at the next restart, from the package.
			l.log.Error("Replay log not written", "err", err)
			for _, p := range ok {
				delete(l.ops.inflight, p.h.add.ID)
			}
			return
		}
		for j, i := range fresh {
			replays[i] = got[j]
		}
	}
	var exits []exitHTLC
	for i, p := range ok {
		if replays[i] {
			l.log.Warn("Replayed onion refused", "id", p.h.add.ID)
			l.failHTLC(p.h, &sphinx.FailTemporaryChannelFailure{})
			continue
		}
		if e := l.decide(p.h, p.pkt); e != nil {
			exits = append(exits, *e)
		}
	}
	if len(exits) > 0 {
		l.exitHop(exits)
	}
}

// exitHTLC is an HTLC that ends here, for the invoice registry.
type exitHTLC struct {
	h       *inHTLC
	payload *sphinx.HopPayload
}

// malformed fails an HTLC whose onion we could not peel with
// update_fail_malformed_htlc (BADONION codes), or with an unencrypted
// BADONION code for the rest: no shared secret was established.
func (l *Link) malformed(h *inHTLC, err error) {
	hash := sha256.Sum256(h.add.OnionBlob[:])
	code := sphinx.CodeInvalidOnionVersion
	if f, ok := sphinx.FailureForError(err, hash); ok && f.Code().IsBadOnion() {
		code = f.Code()
	} else if ok {
		// The HMAC was fine but the hop payloads' framing was not;
		// with no secret to encrypt under, report the onion as
		// unreadable.
		code = sphinx.CodeInvalidOnionHMAC
	}
	l.log.Debug("Onion refused", "id", h.add.ID, "err", err)
	ref := h.ref
	l.applyRemoval(&removal{htlcID: h.add.ID,
		malformed: &lnwire.UpdateFailMalformedHTLC{
			FailureCode: uint16(code), ShaOnionBlob: hash},
		acks: []pkgRef{ref}})
}

// failHTLC fails an incoming HTLC with a failure of ours, encrypted for
// the origin.
func (l *Link) failHTLC(h *inHTLC, f sphinx.FailureMessage) {
	reason, err := sphinx.NewFailure(h.secret, f)
	if err != nil {
		l.log.Error("Failure not encrypted", "err", err)
		return
	}
	ref := h.ref
	l.applyRemoval(&removal{htlcID: h.add.ID, reason: reason,
		acks: []pkgRef{ref}})
}

// decide hands on an HTLC whose onion was peeled to the switch, or
// returns it when it ends here (for the invoice registry).
func (l *Link) decide(h *inHTLC, pp *sphinx.ProcessedPacket) *exitHTLC {
	payload, err := sphinx.DecodeHopPayload(pp.Payload)
	if err == nil {
		err = payload.Validate(pp.IsFinal(), h.add.BlindingPoint != nil)
	}
	if err != nil {
		f, ok := sphinx.FailureForError(err, sphinx.Hash256{})
		if !ok {
			f = &sphinx.FailInvalidOnionPayload{}
		}
		l.failHTLC(h, f)
		return nil
	}
	if h.add.BlindingPoint != nil || payload.EncryptedRecipientData != nil {
		// Blinded routes are not supported yet.
		l.failHTLC(h, &sphinx.FailInvalidOnionPayload{
			Type: sphinx.TypeEncryptedRecipientData})
		return nil
	}
	if l.dustFailed(h) {
		return nil
	}
	if pp.IsFinal() {
		return &exitHTLC{h: h, payload: payload}
	}
	if l.closingRefuses(h) {
		return nil
	}
	next := lnwire.NewShortChanIDFromInt(*payload.ShortChannelID)
	pkt := &addPacket{
		in:       channeldb.CircuitKey{ChanID: l.scid, HtlcID: h.add.ID},
		inAmount: h.add.Amount,
		inExpiry: h.add.Expiry,
		secret:   h.secret,
		ack:      &h.ref,
		add: &lnwire.UpdateAddHTLC{
			Amount:      lnwire.MilliSatoshi(payload.AmtToForward),
			PaymentHash: h.add.PaymentHash,
			Expiry:      payload.OutgoingCLTV,
		},
	}
	copy(pkt.add.OnionBlob[:], pp.NextPacket.Bytes())
	// The incoming HTLC is the switch's now, until it comes back.
	delete(l.ops.inflight, h.add.ID)
	l.sw.forward(pkt, next)
	return nil
}

// dustFailed fails an HTLC the state machine marked as pushing our dust
// exposure over its bound (BOLT 2). The mark travels with the
// resolutions only: an HTLC redone after a restart is judged again by
// the next hop's checks instead.
func (l *Link) dustFailed(h *inHTLC) bool {
	if !l.ops.failDust[h.add.ID] {
		return false
	}
	delete(l.ops.failDust, h.add.ID)
	l.failHTLC(h, &sphinx.FailTemporaryChannelFailure{
		ChannelUpdate: l.sw.updateFor(l.scid)})
	return true
}

// exitResolved is the registry's later decision on a held HTLC.
type exitResolved struct {
	id  uint64
	res *invoices.Resolution
}

// exitHop hands the HTLCs that end here to the invoice registry, in one
// batch.
func (l *Link) exitHop(exits []exitHTLC) {
	height := l.sw.cfg.BestHeight()
	if l.sw.cfg.ExitHop == nil {
		for _, e := range exits {
			l.failHTLC(e.h, &sphinx.FailIncorrectOrUnknownPaymentDetails{
				HtlcMsat: uint64(e.h.add.Amount), Height: height})
		}
		return
	}
	exits = l.takeDecided(exits)
	if len(exits) == 0 {
		return
	}
	batch := make([]invoices.ExitHTLC, len(exits))
	for i, e := range exits {
		id := e.h.add.ID
		batch[i] = invoices.ExitHTLC{Hash: e.h.add.PaymentHash,
			Amt: e.h.add.Amount, Expiry: e.h.add.Expiry,
			Circuit: channeldb.CircuitKey{ChanID: l.scid, HtlcID: id},
			Payload: invoices.PayloadFromOnion(e.payload),
			Resolve: func(r *invoices.Resolution) {
				l.mbox.push(&exitResolved{id: id, res: r})
			}}
	}
	res, err := l.sw.cfg.ExitHop.NotifyExitHopHtlcs(height, batch)
	if err != nil {
		// Left unacknowledged: decided again at the next start.
		l.log.Error("Invoice registry failed; HTLCs decided at restart",
			"htlcs", len(exits), "err", err)
		return
	}
	for i, e := range exits {
		if res[i] == nil {
			e.h.held = true
			l.log.Debug("HTLC held", "id", e.h.add.ID)
			continue
		}
		l.resolveExit(e.h, res[i])
	}
}

// takeDecided acts on the registry's decisions made in the write that
// locked the HTLCs in, and returns the exits left to decide.
func (l *Link) takeDecided(exits []exitHTLC) []exitHTLC {
	if len(l.ops.decided) == 0 {
		return exits
	}
	left := exits[:0:0]
	for _, e := range exits {
		res, ok := l.ops.decided[e.h.add.ID]
		if !ok {
			left = append(left, e)
			continue
		}
		delete(l.ops.decided, e.h.add.ID)
		if res == nil {
			e.h.held = true
			l.log.Debug("HTLC held", "id", e.h.add.ID)
			continue
		}
		l.resolveExit(e.h, res)
	}
	return left
}

func (l *Link) exitResolved(r *exitResolved) {
	h := l.ops.inflight[r.id]
	if h == nil {
		return
	}
	l.resolveExit(h, r.res)
}

// resolveExit settles or fails an exit-hop HTLC as the registry decided.
func (l *Link) resolveExit(h *inHTLC, res *invoices.Resolution) {
	h.held = false
	if res.Settled() {
		ref := h.ref
		l.applyRemoval(&removal{htlcID: h.add.ID, settle: true,
			preimage: *res.Preimage,
			acks:     []pkgRef{ref}})
		return
	}
	f := res.Failure
	if f == nil {
		f = &sphinx.FailIncorrectOrUnknownPaymentDetails{
			HtlcMsat: uint64(h.add.Amount), Height: l.sw.cfg.BestHeight()}
	}
	l.failHTLC(h, f)
}

// heldExpirer is an ExitHop told of the held HTLCs a link fails back
// near their expiry, so that the invoice shows them canceled;
// *invoices.Registry is one.
type heldExpirer interface {
	ExpireHeld(hash [32]byte, circuit channeldb.CircuitKey, height uint32) (bool, error)
}

// heldSettled has the registry record the expiry of held HTLC h first
// (persisted, so that the invoice never shows as held an HTLC we
// failed), and reports an invoice settled meanwhile, whose fulfilment is
// on its way. A registry error does not keep the HTLC: the channel
// matters more than the invoice's record.
func (l *Link) heldSettled(h *inHTLC, height uint32) bool {
	x, ok := l.sw.cfg.ExitHop.(heldExpirer)
	if !ok {
		return false
	}
	settled, err := x.ExpireHeld(h.add.PaymentHash,
		channeldb.CircuitKey{ChanID: l.scid, HtlcID: h.add.ID}, height)
	if err != nil {
		l.log.Error("Invoice registry did not record a held HTLC's expiry",
			"id", h.add.ID, "err", err)
		return false
	}
	return settled
}

// expireHeld fails back held HTLCs whose expiry comes near, so that the
// channel never has to go on chain for them (as lnd does with hold
// invoices).
func (l *Link) expireHeld() {
	if l.sw == nil {
		return
	}
	height := l.sw.cfg.BestHeight()
	if height == 0 {
		return
	}
	for _, h := range l.ops.inflight {
		if h.held && h.add.Expiry <= height+HoldExpiryDelta {
			if l.heldSettled(h, height) {
				continue
			}
			l.log.Info("Held HTLC failed back near its expiry",
				"id", h.add.ID, "expiry", h.add.Expiry, "height", height)
			h.held = false
			l.failHTLC(h, &sphinx.FailIncorrectOrUnknownPaymentDetails{
				HtlcMsat: uint64(h.add.Amount), Height: height})
		}
	}
}
