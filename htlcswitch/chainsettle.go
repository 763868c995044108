package htlcswitch

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// SettleFromChain settles upstream the HTLCs we offered on channel out
// that pay preimage's hash: the contract court saw the peer claim one on
// chain with the preimage. A forwarded HTLC's incoming HTLC is settled
// off chain exactly as a downstream update_fulfill_htlc would settle it;
// an attempt of ours gets the result Settled. The preimage is persisted
// before anything is handed on, so a restart settles what this call
// did not finish; a second call, or the same settle arriving off chain,
// changes nothing. It returns the number of HTLCs it found.
func (s *Switch) SettleFromChain(out lnwire.ShortChannelID, preimage [32]byte) (int, error) {
	err := s.cfg.DB.Update(func(tx kvdb.RwTx) error {
		return channeldb.PutPreimages(tx, [][32]byte{preimage})
	})
	if err != nil {
		return 0, fmt.Errorf("htlcswitch: store preimage: %w", err)
	}
	hash := sha256.Sum256(preimage[:])
	s.mu.Lock()
	var pkts []*addPacket
	for k, c := range s.byOut {
		if k.ChanID == out && c.pkt.add.PaymentHash == hash {
			pkts = append(pkts, c.pkt)
		}
	}
	s.mu.Unlock()
	var local []attemptDone
	for _, p := range pkts {
		if p.local() {
			local = append(local, attemptDone{id: p.in.HtlcID,
				res: &AttemptResult{Settled: true, Preimage: preimage},
				out: p.outgoing})
			continue
		}
		s.log.Info("Settling upstream with a preimage from the chain",
			"incoming", p.in, "outgoing", *p.outgoing)
		s.backward(p, &lnwire.UpdateFulfillHTLC{PaymentPreimage: preimage},
			pkgRef{})
	}
	if len(local) > 0 {
		s.storeResults(local)
	}
	return len(pkts), nil
}

// Preimage returns a preimage the switch learnt downstream (off chain or
// on chain), for the contract court to claim an incoming HTLC on chain.
func (s *Switch) Preimage(hash [32]byte) ([32]byte, bool, error) {
	var (
		p  [32]byte
		ok bool
	)
	err := s.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		p, ok, err = channeldb.FetchPreimage(tx, hash)
		return err
	})
	return p, ok, err
}

// storeForwardedPreimages persists the preimages of forwarded HTLCs
// settled downstream, before their incoming HTLCs are settled: should
// the incoming channel go to chain first, the court claims them there.
func (s *Switch) storeForwardedPreimages(list []downstream) error {
	var pres [][32]byte
	s.mu.Lock()
	for _, d := range list {
		m, ok := d.msg.(*lnwire.UpdateFulfillHTLC)
		if c := s.byOut[d.out]; ok && c != nil && !c.pkt.local() {
			pres = append(pres, m.PaymentPreimage)
		}
	}
	s.mu.Unlock()
	if len(pres) == 0 {
		return nil
	}
	return s.cfg.DB.Batch(func(tx kvdb.RwTx) error {
		return channeldb.PutPreimages(tx, pres)
	})
}

// loadKnownSettles finds, at start, the forwarded circuits still open
// whose preimage we know: their settle was learnt but not yet written
// with the incoming commitment. Each incoming link settles them once it
// is added (replaySettles).
func (s *Switch) loadKnownSettles(tx kvdb.RTx, list []*channeldb.PaymentCircuit) error {
	for _, c := range list {
		if c.Outgoing == nil || c.Incoming.ChanID == localSource {
			continue
		}
		p, ok, err := channeldb.FetchPreimage(tx, c.PaymentHash)
		if err != nil {
			return err
		}
		if ok {
			s.known[c.Incoming.ChanID] = append(s.known[c.Incoming.ChanID],
				knownSettle{in: c.Incoming, preimage: p})
		}
	}
	return nil
}

// knownSettle is an incoming HTLC to settle after a restart, or to fail
// (fail: its outgoing channel's contract is final, loadFinalFails).
type knownSettle struct {
	in       channeldb.CircuitKey
	preimage [32]byte
	fail     bool
}

