package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/brontide"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/funding"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc"
	"lnd.xprv/server"
)

// numConfs is the minimum_depth we ask of openers: --defaultchanconfs if
// set, 3 on regtest and simnet, else lnd's scaling with the channel size.
func (c *config) numConfs() func(btcutil.Amount, lnwire.MilliSatoshi) uint32 {
	fixed := uint32(c.DefaultChanConfs)
	if fixed == 0 && (c.network.Name == "regtest" || c.network.Name == "simnet") {
		fixed = 3
	}
	if fixed == 0 {
		return funding.ScaleNumConfs
	}
	return func(btcutil.Amount, lnwire.MilliSatoshi) uint32 { return fixed }
}

// newFundingManager builds the funding manager over the running server,
// wallet and chain backend.
func (d *daemon) newFundingManager(db *channeldb.DB) (*funding.Manager, error) {
	cfg := d.cfg
	return funding.New(funding.Config{
		ChainHash: *cfg.network.Params.GenesisHash,
		Wallet:    d.wallet,
		Chain:     d.chain,
		DB:        db,
		SendMessage: func(p *btcec.PublicKey, msg lnwire.Message) error {
			return d.srv.SendToPeer([33]byte(p.SerializeCompressed()), msg)
		},
		PeerFeatures: func(p *btcec.PublicKey) (*lnwire.FeatureVector, bool) {
			pr := d.srv.FindPeer([33]byte(p.SerializeCompressed()))
			if pr == nil || pr.RemoteFeatures() == nil {
				return nil, false
			}
			return pr.RemoteFeatures(), true
		},
		LocalFeatures: lnwire.NewFeatureVector(initFeatures(cfg)),
		ChannelReady: func(ch *lnwallet.Channel) {
			st := ch.State()
			d.log.Info("Channel open", "chan_point", st.FundingOutpoint,
				"scid", st.ShortChannelID, "capacity", st.Capacity)
			// Open before the link exists, so that its active
			// event follows (lnd's order).
			d.publishOpen(st)
			d.addReadyLink(ch)
			d.court.Watch(st)
			d.announcing.channelOpened(st)
		},
		ChannelPending: func(st *channeldb.OpenChannel) {
			d.keepConnected(st)
			d.events.pendingOpen(st)
		},
		NumConfs:          cfg.numConfs(),
		MaxPendingPerPeer: cfg.MaxPendingChannels,
		Logger:            d.logs.Logger("FNDG"),
	})
}

// channelMessage reports whether msg belongs to an open channel's link:
// the updates, commitment rounds, reestablishment and close of BOLT 2.
func channelMessage(msg lnwire.Message) (lnwire.ChannelID, bool) {
	switch m := msg.(type) {
	case *lnwire.UpdateAddHTLC:
		return m.ChanID, true
	case *lnwire.UpdateFulfillHTLC:
		return m.ChanID, true
	case *lnwire.UpdateFailHTLC:
		return m.ChanID, true
	case *lnwire.UpdateFailMalformedHTLC:
		return m.ChanID, true
	case *lnwire.UpdateFee:
		return m.ChanID, true
	case *lnwire.CommitSig:
		return m.ChanID, true
	case *lnwire.RevokeAndAck:
		return m.ChanID, true
	case *lnwire.ChannelReestablish:
		return m.ChanID, true
	case *lnwire.Shutdown:
		return m.ChanID, true
	case *lnwire.ClosingSigned:
		return m.ChanID, true
	}
	return lnwire.ChannelID{}, false
}

// msgPeer is what message routing needs of a peer; *peer.Peer has it.
type msgPeer interface {
	PubKey() [33]byte
	IdentityKey() *btcec.PublicKey
	SendMessage(msgs ...lnwire.Message) error
}

// fundingHandler takes funding messages; *funding.Manager is one.
type fundingHandler interface {
	HandleMessage(peer *btcec.PublicKey, msg lnwire.Message) bool
	Reestablish(peer *btcec.PublicKey, msg *lnwire.ChannelReestablish) (
		[]lnwire.Message, bool)
}

