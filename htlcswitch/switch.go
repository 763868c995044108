package htlcswitch

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// ErrDuplicateAttempt is returned by SendHTLC for an attempt id already
// in flight or already resolved.
var ErrDuplicateAttempt = errors.New("htlcswitch: attempt id already used")

// ErrSwitchStopped is returned by the switch's calls after Stop.
var ErrSwitchStopped = errors.New("htlcswitch: switch stopped")

// AttemptResult is the outcome of an HTLC this node originated.
type AttemptResult struct {
	Settled  bool
	Preimage [32]byte // when Settled
	// Reason is update_fail_htlc's reason as the first hop returned it,
	// still onion-encrypted: the origin decrypts it with the attempt's
	// session key (sphinx.DecryptFailure).
	Reason []byte
	// LocalFailure is a failure that never went through the onion: our
	// own node refused the HTLC (unknown first hop, link inactive, not
	// enough bandwidth, ...) or the first hop answered
	// update_fail_malformed_htlc. FromFirstHop tells the two apart.
	LocalFailure sphinx.FailureMessage
	FromFirstHop bool
}

// ExitHop decides the HTLCs that end at this node, a batch at a time
// (one write for a commitment round's payments); *invoices.Registry is
// one. A nil resolution holds the HTLC until its Resolve is called.
type ExitHop interface {
	NotifyExitHopHtlcs(currentHeight uint32,
		htlcs []invoices.ExitHTLC) ([]*invoices.Resolution, error)
}

// Config is what the switch needs.
type Config struct {
	// DB holds circuits, forwarding packages, the forwarding log, the
	// attempt results and the onion replay log.
	DB *channeldb.DB

	// NodeKey peels the onions of incoming HTLCs.
	NodeKey sphinx.ECDHer

	// ExitHop decides HTLCs whose onion ends here.
	ExitHop ExitHop

	// BestHeight is the chain's current height.
	BestHeight func() uint32

	// ChannelUpdate returns our latest channel_update of a channel, for
	// failure messages; nil (or a nil update) sends an empty one, as
	// BOLT 4 allows.
	ChannelUpdate func(scid lnwire.ShortChannelID) (*lnwire.ChannelUpdate, error)

	// OnPolicyUpdate is called after a forwarding policy change is
	// persisted (nil: nothing).
	OnPolicyUpdate func(chanPoints []wire.OutPoint)

	// DefaultPolicy is the forwarding policy of a channel with none
	// stored (from --bitcoin.basefee and the rest).
	DefaultPolicy ForwardingPolicy

	// FeeEstimate is the chain's fee rate estimate for a commitment;
	// the opener's links follow it with update_fee (nil: never).
	FeeEstimate func() (chainfee.SatPerKWeight, error)

	// FeeUpdateInterval is how often links check the estimate (0:
	// DefaultFeeUpdateInterval).
	FeeUpdateInterval time.Duration

	// BatchDelay and BatchSize shape commitment rounds (0: the
	// defaults, see link_update.go).
	BatchDelay time.Duration
	BatchSize  int

	// Logger is the subsystem's logger (nil: discard).
	Logger *slog.Logger
}

// circuit is an open circuit in memory: an incoming HTLC (or attempt)
// and, once offered, the outgoing HTLC.
type circuit struct {
	pkt       *addPacket
	committed bool // on disk
}

// Switch moves HTLCs between the links of our channels: it hands the
// HTLCs we originate to their first hop, forwards incoming HTLCs to
// their next channel through a persistent circuit map, and carries each
// settle or fail back the way its HTLC came.
type Switch struct {
	cfg    Config
	log    *slog.Logger
	links  *Links
	router *sphinx.Router

	mu       sync.Mutex
	byIn     map[channeldb.CircuitKey]*circuit
	byOut    map[channeldb.CircuitKey]*circuit
	waiters  map[uint64][]chan AttemptResult
	policies map[wire.OutPoint]ForwardingPolicy

	// handed holds the removals of incoming HTLCs handed to their link
	// and not yet written (handoff.go); known the settles to replay
	// after a restart (chainsettle.go).
	handed map[channeldb.CircuitKey]*handoff
	known  map[lnwire.ShortChannelID][]knownSettle

	start, stop sync.Once
	started     atomic.Bool
	startErr    error
	quit        chan struct{}
	wg          sync.WaitGroup
}