// loadFinalFails finds, at start, the circuits still open whose outgoing
// channel went to chain and whose contract is final, with no preimage
// known: nothing can happen to the outgoing HTLC any more (the peer
// could not claim it, or our timeout is 100 blocks deep), so the
// incoming HTLC fails. The court hands such a failure on while the
// contract is not final, also after a restart; this covers a restart
// after that, with the upstream peer away all along. Each incoming link
// fails them once it is added (replaySettles); the attempts of ours among
// them are returned, to fail once the circuits are loaded.
func (s *Switch) loadFinalFails(tx kvdb.RTx, list []*channeldb.PaymentCircuit) ([]channeldb.CircuitKey, error) {
	closed, err := channeldb.ListClosedChannels(tx, false)
	if err != nil {
		return nil, err
	}
	final := map[lnwire.ShortChannelID]bool{}
	for _, c := range closed {
		if c.IsPending {
			continue
		}
		rec, err := channeldb.FetchContract(tx, c.ChanPoint)
		if errors.Is(err, channeldb.ErrContractNotFound) {
			// A cooperative close: it had no HTLC.
			continue
		}
		if err != nil {
			return nil, err
		}
		final[c.ShortChanID] = rec.Resolved
	}
	var local []channeldb.CircuitKey
	for _, c := range list {
		if c.Outgoing == nil || !final[c.Outgoing.ChanID] {
			continue
		}
		_, ok, err := channeldb.FetchPreimage(tx, c.PaymentHash)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			// Settled instead (loadKnownSettles).
		case c.Incoming.ChanID == localSource:
			local = append(local, c.Incoming)
		default:
			s.known[c.Incoming.ChanID] = append(s.known[c.Incoming.ChanID],
				knownSettle{in: c.Incoming, fail: true})
		}
	}
	return local, nil
}

// failFinalAttempts fails the attempts of ours loadFinalFails found.
func (s *Switch) failFinalAttempts(keys []channeldb.CircuitKey) {
	var pkts []*addPacket
	s.mu.Lock()
	for _, k := range keys {
		if c := s.byIn[k]; c != nil {
			pkts = append(pkts, c.pkt)
		}
	}
	s.mu.Unlock()
	if err := s.failOnChain(pkts, "outgoing channel final on chain"); err != nil {
		s.log.Error("Attempts not failed", "err", err)
	}
}

// replaySettles settles the incoming HTLCs of link l's channel whose
// preimage was learnt before the restart, and gives l the removals a
// link of the channel before it did not write (rehand); it runs on l's
// goroutine after its forwarding packages were resumed.
func (s *Switch) replaySettles(l *Link) {
	defer s.rehand(l)
	s.mu.Lock()
	list := s.known[l.scid]
	delete(s.known, l.scid)
	var pkts, fails []*addPacket
	var pres [][32]byte
	for _, k := range list {
		c := s.byIn[k.in]
		switch {
		case c == nil || c.pkt.outgoing == nil:
		case k.fail:
			fails = append(fails, c.pkt)
		default:
			pkts, pres = append(pkts, c.pkt), append(pres, k.preimage)
		}
	}
	s.mu.Unlock()
	if err := s.failOnChain(fails, "outgoing channel final on chain"); err != nil {
		s.log.Error("Incoming HTLCs not failed", "err", err)
	}
	for i, p := range pkts {
		s.log.Info("Settling upstream with a preimage learnt before the "+
			"restart", "incoming", p.in, "outgoing", *p.outgoing)
		s.backward(p, &lnwire.UpdateFulfillHTLC{PaymentPreimage: pres[i]},
			pkgRef{})
	}
}

// FailFromChain fails upstream the HTLCs we offered on channel out that
// pay hash and carry amt (in whole satoshis, as on chain): the contract
// court saw our timeout of one confirm. A forwarded HTLC's incoming HTLC
// is failed off chain with permanent_channel_failure from us (the
// outgoing channel is closed); an attempt of ours gets that failure as
// its result, stored before anyone is woken. Circuits already gone are
// skipped, so a second call changes nothing. It returns the number of
// HTLCs it found.
func (s *Switch) FailFromChain(out lnwire.ShortChannelID, hash [32]byte,
	amt btcutil.Amount) (int, error) {

	s.mu.Lock()
	var pkts []*addPacket
	for k, c := range s.byOut {
		if k.ChanID == out && c.pkt.add.PaymentHash == hash &&
			c.pkt.add.Amount.ToSatoshis() == amt {

			pkts = append(pkts, c.pkt)
		}
	}
	s.mu.Unlock()
	return len(pkts), s.failOnChain(pkts, "our HTLC timed out on chain")
}

