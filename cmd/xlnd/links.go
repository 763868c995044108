package main

import (
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/funding"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// newLink builds the link of an open channel over the wallet's keys and
// the channel database.
func (d *daemon) newLink(ch *lnwallet.Channel) *htlcswitch.Link {
	st := ch.State()
	op := st.FundingOutpoint
	status, err := d.chanDB.FetchChanStatus(op)
	if err != nil {
		// Unreadable: treat the channel as failed rather than use it.
		d.log.Error("Channel status not read; channel kept inactive",
			"chan_point", op, "err", err)
		status = channeldb.ChanStatusLocalDataLoss
	}
	info, err := d.openInfo(op)
	if err != nil {
		// Unreadable: keep the real scid out of forwarding, the
		// stricter reading, rather than expose an alias-only channel.
		d.log.Error("Channel open info not read; no forwards by its "+
			"real scid", "chan_point", op, "err", err)
		info = &channeldb.ChannelOpenInfo{ChanPoint: op, AliasOnly: true}
	}
	return htlcswitch.NewLink(htlcswitch.LinkConfig{
		DataLoss: status&channeldb.ChanStatusLocalDataLoss != 0,
		MarkDataLoss: func() error {
			return d.chanDB.AddChanStatus(op, channeldb.ChanStatusLocalDataLoss)
		},
		Channel: ch,
		DB:      d.chanDB,
		ReadyMessage: func() (*lnwire.ChannelReady, error) {
			return funding.ReadyMessage(d.wallet, st)
		},
		Close: d.closer.linkConfig(st),
		OnActivity: func(active bool) {
			d.events.activity(op, active)
		},
		AliasOnly: info.AliasOnly,
		Logger:    d.logs.Logger("HSWC"),
	})
}

// startLinks creates a link for every open channel whose funding is
// done. Their peers' connections reach them through followPeers.
func (d *daemon) startLinks() error {
	open, err := d.chanDB.ListOpenChannels()
	if err != nil {
		return fmt.Errorf("open channels: %w", err)
	}
	pending, err := d.funding.PendingChannels()
	if err != nil {
		return fmt.Errorf("pending channels: %w", err)
	}
	isPending := make(map[lnwire.ChannelID]bool, len(pending))
	for _, p := range pending {
		isPending[lnwire.NewChanIDFromOutPoint(p.ChanPoint)] = true
	}
	for _, st := range open {
		if isPending[st.ChannelID()] || d.closer.waitingClose(st.FundingOutpoint) {
			// A channel waiting for its closing transaction takes
			// no more messages; the closer watches it.
			continue
		}
		if err := d.resumeLink(st); err != nil {
			// One unreadable channel must not keep the node down;
			// it stays inactive and says why.
			d.log.Error("Channel not resumed", "chan_point",
				st.FundingOutpoint, "err", err)
		}
	}
	return nil
}

func (d *daemon) resumeLink(st *channeldb.OpenChannel) error {
	ch, err := funding.NewChannel(d.wallet, st)
	if err != nil {
		return err
	}
	d.links.Add(d.newLink(ch))
	return nil
}

// addReadyLink takes a channel the funding manager just opened: its
// channel_ready went both ways on the current connection, so the link is
// in sync on it (or answers the peer's channel_reestablish if it sent
// one: lnd does after a restart).
func (d *daemon) addReadyLink(ch *lnwallet.Channel) {
	l := d.newLink(ch)
	var conn htlcswitch.Peer
	if p := d.srv.FindPeer(l.RemotePub()); p != nil {
		select {
		case <-p.Done():
		default:
			conn = p
		}
	}
	d.links.AddReady(l, conn)
}

// pendingWith reports whether id is a channel with peer pub that the
// funding manager has not handed over yet.
func (d *daemon) pendingWith(pub [33]byte, id lnwire.ChannelID) bool {
	pending, err := d.funding.PendingChannels()
	if err != nil {
		return false
	}
	for _, p := range pending {
		if lnwire.NewChanIDFromOutPoint(p.ChanPoint) == id &&
			p.Channel.RemoteNode != nil &&
			[33]byte(p.Channel.RemoteNode.SerializeCompressed()) == pub {

			return true
		}
	}
	return false
}
