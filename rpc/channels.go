package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/rpc/lnrpc"
)

// Channels opens and lists Lightning channels.
type Channels interface {
	// Open starts opening a channel. The returned channel reports the
	// broadcast of the funding transaction, then the opening, or an
	// error; it is abandoned once ctx ends.
	Open(ctx context.Context, req *OpenChannelParams) (<-chan OpenEvent, [32]byte, error)

	// Pending lists the channels being opened.
	Pending(ctx context.Context) ([]PendingChannel, error)

	// List lists the open channels.
	List(ctx context.Context) ([]ChannelInfo, error)
}

// CommitmentType is lnd's CommitmentType enum.
type CommitmentType int32

// Commitment types.
const (
	CommitmentUnknown         CommitmentType = 0
	CommitmentStaticRemoteKey CommitmentType = 2
	CommitmentAnchors         CommitmentType = 3
)

// OpenChannelParams is an OpenChannel request, checked.
type OpenChannelParams struct {
	Peer       *btcec.PublicKey
	LocalAmt   btcutil.Amount
	PushAmt    btcutil.Amount
	SatPerVB   uint64 // 0: estimate for TargetConf
	TargetConf int32
	Private    bool
	MinConfs   int32
	// CommitmentType: CommitmentUnknown negotiates.
	CommitmentType CommitmentType
	CloseAddress   string
}

// OpenEvent is one step of an opening.
type OpenEvent struct {
	// Pending is the funding outpoint, set once it is broadcast.
	Pending *wire.OutPoint
	// Open is set once the channel is open.
	Open *wire.OutPoint
	Err  error
}

// ChannelConstraints are the limits one side must respect.
type ChannelConstraints struct {
	CsvDelay         uint32
	ChanReserve      btcutil.Amount
	DustLimit        btcutil.Amount
	MaxPendingMsat   uint64
	MinHtlcMsat      uint64
	MaxAcceptedHtlcs uint32
}

// ChannelInfo describes a channel, open or being opened.
type ChannelInfo struct {
	Active         bool
	RemotePubKey   *btcec.PublicKey
	ChanPoint      wire.OutPoint
	ChanID         uint64
	Capacity       btcutil.Amount
	LocalBalance   btcutil.Amount
	RemoteBalance  btcutil.Amount
	CommitFee      btcutil.Amount
	CommitWeight   int64
	FeePerKw       int64
	NumUpdates     uint64
	Private        bool
	Initiator      bool
	CommitmentType CommitmentType
	PushAmount     btcutil.Amount
	Local, Remote  ChannelConstraints
	AliasScids     []uint64
	PeerScidAlias  uint64
	CloseAddress   string
	// StatusFlags is lnd's chan_status_flags ("": ChanStatusDefault).
	StatusFlags string
	// PendingHTLCs are the HTLCs on our current commitment.
	PendingHTLCs []CommitHTLC
	// Lifetime is how long the channel has been monitored since the
	// node started, Uptime how much of it the peer was connected.
	Lifetime, Uptime time.Duration
}

// CommitHTLC is an HTLC on our current commitment of a channel.
type CommitHTLC struct {
	Incoming   bool
	AmountMsat uint64
	Hash       [32]byte
	Expiry     uint32
	Index      uint64
	// ForwardChan and ForwardIndex name the HTLC on the other channel
	// of a forward (zero when not a forward or not yet assigned).
	ForwardChan  uint64
	ForwardIndex uint64
	// LockedIn is set when the HTLC is on the peer's commitment too.
	LockedIn bool
}

// PendingChannel is a channel being opened.
type PendingChannel struct {
	ChannelInfo
	ConfirmationsUntilActive uint32
	ConfirmationHeight       uint32
	FundingExpiryBlocks      int32
}

func chanPointProto(op wire.OutPoint) *lnrpc.ChannelPoint {
	return &lnrpc.ChannelPoint{
		FundingTxid: &lnrpc.ChannelPoint_FundingTxidBytes{FundingTxidBytes: op.Hash[:]},
		OutputIndex: op.Index,
	}
}

