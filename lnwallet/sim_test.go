package lnwallet

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// A randomized two-party simulation in the spirit of LDK's
// chanmon_consistency: two Channels joined by a simulated connection
// that delivers each direction in order but interleaves the two at
// random, drops the connection (losing what was in flight), and restarts
// either side from its store, including between persisting a state and
// sending its messages. Operations are recorded so that a failure can be
// replayed and shrunk to a short list that still fails.

// opKind is one simulated event.
type opKind uint8

const (
	opDeliver      opKind = iota // deliver up to A messages to side
	opAdd                        // side adds an HTLC of A msat, expiry B
	opSettle                     // side settles its A-th settleable HTLC
	opFail                       // side fails its A-th failable HTLC
	opFee                        // side (if opener) proposes fee rate A
	opSign                       // side signs
	opReconnect                  // the connection drops and comes back
	opRestart                    // side restarts from its store
	opSignCrash                  // side signs, persists, and crashes unsent
	opDeliverCrash               // side answers a message, persists, crashes unsent
	numOps
)

var opNames = [...]string{"opDeliver", "opAdd", "opSettle", "opFail",
	"opFee", "opSign", "opReconnect", "opRestart", "opSignCrash",
	"opDeliverCrash"}

// simOp is one recorded operation; its fields fully determine it.
type simOp struct {
	Kind opKind
	Side uint8
	A, B uint64
}

func (o simOp) String() string {
	// A Go literal, so that a shrunk failure can become a test case.
	return fmt.Sprintf("{%s, %d, %d, %d}", opNames[o.Kind], o.Side, o.A,
		o.B)
}

// simStore is what a simulated node persists to.
type simStore interface {
	Store
	Load() (*channeldb.OpenChannel, error)
}

// memSimStore is an in-memory store that keeps the encoded record.
type memSimStore struct{ memStore }

func (m *memSimStore) Load() (*channeldb.OpenChannel, error) {
	return channeldb.DecodeOpenChannel(m.data)
}

// simNode is one side.
type simNode struct {
	p     *party
	ch    *Channel
	store simStore
}

// sim is the whole simulated world.
type sim struct {
	nodes [2]*simNode
	// wire[i] holds the messages in flight to node i, in order.
	wire      [2][]lnwire.Message
	capacity  uint64
	checked   map[[2]uint64]bool // (owner, number) txids compared
	revChecks map[[2]uint64]bool
	preimages map[[32]byte][32]byte
	stats     simStats

	// crashNext makes the next persisted answer be lost unsent.
	crashNext bool
	ct        ChannelType
}

// simStats counts what a run exercised.
type simStats struct {
	adds, settles, fails, fees, signs, reconnects, restarts int
	refusals, maxHTLCs                                      int
}

func (st simStats) String() string {
	return fmt.Sprintf("adds %d, settles %d, fails %d, fee updates %d, "+
		"commitments signed %d, reconnects %d, restarts %d, refusals %d, "+
		"max HTLCs on a commitment %d", st.adds, st.settles, st.fails,
		st.fees, st.signs, st.reconnects, st.restarts, st.refusals,
		st.maxHTLCs)
}

// simError is an invariant violation or an unexpected error.
type simError struct{ msg string }

func (e *simError) Error() string { return e.msg }

func simFail(format string, args ...any) {
	panic(&simError{fmt.Sprintf(format, args...)})
}

// newSim builds the world; newStore makes each side's store.
func newSim(t testing.TB, ct ChannelType,
	newStore func(side int) simStore) *sim {

	ps := pairSpec{chanType: ct, capacity: 2_000_000,
		pushMsat: 600_000_000, feeRate: 2000, seed: 42,
		constrain: func(c *channeldb.ChannelConstraints) {
			c.MaxAcceptedHtlcs = 6
			c.MaxHtlcValueInFlightMsat = 1_500_000_000
			c.HtlcMinimumMsat = 1000
		}}
	a, b, sa, sb := newStates(t, ps)
	s := &sim{capacity: uint64(ps.capacity) * 1000, ct: ct,
		checked: map[[2]uint64]bool{}, revChecks: map[[2]uint64]bool{},
		preimages: map[[32]byte][32]byte{}}
	for i, pair := range []struct {
		p  *party
		st *channeldb.OpenChannel
	}{{a, sa}, {b, sb}} {
		n := &simNode{p: pair.p, store: newStore(i)}
		if err := n.store.PersistChannel(context.Background(),
			&channeldb.ChannelUpdate{State: pair.st}); err != nil {

			t.Fatal(err)
		}
		s.nodes[i] = n
		s.restart(i)
	}
	return s
}

