package routing

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// DefaultMaxPairResults bounds what mission control keeps, as lnd's
// default history of 1,000 results does.
const DefaultMaxPairResults = 1000

// ErrBadReport is returned for a payment outcome that does not fit its
// route.
var ErrBadReport = errors.New("routing: invalid payment report")

// PairRecord is one pair's result as stored and as QueryPairs lists it.
type PairRecord struct {
	From, To Vertex
	PairResult
}

// Store keeps mission control's results across restarts. channeldb will
// implement it; EncodePairRecords gives the bytes to store.
type Store interface {
	Load() ([]PairRecord, error)
	Save(records []PairRecord) error
}

// MissionControlConfig sets up mission control.
type MissionControlConfig struct {
	// Self is our node: pairs from it are our own channels, whose
	// success is judged by their balance, not by history.
	Self Vertex

	// Apriori sets lnd's default estimator; Bimodal, when set, the
	// bimodal one instead.
	Apriori AprioriConfig
	Bimodal *BimodalConfig

	// Store persists results.
	Store Store

	// FlushInterval, when positive, batches saves: a report only marks
	// the results changed, and they are saved at most once per interval
	// while Start's goroutine runs, and by Stop (lnd's
	// --routerrpc.mcflushinterval). A crash loses at most an interval of
	// history, which only guides path finding. Zero saves every report
	// before it returns.
	FlushInterval time.Duration

	// Clock gives the time of reports. Nil means time.Now.
	Clock func() time.Time

	// MaxPairs bounds the pairs kept; the oldest go first. 0 means
	// DefaultMaxPairResults.
	MaxPairs int

	Log *slog.Logger
}

// MissionControl learns from payment outcomes which node pairs forward
// which amounts, and scores pairs for path finding.
type MissionControl struct {
	cfg MissionControlConfig

	// saveMu orders the saves of flush, which writes outside mu so
	// that every payment's Snapshot does not wait for the fsync; it is
	// taken before mu.
	saveMu  sync.Mutex
	mu      sync.Mutex
	results map[Vertex]map[Vertex]PairResult // from, then to
	dirty   bool                             // reports not saved yet

	quit  chan struct{}
	done  chan struct{}
	start sync.Once
	stop  sync.Once
}

// NewMissionControl loads the stored results.
func NewMissionControl(cfg MissionControlConfig) (*MissionControl, error) {
	if cfg.Bimodal != nil {
		if err := cfg.Bimodal.validate(); err != nil {
			return nil, err
		}
		b := *cfg.Bimodal
		cfg.Bimodal = &b
	} else if err := cfg.Apriori.validate(); err != nil {
		return nil, err
	}
	if cfg.Store == nil {
		return nil, errors.New("routing: mission control needs a store")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxPairs <= 0 {
		cfg.MaxPairs = DefaultMaxPairResults
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	recs, err := cfg.Store.Load()
	if err != nil {
		return nil, fmt.Errorf("load mission control: %w", err)
	}
	m := &MissionControl{cfg: cfg, results: make(map[Vertex]map[Vertex]PairResult),
		quit: make(chan struct{}), done: make(chan struct{})}
	for _, r := range recs {
		m.set(r.From, r.To, r.PairResult)
	}
	return m, nil
}

func (m *MissionControl) set(from, to Vertex, r PairResult) {
	pairs, ok := m.results[from]
	if !ok {
		pairs = make(map[Vertex]PairResult)
		m.results[from] = pairs
	}
	pairs[to] = r
}

// ReportSuccess records that every pair of rt carried its amount.
func (m *MissionControl) ReportSuccess(rt *Route) error {
	if err := checkRoute(rt); err != nil {
		return err
	}
	now := m.cfg.Clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.successes(rt, len(rt.Hops), now)
	return m.reportedLocked()
}

// reportedLocked saves a report's results now, or marks them for the
// next flush when saves are batched.
func (m *MissionControl) reportedLocked() error {
	if m.cfg.FlushInterval > 0 {
		m.dirty = true
		return nil
	}
	return m.saveLocked()
}

// Start runs the flushes of batched saves (FlushInterval > 0).
func (m *MissionControl) Start() error {
	m.start.Do(func() {
		if m.cfg.FlushInterval <= 0 {
			close(m.done)
			return
		}
		go m.flushLoop()
	})
	return nil
}

// Stop ends the flushes and saves what is not saved yet.
func (m *MissionControl) Stop() error {
	m.stop.Do(func() { close(m.quit) })
	m.start.Do(func() { close(m.done) })
	<-m.done
	return m.flush()
}

func (m *MissionControl) flushLoop() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := m.flush(); err != nil {
				m.cfg.Log.Error("Mission control not saved", "err", err)
			}
		case <-m.quit:
			return
		}
	}
}

