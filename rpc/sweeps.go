package rpc

import (
	"context"

	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// contracts returns the contract court for the WalletKit's sweeper calls.
func (k *walletKitService) contracts() (*Backend, Contracts, error) {
	b := k.s.backend.Load()
	if b == nil {
		return nil, nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	if b.Contracts == nil {
		return nil, nil, status.Error(codes.Unimplemented, "the sweeper is not running")
	}
	return b, b.Contracts, nil
}

func (k *walletKitService) PendingSweeps(ctx context.Context,
	_ *walletrpc.PendingSweepsRequest) (*walletrpc.PendingSweepsResponse, error) {

	_, c, err := k.contracts()
	if err != nil {
		return nil, err
	}
	sweeps, err := c.PendingSweeps(ctx)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	resp := &walletrpc.PendingSweepsResponse{PendingSweeps: make([]*walletrpc.PendingSweep, 0, len(sweeps))}
	for _, p := range sweeps {
		satPerVB := uint64(p.FeeRate.FeePerVByte())
		resp.PendingSweeps = append(resp.PendingSweeps, &walletrpc.PendingSweep{
			Outpoint: &lnrpc.OutPoint{TxidBytes: p.OutPoint.Hash[:],
				TxidStr: p.OutPoint.Hash.String(), OutputIndex: p.OutPoint.Index},
			WitnessType: walletrpc.WitnessType(p.WitnessType),
			AmountSat:   uint32(p.Amount),
			//lint:ignore SA1019 deprecated in lnd, still read by older clients.
			SatPerByte:           uint32(satPerVB),
			SatPerVbyte:          satPerVB,
			BroadcastAttempts:    p.Attempts,
			MaturityHeight:       p.MaturityHeight,
			Budget:               uint64(p.Budget),
			DeadlineHeight:       p.DeadlineHeight,
			RequestedSatPerVbyte: uint64(p.RequestedRate.FeePerVByte()),
			Immediate:            p.Immediate,
		})
	}
	return resp, nil
}

func (k *walletKitService) BumpFee(ctx context.Context,
	req *walletrpc.BumpFeeRequest) (*walletrpc.BumpFeeResponse, error) {

	_, c, err := k.contracts()
	if err != nil {
		return nil, err
	}
	op, err := parseOutPoint(req.Outpoint)
	if err != nil {
		return nil, err
	}
	bump, err := sweepBump(req)
	if err != nil {
		return nil, err
	}
	if err := c.BumpFee(ctx, op, bump); err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.BumpFeeResponse{Status: "Successfully registered rbf-tx with sweeper"}, nil
}

// sweepBump checks a BumpFee request as lnd does: one way to give the
// starting fee rate, one of the immediate flags, a budget with a
// deadline.
func sweepBump(req *walletrpc.BumpFeeRequest) (SweepBump, error) {
	//lint:ignore SA1019 deprecated in lnd, still sent by older clients.
	oldRate, force := uint64(req.SatPerByte), req.Force
	satPerVB := req.SatPerVbyte
	switch {
	case oldRate != 0 && satPerVB != 0:
		return SweepBump{}, invalidf("either sat_per_byte or sat_per_vbyte " +
			"should be set, but not both")
	case oldRate != 0:
		satPerVB = oldRate
	}
	if satPerVB != 0 && req.TargetConf != 0 {
		return SweepBump{}, invalidf("either target_conf or sat_per_vbyte " +
			"should be set, to specify the starting fee rate of the fee function")
	}
	if satPerVB > maxSatPerVByte {
		return SweepBump{}, invalidf("sat_per_vbyte %d is absurd: at most %d",
			satPerVB, maxSatPerVByte)
	}
	if force && req.Immediate {
		return SweepBump{}, invalidf("either force or immediate should be " +
			"set, but not both")
	}
	if req.DeadlineDelta != 0 && req.Budget == 0 {
		return SweepBump{}, invalidf("budget must be set if deadline_delta is set")
	}
	if req.Budget > btcutil.MaxSatoshi {
		return SweepBump{}, invalidf("budget %d sat exceeds 21 million bitcoin",
			req.Budget)
	}
	return SweepBump{StartRate: chain.SatPerVByte(satPerVB).FeePerKWeight(),
		TargetConf: req.TargetConf, Budget: btcutil.Amount(req.Budget),
		DeadlineDelta: req.DeadlineDelta, Immediate: req.Immediate || force}, nil
}

func (k *walletKitService) ListSweeps(ctx context.Context,
	req *walletrpc.ListSweepsRequest) (*walletrpc.ListSweepsResponse, error) {

	b, c, err := k.contracts()
	if err != nil {
		return nil, err
	}
	ids, err := c.ListSweeps(ctx)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	if !req.Verbose {
		out := &walletrpc.ListSweepsResponse_TransactionIDs{}
		for _, h := range ids {
			out.TransactionIds = append(out.TransactionIds, h.String())
		}
		return &walletrpc.ListSweepsResponse{Sweeps: &walletrpc.ListSweepsResponse_TransactionIds{
			TransactionIds: out}}, nil
	}
	start := req.StartHeight
	if start < -1 {
		return nil, invalidf("start_height must be -1 or more")
	}
	txs, err := b.Wallet.Transactions(ctx, "", max(start, 0), -1)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	want := make(map[[32]byte]bool, len(ids))
	for _, h := range ids {
		want[h] = true
	}
	l := &lightningService{s: k.s}
	details := &lnrpc.TransactionDetails{}
	for i := range txs {
		if !want[txs[i].Hash] || (start == -1 && txs[i].Confirmations > 0) {
			continue
		}
		details.Transactions = append(details.Transactions, l.marshalTx(&txs[i]))
	}
	return &walletrpc.ListSweepsResponse{Sweeps: &walletrpc.ListSweepsResponse_TransactionDetails{
		TransactionDetails: details}}, nil
}
