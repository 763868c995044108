package routing

import (
	"errors"
	"math"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// The bimodal estimator, lnd's alternative to the apriori one: a channel's
// liquidity on one side is thought to lie mostly near one end or the other
// (density e^(-x/s) + e^((x-c)/s) + 1/c over [0, c] for capacity c and
// scale s), and results narrow the range it can lie in: a success at an
// amount says at least that much can pass, a failure says its amount
// cannot, both fading over the decay time. A node's results on its other
// pairs pull its pairs without history of their own towards its record.

// lnd's bimodal defaults.
const (
	DefaultBimodalScale      = lnwire.MilliSatoshi(300_000_000)
	DefaultBimodalNodeWeight = 0.2
	DefaultBimodalDecayTime  = 7 * 24 * time.Hour
)

// BimodalConfig sets the bimodal estimator.
type BimodalConfig struct {
	// NodeWeight in [0, 1] is how much a node's other pairs count.
	NodeWeight float64

	// Scale is how far from the ends liquidity is thought to lie.
	Scale lnwire.MilliSatoshi

	// DecayTime is how fast results fade.
	DecayTime time.Duration
}

// DefaultBimodalConfig is lnd's.
func DefaultBimodalConfig() BimodalConfig {
	return BimodalConfig{
		NodeWeight: DefaultBimodalNodeWeight,
		Scale:      DefaultBimodalScale,
		DecayTime:  DefaultBimodalDecayTime,
	}
}

func (c BimodalConfig) validate() error {
	switch {
	case !(c.NodeWeight >= 0 && c.NodeWeight <= 1):
		return errors.Join(ErrBadEstimatorConfig, errors.New("bimodal node weight not in [0, 1]"))
	case c.Scale == 0 || c.Scale > lnwire.NewMSatFromSatoshis(hintCapacity)/4:
		return errors.Join(ErrBadEstimatorConfig, errors.New("bimodal scale out of range"))
	case c.DecayTime <= 0:
		return errors.Join(ErrBadEstimatorConfig, errors.New("bimodal decay time not positive"))
	}
	return nil
}

// fade is the weight left to a result of the given age.
func (c BimodalConfig) fade(age time.Duration) float64 {
	return math.Exp(-float64(max(age, 0)) / float64(c.DecayTime))
}

// pairProbability is the chance that from forwards amt to to over a
// channel of the given capacity, given from's results.
func (c BimodalConfig) pairProbability(now time.Time, results map[Vertex]PairResult,
	to Vertex, amt lnwire.MilliSatoshi, capacity btcutil.Amount, local bool) float64 {

	r, ok := results[to]
	if local {
		// Our own channel: its balance is known; only a recent
		// failure counts against it.
		if ok && !r.FailTime.IsZero() {
			return 1 - c.fade(now.Sub(r.FailTime))
		}
		return 1
	}
	direct := c.directProbability(now, r, ok, amt, lnwire.NewMSatFromSatoshis(capacity))
	if c.NodeWeight == 0 {
		return direct
	}
	if ok {
		// A recent result of the pair itself is all that counts.
		latest := r.SuccessTime
		if r.FailTime.After(latest) {
			latest = r.FailTime
		}
		if now.Sub(latest) < c.DecayTime {
			return direct
		}
	}
	total, weights := direct, 1.0
	for peer, pr := range results {
		if peer == to {
			continue
		}
		if pr.SuccessAmt > 0 {
			w := c.NodeWeight * c.fade(now.Sub(pr.SuccessTime))
			total += w
			weights += w
		}
		if pr.FailAmt > 0 {
			weights += c.NodeWeight * c.fade(now.Sub(pr.FailTime))
		}
	}
	return total / weights
}

// directProbability is the chance from the pair's own result alone.
func (c BimodalConfig) directProbability(now time.Time, r PairResult, ok bool,
	amt, capMsat lnwire.MilliSatoshi) float64 {

	if capMsat == 0 {
		capMsat = lnwire.NewMSatFromSatoshis(hintCapacity)
	}
	success, fail := 0.0, float64(capMsat)
	if ok {
		capF := float64(capMsat)
		if !r.FailTime.IsZero() {
			// What cannot pass grows back to the capacity.
			f := math.Min(float64(r.FailAmt), capF)
			fail = capF - c.fade(now.Sub(r.FailTime))*(capF-f)
		}
		if !r.SuccessTime.IsZero() {
			// What can pass shrinks back to nothing.
			success = c.fade(now.Sub(r.SuccessTime)) * float64(r.SuccessAmt)
		}
	}
	return c.probability(float64(capMsat), success, fail, float64(amt))
}

// probability is the share of the liquidity density over [amt, fail]
// among that over [success, fail]: the chance amt passes given that
// success can and fail cannot.
func (c BimodalConfig) probability(capacity, success, fail, amt float64) float64 {
	if amt > capacity {
		return 0
	}
	if fail <= success {
		// Contradictory results: forget them.
		success, fail = 0, capacity
	}
	if success >= capacity {
		success, fail = capacity-1, capacity
	}
	fail = math.Min(fail, capacity)
	switch {
	case amt >= fail:
		return 0
	case amt <= success:
		return 1
	}
	norm := c.mass(capacity, success, fail)
	if !(norm > 0) {
		return 0
	}
	p := c.mass(capacity, amt, fail) / norm
	return math.Max(0, math.Min(1, p))
}

// mass integrates the (unnormalised) liquidity density over [lo, hi]:
// the integral of e^(-x/s) + e^((x-c)/s) + 1/c is s(-e^(-x/s) +
// e^((x-c)/s)) + x/c.
func (c BimodalConfig) mass(capacity, lo, hi float64) float64 {
	s := float64(c.Scale)
	prim := func(x float64) float64 {
		return s*(math.Exp((x-capacity)/s)-math.Exp(-x/s)) + x/capacity
	}
	return prim(hi) - prim(lo)
}
