package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/funding"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/peer"
	"lnd.xprv/routing"
	"lnd.xprv/server"
)

// channelDBPath is lnd's place for channel.db.
func (c *config) channelDBPath() string {
	return filepath.Join(c.DataDir, "data", "graph", c.network.Name, "channel.db")
}

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
		LocalFeatures: lnwire.NewFeatureVector(initFeatures(cfg.Dev.RequireFeatures)),
		ChannelReady: func(ch *lnwallet.Channel) {
			st := ch.State()
			d.log.Info("Channel open", "chan_point", st.FundingOutpoint,
				"scid", st.ShortChannelID, "capacity", st.Capacity)
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

// peerMessages routes what peers do not handle themselves: funding
// messages to the funding manager; messages of open channels, which
// nothing serves yet, get a warning (BOLT 1: never silence); the rest to
// the gossip responder.
func peerMessages(fm *funding.Manager, gossip *routing.QueryResponder,
	log *slog.Logger) func(p *peer.Peer, msg lnwire.Message) {

	return func(p *peer.Peer, msg lnwire.Message) {
		if fm.HandleMessage(p.IdentityKey(), msg) {
			return
		}
		if id, ok := channelMessage(msg); ok {
			log.Info("Channel message without a link; warning sent",
				"peer", fmt.Sprintf("%x", p.PubKey()), "type", msg.MsgType())
			err := p.SendMessage(&lnwire.Warning{ChanID: id, Data: []byte(
				fmt.Sprintf("xlnd does not yet operate open channels: %v "+
					"not handled", msg.MsgType()))})
			if err != nil {
				log.Debug("warning not sent", "err", err)
			}
			return
		}
		gossip.Handle(p, msg)
	}
}

// followPeers tells the funding manager of peers coming and going, until
// the subscription ends.
func followPeers(sub *server.PeerEventSubscription, fm *funding.Manager) {
	for ev := range sub.Events() {
		pub, err := btcec.ParsePubKey(ev.PubKey[:])
		if err != nil {
			continue
		}
		switch ev.Type {
		case server.PeerOnline:
			fm.PeerConnected(pub)
		case server.PeerOffline:
			fm.PeerDisconnected(pub)
		}
	}
}
