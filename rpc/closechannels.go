package rpc

import (
	"bytes"
	"context"
	"encoding/hex"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/rpc/lnrpc"
)

// ChannelCloser closes channels and reports what became of them.
type ChannelCloser interface {
	// Close starts a cooperative close. The returned channel reports
	// the closing transaction once agreed and broadcast, then its
	// confirmation, or an error; it is abandoned once ctx ends.
	Close(ctx context.Context, req *CloseChannelParams) (<-chan CloseEvent, error)

	// Closed lists the closed channels.
	Closed(ctx context.Context) ([]ClosedChannel, error)

	// WaitingClose lists the channels whose closing transaction is not
	// confirmed yet.
	WaitingClose(ctx context.Context) ([]WaitingCloseChannel, error)

	// Balance sums the channels' balances.
	Balance(ctx context.Context) (*ChannelBalance, error)

	// SubscribeEvents streams channel events until ctx ends.
	SubscribeEvents(ctx context.Context) (<-chan ChannelEvent, error)
}

// CloseChannelParams is a CloseChannel request, checked.
type CloseChannelParams struct {
	ChanPoint       wire.OutPoint
	DeliveryAddress string
	// SatPerVByte, else TargetConf, else the default target, sets the
	// ideal fee rate; MaxFeePerVByte caps it (0: three times the ideal).
	SatPerVByte    uint64
	TargetConf     int32
	MaxFeePerVByte uint64
	// NoWait lets the close start with HTLCs in flight (it waits for
	// them); the stream then begins with close_instant.
	NoWait bool
}

// CloseEvent is one step of a close.
type CloseEvent struct {
	// Instant, for a request with no_wait, says the close is taken
	// with PendingHTLCs still in flight.
	Instant      bool
	PendingHTLCs int32
	// Pending is the closing transaction, agreed and broadcast.
	Pending *wire.MsgTx
	// Closed is the closing transaction, confirmed.
	Closed *ClosedChannel
	Err    error
}

// CloseType is lnd's ChannelCloseSummary.ClosureType (channeldb's
// numbering is the same).
type CloseType int32

// ClosedChannel is a closed channel's summary.
type ClosedChannel struct {
	ChanPoint    wire.OutPoint
	ChanID       uint64
	ClosingTxID  chainhash.Hash
	RemotePubKey *btcec.PublicKey
	Capacity     btcutil.Amount
	CloseHeight  uint32
	Settled      btcutil.Amount
	TimeLocked   btcutil.Amount
	CloseType    CloseType
	// OpenInitiator and CloseInitiator are lnd's Initiator values
	// (0: unknown).
	OpenInitiator  int32
	CloseInitiator int32
	AliasScids     []uint64
	// LocalScript and RemoteScript are the delivery scripts of a
	// cooperative close; LocalAmt and RemoteAmt what they received.
	LocalScript, RemoteScript []byte
	LocalAmt, RemoteAmt       btcutil.Amount
	// Resolutions say what became of each output of ours of a force
	// close that is settled on chain.
	Resolutions []Resolution
}

// Resolution is what became of one output of a force close (lnd's
// Resolution).
type Resolution struct {
	// Type and Outcome are lnd's ResolutionType and ResolutionOutcome
	// numbers.
	Type, Outcome int32
	OutPoint      wire.OutPoint
	Amount        btcutil.Amount
	// SweepTxID spent the output, when ours (zero otherwise).
	SweepTxID chainhash.Hash
}

// WaitingCloseChannel is a channel whose closing transaction is not
// confirmed yet.
type WaitingCloseChannel struct {
	ChannelInfo
	ClosingTx *wire.MsgTx
	// Limbo is our balance until the closing transaction confirms.
	Limbo btcutil.Amount
	// ConfirmsLeft is how many confirmations the close still needs;
	// CloseHeight the block it first confirmed in (0: none yet).
	ConfirmsLeft uint32
	CloseHeight  uint32
}