// New returns a switch over cfg; Start loads its circuits.
func New(cfg Config) *Switch {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		cfg.Logger = log
	}
	if cfg.BestHeight == nil {
		cfg.BestHeight = func() uint32 { return 0 }
	}
	s := &Switch{
		cfg:      cfg,
		log:      log,
		byIn:     map[channeldb.CircuitKey]*circuit{},
		byOut:    map[channeldb.CircuitKey]*circuit{},
		waiters:  map[uint64][]chan AttemptResult{},
		policies: map[wire.OutPoint]ForwardingPolicy{},
		handed:   map[channeldb.CircuitKey]*handoff{},
		known:    map[lnwire.ShortChannelID][]knownSettle{},
		quit:     make(chan struct{}),
	}
	s.links = newLinks(s)
	if cfg.NodeKey != nil {
		// Replays are checked per batch in the database (store.go).
		s.router = sphinx.NewRouter(cfg.NodeKey, nil)
	}
	return s
}

// Name is the subsystem's name for the server.
func (s *Switch) Name() string { return "switch" }

// Links is the switch's registry of running links.
func (s *Switch) Links() *Links { return s.links }

// Start loads the circuits left open by the last run and starts the
// replay log's garbage collection. Links are added after Start.
func (s *Switch) Start() error {
	s.start.Do(func() {
		var (
			list  []*channeldb.PaymentCircuit
			final []channeldb.CircuitKey
		)
		err := s.cfg.DB.View(func(tx kvdb.RTx) error {
			var err error
			list, err = channeldb.ListCircuits(tx)
			if err != nil {
				return err
			}
			if err := s.loadKnownSettles(tx, list); err != nil {
				return err
			}
			final, err = s.loadFinalFails(tx, list)
			return err
		})
		if err != nil {
			s.startErr = fmt.Errorf("htlcswitch: load circuits: %w", err)
			return
		}
		s.mu.Lock()
		for _, c := range list {
			if c.Outgoing == nil {
				continue
			}
			pkt := &addPacket{in: c.Incoming, inAmount: c.IncomingAmount,
				outgoing: c.Outgoing,
				add: &lnwire.UpdateAddHTLC{Amount: c.OutgoingAmount,
					PaymentHash: c.PaymentHash}}
			copy(pkt.secret[:], c.ErrorEncrypter)
			ci := &circuit{pkt: pkt, committed: true}
			s.byIn[c.Incoming] = ci
			s.byOut[*c.Outgoing] = ci
		}
		s.mu.Unlock()
		s.failFinalAttempts(final)
		if err := s.loadPolicies(); err != nil {
			s.startErr = err
			return
		}
		// Links redo their forwarding packages only now that the
		// circuits are loaded (links added later do at once).
		s.started.Store(true)
		for _, l := range s.links.All() {
			l.mbox.push(resumeItem{})
			l.mbox.push(func() { s.replaySettles(l) })
		}
		s.log.Info("Switch started", "open_circuits", len(list))
		s.wg.Add(1)
		go s.gcLoop()
	})
	return s.startErr
}

// Stop stops every link and the switch's goroutine.
func (s *Switch) Stop() error {
	s.stop.Do(func() {
		close(s.quit)
		s.links.Stop()
		s.wg.Wait()
	})
	return nil
}

// replayGCInterval is how often onions of expired HTLCs are forgotten.
const replayGCInterval = 10 * time.Minute

func (s *Switch) gcLoop() {
	defer s.wg.Done()
	t := time.NewTicker(replayGCInterval)
	defer t.Stop()
	for {
		s.pruneReplays()
		select {
		case <-t.C:
		case <-s.quit:
			return
		}
	}
}