// FailTimedOut fails upstream the HTLC we offered on channel out with id
// id, whose timeout confirmed on chain, as FailFromChain does; unlike
// FailFromChain it leaves alone another HTLC of the same hash and
// amount, which the peer may still claim with the preimage. It returns
// the number of HTLCs it found (0 or 1).
func (s *Switch) FailTimedOut(out lnwire.ShortChannelID, id uint64) (int, error) {
	s.mu.Lock()
	c := s.byOut[channeldb.CircuitKey{ChanID: out, HtlcID: id}]
	s.mu.Unlock()
	if c == nil {
		return 0, nil
	}
	return 1, s.failOnChain([]*addPacket{c.pkt}, "our HTLC timed out on chain")
}

// FailUnclaimable resolves upstream the HTLCs we offered on channel out,
// by id, that its confirmed commitment can never pay on chain (dust, or
// offered after it): the court found them when the commitment confirmed.
// One whose preimage we know settles (we are owed nothing for it on
// chain, but the sender's payment did reach its payee); the others fail
// as FailFromChain fails them. A second call changes nothing. It returns
// the number of HTLCs it found.
func (s *Switch) FailUnclaimable(out lnwire.ShortChannelID, ids []uint64) (int, error) {
	s.mu.Lock()
	var pkts []*addPacket
	for _, id := range ids {
		c := s.byOut[channeldb.CircuitKey{ChanID: out, HtlcID: id}]
		if c != nil {
			pkts = append(pkts, c.pkt)
		}
	}
	s.mu.Unlock()
	if len(pkts) == 0 {
		return 0, nil
	}
	pres := make(map[[32]byte][32]byte)
	err := s.cfg.DB.View(func(tx kvdb.RTx) error {
		for _, p := range pkts {
			pre, ok, err := channeldb.FetchPreimage(tx, p.add.PaymentHash)
			if err != nil {
				return err
			}
			if ok {
				pres[p.add.PaymentHash] = pre
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("htlcswitch: read preimages: %w", err)
	}
	var fail []*addPacket
	var local []attemptDone
	for _, p := range pkts {
		pre, ok := pres[p.add.PaymentHash]
		switch {
		case !ok:
			fail = append(fail, p)
		case p.local():
			local = append(local, attemptDone{id: p.in.HtlcID,
				res: &AttemptResult{Settled: true, Preimage: pre},
				out: p.outgoing})
		default:
			s.backward(p, &lnwire.UpdateFulfillHTLC{PaymentPreimage: pre},
				pkgRef{})
		}
	}
	if len(local) > 0 {
		s.storeResults(local)
	}
	return len(pkts), s.failOnChain(fail,
		"our HTLC has no output on the confirmed commitment")
}

// failOnChain fails upstream pkts, HTLCs we offered on a channel closed
// on chain that will never be paid there (why says how).
func (s *Switch) failOnChain(pkts []*addPacket, why string) error {
	f := &sphinx.FailPermanentChannelFailure{}
	var local []attemptDone
	for _, p := range pkts {
		if p.local() {
			local = append(local, attemptDone{id: p.in.HtlcID,
				res: &AttemptResult{LocalFailure: f}, out: p.outgoing})
			continue
		}
		reason, err := sphinx.NewFailure(p.secret, f)
		if err != nil {
			return fmt.Errorf("htlcswitch: encrypt failure: %w", err)
		}
		in, outKey := p.in, *p.outgoing
		rm := &removal{htlcID: in.HtlcID, reason: reason}
		rm.done = append(rm.done, func(tx kvdb.RwTx) error {
			return channeldb.DeleteCircuit(tx, in)
		})
		rm.after = append(rm.after, func() { s.forget(in, outKey) })
		if !s.handOver(in, rm) {
			// Already being removed (a second call before the
			// first was written).
			continue
		}
		s.log.Info("Failing upstream: "+why, "incoming", in, "outgoing", outKey)
	}
	if len(local) > 0 {
		s.storeResults(local)
	}
	return nil
}