// ChannelBalance sums the channels' balances in msat.
type ChannelBalance struct {
	LocalMsat, RemoteMsat                       uint64
	UnsettledLocalMsat, UnsettledRemoteMsat     uint64
	PendingOpenLocalMsat, PendingOpenRemoteMsat uint64
}

// ChannelEventType is lnd's ChannelEventUpdate.UpdateType.
type ChannelEventType int32

// The channel events.
const (
	EventOpen          ChannelEventType = 0
	EventClosed        ChannelEventType = 1
	EventActive        ChannelEventType = 2
	EventInactive      ChannelEventType = 3
	EventPendingOpen   ChannelEventType = 4
	EventFullyResolved ChannelEventType = 5
)

// ChannelEvent is one channel event.
type ChannelEvent struct {
	Type      ChannelEventType
	ChanPoint wire.OutPoint
	// Open is set for EventOpen, Closed for EventClosed.
	Open   *ChannelInfo
	Closed *ClosedChannel
}

func (l *lightningService) closer() (ChannelCloser, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Closer == nil {
		return nil, status.Error(codes.Unimplemented, "closing channels is not served")
	}
	return b.Closer, nil
}

// channelPointOf reads a ChannelPoint of a request.
func channelPointOf(cp *lnrpc.ChannelPoint) (wire.OutPoint, error) {
	if cp == nil {
		return wire.OutPoint{}, invalidf("channel_point is required")
	}
	var h *chainhash.Hash
	switch t := cp.FundingTxid.(type) {
	case *lnrpc.ChannelPoint_FundingTxidBytes:
		var err error
		if h, err = chainhash.NewHash(t.FundingTxidBytes); err != nil {
			return wire.OutPoint{}, invalidf("channel_point.funding_txid_bytes: %v", err)
		}
	case *lnrpc.ChannelPoint_FundingTxidStr:
		var err error
		if h, err = chainhash.NewHashFromStr(t.FundingTxidStr); err != nil ||
			len(t.FundingTxidStr) != 64 {

			return wire.OutPoint{}, invalidf("channel_point.funding_txid_str "+
				"%q is not a transaction id", t.FundingTxidStr)
		}
	default:
		return wire.OutPoint{}, invalidf("channel_point needs funding_txid_bytes or funding_txid_str")
	}
	return wire.OutPoint{Hash: *h, Index: cp.OutputIndex}, nil
}

// closeParams checks a CloseChannelRequest.
func closeParams(req *lnrpc.CloseChannelRequest) (*CloseChannelParams, error) {
	op, err := channelPointOf(req.ChannelPoint)
	if err != nil {
		return nil, err
	}
	if req.Force {
		return nil, status.Error(codes.Unimplemented, "force close is not "+
			"served yet: close cooperatively (without --force) while the "+
			"peer is online")
	}
	//lint:ignore SA1019 deprecated in lnd, still sent by older clients.
	satPerByte := req.SatPerByte
	if satPerByte != 0 && req.SatPerVbyte != 0 {
		return nil, invalidf("either sat_per_byte or sat_per_vbyte may be set, not both")
	}
	if satPerByte < 0 {
		return nil, invalidf("sat_per_byte must not be negative")
	}
	p := &CloseChannelParams{ChanPoint: op, DeliveryAddress: req.DeliveryAddress,
		SatPerVByte: req.SatPerVbyte, TargetConf: req.TargetConf,
		MaxFeePerVByte: req.MaxFeePerVbyte}
	if satPerByte > 0 {
		p.SatPerVByte = uint64(satPerByte)
	}
	if p.SatPerVByte != 0 && req.TargetConf != 0 {
		return nil, invalidf("either target_conf or sat_per_vbyte may be set, not both")
	}
	if req.TargetConf < 0 {
		return nil, invalidf("target_conf must not be negative")
	}
	if p.MaxFeePerVByte != 0 && p.SatPerVByte > p.MaxFeePerVByte {
		return nil, invalidf("sat_per_vbyte %d is above max_fee_per_vbyte %d",
			p.SatPerVByte, p.MaxFeePerVByte)
	}
	// lncli always sets no_wait, so that a close with HTLCs in flight
	// is taken (as lnd does).
	p.NoWait = req.NoWait
	return p, nil
}

