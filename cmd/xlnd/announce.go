package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/funding"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/wallet"
)

// policyOf reads a channel's forwarding policy from the switch, which
// owns it.
func (d *daemon) policyOf(op wire.OutPoint) (routing.ChannelPolicy, error) {
	if d.sw == nil {
		return routing.ChannelPolicy{}, errors.New("switch not running")
	}
	p := d.sw.Policy(op)
	if p.TimeLockDelta > 0xffff {
		return routing.ChannelPolicy{}, fmt.Errorf("time lock delta %d does not fit a channel_update", p.TimeLockDelta)
	}
	return routing.ChannelPolicy{BaseFee: p.BaseFee, FeeRate: p.FeeRatePPM,
		TimeLockDelta: uint16(p.TimeLockDelta), MinHTLC: p.MinHTLC, MaxHTLC: p.MaxHTLC}, nil
}

// announcing wires our own gossip: the announcement_signatures exchange
// of funding and routing's Announcer, fed with our open channels, peers
// coming and going, and closes seen by the graph.
type announcing struct {
	d      *daemon
	ann    *routing.Announcer
	gossip *routing.Gossiper
	sigs   *funding.Announcements

	mu      sync.Mutex
	started bool

	quit chan struct{}
	wg   sync.WaitGroup
}

// newAnnouncing builds the announcer and the signature exchange; start
// runs them once the server is up.
func (d *daemon) newAnnouncing(g *gossipSystem, self [33]byte) *announcing {
	cfg := d.cfg
	a := &announcing{d: d, gossip: g.gossip, quit: make(chan struct{})}
	send := func(pub [33]byte, msgs ...lnwire.Message) error {
		if d.srv == nil {
			return errors.New("server not running")
		}
		return d.srv.SendToPeer(pub, msgs...)
	}
	a.ann = routing.NewAnnouncer(routing.AnnouncerConfig{
		ChainHash: *cfg.network.Params.GenesisHash,
		Self:      self,
		Graph:     g.graph,
		SignNode: func(digest [32]byte) (*ecdsa.Signature, error) {
			return d.wallet.SignDigest(wallet.KeyLocator{Family: wallet.KeyFamilyNodeKey}, digest)
		},
		Broadcast:      g.syncer.Broadcast,
		SendToPeer:     send,
		Policy:         d.policyOf,
		Node:           func() routing.NodeInfo { return d.nodeInfo(self) },
		DisableTimeout: cfg.ChanDisableTimeout,
		EnableTimeout:  cfg.ChanEnableTimeout,
		SampleInterval: cfg.ChanStatusSampleInterval,
		Log:            d.logs.Logger("ANNC"),
	})
	a.sigs = funding.NewAnnouncements(funding.AnnounceConfig{
		ChainHash: *cfg.network.Params.GenesisHash,
		NodeKey:   self,
		Wallet:    d.wallet,
		Chain:     d.chain,
		DB:        d.chanDB,
		SendMessage: func(p *btcec.PublicKey, msg lnwire.Message) error {
			return send([33]byte(p.SerializeCompressed()), msg)
		},
		Announced: func(st *channeldb.OpenChannel, ann *lnwire.ChannelAnnouncement) {
			if err := a.ann.Announce(st.FundingOutpoint, ann); err != nil {
				d.log.Error("Channel not announced", "chan_point", st.FundingOutpoint, "err", err)
			}
		},
		Logger: d.logs.Logger("FNDG"),
	})
	return a
}

// start signs our node announcement, takes every open channel, and
// follows the graph for our channels' closes.
func (a *announcing) start(g *gossipSystem) error {
	if err := a.ann.Start(); err != nil {
		return fmt.Errorf("announcer: %w", err)
	}
	sub := g.graph.Subscribe()
	a.wg.Add(1)
	go a.followCloses(sub)

	a.mu.Lock()
	defer a.mu.Unlock()
	open, err := a.d.chanDB.ListOpenChannels()
	if err != nil {
		return fmt.Errorf("open channels: %w", err)
	}
	for _, st := range open {
		if a.d.funding.IsPending(st.FundingOutpoint) {
			continue
		}
		a.addLocked(st)
	}
	a.started = true
	return nil
}

// stop ends the announcer, the exchange and the close follower.
func (a *announcing) stop() {
	close(a.quit)
	a.wg.Wait()
	a.sigs.Stop()
	a.ann.Stop()
}

// channelOpened takes a channel funding just handed over. Before start,
// start's listing of open channels will include it.
func (a *announcing) channelOpened(st *channeldb.OpenChannel) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		a.addLocked(st)
	}
}

func (a *announcing) addLocked(st *channeldb.OpenChannel) {
	info, err := a.d.openInfo(st.FundingOutpoint)
	if err != nil {
		a.d.log.Error("Channel opening info unreadable", "chan_point", st.FundingOutpoint, "err", err)
		return
	}
	lc := localChannel(st, info.Private)
	if err := a.ann.AddChannel(lc); err != nil {
		a.d.log.Error("Channel not in our graph", "chan_point", st.FundingOutpoint, "err", err)
		return
	}
	// The peer's update may have come before the channel was in the
	// graph.
	a.gossip.ChannelAdded(lc.SCID)
	for _, al := range lc.Aliases {
		a.gossip.ChannelAdded(al)
	}
	if info.Private {
		return
	}
	if err := a.sigs.Track(st); err != nil {
		a.d.log.Error("Channel announcement not followed", "chan_point", st.FundingOutpoint, "err", err)
	}
}

