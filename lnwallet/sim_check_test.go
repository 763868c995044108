package lnwallet

import (
	"fmt"
	"math/rand"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
)

// Invariants of the simulation, checked after every operation.

// conserved checks that a commitment's balances and HTLCs add up to the
// capacity, to the millisatoshi.
func (s *sim) conserved(c *channeldb.ChannelCommitment) error {
	sum := c.LocalBalanceMsat + c.RemoteBalanceMsat
	for _, h := range c.HTLCs {
		sum += h.AmountMsat
	}
	if sum != s.capacity {
		return fmt.Errorf("commitment %d holds %d msat, capacity %d",
			c.Number, sum, s.capacity)
	}
	return nil
}

// mirrored checks that two records describe the same state from the two
// sides.
func mirrored(a, b *channeldb.ChannelCommitment) error {
	if a.Number != b.Number || a.FeeRate != b.FeeRate ||
		a.LocalBalanceMsat != b.RemoteBalanceMsat ||
		a.RemoteBalanceMsat != b.LocalBalanceMsat ||
		len(a.HTLCs) != len(b.HTLCs) {

		return fmt.Errorf("views of commitment %d differ: %+v vs %+v",
			a.Number, a, b)
	}
	for _, h := range a.HTLCs {
		i := findHTLC(b.HTLCs, h.ID, !h.Incoming)
		if i < 0 || b.HTLCs[i].AmountMsat != h.AmountMsat ||
			b.HTLCs[i].PaymentHash != h.PaymentHash ||
			b.HTLCs[i].CltvExpiry != h.CltvExpiry {

			return fmt.Errorf("commitment %d: HTLC %d differs",
				a.Number, h.ID)
		}
	}
	return nil
}

// commitsOf returns every commitment a channel holds.
func commitsOf(ch *Channel) []*channeldb.ChannelCommitment {
	st := ch.st
	commits := []*channeldb.ChannelCommitment{&st.LocalCommit,
		&st.RemoteCommit}
	if st.PendingRemote != nil {
		commits = append(commits, &st.PendingRemote.Commitment)
	}
	if ch.pendingLocal != nil {
		commits = append(commits, ch.pendingLocal)
	}
	return commits
}

// check runs every invariant.
func (s *sim) check() error {
	for i, n := range s.nodes {
		for _, c := range commitsOf(n.ch) {
			if err := s.conserved(c); err != nil {
				return fmt.Errorf("side %d: %w", i, err)
			}
		}
	}
	for owner := 0; owner < 2; owner++ {
		if err := s.checkAgreement(owner); err != nil {
			return err
		}
		if err := s.checkRevocations(owner); err != nil {
			return err
		}
	}
	return nil
}

// checkAgreement checks that the owner's current commitment is the one
// the other side signed: same state, same transaction, valid signature.
func (s *sim) checkAgreement(owner int) error {
	own, other := s.nodes[owner].ch, s.nodes[1-owner].ch
	lc := &own.st.LocalCommit
	var (
		rv    *channeldb.ChannelCommitment
		point *btcec.PublicKey
	)
	ost := other.st
	switch {
	case ost.RemoteCommit.Number == lc.Number:
		rv, point = &ost.RemoteCommit, ost.RemoteCurrentPoint
	case ost.PendingRemote != nil &&
		ost.PendingRemote.Commitment.Number == lc.Number:

		rv, point = &ost.PendingRemote.Commitment, ost.RemoteNextPoint
	default:
		return fmt.Errorf("side %d holds commitment %d; side %d signed "+
			"%d..%d", owner, lc.Number, 1-owner, ost.RemoteCommit.Number,
			other.latestRemote().Number)
	}
	if err := mirrored(lc, rv); err != nil {
		return fmt.Errorf("side %d: %w", owner, err)
	}
	if lc.TxID != rv.TxID {
		return fmt.Errorf("commitment %d of side %d: signed txid %v, "+
			"verified %v", lc.Number, owner, rv.TxID, lc.TxID)
	}
	// Rebuild both views from scratch (and check the stored
	// signature) for one commitment in eight: the txids compared above
	// are those each side built when signing and verifying.
	key := [2]uint64{uint64(owner), lc.Number}
	if s.checked[key] || lc.Number%8 != 1 {
		return nil
	}
	s.checked[key] = true
	return s.compareTxs(own, other, lc, rv, point)
}