// cooperativeClose is CloseChannel without force (see contracts.go).
func (l *lightningService) cooperativeClose(req *lnrpc.CloseChannelRequest,
	stream lnrpc.Lightning_CloseChannelServer) error {

	c, err := l.closer()
	if err != nil {
		return err
	}
	p, err := closeParams(req)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	events, err := c.Close(ctx, p)
	if err != nil {
		return l.s.toStatus(err)
	}
	for {
		var ev CloseEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			return l.s.toStatus(ctx.Err())
		}
		var up *lnrpc.CloseStatusUpdate
		switch {
		case ev.Err != nil:
			return l.s.toStatus(ev.Err)
		case ev.Instant:
			up = &lnrpc.CloseStatusUpdate{Update: &lnrpc.CloseStatusUpdate_CloseInstant{
				CloseInstant: &lnrpc.InstantUpdate{NumPendingHtlcs: ev.PendingHTLCs}}}
		case ev.Pending != nil:
			h := ev.Pending.TxHash()
			up = &lnrpc.CloseStatusUpdate{Update: &lnrpc.CloseStatusUpdate_ClosePending{
				ClosePending: &lnrpc.PendingUpdate{Txid: h[:], LocalCloseTx: true}}}
		case ev.Closed != nil:
			up = &lnrpc.CloseStatusUpdate{Update: &lnrpc.CloseStatusUpdate_ChanClose{
				ChanClose: chanCloseUpdate(ev.Closed)}}
		default:
			continue
		}
		if err := stream.Send(up); err != nil {
			return err
		}
		if ev.Closed != nil {
			return nil
		}
	}
}

func chanCloseUpdate(c *ClosedChannel) *lnrpc.ChannelCloseUpdate {
	u := &lnrpc.ChannelCloseUpdate{ClosingTxid: c.ClosingTxID[:], Success: true}
	if c.LocalScript != nil {
		u.LocalCloseOutput = &lnrpc.CloseOutput{AmountSat: int64(c.LocalAmt),
			PkScript: c.LocalScript, IsLocal: true}
	}
	if c.RemoteScript != nil {
		u.RemoteCloseOutput = &lnrpc.CloseOutput{AmountSat: int64(c.RemoteAmt),
			PkScript: c.RemoteScript}
	}
	return u
}

func closedProto(c *ClosedChannel, chainHash string) *lnrpc.ChannelCloseSummary {
	aliases := c.AliasScids
	if aliases == nil {
		aliases = []uint64{}
	}
	resolutions := make([]*lnrpc.Resolution, 0, len(c.Resolutions))
	for _, r := range c.Resolutions {
		res := &lnrpc.Resolution{ResolutionType: lnrpc.ResolutionType(r.Type),
			Outcome: lnrpc.ResolutionOutcome(r.Outcome),
			Outpoint: &lnrpc.OutPoint{TxidBytes: r.OutPoint.Hash[:],
				TxidStr: r.OutPoint.Hash.String(), OutputIndex: r.OutPoint.Index},
			AmountSat: uint64(r.Amount)}
		if r.SweepTxID != (chainhash.Hash{}) {
			res.SweepTxid = r.SweepTxID.String()
		}
		resolutions = append(resolutions, res)
	}
	return &lnrpc.ChannelCloseSummary{
		Resolutions:       resolutions,
		ChannelPoint:      c.ChanPoint.String(),
		ChanId:            c.ChanID,
		ChainHash:         chainHash,
		ClosingTxHash:     c.ClosingTxID.String(),
		RemotePubkey:      pubHex(c.RemotePubKey),
		Capacity:          int64(c.Capacity),
		CloseHeight:       c.CloseHeight,
		SettledBalance:    int64(c.Settled),
		TimeLockedBalance: int64(c.TimeLocked),
		CloseType:         lnrpc.ChannelCloseSummary_ClosureType(c.CloseType),
		OpenInitiator:     lnrpc.Initiator(c.OpenInitiator),
		CloseInitiator:    lnrpc.Initiator(c.CloseInitiator),
		AliasScids:        aliases,
	}
}

