package htlcswitch

import (
	"sync/atomic"
	"testing"
	"time"

	"lnd.xprv/lnwallet/chainfee"
)

func TestTargetFeeRate(t *testing.T) {
	for _, c := range []struct {
		est, cur chainfee.SatPerKWeight
		anchors  bool
		want     chainfee.SatPerKWeight
		move     bool
	}{
		{5000, 2500, false, 5000, true},
		{2600, 2500, false, 2600, false}, // 4%: noise
		{2200, 2500, false, 2200, true},  // 12% down
		{9000, 2500, true, 2500, false},  // anchors: capped at the current
		{9000, 1000, true, 2500, true},
		{100, 2500, false, chainfee.FeePerKwFloor, true},
	} {
		got, move := targetFeeRate(c.est, c.cur, c.anchors)
		if got != c.want || move != c.move {
			t.Errorf("est %v cur %v anchors %v: %v %v, want %v %v", c.est, c.cur,
				c.anchors, got, move, c.want, c.move)
		}
	}
}

// TestUpdateFeeFollowsEstimate: the opener's link moves the commitment
// fee rate to the chain's estimate once it moves by more than 10%, and
// both commitments carry the new rate.
func TestUpdateFeeFollowsEstimate(t *testing.T) {
	a, b := newChannel(t)
	var est atomic.Int64
	est.Store(2600) // the channel's rate is 2500: within 10%
	a.feeEstimate = func() (chainfee.SatPerKWeight, error) {
		return chainfee.SatPerKWeight(est.Load()), nil
	}
	a.feeInterval = 2 * time.Millisecond
	a.startLink()
	b.startLink()
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	rates := func(s *side) (uint32, uint32) {
		st, err := s.db.FetchOpenChannel(s.op)
		mustOK(t, err)
		return st.LocalCommit.FeeRate, st.RemoteCommit.FeeRate
	}
	time.Sleep(20 * time.Millisecond) // several checks
	waitQuiet(t, a, b)
	if l, r := rates(a); l != 2500 || r != 2500 {
		t.Fatalf("rates %d/%d after a 4%% move, want 2500", l, r)
	}
	est.Store(6000)
	eventually(t, "fee updated", func() bool {
		waitQuiet(t, a, b)
		al, ar := rates(a)
		bl, br := rates(b)
		return al == 6000 && ar == 6000 && bl == 6000 && br == 6000
	})
}