// openParams checks an OpenChannelRequest.
func openParams(req *lnrpc.OpenChannelRequest) (*OpenChannelParams, error) {
	var pub *btcec.PublicKey
	var err error
	switch {
	case len(req.NodePubkey) > 0:
		if pub, err = btcec.ParsePubKey(req.NodePubkey); err != nil {
			return nil, invalidf("node_pubkey is not a valid public key: %v", err)
		}
	//lint:ignore SA1019 deprecated in lnd, still sent by older clients.
	case req.NodePubkeyString != "":
		//lint:ignore SA1019 as above.
		if pub, err = parsePubKey("node_pubkey_string", req.NodePubkeyString); err != nil {
			return nil, err
		}
	default:
		return nil, invalidf("node_pubkey is required")
	}
	//lint:ignore SA1019 deprecated in lnd, still sent by older clients.
	if req.SatPerByte != 0 && req.SatPerVbyte != 0 {
		return nil, invalidf("either sat_per_byte or sat_per_vbyte may be set, not both")
	}
	if req.SatPerVbyte != 0 && req.TargetConf != 0 {
		return nil, invalidf("either target_conf or sat_per_vbyte may be set, not both")
	}
	if req.LocalFundingAmount <= 0 {
		return nil, invalidf("local_funding_amount must be positive")
	}
	if req.PushSat < 0 || req.PushSat > req.LocalFundingAmount {
		return nil, invalidf("push_sat must be between 0 and local_funding_amount")
	}
	if req.MinConfs < 0 {
		return nil, invalidf("min_confs must not be negative")
	}
	if req.SpendUnconfirmed && req.MinConfs > 0 {
		return nil, invalidf("spend_unconfirmed and min_confs are exclusive")
	}
	p := &OpenChannelParams{Peer: pub, LocalAmt: btcutil.Amount(req.LocalFundingAmount),
		PushAmt: btcutil.Amount(req.PushSat), SatPerVB: req.SatPerVbyte,
		TargetConf: req.TargetConf, Private: req.Private, MinConfs: req.MinConfs,
		CloseAddress: req.CloseAddress}
	//lint:ignore SA1019 as above.
	if req.SatPerByte > 0 {
		//lint:ignore SA1019 as above.
		p.SatPerVB = uint64(req.SatPerByte)
	}
	if p.MinConfs == 0 && !req.SpendUnconfirmed {
		p.MinConfs = 1
	}
	switch req.CommitmentType {
	case lnrpc.CommitmentType_UNKNOWN_COMMITMENT_TYPE:
	case lnrpc.CommitmentType_STATIC_REMOTE_KEY:
		p.CommitmentType = CommitmentStaticRemoteKey
	case lnrpc.CommitmentType_ANCHORS:
		p.CommitmentType = CommitmentAnchors
	default:
		return nil, invalidf("commitment_type %v is not supported (use "+
			"ANCHORS or STATIC_REMOTE_KEY)", req.CommitmentType)
	}
	return p, nil
}

func (l *lightningService) channels() (Channels, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Channels == nil {
		return nil, status.Error(codes.Unimplemented, "channels are not served")
	}
	return b.Channels, nil
}

func (l *lightningService) OpenChannelSync(ctx context.Context,
	req *lnrpc.OpenChannelRequest) (*lnrpc.ChannelPoint, error) {

	ch, err := l.channels()
	if err != nil {
		return nil, err
	}
	p, err := openParams(req)
	if err != nil {
		return nil, err
	}
	events, _, err := ch.Open(ctx, p)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	for {
		select {
		case ev := <-events:
			switch {
			case ev.Err != nil:
				return nil, l.s.toStatus(ev.Err)
			case ev.Pending != nil:
				return chanPointProto(*ev.Pending), nil
			}
		case <-ctx.Done():
			return nil, l.s.toStatus(ctx.Err())
		}
	}
}