// linkRouter finds the link of an open channel; *htlcswitch.Links is one.
type linkRouter interface {
	Get(id lnwire.ChannelID) *htlcswitch.Link
	Hold(p htlcswitch.Peer, m *lnwire.ChannelReestablish)
}

// peerMessages routes what peers do not handle themselves: funding
// messages to the funding manager; messages of open channels to their
// link, or, for a channel without one, a warning (BOLT 1: never silence);
// the rest to gossip.
//
// A channel_reestablish for a channel still pending in funding is
// answered by the funding manager, so that a peer that opened the channel
// retransmits its channel_ready; one that arrives while the channel is
// being handed to its link is held for the link.
func peerMessages(fm fundingHandler, links linkRouter,
	pending func(pub [33]byte, id lnwire.ChannelID) bool,
	gossip func(msgPeer, lnwire.Message),
	log *slog.Logger) func(p msgPeer, msg lnwire.Message) {

	return func(p msgPeer, msg lnwire.Message) {
		if fm.HandleMessage(p.IdentityKey(), msg) {
			return
		}
		if re, ok := msg.(*lnwire.ChannelReestablish); ok {
			// A channel still pending here answers on the
			// connection it was asked on.
			if replies, ok := fm.Reestablish(p.IdentityKey(), re); ok {
				if err := p.SendMessage(replies...); err != nil {
					log.Debug("channel_reestablish not answered", "err", err)
				}
				return
			}
		}
		if id, ok := channelMessage(msg); ok {
			if l := links.Get(id); l != nil && l.RemotePub() == p.PubKey() {
				if err := l.HandleMessage(p, msg); err == nil {
					return
				}
			}
			if re, ok := msg.(*lnwire.ChannelReestablish); ok &&
				pending(p.PubKey(), id) {

				links.Hold(p, re)
				return
			}
			log.Info("Channel message without a link; warning sent",
				"peer", fmt.Sprintf("%x", p.PubKey()), "type", msg.MsgType())
			err := p.SendMessage(&lnwire.Warning{ChanID: id, Data: []byte(
				fmt.Sprintf("xlnd has no open channel %v with you: %v "+
					"not handled", id, msg.MsgType()))})
			if err != nil {
				log.Debug("warning not sent", "err", err)
			}
			return
		}
		gossip(p, msg)
	}
}

// peerWatcher hears of peers after the links: *announcing is one.
type peerWatcher interface {
	peerOnline(pub *btcec.PublicKey)
	peerOffline(pub *btcec.PublicKey)
}

// followPeers tells the funding manager and the links of peers coming
// and going, then w, until the subscription ends. A link hears of each
// connection, and of its end, by the connection itself.
func followPeers(sub *server.PeerEventSubscription, fm *funding.Manager,
	srv *server.Server, links *htlcswitch.Links, w peerWatcher) {

	for ev := range sub.Events() {
		pub, err := btcec.ParsePubKey(ev.PubKey[:])
		if err != nil {
			continue
		}
		switch ev.Type {
		case server.PeerOnline:
			fm.PeerConnected(pub)
			if p := srv.FindPeer(ev.PubKey); p != nil {
				links.PeerConnected(ev.PubKey, p)
				go func() {
					<-p.Done()
					links.PeerDisconnected(ev.PubKey, p)
				}()
			}
			w.peerOnline(pub)
		case server.PeerOffline:
			fm.PeerDisconnected(pub)
			w.peerOffline(pub)
		}
	}
}

// channelsBackend is rpc.Channels over the funding manager and the
// channel database.
type channelsBackend struct {
	d *daemon
}

