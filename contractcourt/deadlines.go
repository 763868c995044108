package contractcourt

import (
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
)

// This file takes a channel to chain when one of its HTLCs nears its
// deadline (BOLT 2 and 5): an HTLC we offered that the peer neither
// settled nor failed past its expiry, or an HTLC offered to us whose
// preimage we know as its expiry approaches. Waiting longer could lose
// the HTLC's value.

// checkDeadlines looks at every open channel's HTLCs at the new height.
func (c *Court) checkDeadlines() {
	if c.cfg.GoToChain == nil {
		return
	}
	open, err := c.cfg.DB.ListOpenChannels()
	if err != nil {
		c.log.Error("Open channels not read", "err", err)
		return
	}
	for _, st := range open {
		op := st.FundingOutpoint
		if st.ShortChannelID.BlockHeight == 0 || c.goneToChain[op] {
			continue
		}
		if h := c.dueHTLC(st); h != nil {
			c.log.Warn("HTLC at its deadline: going to chain", "chan_point", op,
				"incoming", h.Incoming, "cltv_expiry", h.CltvExpiry,
				"height", c.height)
			c.goneToChain[op] = true
			c.goToChain(op)
		}
	}
}

// dueHTLC returns an HTLC of st that forces the channel to chain now.
func (c *Court) dueHTLC(st *channeldb.OpenChannel) *channeldb.HTLC {
	height := uint32(max(c.height, 0))
	for _, commit := range []*channeldb.ChannelCommitment{&st.LocalCommit, &st.RemoteCommit} {
		for i := range commit.HTLCs {
			h := &commit.HTLCs[i]
			if !h.Incoming && height >= h.CltvExpiry+c.cfg.OutgoingGrace {
				return h
			}
			if h.Incoming && height+c.cfg.IncomingDelta >= h.CltvExpiry {
				if _, ok := c.cfg.Preimage(h.PaymentHash); ok {
					return h
				}
			}
		}
	}
	return nil
}

// goToChain calls GoToChain off the court's goroutine: the force close it
// starts comes back to the court.
func (c *Court) goToChain(op wire.OutPoint) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.cfg.GoToChain(op)
	}()
}