func (l *lightningService) chainHash() string {
	return l.s.cfg.Network.Params.GenesisHash.String()
}

func (l *lightningService) ClosedChannels(ctx context.Context,
	req *lnrpc.ClosedChannelsRequest) (*lnrpc.ClosedChannelsResponse, error) {

	c, err := l.closer()
	if err != nil {
		return nil, err
	}
	closed, err := c.Closed(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	filter := []bool{req.Cooperative, req.LocalForce, req.RemoteForce,
		req.Breach, req.FundingCanceled, req.Abandoned}
	any := false
	for _, f := range filter {
		any = any || f
	}
	resp := &lnrpc.ClosedChannelsResponse{Channels: []*lnrpc.ChannelCloseSummary{}}
	for i := range closed {
		ct := int(closed[i].CloseType)
		if any && (ct < 0 || ct >= len(filter) || !filter[ct]) {
			continue
		}
		resp.Channels = append(resp.Channels, closedProto(&closed[i], l.chainHash()))
	}
	return resp, nil
}

func amountProto(msat uint64) *lnrpc.Amount {
	return &lnrpc.Amount{Sat: msat / 1000, Msat: msat}
}

func (l *lightningService) ChannelBalance(ctx context.Context,
	_ *lnrpc.ChannelBalanceRequest) (*lnrpc.ChannelBalanceResponse, error) {

	c, err := l.closer()
	if err != nil {
		return nil, err
	}
	b, err := c.Balance(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.ChannelBalanceResponse{
		LocalBalance:             amountProto(b.LocalMsat),
		RemoteBalance:            amountProto(b.RemoteMsat),
		UnsettledLocalBalance:    amountProto(b.UnsettledLocalMsat),
		UnsettledRemoteBalance:   amountProto(b.UnsettledRemoteMsat),
		PendingOpenLocalBalance:  amountProto(b.PendingOpenLocalMsat),
		PendingOpenRemoteBalance: amountProto(b.PendingOpenRemoteMsat),
	}
	//lint:ignore SA1019 deprecated in lnd, but apps still read them.
	resp.Balance = int64(b.LocalMsat / 1000)
	//lint:ignore SA1019 as above.
	resp.PendingOpenBalance = int64(b.PendingOpenLocalMsat / 1000)
	return resp, nil
}

func (l *lightningService) SubscribeChannelEvents(_ *lnrpc.ChannelEventSubscription,
	stream lnrpc.Lightning_SubscribeChannelEventsServer) error {

	c, err := l.closer()
	if err != nil {
		return err
	}
	ctx := stream.Context()
	events, err := c.SubscribeEvents(ctx)
	if err != nil {
		return l.s.toStatus(err)
	}
	for {
		var ev ChannelEvent
		var ok bool
		select {
		case ev, ok = <-events:
			if !ok {
				return status.Error(codes.Unavailable, "node shutting down")
			}
		case <-ctx.Done():
			return nil
		}
		if err := stream.Send(channelEventProto(&ev, l.chainHash())); err != nil {
			return err
		}
	}
}

func channelEventProto(ev *ChannelEvent, chainHash string) *lnrpc.ChannelEventUpdate {
	up := &lnrpc.ChannelEventUpdate{Type: lnrpc.ChannelEventUpdate_UpdateType(ev.Type)}
	cp := chanPointProto(ev.ChanPoint)
	switch ev.Type {
	case EventOpen:
		ch := &lnrpc.Channel{ChannelPoint: ev.ChanPoint.String()}
		if ev.Open != nil {
			ch = channelProto(ev.Open)
		}
		up.Channel = &lnrpc.ChannelEventUpdate_OpenChannel{OpenChannel: ch}
	case EventClosed:
		sum := &lnrpc.ChannelCloseSummary{ChannelPoint: ev.ChanPoint.String()}
		if ev.Closed != nil {
			sum = closedProto(ev.Closed, chainHash)
		}
		up.Channel = &lnrpc.ChannelEventUpdate_ClosedChannel{ClosedChannel: sum}
	case EventActive:
		up.Channel = &lnrpc.ChannelEventUpdate_ActiveChannel{ActiveChannel: cp}
	case EventInactive:
		up.Channel = &lnrpc.ChannelEventUpdate_InactiveChannel{InactiveChannel: cp}
	case EventPendingOpen:
		up.Channel = &lnrpc.ChannelEventUpdate_PendingOpenChannel{PendingOpenChannel: &lnrpc.PendingUpdate{
			Txid: ev.ChanPoint.Hash[:], OutputIndex: ev.ChanPoint.Index}}
	case EventFullyResolved:
		up.Channel = &lnrpc.ChannelEventUpdate_FullyResolvedChannel{FullyResolvedChannel: cp}
	}
	return up
}

// waitingCloseProto describes a channel waiting for its closing
// transaction as PendingChannels does.
func waitingCloseProto(w *WaitingCloseChannel, rawTx bool) *lnrpc.PendingChannelsResponse_WaitingCloseChannel {
	out := &lnrpc.PendingChannelsResponse_WaitingCloseChannel{
		Channel:                 pendingChannelProto(&w.ChannelInfo),
		LimboBalance:            int64(w.Limbo),
		Commitments:             &lnrpc.PendingChannelsResponse_Commitments{},
		BlocksTilCloseConfirmed: w.ConfirmsLeft,
		CloseHeight:             w.CloseHeight,
	}
	if w.ClosingTx != nil {
		out.ClosingTxid = w.ClosingTx.TxHash().String()
		if rawTx {
			var buf bytes.Buffer
			if err := w.ClosingTx.Serialize(&buf); err == nil {
				out.ClosingTxHex = hex.EncodeToString(buf.Bytes())
			}
		}
	}
	return out
}

func pendingChannelProto(p *ChannelInfo) *lnrpc.PendingChannelsResponse_PendingChannel {
	init := initiatorProto(p.Initiator)
	return &lnrpc.PendingChannelsResponse_PendingChannel{
		RemoteNodePub:        pubHex(p.RemotePubKey),
		ChannelPoint:         p.ChanPoint.String(),
		Capacity:             int64(p.Capacity),
		LocalBalance:         int64(p.LocalBalance),
		RemoteBalance:        int64(p.RemoteBalance),
		LocalChanReserveSat:  int64(p.Local.ChanReserve),
		RemoteChanReserveSat: int64(p.Remote.ChanReserve),
		Initiator:            init,
		CommitmentType:       commitmentProto(p.CommitmentType),
		Private:              p.Private,
	}
}

// addWaitingClose appends the channels waiting for their closing
// transaction to a PendingChannels answer.
func (l *lightningService) addWaitingClose(ctx context.Context,
	resp *lnrpc.PendingChannelsResponse, rawTx bool) error {

	b, err := l.node()
	if err != nil || b.Closer == nil {
		return nil
	}
	waiting, err := b.Closer.WaitingClose(ctx)
	if err != nil {
		return l.s.toStatus(err)
	}
	resp.WaitingCloseChannels = make([]*lnrpc.PendingChannelsResponse_WaitingCloseChannel, 0, len(waiting))
	for i := range waiting {
		w := waitingCloseProto(&waiting[i], rawTx)
		resp.WaitingCloseChannels = append(resp.WaitingCloseChannels, w)
		resp.TotalLimboBalance += w.LimboBalance
	}
	return nil
}