func (l *lightningService) OpenChannel(req *lnrpc.OpenChannelRequest,
	stream lnrpc.Lightning_OpenChannelServer) error {

	ch, err := l.channels()
	if err != nil {
		return err
	}
	p, err := openParams(req)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	events, pendingID, err := ch.Open(ctx, p)
	if err != nil {
		return l.s.toStatus(err)
	}
	for {
		var ev OpenEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			return l.s.toStatus(ctx.Err())
		}
		up := &lnrpc.OpenStatusUpdate{PendingChanId: pendingID[:]}
		switch {
		case ev.Err != nil:
			return l.s.toStatus(ev.Err)
		case ev.Pending != nil:
			up.Update = &lnrpc.OpenStatusUpdate_ChanPending{ChanPending: &lnrpc.PendingUpdate{
				Txid: ev.Pending.Hash[:], OutputIndex: ev.Pending.Index}}
		case ev.Open != nil:
			up.Update = &lnrpc.OpenStatusUpdate_ChanOpen{ChanOpen: &lnrpc.ChannelOpenUpdate{
				ChannelPoint: chanPointProto(*ev.Open)}}
		default:
			continue
		}
		if err := stream.Send(up); err != nil {
			return err
		}
		if ev.Open != nil {
			return nil
		}
	}
}

func commitmentProto(t CommitmentType) lnrpc.CommitmentType {
	switch t {
	case CommitmentAnchors:
		return lnrpc.CommitmentType_ANCHORS
	case CommitmentStaticRemoteKey:
		return lnrpc.CommitmentType_STATIC_REMOTE_KEY
	}
	return lnrpc.CommitmentType_UNKNOWN_COMMITMENT_TYPE
}

func pubHex(p *btcec.PublicKey) string {
	if p == nil {
		return ""
	}
	return hex.EncodeToString(p.SerializeCompressed())
}

