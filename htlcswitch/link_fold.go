package htlcswitch

import (
	"errors"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// This file folds the switch's records of a commitment round into the
// write of the transition they follow from, so that a round costs one
// write per step: the results of our attempts that the peer's removals
// resolve, and the invoice registry's decisions on the HTLCs that lock
// in and end here, are made durable with the forwarding package that
// carries them. Both are also made from the package after a restart, so
// nothing is lost if the fold is skipped (the registry busy, a package
// entry already acknowledged); each is idempotent (an acknowledged entry
// is not redone, the registry recognises an HTLC it decided).

// exitDecider is an ExitHop that can decide in the caller's
// transaction; *invoices.Registry is one.
type exitDecider interface {
	NewExitDecisions(currentHeight uint32,
		hs []invoices.ExitHTLC) *invoices.ExitDecisions
}

// folded is what a transition's write did with the forwarding package
// it wrote.
type folded struct {
	op    func(kvdb.RwTx) error
	pkg   *channeldb.FwdPkg
	local []attemptDone // results of our attempts, stored

	exits   *invoices.ExitDecisions
	exitIDs []uint64 // the HTLC of each exit decision
	decided bool     // exits decided in the write
}

// foldPackage returns the record that, in the write of transition p,
// reads the forwarding package p wrote, stores the results of our
// attempts it resolves, and has the invoice registry decide the HTLCs
// that end here.
func (l *Link) foldPackage(p *lnwallet.Pending) *folded {
	f := &folded{}
	f.exits, f.exitIDs = l.exitBatch(p.Resolutions())
	written := p.FwdPkg()
	f.op = func(tx kvdb.RwTx) error {
		// A backend may run the transaction again (etcd).
		f.pkg, f.local, f.decided = nil, nil, false
		height := l.ch.State().RemoteCommit.Number
		var pkg *channeldb.FwdPkg
		if written != nil && written.Source == l.scid &&
			written.Height == height {
			// What the transition just wrote in tx: no need to
			// read its onions back. A copy, whose filters the
			// fold marks afresh on every run.
			pkg = written.Clone()
		} else {
			var err error
			pkg, err = channeldb.FetchFwdPkg(tx, l.scid, height)
			if errors.Is(err, channeldb.ErrFwdPkgNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		f.pkg = pkg
		if l.sw == nil {
			return nil
		}
		f.local = l.sw.localResults(pkg)
		if err := putResults(tx, f.local); err != nil {
			return err
		}
		if f.exits == nil {
			return nil
		}
		switch err := f.exits.Decide(tx); {
		case errors.Is(err, invoices.ErrRegistryBusy):
			// Decided after the write, on their own.
			return nil
		case err != nil:
			return err
		}
		f.decided = true
		return nil
	}
	return f
}

// finishFold completes the fold once the write is done (ok) or failed:
// the registry's decisions made in it wait for the package's processing
// (exitHop).
func (l *Link) finishFold(f *folded, ok bool) {
	if f.exits == nil {
		return
	}
	if !ok || !f.decided {
		f.exits.Abort()
		return
	}
	res := f.exits.Committed()
	for i, id := range f.exitIDs {
		l.ops.decided[id] = res[i]
	}
}

// exitBatch returns the registry's decisions to make on the HTLCs that
// lock in with r and end here, those whose onion was peeled and
// recorded in the replay log earlier and reads as a plain final hop;
// every other HTLC is decided from the package as before.
func (l *Link) exitBatch(r *lnwallet.Resolutions) (*invoices.ExitDecisions, []uint64) {
	if l.sw == nil || len(r.LockedIn) == 0 {
		return nil, nil
	}
	reg, ok := l.sw.cfg.ExitHop.(exitDecider)
	if !ok {
		return nil, nil
	}
	var (
		batch []invoices.ExitHTLC
		ids   []uint64
	)
	for _, h := range r.LockedIn {
		add := h.Add
		if h.FailDust || add.BlindingPoint != nil {
			continue
		}
		if _, ok := l.ops.inflight[add.ID]; ok {
			continue
		}
		payload := l.finalPayload(add)
		if payload == nil {
			continue
		}
		id := add.ID
		batch = append(batch, invoices.ExitHTLC{Hash: add.PaymentHash,
			Amt: add.Amount, Expiry: add.Expiry,
			Circuit: channeldb.CircuitKey{ChanID: l.scid, HtlcID: id},
			Payload: invoices.PayloadFromOnion(payload),
			Resolve: func(r *invoices.Resolution) {
				l.mbox.push(&exitResolved{id: id, res: r})
			}})
		ids = append(ids, id)
	}
	if len(batch) == 0 {
		return nil, nil
	}
	return reg.NewExitDecisions(l.sw.cfg.BestHeight(), batch), ids
}

// finalPayload returns the payload of an add whose onion was peeled on
// receipt, recorded as no replay, and ends here without blinding; nil
// for any other.
func (l *Link) finalPayload(add *lnwire.UpdateAddHTLC) *sphinx.HopPayload {
	pre := l.ops.peeled[add.ID]
	if pre == nil || pre.err != nil || !pre.recorded || pre.replay ||
		!pre.peeledFrom(add) || !pre.pp.IsFinal() {
		return nil
	}
	payload, err := sphinx.DecodeHopPayload(pre.pp.Payload)
	if err != nil || payload.Validate(true, false) != nil ||
		payload.EncryptedRecipientData != nil {
		return nil
	}
	return payload
}