// flush saves the results if a report changed them since the last save.
func (m *MissionControl) flush() error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	if !m.dirty {
		m.mu.Unlock()
		return nil
	}
	recs := m.trimLocked()
	m.dirty = false
	m.mu.Unlock()
	if err := m.cfg.Store.Save(recs); err != nil {
		m.mu.Lock()
		m.dirty = true
		m.mu.Unlock()
		return fmt.Errorf("save mission control: %w", err)
	}
	return nil
}

// ReportFailure records a failure with BOLT 4 failure code code, returned
// by the node of rt.Hops[failingHop]. What it says depends on who sent it:
// the final node failing means the route worked; an intermediate node
// failing a channel update or liquidity check blames its outgoing pair; a
// node or onion failure blames the pair into that node. Every pair before
// the one blamed carried the payment.
func (m *MissionControl) ReportFailure(rt *Route, failingHop int, code sphinx.FailCode) error {
	if err := checkRoute(rt); err != nil {
		return err
	}
	if failingHop < 0 || failingHop >= len(rt.Hops) {
		return fmt.Errorf("%w: failing hop %d of %d", ErrBadReport, failingHop, len(rt.Hops))
	}
	now := m.cfg.Clock()
	m.mu.Lock()
	defer m.mu.Unlock()

	final := failingHop == len(rt.Hops)-1
	switch {
	case final:
		// The HTLC reached the recipient: every pair carried it.
		m.successes(rt, len(rt.Hops), now)

	case code.IsNode() || code.IsBadOnion():
		// The node itself, or the onion it got, failed: blame the pair
		// into it, at any amount.
		m.successes(rt, failingHop, now)
		m.failure(rt, failingHop, 0, now)

	default:
		// A channel failure of the reporter's outgoing channel:
		// temporary_channel_failure, the policy errors, or
		// permanent ones (then at any amount).
		m.successes(rt, failingHop+1, now)
		amt := rt.Hops[failingHop+1].AmtToForward + rt.HopFee(failingHop+1)
		if code.IsPerm() {
			amt = 0
		}
		m.failure(rt, failingHop+1, amt, now)
	}
	m.cfg.Log.Debug("Payment failure recorded", "hop", failingHop, "code", code)
	return m.reportedLocked()
}

// checkRoute rejects a route mission control cannot learn from.
func checkRoute(rt *Route) error {
	if rt == nil || len(rt.Hops) == 0 {
		return fmt.Errorf("%w: empty route", ErrBadReport)
	}
	return nil
}

// pair is the directed pair over which rt's hop i is reached.
func pair(rt *Route, i int) (from, to Vertex) {
	if i == 0 {
		return rt.SourcePubKey, rt.Hops[0].PubKey
	}
	return rt.Hops[i-1].PubKey, rt.Hops[i].PubKey
}

// successes records that the pairs into hops 0..n-1 carried their amounts.
func (m *MissionControl) successes(rt *Route, n int, now time.Time) {
	for i := range n {
		from, to := pair(rt, i)
		amt := rt.Hops[i].AmtToForward + rt.HopFee(i)
		r := m.results[from][to]
		if amt > r.SuccessAmt {
			r.SuccessAmt = amt
		}
		r.SuccessTime = now
		// A success above the last failure's amount makes that
		// failure moot for amounts up to this one.
		if !r.FailTime.IsZero() && r.FailAmt <= amt {
			r.FailAmt = amt + 1
		}
		m.set(from, to, r)
	}
}

// failure records that the pair into hop i failed at amt (0: any amount).
func (m *MissionControl) failure(rt *Route, i int, amt lnwire.MilliSatoshi, now time.Time) {
	from, to := pair(rt, i)
	r := m.results[from][to]
	r.FailTime = now
	r.FailAmt = amt
	// Past successes at or above the failed amount no longer count.
	if amt == 0 {
		r.SuccessAmt = 0
	} else if r.SuccessAmt >= amt {
		r.SuccessAmt = amt - 1
	}
	m.set(from, to, r)
}