// restart reloads side from its store.
func (s *sim) restart(side int) {
	s.stats.restarts++
	st, err := s.nodes[side].store.Load()
	if err != nil {
		simFail("reload side %d: %v", side, err)
	}
	ch, err := NewChannel(st, s.nodes[side].p.config())
	if err != nil {
		simFail("resume side %d: %v", side, err)
	}
	s.nodes[side].ch = ch
}

// persist persists p for side and returns what it released.
func (s *sim) persist(side int, p *Pending) *Outcome {
	out, err := p.Persist(context.Background(), s.nodes[side].store)
	if err != nil {
		simFail("persist side %d: %v", side, err)
	}
	return out
}

func (s *sim) send(from int, msgs ...lnwire.Message) {
	s.wire[1-from] = append(s.wire[1-from], msgs...)
}

// reconnect drops what is in flight and runs channel_reestablish.
func (s *sim) reconnect() {
	s.stats.reconnects++
	s.wire = [2][]lnwire.Message{}
	var re [2]*lnwire.ChannelReestablish
	for i, n := range s.nodes {
		m, err := n.ch.ChannelReestablish()
		if err != nil {
			simFail("side %d reestablish: %v", i, err)
		}
		re[i] = m
	}
	for i, n := range s.nodes {
		msgs, err := n.ch.ReceiveReestablish(re[1-i])
		if err != nil {
			simFail("side %d receive reestablish: %v", i, err)
		}
		s.send(i, msgs...)
	}
}

// deliver hands the next message in flight to side.
func (s *sim) deliver(side int) {
	if len(s.wire[side]) == 0 {
		return
	}
	msg := s.wire[side][0]
	s.wire[side] = s.wire[side][1:]
	n := s.nodes[side]
	// Both sides are honest: any violation, even one BOLT 2 answers
	// with a warning, means the sender's checks and the receiver's
	// disagree.
	if err := s.handle(side, n.ch, msg); err != nil {
		simFail("side %d receiving %v: %v", side, msg.MsgType(), err)
	}
}

func (s *sim) handle(side int, ch *Channel, msg lnwire.Message) error {
	var (
		p   *Pending
		err error
	)
	switch m := msg.(type) {
	case *lnwire.UpdateAddHTLC:
		return ch.ReceiveHTLC(m)
	case *lnwire.UpdateFulfillHTLC:
		return ch.ReceiveHTLCSettle(m)
	case *lnwire.UpdateFailHTLC:
		return ch.ReceiveFailHTLC(m)
	case *lnwire.UpdateFailMalformedHTLC:
		return ch.ReceiveMalformedFailHTLC(m)
	case *lnwire.UpdateFee:
		return ch.ReceiveUpdateFee(m)
	case *lnwire.CommitSig:
		if err := ch.ReceiveNewCommitment(m); err != nil {
			return err
		}
		p, err = ch.RevokeCurrentCommitment()
	case *lnwire.RevokeAndAck:
		p, err = ch.ReceiveRevocation(m)
	default:
		return fmt.Errorf("unexpected %v", msg.MsgType())
	}
	if err != nil {
		return err
	}
	out := s.persist(side, p)
	if s.crashNext {
		// Crash between persisting and sending.
		s.crashNext = false
		return nil
	}
	s.send(side, out.Messages...)
	return nil
}

