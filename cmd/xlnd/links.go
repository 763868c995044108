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
	return htlcswitch.NewLink(htlcswitch.LinkConfig{
		Channel: ch,
		Store:   d.chanDB,
		ReadyMessage: func() (*lnwire.ChannelReady, error) {
			return funding.ReadyMessage(d.wallet, st)
		},
		Logger: d.logs.Logger("HSWC"),
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
		if isPending[st.ChannelID()] {
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
// in sync on it without a channel_reestablish.
func (d *daemon) addReadyLink(ch *lnwallet.Channel) {
	l := d.newLink(ch)
	if !d.links.Add(l) {
		return
	}
	pub := l.RemotePub()
	p := d.srv.FindPeer(pub)
	if p == nil {
		return
	}
	select {
	case <-p.Done():
	default:
		_ = l.PeerInSync(p)
	}
}