// Probability is the chance that from forwards amt to to now, with no
// capacity known.
func (m *MissionControl) Probability(from, to Vertex, amt lnwire.MilliSatoshi) float64 {
	return m.Snapshot().PairProbability(from, to, amt, 0)
}

// Reset forgets every result.
func (m *MissionControl) Reset() error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = make(map[Vertex]map[Vertex]PairResult)
	return m.saveLocked()
}

// QueryPairs lists every pair's result, ordered by pair.
func (m *MissionControl) QueryPairs() []PairRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recordsLocked()
}

func (m *MissionControl) recordsLocked() []PairRecord {
	var out []PairRecord
	for from, pairs := range m.results {
		for to, r := range pairs {
			out = append(out, PairRecord{From: from, To: to, PairResult: r})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return string(out[i].From[:]) < string(out[j].From[:])
		}
		return string(out[i].To[:]) < string(out[j].To[:])
	})
	return out
}

// saveLocked trims the results to MaxPairs, oldest first, and saves them.
func (m *MissionControl) saveLocked() error {
	if err := m.cfg.Store.Save(m.trimLocked()); err != nil {
		return fmt.Errorf("save mission control: %w", err)
	}
	m.dirty = false
	return nil
}

// trimLocked trims the results to MaxPairs, oldest first, and returns
// them as records.
func (m *MissionControl) trimLocked() []PairRecord {
	recs := m.recordsLocked()
	if extra := len(recs) - m.cfg.MaxPairs; extra > 0 {
		byAge := append([]PairRecord(nil), recs...)
		sort.SliceStable(byAge, func(i, j int) bool {
			return latest(byAge[i].PairResult).Before(latest(byAge[j].PairResult))
		})
		for _, r := range byAge[:extra] {
			delete(m.results[r.From], r.To)
			if len(m.results[r.From]) == 0 {
				delete(m.results, r.From)
			}
		}
		recs = m.recordsLocked()
	}
	return recs
}

func latest(r PairResult) time.Time {
	if r.SuccessTime.After(r.FailTime) {
		return r.SuccessTime
	}
	return r.FailTime
}

// Snapshot is an Estimator over a copy of the results as of now, for one
// or more searches: it takes no lock, so the path finder's inner loop does
// not either.
func (m *MissionControl) Snapshot() *Snapshot {
	now := m.cfg.Clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &Snapshot{cfg: m.cfg.Apriori, bimodal: m.cfg.Bimodal, self: m.cfg.Self, now: now}
	if len(m.results) > 0 {
		s.results = make(map[Vertex]map[Vertex]PairResult, len(m.results))
		for from, pairs := range m.results {
			cp := make(map[Vertex]PairResult, len(pairs))
			for to, r := range pairs {
				cp[to] = r
			}
			s.results[from] = cp
		}
	}
	return s
}

// Snapshot scores pairs from mission control's results at one time.
type Snapshot struct {
	cfg     AprioriConfig
	bimodal *BimodalConfig // instead of cfg when set
	self    Vertex
	now     time.Time
	results map[Vertex]map[Vertex]PairResult
}

// PairProbability implements Estimator.
func (s *Snapshot) PairProbability(from, to Vertex, amt lnwire.MilliSatoshi, capacity btcutil.Amount) float64 {
	var results map[Vertex]PairResult
	if s.results != nil {
		results = s.results[from]
	}
	if s.bimodal != nil {
		return s.bimodal.pairProbability(s.now, results, to, amt, capacity, from == s.self)
	}
	return s.cfg.pairProbability(s.now, results, to, amt, capacity, from == s.self)
}

// Estimators returns the estimator settings in use: the apriori ones, and
// the bimodal ones when those are used instead (else nil); and the bound
// on pairs kept.
func (m *MissionControl) Estimators() (apriori AprioriConfig, bimodal *BimodalConfig, maxPairs int) {
	if m.cfg.Bimodal != nil {
		b := *m.cfg.Bimodal
		bimodal = &b
	}
	return m.cfg.Apriori, bimodal, m.cfg.MaxPairs
}