// expectedRefusal reports whether err is a refusal an honest caller can
// meet (limits, state not ready), as opposed to a bug.
func expectedRefusal(err error) bool {
	for _, e := range []error{ErrZeroAmount, ErrBelowMinimum,
		ErrInvalidExpiry, ErrTooManyHTLCs, ErrMaxInFlight,
		ErrBelowReserve, ErrOpenerCannotPay, ErrFeeSpikeBuffer,
		ErrDustExposure, ErrUnknownHTLC, ErrHTLCNotLocked,
		ErrAlreadyResolved, ErrNotOpener, ErrFeeRate, ErrNoUpdates,
		ErrAwaitRevocation, ErrRevokePending, ErrNoPointYet} {

		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// removable lists side's incoming HTLCs committed on both commitments.
func removable(ch *Channel) []uint64 {
	var ids []uint64
	for _, h := range ch.st.LocalCommit.HTLCs {
		if h.Incoming && findHTLC(ch.st.RemoteCommit.HTLCs, h.ID,
			true) >= 0 {

			ids = append(ids, h.ID)
		}
	}
	return ids
}

// apply runs one operation.
func (s *sim) apply(op simOp, payment *uint64) {
	side := int(op.Side % 2)
	n := s.nodes[side]
	var err error
	switch op.Kind {
	case opDeliver:
		for i := uint64(0); i < max(op.A, 1); i++ {
			s.deliver(side)
		}
	case opAdd:
		*payment++
		pre, hash := htlcPreimage(*payment)
		s.preimages[hash] = pre
		var m *lnwire.UpdateAddHTLC
		m, err = n.ch.AddHTLC(&lnwire.UpdateAddHTLC{
			Amount:      lnwire.MilliSatoshi(op.A),
			PaymentHash: hash,
			Expiry:      uint32(op.B),
		})
		if err == nil {
			s.send(side, m)
		}
	case opSettle, opFail:
		ids := removable(n.ch)
		if len(ids) == 0 {
			return
		}
		id := ids[op.A%uint64(len(ids))]
		var m lnwire.Message
		m, err = s.remove(n.ch, op, id)
		if err == nil {
			s.send(side, m)
		}
	case opFee:
		var m *lnwire.UpdateFee
		m, err = n.ch.UpdateFee(uint32(op.A))
		if err == nil {
			s.send(side, m)
		}
	case opSign, opSignCrash:
		var p *Pending
		p, err = n.ch.SignNextCommitment()
		if err == nil {
			out := s.persist(side, p)
			if op.Kind == opSignCrash {
				s.restart(side)
				s.reconnect()
				return
			}
			s.send(side, out.Messages...)
		}
	case opDeliverCrash:
		if len(s.wire[side]) == 0 {
			return
		}
		s.crashNext = true
		s.deliver(side)
		if s.crashNext {
			// Nothing was persisted and released: no crash.
			s.crashNext = false
			return
		}
		s.restart(side)
		s.reconnect()
	case opReconnect:
		s.reconnect()
	case opRestart:
		s.restart(side)
		s.reconnect()
	}
	switch {
	case err == nil:
		s.count(op.Kind)
	case expectedRefusal(err):
		s.stats.refusals++
	default:
		simFail("%v: unexpected refusal: %v", op, err)
	}
}

// count records a successful operation.
func (s *sim) count(k opKind) {
	switch k {
	case opAdd:
		s.stats.adds++
	case opSettle:
		s.stats.settles++
	case opFail:
		s.stats.fails++
	case opFee:
		s.stats.fees++
	case opSign, opSignCrash:
		s.stats.signs++
	}
	for _, n := range s.nodes {
		s.stats.maxHTLCs = max(s.stats.maxHTLCs,
			len(n.ch.st.LocalCommit.HTLCs))
	}
}

// remove settles, fails or malformed-fails HTLC id.
func (s *sim) remove(ch *Channel, op simOp, id uint64) (lnwire.Message,
	error) {

	if op.Kind == opFail {
		if op.B%2 == 0 {
			return ch.FailHTLC(id, []byte("sim failure"))
		}
		return ch.MalformedFailHTLC(id, badOnion|5, [32]byte{1})
	}
	h := ch.st.LocalCommit.HTLCs[findHTLC(ch.st.LocalCommit.HTLCs, id,
		true)]
	pre, ok := s.preimage(h.PaymentHash)
	if !ok {
		simFail("unknown payment hash")
	}
	return ch.SettleHTLC(id, pre)
}

// preimage finds the preimage of a simulated payment hash.
func (s *sim) preimage(hash [32]byte) ([32]byte, bool) {
	pre, ok := s.preimages[hash]
	return pre, ok
}

// runOps replays ops from a fresh world and returns the first failure.
func runOps(t testing.TB, ct ChannelType, ops []simOp,
	newStore func(int) simStore, final bool) (err error) {

	_, _, err = runOpsStats(t, ct, ops, newStore, final)
	return err
}

// runOpsStats is runOps, also returning what the run exercised.
func runOpsStats(t testing.TB, ct ChannelType, ops []simOp,
	newStore func(int) simStore, final bool) (stats simStats, failedAt int,
	err error) {

	s := newSim(t, ct, newStore)
	at := "initial state"
	failedAt = -1
	defer func() {
		stats = s.stats
		if r := recover(); r != nil {
			if se, ok := r.(*simError); ok {
				err = fmt.Errorf("%s: %w", at, se)
				return
			}
			err = fmt.Errorf("%s: panic: %v\n%s", at, r, debug.Stack())
		}
	}()
	var payment uint64
	for i, op := range ops {
		at, failedAt = fmt.Sprintf("op %d %v", i, op), i
		s.apply(op, &payment)
		if cerr := s.check(); cerr != nil {
			return s.stats, i, fmt.Errorf("after %s: %w", at, cerr)
		}
	}
	if final {
		at, failedAt = "quiescing", len(ops)
		s.quiesce()
	}
	return s.stats, -1, nil
}
