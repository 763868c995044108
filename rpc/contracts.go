package rpc

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc"
)

// Contracts is the contract court as the RPC layer sees it: force
// closes, channels on their way to chain, and the sweeper.
type Contracts interface {
	// ForceClose broadcasts our commitment of the open channel op and
	// returns its txid.
	ForceClose(ctx context.Context, op wire.OutPoint) (chainhash.Hash, error)

	// WaitClosed returns once the channel op's closing transaction
	// confirmed, with its txid.
	WaitClosed(ctx context.Context, op wire.OutPoint) (chainhash.Hash, error)

	// Closing lists the channels that went to chain and are not fully
	// resolved, and the chain height.
	Closing(ctx context.Context) ([]ClosingChannel, int32, error)

	// PendingSweeps lists the outputs being swept or waiting for their
	// time lock.
	PendingSweeps(ctx context.Context) ([]PendingSweep, error)

	// BumpFee sets the fee parameters of the sweep of op and replaces
	// it at the next block, or at once with Immediate.
	BumpFee(ctx context.Context, op wire.OutPoint, req SweepBump) error

	// ListSweeps lists every sweep transaction broadcast, oldest first.
	ListSweeps(ctx context.Context) ([]chainhash.Hash, error)
}

// SweepBump is a validated BumpFee request (lnd's walletrpc
// BumpFeeRequest): zero fields keep the sweep's current parameters.
type SweepBump struct {
	// StartRate is the starting fee rate asked for; TargetConf asks
	// for the estimate for that many blocks instead (not both).
	StartRate  chain.SatPerKWeight
	TargetConf uint32
	// Budget is the most the output's share of the fee may be.
	Budget btcutil.Amount
	// DeadlineDelta is the number of blocks from now by which the sweep
	// should confirm, spending the whole budget by then (needs Budget).
	DeadlineDelta uint32
	// Immediate replaces the sweep at once rather than at the next
	// block.
	Immediate bool
}

// PendingSweep is an output the contract court is to take back.
type PendingSweep struct {
	OutPoint wire.OutPoint
	Amount   btcutil.Amount
	// WitnessType is lnd's walletrpc.WitnessType number.
	WitnessType int32
	// FeeRate is the rate of the current sweep (0: none yet).
	FeeRate chain.SatPerKWeight
	// Attempts counts the sweeps broadcast for it.
	Attempts       uint32
	MaturityHeight uint32

	// Budget is the most its sweep may pay for it, DeadlineHeight the
	// height its sweep should confirm by (0: none), RequestedRate the
	// starting rate asked through BumpFee (0: none), Immediate whether
	// BumpFee asked for an immediate sweep.
	Budget         btcutil.Amount
	DeadlineHeight uint32
	RequestedRate  chain.SatPerKWeight
	Immediate      bool
}

// ClosingChannel is a channel on its way to chain.
type ClosingChannel struct {
	RemotePubKey *btcec.PublicKey
	ChanPoint    wire.OutPoint
	Capacity     btcutil.Amount
	// LocalBalance and RemoteBalance are those of the commitment that
	// went to chain.
	LocalBalance, RemoteBalance btcutil.Amount
	LocalReserve, RemoteReserve btcutil.Amount
	Initiator                   bool
	CommitmentType              CommitmentType
	Private                     bool

	ClosingTxID chainhash.Hash

	// Waiting is set while our own commitment is unconfirmed.
	Waiting bool
	// LocalTxID, RemoteTxID and RemotePendingTxID are the commitments
	// that may confirm (waiting only).
	LocalTxID, RemoteTxID, RemotePendingTxID chainhash.Hash
	CloseHeight                              uint32

	// LimboBalance is ours not yet swept back, RecoveredBalance what is.
	LimboBalance, RecoveredBalance btcutil.Amount
	// MaturityHeight is when the last time-locked output matures.
	MaturityHeight uint32

	// PendingHTLCs are the HTLC outputs not yet resolved.
	PendingHTLCs []PendingHTLC
}

// PendingHTLC is an HTLC of a closing channel, as lnd's PendingHTLC.
type PendingHTLC struct {
	Incoming       bool
	Amount         btcutil.Amount
	OutPoint       wire.OutPoint
	MaturityHeight uint32
	// Stage is 1 on the commitment, 2 on our HTLC transaction's
	// output.
	Stage uint32
}

// contracts returns the contract court, or Unimplemented.
func (l *lightningService) contracts() (Contracts, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Contracts == nil {
		return nil, status.Error(codes.Unimplemented, "contract court not running")
	}
	return b.Contracts, nil
}

// CloseChannel closes a channel: with force through the contract court
// (here), cooperatively through the close path (closechannels.go).
func (l *lightningService) CloseChannel(req *lnrpc.CloseChannelRequest,
	stream lnrpc.Lightning_CloseChannelServer) error {

	if !req.Force {
		return l.cooperativeClose(req, stream)
	}
	return l.forceCloseChannel(req, stream)
}