func (l *lightningService) PendingChannels(ctx context.Context,
	req *lnrpc.PendingChannelsRequest) (*lnrpc.PendingChannelsResponse, error) {

	ch, err := l.channels()
	if err != nil {
		return nil, err
	}
	pending, err := ch.Pending(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.PendingChannelsResponse{
		PendingOpenChannels: make([]*lnrpc.PendingChannelsResponse_PendingOpenChannel, 0, len(pending)),
	}
	for _, p := range pending {
		init := initiatorProto(p.Initiator)
		resp.PendingOpenChannels = append(resp.PendingOpenChannels,
			&lnrpc.PendingChannelsResponse_PendingOpenChannel{
				Channel: &lnrpc.PendingChannelsResponse_PendingChannel{
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
				},
				CommitFee:                int64(p.CommitFee),
				CommitWeight:             p.CommitWeight,
				FeePerKw:                 p.FeePerKw,
				FundingExpiryBlocks:      p.FundingExpiryBlocks,
				ConfirmationsUntilActive: p.ConfirmationsUntilActive,
				ConfirmationHeight:       p.ConfirmationHeight,
			})
	}
	if err := l.addWaitingClose(ctx, resp, req.IncludeRawTx); err != nil {
		return nil, err
	}
	if err := l.addClosing(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

func constraintsProto(c ChannelConstraints) *lnrpc.ChannelConstraints {
	return &lnrpc.ChannelConstraints{CsvDelay: c.CsvDelay,
		ChanReserveSat: uint64(c.ChanReserve), DustLimitSat: uint64(c.DustLimit),
		MaxPendingAmtMsat: c.MaxPendingMsat, MinHtlcMsat: c.MinHtlcMsat,
		MaxAcceptedHtlcs: c.MaxAcceptedHtlcs}
}

func (l *lightningService) ListChannels(ctx context.Context,
	req *lnrpc.ListChannelsRequest) (*lnrpc.ListChannelsResponse, error) {

	ch, err := l.channels()
	if err != nil {
		return nil, err
	}
	if req.ActiveOnly && req.InactiveOnly {
		return nil, invalidf("either active_only or inactive_only may be set")
	}
	if req.PublicOnly && req.PrivateOnly {
		return nil, invalidf("either public_only or private_only may be set")
	}
	var peer *btcec.PublicKey
	if len(req.Peer) > 0 {
		if peer, err = btcec.ParsePubKey(req.Peer); err != nil {
			return nil, invalidf("peer is not a valid public key: %v", err)
		}
	}
	chans, err := ch.List(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.ListChannelsResponse{Channels: make([]*lnrpc.Channel, 0, len(chans))}
	for _, c := range chans {
		if (req.ActiveOnly && !c.Active) || (req.InactiveOnly && c.Active) ||
			(req.PublicOnly && c.Private) || (req.PrivateOnly && !c.Private) ||
			(peer != nil && (c.RemotePubKey == nil || !peer.IsEqual(c.RemotePubKey))) {

			continue
		}
		out := channelProto(&c)
		if req.PeerAliasLookup {
			out.PeerAlias = l.peerAlias(c.RemotePubKey)
		}
		resp.Channels = append(resp.Channels, out)
	}
	return resp, nil
}

// peerAlias is a channel peer's alias from its node announcement, or, as
// lnd answers, why it has none.
func (l *lightningService) peerAlias(pub *btcec.PublicKey) string {
	alias, err := l.nodeAlias(pub)
	if err != nil {
		return fmt.Sprintf("unable to lookup peer alias: %v", err)
	}
	return alias
}

// nodeAlias looks up a node's alias in the graph; a node without an
// announcement has none (lnd's "alias for node not found").
func (l *lightningService) nodeAlias(pub *btcec.PublicKey) (string, error) {
	if pub == nil {
		return "", errAliasNotFound
	}
	g, err := l.graph()
	if err != nil {
		return "", err
	}
	n, err := g.Node([33]byte(pub.SerializeCompressed()))
	switch {
	case errors.Is(err, channeldb.ErrGraphNodeNotFound):
		return "", errAliasNotFound
	case err != nil:
		return "", err
	case n == nil:
		return "", errAliasNotFound
	}
	return n.Alias.String(), nil
}

// errAliasNotFound is lnd's answer for a node without an announcement.
var errAliasNotFound = errors.New("alias for node not found")

func channelProto(c *ChannelInfo) *lnrpc.Channel {
	out := &lnrpc.Channel{
		Active:            c.Active,
		RemotePubkey:      pubHex(c.RemotePubKey),
		ChannelPoint:      c.ChanPoint.String(),
		ChanId:            c.ChanID,
		Capacity:          int64(c.Capacity),
		LocalBalance:      int64(c.LocalBalance),
		RemoteBalance:     int64(c.RemoteBalance),
		CommitFee:         int64(c.CommitFee),
		CommitWeight:      c.CommitWeight,
		FeePerKw:          c.FeePerKw,
		NumUpdates:        c.NumUpdates,
		Private:           c.Private,
		Initiator:         c.Initiator,
		ChanStatusFlags:   c.StatusFlags,
		CommitmentType:    commitmentProto(c.CommitmentType),
		CloseAddress:      c.CloseAddress,
		PushAmountSat:     uint64(c.PushAmount),
		LocalConstraints:  constraintsProto(c.Local),
		RemoteConstraints: constraintsProto(c.Remote),
		AliasScids:        c.AliasScids,
		PeerScidAlias:     c.PeerScidAlias,
		Lifetime:          int64(c.Lifetime / time.Second),
		Uptime:            int64(c.Uptime / time.Second),
		PendingHtlcs:      make([]*lnrpc.HTLC, 0, len(c.PendingHTLCs)),
	}
	for _, h := range c.PendingHTLCs {
		p := &lnrpc.HTLC{Incoming: h.Incoming,
			Amount:   int64(h.AmountMsat / 1000),
			HashLock: bytes.Clone(h.Hash[:]), ExpirationHeight: h.Expiry,
			HtlcIndex: h.Index, ForwardingChannel: h.ForwardChan,
			ForwardingHtlcIndex: h.ForwardIndex, LockedIn: h.LockedIn}
		out.PendingHtlcs = append(out.PendingHtlcs, p)
		// lnd sums the HTLCs' whole satoshis.
		out.UnsettledBalance += p.Amount
	}
	//lint:ignore SA1019 deprecated in lnd, but apps still read them.
	out.CsvDelay = c.Local.CsvDelay
	//lint:ignore SA1019 as above.
	out.LocalChanReserveSat = int64(c.Local.ChanReserve)
	//lint:ignore SA1019 as above.
	out.RemoteChanReserveSat = int64(c.Remote.ChanReserve)
	//lint:ignore SA1019 as above.
	out.StaticRemoteKey = c.CommitmentType != CommitmentUnknown
	if out.AliasScids == nil {
		out.AliasScids = []uint64{}
	}
	if out.ChanStatusFlags == "" {
		out.ChanStatusFlags = "ChanStatusDefault"
	}
	return out
}