// localChannel describes an open channel to the announcer: our updates
// ask no less than the peer accepts and carry no more than it lets us
// have in flight or than we can send above our reserve.
func localChannel(st *channeldb.OpenChannel, private bool) routing.LocalChannel {
	maxHTLC := lnwire.MilliSatoshi(st.RemoteConfig.MaxHtlcValueInFlightMsat)
	if spendable := lnwire.NewMSatFromSatoshis(st.Capacity - st.LocalConfig.ChanReserve); maxHTLC == 0 || spendable < maxHTLC {
		maxHTLC = spendable
	}
	return routing.LocalChannel{
		ChanPoint: st.FundingOutpoint,
		SCID:      st.ShortChannelID,
		Aliases:   append([]lnwire.ShortChannelID(nil), st.Aliases...),
		Capacity:  st.Capacity,
		Peer:      [33]byte(st.RemoteNode.SerializeCompressed()),
		Private:   private,
		MinHTLC:   lnwire.MilliSatoshi(st.RemoteConfig.HtlcMinimumMsat),
		MaxHTLC:   maxHTLC,
	}
}

// peerOnline comes after the links' channel_reestablish went out: our
// announcement_signatures follow it (BOLT 7), then our updates.
func (a *announcing) peerOnline(pub *btcec.PublicKey) {
	a.sigs.PeerConnected(pub)
	a.ann.PeerOnline([33]byte(pub.SerializeCompressed()))
}

func (a *announcing) peerOffline(pub *btcec.PublicKey) {
	a.ann.PeerOffline([33]byte(pub.SerializeCompressed()))
}

// closing: a close of the channel began (our shutdown or the peer's):
// no announcement_signatures go out for it any more (BOLT 7), and it is
// announced disabled.
func (a *announcing) closing(op wire.OutPoint) {
	a.sigs.Forget(op)
	a.ann.ChannelClosing(op)
}

// handle takes a peer's announcement_signatures; false for any other
// message.
func (a *announcing) handle(p msgPeer, msg lnwire.Message) bool {
	m, ok := msg.(*lnwire.AnnounceSignatures)
	if ok {
		a.sigs.HandleMessage(p.IdentityKey(), m)
	}
	return ok
}

// followCloses forgets our channels the graph prunes as closed.
func (a *announcing) followCloses(sub *routing.GraphSubscription) {
	defer a.wg.Done()
	defer sub.Cancel()
	for {
		select {
		case u, ok := <-sub.Updates:
			if !ok {
				return
			}
			if u.Closed != nil {
				a.ann.RemoveChannel(u.Closed.ChanPoint)
				a.sigs.Forget(u.Closed.ChanPoint)
			}
		case <-a.quit:
			return
		}
	}
}

// nodeInfo is what our node_announcement says: the alias (lnd's
// default: the first 10 bytes of the node key in hex), the color, the
// --externalip addresses and our onion services, our features.
func (d *daemon) nodeInfo(self [33]byte) routing.NodeInfo {
	alias := d.alias(self)
	al, err := lnwire.NewNodeAlias(alias)
	if err != nil {
		d.log.Warn("Alias not announced", "alias", alias, "err", err)
	}
	var color lnwire.RGB
	if b, err := hex.DecodeString(strings.TrimPrefix(d.cfg.Color, "#")); err == nil && len(b) == 3 {
		copy(color[:], b)
	}
	var addrs []net.Addr
	for _, s := range d.nodeAddrs() {
		a, err := parseNodeAddr(s)
		if err != nil {
			d.log.Warn("Address not announced", "addr", s, "err", err)
			continue
		}
		addrs = append(addrs, a)
	}
	return routing.NodeInfo{Alias: al, Color: color, Addresses: addrs, Features: initFeatures(d.cfg)}
}

// alias is --alias, or lnd's default: the first 10 bytes of the node key
// in hex.
func (d *daemon) alias(self [33]byte) string {
	if d.cfg.Alias != "" {
		return d.cfg.Alias
	}
	return hex.EncodeToString(self[:10])
}

// parseNodeAddr turns host:port into a node_announcement address: an IP,
// a Tor v3 onion service, or a DNS name.
func parseNodeAddr(s string) (net.Addr, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 0xffff {
		return nil, fmt.Errorf("port %q", portStr)
	}
	switch {
	case net.ParseIP(host) != nil:
		return &net.TCPAddr{IP: net.ParseIP(host), Port: port}, nil
	case strings.HasSuffix(host, ".onion"):
		if len(host) != 56+len(".onion") {
			return nil, fmt.Errorf("%q is not a v3 onion service", host)
		}
		return &lnwire.OnionAddr{OnionService: host, Port: port}, nil
	case host == "":
		return nil, errors.New("no host")
	}
	return &lnwire.DNSAddr{Hostname: host, Port: port}, nil
}

// announceTimeouts are lnd's --chan-enable-timeout,
// --chan-disable-timeout and --chan-status-sample-interval.
func validateAnnounceTimeouts(enable, disable, sample time.Duration) error {
	for _, o := range []struct {
		name string
		d    time.Duration
	}{{"--chan-enable-timeout", enable}, {"--chan-disable-timeout", disable},
		{"--chan-status-sample-interval", sample}} {
		if o.d <= 0 {
			return fmt.Errorf("%s: %v (allowed: more than 0)", o.name, o.d)
		}
	}
	return nil
}