// forceCloseChannel broadcasts our commitment, reports close_instant
// (with no_wait), close_pending, and chan_close once it confirms.
func (l *lightningService) forceCloseChannel(req *lnrpc.CloseChannelRequest,
	stream lnrpc.Lightning_CloseChannelServer) error {

	c, err := l.contracts()
	if err != nil {
		return err
	}
	//lint:ignore SA1019 deprecated in lnd, still sent by older clients.
	oldRate := req.SatPerByte
	if req.DeliveryAddress != "" || req.SatPerVbyte != 0 || oldRate != 0 ||
		req.TargetConf != 0 || req.MaxFeePerVbyte != 0 {

		return invalidf("a force close takes no address or fee: " +
			"the commitment's are fixed")
	}
	op, err := channelPointOf(req.ChannelPoint)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	txid, err := c.ForceClose(ctx, op)
	if err != nil {
		return l.s.toStatus(fmt.Errorf("force close %v: %w", op, err))
	}
	if req.NoWait {
		// lncli always sets no_wait and then waits for close_pending:
		// the stream goes on after the instant update, as lnd's.
		err := stream.Send(&lnrpc.CloseStatusUpdate{Update: &lnrpc.CloseStatusUpdate_CloseInstant{
			CloseInstant: &lnrpc.InstantUpdate{}}})
		if err != nil {
			return err
		}
	}
	err = stream.Send(&lnrpc.CloseStatusUpdate{Update: &lnrpc.CloseStatusUpdate_ClosePending{
		ClosePending: &lnrpc.PendingUpdate{Txid: txid[:]}}})
	if err != nil {
		return err
	}
	closed, err := c.WaitClosed(ctx, op)
	if err != nil {
		return l.s.toStatus(err)
	}
	return stream.Send(&lnrpc.CloseStatusUpdate{Update: &lnrpc.CloseStatusUpdate_ChanClose{
		ChanClose: &lnrpc.ChannelCloseUpdate{ClosingTxid: closed[:], Success: true}}})
}

// addClosing adds the channels on their way to chain to a
// PendingChannels answer.
func (l *lightningService) addClosing(ctx context.Context,
	resp *lnrpc.PendingChannelsResponse) error {

	b, err := l.node()
	if err != nil || b.Contracts == nil {
		return err
	}
	closing, height, err := b.Contracts.Closing(ctx)
	if err != nil {
		return l.s.toStatus(err)
	}
	for _, c := range closing {
		ch := closingProto(&c)
		if c.Waiting {
			resp.WaitingCloseChannels = append(resp.WaitingCloseChannels,
				&lnrpc.PendingChannelsResponse_WaitingCloseChannel{
					Channel:      ch,
					LimboBalance: int64(c.LimboBalance),
					ClosingTxid:  c.ClosingTxID.String(),
					Commitments: &lnrpc.PendingChannelsResponse_Commitments{
						LocalTxid:         txidString(c.LocalTxID),
						RemoteTxid:        txidString(c.RemoteTxID),
						RemotePendingTxid: txidString(c.RemotePendingTxID),
					},
					BlocksTilCloseConfirmed: 1,
				})
			resp.TotalLimboBalance += int64(c.LimboBalance)
			continue
		}
		fc := &lnrpc.PendingChannelsResponse_ForceClosedChannel{
			Channel:          ch,
			ClosingTxid:      c.ClosingTxID.String(),
			LimboBalance:     int64(c.LimboBalance),
			RecoveredBalance: int64(c.RecoveredBalance),
			MaturityHeight:   c.MaturityHeight,
		}
		if c.MaturityHeight > 0 {
			fc.BlocksTilMaturity = int32(c.MaturityHeight) - height
		}
		for _, h := range c.PendingHTLCs {
			fc.PendingHtlcs = append(fc.PendingHtlcs, &lnrpc.PendingHTLC{
				Incoming: h.Incoming, Amount: int64(h.Amount),
				Outpoint: h.OutPoint.String(), MaturityHeight: h.MaturityHeight,
				BlocksTilMaturity: int32(h.MaturityHeight) - height, Stage: h.Stage})
		}
		resp.PendingForceClosingChannels = append(resp.PendingForceClosingChannels, fc)
		resp.TotalLimboBalance += int64(c.LimboBalance)
	}
	return nil
}

func txidString(h chainhash.Hash) string {
	if h == (chainhash.Hash{}) {
		return ""
	}
	return h.String()
}

func closingProto(c *ClosingChannel) *lnrpc.PendingChannelsResponse_PendingChannel {
	init := initiatorProto(c.Initiator)
	return &lnrpc.PendingChannelsResponse_PendingChannel{
		RemoteNodePub:        pubHex(c.RemotePubKey),
		ChannelPoint:         c.ChanPoint.String(),
		Capacity:             int64(c.Capacity),
		LocalBalance:         int64(c.LocalBalance),
		RemoteBalance:        int64(c.RemoteBalance),
		LocalChanReserveSat:  int64(c.LocalReserve),
		RemoteChanReserveSat: int64(c.RemoteReserve),
		Initiator:            init,
		CommitmentType:       commitmentProto(c.CommitmentType),
		Private:              c.Private,
	}
}

// initiatorProto is lnd's initiator of a pending channel: us or the peer.
func initiatorProto(local bool) lnrpc.Initiator {
	if local {
		return lnrpc.Initiator_INITIATOR_LOCAL
	}
	return lnrpc.Initiator_INITIATOR_REMOTE
}