func (c *channelsBackend) Open(ctx context.Context, p *rpc.OpenChannelParams) (
	<-chan rpc.OpenEvent, [32]byte, error) {

	d := c.d
	req := funding.OpenRequest{Peer: p.Peer, LocalAmt: p.LocalAmt,
		PushMsat: lnwire.NewMSatFromSatoshis(p.PushAmt), MinConfs: p.MinConfs,
		Private: p.Private}
	switch {
	case p.SatPerVB > 0:
		req.FundingFeeRate = chainfee.SatPerVByte(p.SatPerVB).FeePerKWeight()
	case p.TargetConf > 0:
		rate, err := d.chain.EstimateFeePerKW(ctx, uint32(p.TargetConf))
		if err != nil {
			return nil, [32]byte{}, err
		}
		req.FundingFeeRate = rate
	}
	switch p.CommitmentType {
	case rpc.CommitmentAnchors:
		t := lnwallet.ChannelTypeAnchors
		req.ChannelType = &t
	case rpc.CommitmentStaticRemoteKey:
		t := lnwallet.ChannelTypeStaticRemoteKey
		req.ChannelType = &t
	}
	if p.CloseAddress != "" {
		addr, err := d.wallet.ParseAddress(p.CloseAddress)
		if err != nil {
			return nil, [32]byte{}, fmt.Errorf("close_address: %w", err)
		}
		if req.UpfrontShutdown, err = txscript.PayToAddrScript(addr); err != nil {
			return nil, [32]byte{}, fmt.Errorf("close_address: %w", err)
		}
	}
	updates, id, err := d.funding.OpenChannel(ctx, req)
	if err != nil {
		return nil, id, err
	}
	out := make(chan rpc.OpenEvent, 3)
	go func() {
		for {
			select {
			case u := <-updates:
				ev := rpc.OpenEvent{Err: u.Err}
				if u.Pending != nil {
					op := u.Pending.ChanPoint
					ev.Pending = &op
				}
				if u.Open != nil {
					op := u.Open.ChanPoint
					ev.Open = &op
				}
				out <- ev
				if u.Err != nil || u.Open != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, id, nil
}

func (c *channelsBackend) Pending(ctx context.Context) ([]rpc.PendingChannel, error) {
	pending, err := c.d.funding.PendingChannels()
	if err != nil {
		return nil, err
	}
	_, height, err := c.d.chain.BestBlock(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]rpc.PendingChannel, 0, len(pending))
	for _, p := range pending {
		info, err := c.d.openInfo(p.ChanPoint)
		if err != nil {
			return nil, err
		}
		pc := rpc.PendingChannel{ChannelInfo: channelInfo(p.Channel, info, c.d.cfg.network.Params)}
		if p.State < channeldb.FundingConfirmed {
			pc.ConfirmationsUntilActive = info.MinDepth
			if !p.Initiator {
				pc.FundingExpiryBlocks = int32(p.Height) + funding.MaxWaitBlocks - height
			}
		} else {
			pc.ConfirmationHeight = p.Channel.ShortChannelID.BlockHeight
		}
		out = append(out, pc)
	}
	return out, nil
}

func (c *channelsBackend) List(context.Context) ([]rpc.ChannelInfo, error) {
	return c.list(true)
}

// list lists the open channels; without details it leaves out what only
// ListChannels shows (the HTLCs, read with their circuits, and the
// uptime), for GetInfo's counts.
func (c *channelsBackend) list(details bool) ([]rpc.ChannelInfo, error) {
	d := c.d
	open, err := d.chanDB.ListOpenChannels()
	if err != nil {
		return nil, err
	}
	pending, err := d.funding.PendingChannels()
	if err != nil {
		return nil, err
	}
	isPending := make(map[wire.OutPoint]bool, len(pending))
	for _, p := range pending {
		isPending[p.ChanPoint] = true
	}
	out := make([]rpc.ChannelInfo, 0, len(open))
	for _, st := range open {
		if isPending[st.FundingOutpoint] || d.closer.waitingClose(st.FundingOutpoint) {
			continue
		}
		info, err := d.openInfo(st.FundingOutpoint)
		if err != nil {
			return nil, err
		}
		ci := channelInfo(st, info, d.cfg.network.Params)
		// A channel in shutdown takes no new HTLC: lnd lists it
		// inactive until it closes.
		l := d.links.Get(lnwire.NewChanIDFromOutPoint(st.FundingOutpoint))
		ci.Active = l != nil && l.Active() && !l.ShuttingDown()
		status, err := d.chanDB.FetchChanStatus(st.FundingOutpoint)
		if err != nil {
			return nil, err
		}
		ci.StatusFlags = status.String()
		if details {
			if ci.PendingHTLCs, err = d.commitHTLCs(st); err != nil {
				return nil, err
			}
			ci.Lifetime, ci.Uptime = d.uptime.times(st.FundingOutpoint,
				[33]byte(st.RemoteNode.SerializeCompressed()))
		}
		out = append(out, ci)
	}
	return out, nil
}

// commitHTLCs lists the HTLCs of our current commitment as lnd's
// ListChannels does: a forward names its other side from the circuit,
// and an HTLC is locked in once the peer's commitment has it too.
func (d *daemon) commitHTLCs(st *channeldb.OpenChannel) ([]rpc.CommitHTLC, error) {
	htlcs := st.LocalCommit.HTLCs
	if len(htlcs) == 0 {
		return nil, nil
	}
	type key struct {
		incoming bool
		id       uint64
	}
	onRemote := make(map[key]bool, len(st.RemoteCommit.HTLCs))
	for _, h := range st.RemoteCommit.HTLCs {
		// Both commitments are stored from our side.
		onRemote[key{h.Incoming, h.ID}] = true
	}
	out := make([]rpc.CommitHTLC, 0, len(htlcs))
	err := d.chanDB.View(func(tx kvdb.RTx) error {
		out = out[:0]
		for _, h := range htlcs {
			c := rpc.CommitHTLC{Incoming: h.Incoming, AmountMsat: h.AmountMsat,
				Hash: h.PaymentHash, Expiry: h.CltvExpiry, Index: h.ID,
				LockedIn: onRemote[key{h.Incoming, h.ID}]}
			k := channeldb.CircuitKey{ChanID: st.ShortChannelID, HtlcID: h.ID}
			var circ *channeldb.PaymentCircuit
			var err error
			if h.Incoming {
				circ, err = channeldb.FetchCircuit(tx, k)
			} else {
				circ, err = channeldb.FetchCircuitByOutgoing(tx, k)
			}
			switch {
			case errors.Is(err, channeldb.ErrCircuitNotFound):
			case err != nil:
				return err
			case h.Incoming && circ.Outgoing != nil:
				c.ForwardChan = circ.Outgoing.ChanID.ToUint64()
				c.ForwardIndex = circ.Outgoing.HtlcID
			case !h.Incoming && circ.Incoming.ChanID != (lnwire.ShortChannelID{}):
				// A zero incoming channel is our own payment.
				c.ForwardChan = circ.Incoming.ChanID.ToUint64()
				c.ForwardIndex = circ.Incoming.HtlcID
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// openInfo reads a channel's opening info; channels without one (none
// today) get an empty record.
func (d *daemon) openInfo(op wire.OutPoint) (*channeldb.ChannelOpenInfo, error) {
	var info *channeldb.ChannelOpenInfo
	err := d.chanDB.View(func(tx kvdb.RTx) error {
		var err error
		info, err = channeldb.FetchChannelOpenInfo(tx, op)
		return err
	})
	if errors.Is(err, channeldb.ErrOpenInfoNotFound) {
		return &channeldb.ChannelOpenInfo{ChanPoint: op}, nil
	}
	return info, err
}

// channelInfo describes a stored channel as ListChannels does: balances
// are the outputs of our current commitment, the opener's after the fee
// and the anchors.
func channelInfo(st *channeldb.OpenChannel, info *channeldb.ChannelOpenInfo,
	net *chaincfg.Params) rpc.ChannelInfo {
	t := lnwallet.ChannelType(st.ChanType)
	lc := &st.LocalCommit
	fee := lnwallet.CommitFee(t, chainfee.SatPerKWeight(lc.FeeRate), len(lc.HTLCs))
	cost := fee
	if t.HasAnchors() {
		cost += 2 * lnwallet.AnchorValue
	}
	local := lnwire.MilliSatoshi(lc.LocalBalanceMsat).ToSatoshis()
	remote := lnwire.MilliSatoshi(lc.RemoteBalanceMsat).ToSatoshis()
	if st.IsInitiator {
		local -= min(cost, local)
	} else {
		remote -= min(cost, remote)
	}
	ct := rpc.CommitmentStaticRemoteKey
	if t.HasAnchors() {
		ct = rpc.CommitmentAnchors
	}
	cons := func(c *channeldb.ChannelConstraints) rpc.ChannelConstraints {
		return rpc.ChannelConstraints{CsvDelay: uint32(c.CsvDelay),
			ChanReserve: c.ChanReserve, DustLimit: c.DustLimit,
			MaxPendingMsat: c.MaxHtlcValueInFlightMsat, MinHtlcMsat: c.HtlcMinimumMsat,
			MaxAcceptedHtlcs: uint32(c.MaxAcceptedHtlcs)}
	}
	ci := rpc.ChannelInfo{
		RemotePubKey: st.RemoteNode, ChanPoint: st.FundingOutpoint,
		ChanID: st.ShortChannelID.ToUint64(), Capacity: st.Capacity,
		LocalBalance: local, RemoteBalance: remote, CommitFee: fee,
		CommitWeight: lnwallet.CommitWeightFor(t, len(lc.HTLCs)),
		FeePerKw:     int64(lc.FeeRate), NumUpdates: lc.Number,
		Private: info.Private, Initiator: st.IsInitiator, CommitmentType: ct,
		PushAmount: info.PushMsat.ToSatoshis(),
		Local:      cons(&st.LocalConfig.ChannelConstraints),
		Remote:     cons(&st.RemoteConfig.ChannelConstraints),
	}
	for _, a := range st.Aliases {
		ci.AliasScids = append(ci.AliasScids, a.ToUint64())
	}
	ci.PeerScidAlias = info.PeerAlias.ToUint64()
	if len(info.LocalShutdown) > 0 {
		_, addrs, _, err := txscript.ExtractPkScriptAddrs(info.LocalShutdown, net)
		if err == nil && len(addrs) == 1 {
			ci.CloseAddress = addrs[0].EncodeAddress()
		}
	}
	return ci
}

// linkConnTimeout bounds one persistent-connection request.
const linkConnTimeout = time.Minute

// keepConnected records the peer of a new channel as a link node and
// makes the connection persistent: an outbound peer at the address we
// dialed; an inbound one reconnects to us, so only its key is kept
// (unless an address is known from before).
func (d *daemon) keepConnected(st *channeldb.OpenChannel) {
	pub := st.RemoteNode
	node := &channeldb.LinkNode{Network: d.cfg.network.Params.Net,
		IdentityPub: pub, LastSeen: time.Now().Truncate(time.Second)}
	if p := d.srv.FindPeer([33]byte(pub.SerializeCompressed())); p != nil && !p.Inbound() {
		node.Addresses = []net.Addr{p.Address()}
	}
	err := d.chanDB.Update(func(tx kvdb.RwTx) error {
		if old, err := channeldb.FetchLinkNode(tx, pub); err == nil &&
			len(node.Addresses) == 0 {

			node.Addresses = old.Addresses
		}
		return channeldb.PutLinkNode(tx, node)
	})
	if err != nil {
		d.log.Warn("link node not stored", "peer", fmt.Sprintf("%x",
			pub.SerializeCompressed()), "err", err)
		return
	}
	d.connectPersistent(node)
}

// connectPersistent has the server keep a connection to a link node.
func (d *daemon) connectPersistent(n *channeldb.LinkNode) {
	if len(n.Addresses) == 0 {
		return
	}
	addr := &brontide.NetAddress{IdentityKey: n.IdentityPub, Address: n.Addresses[0]}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), linkConnTimeout)
		defer cancel()
		err := d.srv.ConnectToPeer(ctx, addr, true)
		if err != nil && !errors.Is(err, server.ErrAlreadyConnected) {
			d.log.Debug("connection to channel peer", "peer", addr, "err", err)
		}
	}()
}

// reconnectLinkNodes connects, persistently, to every peer we have
// channels with.
func (d *daemon) reconnectLinkNodes() error {
	var nodes []*channeldb.LinkNode
	err := d.chanDB.View(func(tx kvdb.RTx) error {
		var err error
		nodes, err = channeldb.ListLinkNodes(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("link nodes: %w", err)
	}
	for _, n := range nodes {
		d.connectPersistent(n)
	}
	return nil
}
