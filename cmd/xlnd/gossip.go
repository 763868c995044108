package main

import (
	"fmt"
	"log/slog"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire"
	"lnd.xprv/peer"
)

// gossipResponder answers the gossip queries peers send because xlnd
// signals gossip_queries. xlnd keeps no channel graph yet, so every answer
// is "nothing known", but BOLT 7 requires one: lnd picks a peer for its
// initial historical graph sync and, given no reply_channel_range, waits on
// that peer (its synced_to_graph stays false) until its next historical
// sync, an hour later by default.
type gossipResponder struct {
	chain chainhash.Hash
	log   *slog.Logger
}

// reply is the answer to msg, or nil if msg needs none from us.
func (g *gossipResponder) reply(msg lnwire.Message) lnwire.Message {
	switch m := msg.(type) {
	case *lnwire.QueryChannelRange:
		// One final reply covering exactly the queried range: lnd
		// rejects replies reaching past the range it asked for.
		n := m.NumBlocks
		if n == 0 {
			n = 1
		}
		return &lnwire.ReplyChannelRange{
			ChainHash:        m.ChainHash,
			FirstBlockHeight: m.FirstBlockHeight,
			NumBlocks:        n,
			SyncComplete:     1,
		}

	case *lnwire.QueryShortChanIDs:
		// complete=0 would tell the peer we keep no information for
		// this chain, which is only true for a chain not ours.
		var complete uint8
		if m.ChainHash == g.chain {
			complete = 1
		}
		return &lnwire.ReplyShortChanIDsEnd{ChainHash: m.ChainHash, Complete: complete}
	}
	return nil
}

// handle is the server's OnPeerMessage hook.
func (g *gossipResponder) handle(p *peer.Peer, msg lnwire.Message) {
	r := g.reply(msg)
	if r == nil {
		g.log.Debug("No handler for message; dropped", "peer", fmt.Sprintf("%x", p.PubKey()), "type", msg.MsgType())
		return
	}
	if err := p.SendMessage(r); err != nil {
		g.log.Debug("Gossip reply not sent", "peer", fmt.Sprintf("%x", p.PubKey()), "type", r.MsgType(), "err", err)
	}
}
