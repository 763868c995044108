package rpc

import (
	"context"
	"errors"
	"math"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/contractcourt"
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
	err = c.BumpFee(ctx, op, bump)
	if errors.Is(err, contractcourt.ErrNoSweep) {
		// Not an output the sweeper knows: as lnd, a wallet output of
		// an unconfirmed transaction, whose fee a child pays (CPFP).
		return k.cpfp(ctx, op, bump)
	}
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.BumpFeeResponse{Status: "Successfully registered rbf-tx with sweeper"}, nil
}

// lnd's default budget of a sweep: this share of the output's value.
const defaultBudgetRatio = 0.5

// cpfpDefaultConf is the confirmation target of a CPFP request naming no
// fee rate.
const cpfpDefaultConf = 6

// Virtual sizes of a one-input, one-output sweep to a taproot address,
// by the input's type: the transaction less its input, and the input.
const (
	sweepTxVBytes  = 11 + 43 // version, counts, locktime, marker; P2TR output
	p2wkhInVBytes  = 68
	np2wkhInVBytes = 91
	p2trInVBytes   = 58
)

// cpfp spends the wallet's unconfirmed output op to a new wallet address
// at the requested fee rate, so that the child pays for its parent (lnd
// hands such an output to its sweeper as a new input). The fee is held to
// the budget (lnd's default: half the output's value).
func (k *walletKitService) cpfp(ctx context.Context, op wire.OutPoint,
	bump SweepBump) (*walletrpc.BumpFeeResponse, error) {

	b := k.s.backend.Load()
	if b == nil || b.Wallet == nil {
		return nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	utxos, err := b.Wallet.ListUnspent(ctx, "", 0, math.MaxInt32)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	idx := slices.IndexFunc(utxos, func(u Utxo) bool { return u.OutPoint == op })
	if idx < 0 {
		return nil, status.Errorf(codes.NotFound, "the sweeper does not know %v "+
			"and the wallet has no unspent output %v", op, op)
	}
	u := utxos[idx]
	if u.Confirmations > 0 {
		return nil, invalidf("unable to bump fee of a confirmed transaction")
	}
	in := int64(p2wkhInVBytes)
	switch u.Type {
	case AddressNP2WKH:
		in = np2wkhInVBytes
	case AddressP2TR:
		in = p2trInVBytes
	}
	budget := bump.Budget
	if budget == 0 {
		budget = btcutil.Amount(float64(u.Amount) * defaultBudgetRatio)
	}
	req := &SendRequest{SendAll: true, Inputs: []wire.OutPoint{op},
		Label: "cpfp " + op.String()}
	switch {
	case bump.StartRate != 0:
		req.FeeRate = bump.StartRate
	case bump.TargetConf != 0:
		req.TargetConf = bump.TargetConf
	default:
		req.TargetConf = cpfpDefaultConf
	}
	// Held to the budget, as lnd's fee function caps its start.
	maxRate := chain.SatPerKWeight(int64(budget) * 1000 / (4 * (sweepTxVBytes + in)))
	if req.FeeRate > maxRate {
		req.FeeRate = maxRate
	}
	if req.Address, err = b.Wallet.NewAddress(ctx, AddressP2TR, false, ""); err != nil {
		return nil, k.s.toStatus(err)
	}
	if _, err := b.Wallet.SendCoins(ctx, req); err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.BumpFeeResponse{Status: "Successfully registered CPFP-tx with the sweeper"}, nil
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
