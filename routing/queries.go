package routing

import (
	"fmt"
	"log/slog"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire"
)

// Peer is what the responder needs of the peer a query came from: who it
// is, for the log, and a way to answer it. Declared here so that routing
// never imports the peer package.
type Peer interface {
	PubKey() [33]byte
	SendMessage(msgs ...lnwire.Message) error
}

// QueryResponder answers the gossip queries peers send because we signal
// gossip_queries. With no channel graph yet, every answer is "nothing
// known" for our chain.
type QueryResponder struct {
	chain chainhash.Hash
	log   *slog.Logger
}

// NewQueryResponder answers queries about the chain with genesis hash
// chain.
func NewQueryResponder(chain chainhash.Hash, log *slog.Logger) *QueryResponder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &QueryResponder{chain: chain, log: log}
}

// Reply is the answer to msg, or nil if msg needs none from us.
func (g *QueryResponder) Reply(msg lnwire.Message) lnwire.Message {
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

// Handle answers msg from p through p.
func (g *QueryResponder) Handle(p Peer, msg lnwire.Message) {
	r := g.Reply(msg)
	if r == nil {
		g.log.Debug("No handler for message; dropped", "peer", fmt.Sprintf("%x", p.PubKey()), "type", msg.MsgType())
		return
	}
	if err := p.SendMessage(r); err != nil {
		g.log.Debug("Gossip reply not sent", "peer", fmt.Sprintf("%x", p.PubKey()), "type", r.MsgType(), "err", err)
	}
}