// compareTxs builds the owner's commitment from both sides and checks
// the transactions are identical and the stored signature valid.
func (s *sim) compareTxs(own, other *Channel, lc,
	rv *channeldb.ChannelCommitment, point *btcec.PublicKey) error {

	ownPoint, err := own.localPoint(lc.Number)
	if err != nil {
		return err
	}
	if !ownPoint.IsEqual(point) {
		return fmt.Errorf("commitment %d: peer holds another point",
			lc.Number)
	}
	mine, err := NewCommitment(&own.params, Local, ownPoint, spec(lc))
	if err != nil {
		return err
	}
	theirs, err := NewCommitment(&other.params, Remote, point, spec(rv))
	if err != nil {
		return err
	}
	if mine.Tx.TxHash() != theirs.Tx.TxHash() ||
		mine.Tx.TxHash() != lc.TxID {

		return fmt.Errorf("commitment %d: txids differ: %v vs %v",
			lc.Number, mine.Tx.TxHash(), theirs.Tx.TxHash())
	}
	var out int64
	for _, o := range mine.Tx.TxOut {
		out += o.Value
	}
	if out+int64(mine.Fee) != int64(own.params.Capacity) || mine.Fee < 0 {
		return fmt.Errorf("commitment %d: outputs %d + fee %d != "+
			"capacity", lc.Number, out, mine.Fee)
	}
	sig, err := lc.CommitSig.ToSignature()
	if err != nil {
		return err
	}
	if err := VerifyCommitmentSig(&own.params, mine, sig); err != nil {
		return fmt.Errorf("stored signature: %w", err)
	}
	if len(lc.HtlcSigs) != len(mine.HTLCs) {
		return fmt.Errorf("commitment %d: %d HTLC signatures for %d "+
			"outputs", lc.Number, len(lc.HtlcSigs), len(mine.HTLCs))
	}
	return nil
}

// checkRevocations checks the last secret the other side stored for the
// owner's commitments against the owner's producer.
func (s *sim) checkRevocations(owner int) error {
	other := s.nodes[1-owner].ch.st
	n := other.RemoteCommit.Number
	key := [2]uint64{uint64(owner), n}
	if n == 0 || s.revChecks[key] {
		return nil
	}
	s.revChecks[key] = true
	got, err := other.RevocationStore.LookUpCommitment(n - 1)
	if err != nil {
		return err
	}
	want, _ := s.nodes[owner].ch.cfg.Secrets.ForCommitment(n - 1)
	if got != want {
		return fmt.Errorf("side %d stored a wrong secret for %d",
			1-owner, n-1)
	}
	return nil
}

// quiesce reconnects and runs commitment rounds until nothing is left to
// sign, then checks that both sides hold the same two commitments.
func (s *sim) quiesce() {
	s.reconnect()
	for iter := 0; iter < 200; iter++ {
		progress := false
		for side := 0; side < 2; side++ {
			for len(s.wire[side]) > 0 {
				s.deliver(side)
				progress = true
			}
		}
		for side := 0; side < 2; side++ {
			p, err := s.nodes[side].ch.SignNextCommitment()
			switch {
			case err == nil:
				out := s.persist(side, p)
				s.send(side, out.Messages...)
				progress = true
			case !expectedRefusal(err):
				simFail("quiesce: side %d sign: %v", side, err)
			}
		}
		if err := s.check(); err != nil {
			simFail("quiesce: %v", err)
		}
		if !progress {
			break
		}
	}
	for owner := 0; owner < 2; owner++ {
		own, other := s.nodes[owner].ch.st, s.nodes[1-owner].ch.st
		if other.PendingRemote != nil || len(s.wire[owner]) != 0 {
			simFail("quiesce: side %d did not settle", owner)
		}
		if err := mirrored(&own.LocalCommit, &other.RemoteCommit); err != nil {
			simFail("quiesce: %v", err)
		}
	}
}

// genOp draws a random operation.
func genOp(r *rand.Rand) simOp {
	op := simOp{Side: uint8(r.Intn(2))}
	switch x := r.Intn(1000); {
	case x < 420:
		op.Kind, op.A = opDeliver, uint64(1+r.Intn(3))
	case x < 570:
		op.Kind = opAdd
		if r.Intn(10) < 5 {
			op.A = uint64(1000 + r.Intn(500_000))
		} else {
			op.A = uint64(2_000_000 + r.Intn(80_000_000))
		}
		op.B = uint64(100 + r.Intn(2000))
		if r.Intn(200) == 0 {
			op.B = MaxCltvExpiry
		}
	case x < 680:
		op.Kind, op.A = opSettle, uint64(r.Intn(64))
	case x < 740:
		op.Kind, op.A, op.B = opFail, uint64(r.Intn(64)), uint64(r.Intn(2))
	case x < 765:
		op.Kind, op.A = opFee, uint64(253+r.Intn(20_000))
		if r.Intn(20) == 0 {
			op.A = uint64(r.Intn(300_000))
		}
	case x < 950:
		op.Kind = opSign
	case x < 970:
		op.Kind = opReconnect
	case x < 985:
		op.Kind = opRestart
	case x < 992:
		op.Kind = opSignCrash
	default:
		op.Kind = opDeliverCrash
	}
	return op
}

// shrink removes operations from a failing list while it keeps failing
// (delta debugging), within a budget of replays.
func shrink(ops []simOp, fails func([]simOp) bool, budget int) []simOp {
	n := 2
	for len(ops) >= 2 && budget > 0 {
		chunk := (len(ops) + n - 1) / n
		removed := false
		for i := 0; i*chunk < len(ops) && budget > 0; i++ {
			end := min((i+1)*chunk, len(ops))
			cand := append(append([]simOp(nil), ops[:i*chunk]...),
				ops[end:]...)
			budget--
			if fails(cand) {
				ops, removed = cand, true
				n = max(n-1, 2)
				break
			}
		}
		if !removed {
			if n >= len(ops) {
				break
			}
			n = min(2*n, len(ops))
		}
	}
	return ops
}