func (s *Switch) pruneReplays() {
	h := s.cfg.BestHeight()
	if h == 0 {
		return
	}
	var n int
	err := s.cfg.DB.Update(func(tx kvdb.RwTx) error {
		var err error
		n, err = pruneReplays(tx, h)
		return err
	})
	if err != nil {
		s.log.Error("Replay log not pruned", "err", err)
	} else if n > 0 {
		s.log.Debug("Replay log pruned", "entries", n, "height", h)
	}
}

// SendHTLC hands an HTLC we originate to the link of firstHop (scid or
// alias). It returns ErrDuplicateAttempt for an attemptID already in
// flight; every other failure arrives as the attempt's result.
func (s *Switch) SendHTLC(firstHop lnwire.ShortChannelID, attemptID uint64,
	htlc *lnwire.UpdateAddHTLC) error {

	key := channeldb.CircuitKey{ChanID: localSource, HtlcID: attemptID}
	pkt := &addPacket{in: key, add: htlc}
	s.mu.Lock()
	if _, ok := s.byIn[key]; ok {
		s.mu.Unlock()
		return ErrDuplicateAttempt
	}
	s.byIn[key] = &circuit{pkt: pkt}
	s.mu.Unlock()

	var stored *AttemptResult
	err := s.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		stored, err = fetchResult(tx, attemptID)
		return err
	})
	if err != nil || stored != nil {
		s.mu.Lock()
		delete(s.byIn, key)
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("htlcswitch: attempt %d: %w", attemptID, err)
		}
		return ErrDuplicateAttempt
	}
	l := s.links.ByShortID(firstHop)
	if l == nil {
		s.failAdd(pkt, &sphinx.FailUnknownNextPeer{})
		return nil
	}
	l.offer(pkt)
	return nil
}

