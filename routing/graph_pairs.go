package routing

import (
	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
)

// PairChannels lists the channels from -> to whose direction from from
// has a policy, as extra-edge values (ID, policy, capacity), for building
// a route through given nodes.
func (g *Graph) PairChannels(from, to Vertex) []ExtraEdge {
	g.mu.RLock()
	defer g.mu.RUnlock()
	fi, fok := g.nodeIdx[from]
	ti, tok := g.nodeIdx[to]
	if !fok || !tok {
		return nil
	}
	var out []ExtraEdge
	for i := range g.in[ti] {
		e := &g.in[ti][i]
		if e.from != fi {
			continue
		}
		p, ok := g.policy(e.ci, int(e.dir))
		if !ok {
			continue
		}
		c := &g.channels[e.ci]
		out = append(out, ExtraEdge{From: from, To: to,
			ChannelID: lnwire.NewShortChanIDFromInt(c.scid), Policy: p,
			Capacity: btcutil.Amount(c.capacity / 1000)})
	}
	return out
}
