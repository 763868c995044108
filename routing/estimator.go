package routing

import (
	"errors"
	"math"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// The apriori estimator, lnd's default: a node pair that has no history
// succeeds with a fixed a priori probability, reduced when the amount nears
// the channel's capacity; failures lower it and fade with a half-life;
// successes at or above an amount make it likely again.

// lnd's apriori defaults.
const (
	DefaultAprioriHopProbability = 0.6
	DefaultAprioriWeight         = 0.5
	DefaultPenaltyHalfLife       = time.Hour
	DefaultCapacityFraction      = 0.9999

	// prevSuccessProbability is the chance given to a pair that has
	// carried at least this amount before, and to our own channels.
	prevSuccessProbability = 0.95

	// capacitySmearing widens the capacity cut-off over this share of
	// the capacity, and minCapacityFactor is the factor at the cut-off.
	capacitySmearing  = 0.025
	minCapacityFactor = 0.5
)

// ErrBadEstimatorConfig is returned for settings out of range.
var ErrBadEstimatorConfig = errors.New("routing: invalid estimator settings")

// AprioriConfig sets the apriori estimator.
type AprioriConfig struct {
	// HopProbability is a pair's chance with no history.
	HopProbability float64

	// Weight in [0, 1] is how much the a priori probability counts
	// against a node's results on its other pairs; 1 ignores them.
	Weight float64

	// PenaltyHalfLife is how fast a failure is forgotten.
	PenaltyHalfLife time.Duration

	// CapacityFraction in [0.75, 1] is the share of the capacity above
	// which an amount is thought unlikely to pass; 1 turns this off.
	CapacityFraction float64
}

// DefaultAprioriConfig is lnd's.
func DefaultAprioriConfig() AprioriConfig {
	return AprioriConfig{
		HopProbability:   DefaultAprioriHopProbability,
		Weight:           DefaultAprioriWeight,
		PenaltyHalfLife:  DefaultPenaltyHalfLife,
		CapacityFraction: DefaultCapacityFraction,
	}
}

func (c AprioriConfig) validate() error {
	switch {
	case !(c.HopProbability >= 0 && c.HopProbability <= 1):
		return errors.Join(ErrBadEstimatorConfig, errors.New("hop probability not in [0, 1]"))
	case !(c.Weight >= 0 && c.Weight <= 1):
		return errors.Join(ErrBadEstimatorConfig, errors.New("apriori weight not in [0, 1]"))
	case c.PenaltyHalfLife <= 0:
		return errors.Join(ErrBadEstimatorConfig, errors.New("penalty half-life not positive"))
	case !(c.CapacityFraction >= 0.75 && c.CapacityFraction <= 1):
		return errors.Join(ErrBadEstimatorConfig, errors.New("capacity fraction not in [0.75, 1]"))
	}
	return nil
}

// PairResult is what mission control remembers of one directed node pair:
// the last failure and the largest success, each with its time. A zero
// time means none.
type PairResult struct {
	FailTime    time.Time
	FailAmt     lnwire.MilliSatoshi
	SuccessTime time.Time
	SuccessAmt  lnwire.MilliSatoshi
}

// decay is the weight left to a failure of the given age.
func (c AprioriConfig) decay(age time.Duration) float64 {
	return math.Exp2(-age.Hours() / c.PenaltyHalfLife.Hours())
}

// capacityFactor lowers the probability of amounts near the capacity: a
// logistic step centred on CapacityFraction of it, from 1 down to 0.5,
// and 0 beyond the capacity.
func (c AprioriConfig) capacityFactor(amt lnwire.MilliSatoshi, capacity btcutil.Amount) float64 {
	if c.CapacityFraction == 1 || capacity == 0 {
		return 1
	}
	capMsat := float64(capacity) * 1000
	a := float64(amt)
	if a > capMsat {
		return 0
	}
	x := (c.CapacityFraction*capMsat - a) / (capacitySmearing * capMsat)
	if x > 30 {
		// Far below the cut-off the factor is 1 within 1e-13: spare
		// the path finder's inner loop an exp.
		return 1
	}
	return 1 - (1-minCapacityFactor)/(1+math.Exp(x))
}

// nodeProbability is the chance of a pair of from with no history of its
// own, from the a priori probability and from's results on other pairs.
func (c AprioriConfig) nodeProbability(now time.Time, results map[Vertex]PairResult,
	amt lnwire.MilliSatoshi, capacity btcutil.Amount) float64 {

	apriori := c.HopProbability * c.capacityFactor(amt, capacity)
	if c.Weight == 1 || len(results) == 0 {
		return apriori
	}
	aprioriFactor := 1/(1-c.Weight) - 1
	total := apriori * aprioriFactor
	weight := aprioriFactor
	for _, r := range results {
		switch {
		case amt <= r.SuccessAmt:
			weight++
			total += prevSuccessProbability
		case !r.FailTime.IsZero() && amt >= r.FailAmt:
			weight += c.decay(now.Sub(r.FailTime))
		}
	}
	return total / weight
}

// pairProbability is the chance that from forwards amt to to, given
// from's results (keyed by the to node).
func (c AprioriConfig) pairProbability(now time.Time, results map[Vertex]PairResult,
	to Vertex, amt lnwire.MilliSatoshi, capacity btcutil.Amount, local bool) float64 {

	var p float64
	if local {
		p = prevSuccessProbability
	} else {
		p = c.nodeProbability(now, results, amt, capacity)
	}
	r, ok := results[to]
	switch {
	case !ok:
		return p
	case amt <= r.SuccessAmt:
		return prevSuccessProbability
	case r.FailTime.IsZero() || amt < r.FailAmt:
		return p
	}
	return p * (1 - c.decay(now.Sub(r.FailTime)))
}