// GetAttemptResult waits for an attempt's result; results are persisted
// by the switch, so this works after a restart too.
func (s *Switch) GetAttemptResult(attemptID uint64) (<-chan AttemptResult, error) {
	ch := make(chan AttemptResult, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	var stored *AttemptResult
	err := s.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		stored, err = fetchResult(tx, attemptID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("htlcswitch: attempt %d: %w", attemptID, err)
	}
	if stored != nil {
		ch <- *stored
		return ch, nil
	}
	s.waiters[attemptID] = append(s.waiters[attemptID], ch)
	return ch, nil
}

// CleanAttemptResults deletes stored results except those in keep.
func (s *Switch) CleanAttemptResults(keep map[uint64]struct{}) error {
	return s.cfg.DB.Update(func(tx kvdb.RwTx) error {
		b := tx.ReadWriteBucket(resultBucket)
		if b == nil {
			return nil
		}
		var drop [][]byte
		err := b.ForEach(func(k, _ []byte) error {
			if len(k) == 8 {
				if _, ok := keep[beU64(k)]; ok {
					return nil
				}
			}
			drop = append(drop, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Bandwidth is what we can send now over our active channel scid.
func (s *Switch) Bandwidth(scid lnwire.ShortChannelID) (lnwire.MilliSatoshi, bool) {
	l := s.links.ByShortID(scid)
	if l == nil || !l.Active() {
		return 0, false
	}
	return l.Bandwidth(), true
}

// forward hands an incoming HTLC to the link of its next channel. A
// duplicate (the incoming link replaying after a restart an HTLC it
// forwarded already) is dropped.
func (s *Switch) forward(pkt *addPacket, next lnwire.ShortChannelID) {
	s.mu.Lock()
	if _, ok := s.byIn[pkt.in]; ok {
		s.mu.Unlock()
		s.log.Debug("Duplicate forward dropped", "incoming", pkt.in)
		return
	}
	s.byIn[pkt.in] = &circuit{pkt: pkt}
	s.mu.Unlock()
	l := s.links.ForwardTarget(next)
	if l == nil {
		s.failAdd(pkt, &sphinx.FailUnknownNextPeer{})
		return
	}
	if f := l.checkForward(pkt); f != nil {
		s.failAdd(pkt, f)
		return
	}
	l.offer(pkt)
}

// offered records the outgoing HTLC a link gave pkt (not yet on disk).
func (s *Switch) offered(pkt *addPacket) {
	s.mu.Lock()
	if c := s.byIn[pkt.in]; c != nil {
		s.byOut[*pkt.outgoing] = c
	}
	s.mu.Unlock()
}

// committed marks the circuits of pkts as on disk.
func (s *Switch) committed(pkts []*addPacket) {
	s.mu.Lock()
	for _, p := range pkts {
		if c := s.byIn[p.in]; c != nil {
			c.committed = true
		}
	}
	s.mu.Unlock()
}

// failAdd fails an HTLC the switch or the outgoing link refused before
// it left: back to the incoming link with failure encrypted, or as the
// attempt's result.
func (s *Switch) failAdd(pkt *addPacket, f sphinx.FailureMessage) {
	s.mu.Lock()
	if c := s.byIn[pkt.in]; c != nil && c.pkt == pkt {
		delete(s.byIn, pkt.in)
		if pkt.outgoing != nil {
			delete(s.byOut, *pkt.outgoing)
		}
	}
	s.mu.Unlock()
	if pkt.local() {
		s.storeResults([]attemptDone{{id: pkt.in.HtlcID,
			res: &AttemptResult{LocalFailure: f}}})
		return
	}
	reason, err := sphinx.NewFailure(pkt.secret, f)
	if err != nil {
		s.log.Error("Failure not encrypted", "err", err)
		return
	}
	l := s.links.ByShortID(pkt.in.ChanID)
	if l == nil {
		s.log.Warn("Incoming link gone; HTLC failed back on reload",
			"incoming", pkt.in)
		return
	}
	rm := &removal{htlcID: pkt.in.HtlcID, reason: reason}
	if pkt.ack != nil {
		rm.acks = append(rm.acks, *pkt.ack)
	}
	l.resolveIncoming(rm)
}

// attemptDone is a result for an attempt, with the forwarding-package
// entry that carried it.
type attemptDone struct {
	id  uint64
	res *AttemptResult
	ack *pkgRef
	out *channeldb.CircuitKey
}

// storeResults persists results of our attempts, forgets their
// circuits, and wakes their waiters.
func (s *Switch) storeResults(list []attemptDone) {
	err := s.cfg.DB.Batch(func(tx kvdb.RwTx) error {
		return putResults(tx, list)
	})
	if err != nil {
		// The packages stay unacknowledged: the link redoes them
		// at its next start.
		s.log.Error("Attempt results not stored", "err", err)
		return
	}
	s.delivered(list)
}

// putResults writes results of our attempts in tx, with the deletion of
// their circuits and the acknowledgement of the package entries that
// carried them.
func putResults(tx kvdb.RwTx, list []attemptDone) error {
	var refs []pkgRef
	for _, d := range list {
		if err := putResult(tx, d.id, d.res); err != nil {
			return err
		}
		err := channeldb.DeleteCircuit(tx, channeldb.CircuitKey{
			ChanID: localSource, HtlcID: d.id})
		if err != nil {
			return err
		}
		if d.ack != nil {
			refs = append(refs, *d.ack)
		}
	}
	return ackPkgs(tx, refs)
}

// localResults takes from a forwarding package the settles and fails
// that resolve attempts of ours, for their results to be written with
// the package (putResults); it marks them acknowledged in pkg, so that
// processing pkg afterwards leaves them alone.
func (s *Switch) localResults(pkg *channeldb.FwdPkg) []attemptDone {
	var list []attemptDone
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range pkg.SettleFails {
		if pkg.SettleFailFilter.Contains(uint16(i)) {
			continue
		}
		out := channeldb.CircuitKey{ChanID: pkg.Source,
			HtlcID: removalHTLCID(u.Msg)}
		c := s.byOut[out]
		if c == nil || !c.pkt.local() {
			continue
		}
		pkg.SettleFailFilter.Set(uint16(i))
		list = append(list, attemptDone{id: c.pkt.in.HtlcID,
			res: attemptResult(u.Msg), out: &out,
			ack: &pkgRef{source: pkg.Source, height: pkg.Height,
				index: uint16(i), settle: true}})
	}
	return list
}

// delivered forgets the circuits of results on disk and wakes their
// waiters.
func (s *Switch) delivered(list []attemptDone) {
	if len(list) == 0 {
		return
	}
	crashpoint.Hit(crashpoint.SwitchResultStored)
	s.mu.Lock()
	var wake []func()
	for _, d := range list {
		key := channeldb.CircuitKey{ChanID: localSource, HtlcID: d.id}
		if c := s.byIn[key]; c != nil {
			delete(s.byIn, key)
			if c.pkt.outgoing != nil {
				delete(s.byOut, *c.pkt.outgoing)
			}
		}
		res := *d.res
		for _, ch := range s.waiters[d.id] {
			ch := ch
			wake = append(wake, func() { ch <- res })
		}
		delete(s.waiters, d.id)
	}
	s.mu.Unlock()
	for _, f := range wake {
		f()
	}
}

// downstream is a settle or fail of one of our outgoing HTLCs, now
// irrevocable, with its forwarding-package entry.
type downstream struct {
	out channeldb.CircuitKey
	msg lnwire.Message
	ack pkgRef
}

// resolveOutgoing carries settles and fails of outgoing HTLCs back: to
// the attempt's result, or to the incoming link.
func (s *Switch) resolveOutgoing(list []downstream) {
	if err := s.storeForwardedPreimages(list); err != nil {
		// Nothing is acknowledged: the link redoes them at its
		// next start.
		s.log.Error("Preimages not stored", "err", err)
		return
	}
	var local []attemptDone
	for _, d := range list {
		s.mu.Lock()
		c := s.byOut[d.out]
		s.mu.Unlock()
		if c == nil {
			// Resolved before a restart: only the package
			// entry was left.
			ref := d.ack
			s.dbAck(func(tx kvdb.RwTx) error { return ackPkg(tx, ref) })
			continue
		}
		pkt := c.pkt
		ack := d.ack
		if pkt.local() {
			local = append(local, attemptDone{id: pkt.in.HtlcID,
				res: attemptResult(d.msg), ack: &ack, out: &d.out})
			continue
		}
		s.backward(pkt, d.msg, ack)
	}
	if len(local) > 0 {
		s.storeResults(local)
	}
}

// attemptResult is the result of our attempt that msg resolved.
func attemptResult(msg lnwire.Message) *AttemptResult {
	switch m := msg.(type) {
	case *lnwire.UpdateFulfillHTLC:
		return &AttemptResult{Settled: true, Preimage: m.PaymentPreimage}
	case *lnwire.UpdateFailHTLC:
		return &AttemptResult{Reason: append([]byte(nil), m.Reason...)}
	case *lnwire.UpdateFailMalformedHTLC:
		f, err := sphinx.MalformedToFailure(sphinx.FailCode(m.FailureCode),
			m.ShaOnionBlob)
		if err != nil {
			f = &sphinx.FailUnknown{FailCode: sphinx.FailCode(m.FailureCode)}
		}
		return &AttemptResult{LocalFailure: f, FromFirstHop: true}
	}
	return &AttemptResult{LocalFailure: &sphinx.FailTemporaryNodeFailure{}}
}

// backward hands the settle or fail of a forwarded HTLC to its incoming
// link, which removes the incoming HTLC; the circuit, the outgoing
// package entry and (for a settle) the forwarding event go in the same
// write as the commitment that includes the removal.
func (s *Switch) backward(pkt *addPacket, msg lnwire.Message, ack pkgRef) {
	rm := &removal{htlcID: pkt.in.HtlcID}
	switch m := msg.(type) {
	case *lnwire.UpdateFulfillHTLC:
		rm.settle, rm.preimage = true, m.PaymentPreimage
	case *lnwire.UpdateFailHTLC:
		rm.reason = sphinx.WrapFailure(pkt.secret, m.Reason)
	case *lnwire.UpdateFailMalformedHTLC:
		f, err := sphinx.MalformedToFailure(sphinx.FailCode(m.FailureCode),
			m.ShaOnionBlob)
		if err != nil {
			f = &sphinx.FailTemporaryChannelFailure{}
		}
		reason, err := sphinx.NewFailure(pkt.secret, f)
		if err != nil {
			s.log.Error("Failure not encrypted", "err", err)
			return
		}
		rm.reason = reason
	}
	in, out := pkt.in, *pkt.outgoing
	ev := channeldb.ForwardingEvent{IncomingChanID: in.ChanID,
		OutgoingChanID: out.ChanID, AmtIn: pkt.inAmount,
		AmtOut: pkt.add.Amount}
	settle := rm.settle
	if ack != (pkgRef{}) {
		// A settle from the chain has no package entry.
		rm.acks = append(rm.acks, ack)
	}
	rm.done = append(rm.done, func(tx kvdb.RwTx) error {
		if err := channeldb.DeleteCircuit(tx, in); err != nil {
			return err
		}
		if !settle {
			return nil
		}
		ev.Timestamp = time.Now()
		return channeldb.AddForwardingEvents(tx,
			[]channeldb.ForwardingEvent{ev})
	})
	rm.after = append(rm.after, func() { s.forget(in, out) })
	crashpoint.Hit(crashpoint.SwitchResolutionReceived)
	if !s.handOver(in, rm) {
		// Already being removed (the preimage came both off chain
		// and on chain). A settle's package entry is acknowledged
		// now: its preimage is stored. A fail's waits for the next
		// start, which finds its circuit gone.
		s.log.Debug("Incoming HTLC already being removed", "incoming", in)
		if settle && len(rm.acks) > 0 {
			s.dbAck(func(tx kvdb.RwTx) error { return ackPkgs(tx, rm.acks) })
		}
	}
}

// forget drops a circuit resolved on disk.
func (s *Switch) forget(in, out channeldb.CircuitKey) {
	s.mu.Lock()
	delete(s.byIn, in)
	delete(s.byOut, out)
	delete(s.handed, in)
	s.mu.Unlock()
}

// dropped fails back adds a link had offered but never committed (the
// connection dropped first).
func (s *Switch) dropped(pkts []*addPacket) {
	for _, p := range pkts {
		s.failAdd(p, &sphinx.FailTemporaryChannelFailure{
			ChannelUpdate: s.channelUpdate(p.add.ChanID, p.outgoing)})
	}
}

// dbAck runs an acknowledgement in its own transaction.
func (s *Switch) dbAck(f func(kvdb.RwTx) error) {
	if err := s.cfg.DB.Batch(f); err != nil {
		s.log.Error("Acknowledgement not written", "err", err)
	}
}

// channelUpdate is the serialized channel_update of the outgoing
// channel for a failure, or nil.
func (s *Switch) channelUpdate(_ lnwire.ChannelID, out *channeldb.CircuitKey) []byte {
	if out == nil {
		return nil
	}
	return s.updateFor(out.ChanID)
}

func (s *Switch) updateFor(scid lnwire.ShortChannelID) []byte {
	if s.cfg.ChannelUpdate == nil {
		return nil
	}
	u, err := s.cfg.ChannelUpdate(scid)
	if err != nil || u == nil {
		return nil
	}
	b, err := lnwire.Serialize(u)
	if err != nil {
		return nil
	}
	// BOLT 4: the message type prefix is included.
	return b
}

func beU64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}
