package rpc

import (
	"context"

	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// MissionControl is what the node learned from payment outcomes
// (routing.MissionControl).
type MissionControl interface {
	// QueryPairs lists every pair's result, ordered by pair.
	QueryPairs() []routing.PairRecord
	// Reset forgets every result, on disk too.
	Reset() error
	// Snapshot scores pairs as of now, for a path search and
	// QueryProbability.
	Snapshot() *routing.Snapshot
	// Estimators gives the estimator settings in use and the bound on
	// pairs kept.
	Estimators() (routing.AprioriConfig, *routing.BimodalConfig, int)
}

// routerService implements the Router sub-server's mission control calls.
type routerService struct {
	routerrpc.UnimplementedRouterServer
	s *Server
}

func (s *Server) missionControl() (MissionControl, error) {
	b := s.backend.Load()
	if b == nil {
		return nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	if b.MissionControl == nil {
		return nil, status.Error(codes.Unavailable, "mission control not active")
	}
	return b.MissionControl, nil
}

func (r *routerService) ResetMissionControl(context.Context, *routerrpc.ResetMissionControlRequest) (*routerrpc.ResetMissionControlResponse, error) {
	mc, err := r.s.missionControl()
	if err != nil {
		return nil, err
	}
	if err := mc.Reset(); err != nil {
		return nil, r.s.toStatus(err)
	}
	r.s.log.Info("Mission control reset")
	return &routerrpc.ResetMissionControlResponse{}, nil
}

func (r *routerService) QueryMissionControl(context.Context, *routerrpc.QueryMissionControlRequest) (*routerrpc.QueryMissionControlResponse, error) {
	mc, err := r.s.missionControl()
	if err != nil {
		return nil, err
	}
	recs := mc.QueryPairs()
	pairs := make([]*routerrpc.PairHistory, len(recs))
	for i, p := range recs {
		pairs[i] = &routerrpc.PairHistory{
			NodeFrom: append([]byte(nil), p.From[:]...),
			NodeTo:   append([]byte(nil), p.To[:]...),
			History:  marshalPairData(p.PairResult),
		}
	}
	return &routerrpc.QueryMissionControlResponse{Pairs: pairs}, nil
}

// marshalPairData is a pair's result as lnd gives it: times in Unix
// seconds (0 for none), amounts in msat and rounded down to sat.
func marshalPairData(r routing.PairResult) *routerrpc.PairData {
	d := &routerrpc.PairData{
		FailAmtSat:     int64(r.FailAmt.ToSatoshis()),
		FailAmtMsat:    int64(r.FailAmt),
		SuccessAmtSat:  int64(r.SuccessAmt.ToSatoshis()),
		SuccessAmtMsat: int64(r.SuccessAmt),
	}
	if !r.FailTime.IsZero() {
		d.FailTime = r.FailTime.Unix()
	}
	if !r.SuccessTime.IsZero() {
		d.SuccessTime = r.SuccessTime.Unix()
	}
	return d
}

// QueryProbability scores the pair as lnd (since 0.17) does: 0 unless the
// graph has a channel from -> to whose direction can carry the amount, and
// then the estimator's figure for the largest such channel's capacity.
func (r *routerService) QueryProbability(_ context.Context, req *routerrpc.QueryProbabilityRequest) (*routerrpc.QueryProbabilityResponse, error) {
	mc, err := r.s.missionControl()
	if err != nil {
		return nil, err
	}
	from, err := vertexBytes("from_node", req.FromNode)
	if err != nil {
		return nil, err
	}
	to, err := vertexBytes("to_node", req.ToNode)
	if err != nil {
		return nil, err
	}
	if req.AmtMsat < 0 || req.AmtMsat > int64(lnwire.MaxMilliSatoshi) {
		return nil, invalidf("amt_msat %d out of range", req.AmtMsat)
	}
	amt := lnwire.MilliSatoshi(req.AmtMsat)
	var hist routing.PairResult
	for _, p := range mc.QueryPairs() {
		if p.From == from && p.To == to {
			hist = p.PairResult
			break
		}
	}
	var prob float64
	if capacity, ok := r.s.pairCapacity(from, to, amt); ok {
		prob = mc.Snapshot().PairProbability(from, to, amt, capacity)
	}
	return &routerrpc.QueryProbabilityResponse{
		Probability: prob,
		History:     marshalPairData(hist),
	}, nil
}

// pairCapacity is the capacity the estimator is given for from -> to at
// amt (routing.Graph.PairCapacity); ok is false without a graph.
func (s *Server) pairCapacity(from, to routing.Vertex, amt lnwire.MilliSatoshi) (btcutil.Amount, bool) {
	b := s.backend.Load()
	if b == nil || b.Graph == nil {
		return 0, false
	}
	capacity, ok := b.Graph.Cache().PairCapacity(from, to, amt)
	if !ok {
		s.log.Debug("No usable channel for probability", "from", from, "to", to, "amt_msat", uint64(amt))
	}
	return capacity, ok
}

// minFailureRelaxIntervalSecs is lnd's default minimum_failure_relax_interval
// (one minute), reported for compatibility: xlnd's mission control keeps
// no such interval.
const minFailureRelaxIntervalSecs = 60

func (r *routerService) GetMissionControlConfig(context.Context, *routerrpc.GetMissionControlConfigRequest) (*routerrpc.GetMissionControlConfigResponse, error) {
	mc, err := r.s.missionControl()
	if err != nil {
		return nil, err
	}
	apriori, bimodal, maxPairs := mc.Estimators()
	cfg := &routerrpc.MissionControlConfig{
		MaximumPaymentResults:       uint32(maxPairs),
		MinimumFailureRelaxInterval: minFailureRelaxIntervalSecs,
	}
	if bimodal != nil {
		cfg.Model = routerrpc.MissionControlConfig_BIMODAL
		cfg.EstimatorConfig = &routerrpc.MissionControlConfig_Bimodal{Bimodal: &routerrpc.BimodalParameters{
			NodeWeight: bimodal.NodeWeight,
			ScaleMsat:  uint64(bimodal.Scale),
			DecayTime:  uint64(bimodal.DecayTime.Seconds()),
		}}
		return &routerrpc.GetMissionControlConfigResponse{Config: cfg}, nil
	}
	halfLife := uint64(apriori.PenaltyHalfLife.Seconds())
	cfg.Model = routerrpc.MissionControlConfig_APRIORI
	//lint:ignore SA1019 deprecated in lnd, which still fills them.
	cfg.HalfLifeSeconds, cfg.HopProbability, cfg.Weight = halfLife, float32(apriori.HopProbability), float32(apriori.Weight)
	cfg.EstimatorConfig = &routerrpc.MissionControlConfig_Apriori{Apriori: &routerrpc.AprioriParameters{
		HalfLifeSeconds:  halfLife,
		HopProbability:   apriori.HopProbability,
		Weight:           apriori.Weight,
		CapacityFraction: apriori.CapacityFraction,
	}}
	return &routerrpc.GetMissionControlConfigResponse{Config: cfg}, nil
}
