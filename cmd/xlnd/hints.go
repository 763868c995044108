package main

import (
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
)

// hintListTTL is how long the list of our private channels that route
// hints are drawn from is reused. Listing decodes every open channel's
// whole record (its twenty-odd keys): that cost more than the rest of
// making a private invoice, a tenth of a payee's CPU under load. The set
// of channels rarely changes within a second, and the inbound balances
// only order the hints; whether each link is active and the peer's policy
// are still read for every invoice.
const hintListTTL = time.Second

// privateChannel is what a route hint needs of one of our private
// channels.
type privateChannel struct {
	op      wire.OutPoint
	scid    lnwire.ShortChannelID
	remote  *btcec.PublicKey
	inbound lnwire.MilliSatoshi // what the peer can send us over it
	// peerAlias is the SCID alias the peer gave us (zero: none): the
	// channel's name in our hints, as lnd's.
	peerAlias lnwire.ShortChannelID
	// aliasOnly: the channel type has option_scid_alias, so its real
	// scid must never appear in a hint (BOLT 2).
	aliasOnly bool
}

// hintScid is the short channel id a route hint names c by: the peer's
// alias if it gave one, else the real scid unless the channel is
// alias-only (then no hint until the peer's alias is known).
func (c privateChannel) hintScid() (lnwire.ShortChannelID, bool) {
	switch {
	case c.peerAlias.ToUint64() != 0:
		return c.peerAlias, true
	case c.aliasOnly:
		return lnwire.ShortChannelID{}, false
	}
	return c.scid, true
}

// privateChannels keeps the list of private channels for hintListTTL.
type privateChannels struct {
	list func() ([]privateChannel, error)
	now  func() time.Time
	ttl  time.Duration

	mu     sync.Mutex
	valid  bool
	at     time.Time
	cached []privateChannel
}

func newPrivateChannels(list func() ([]privateChannel, error)) *privateChannels {
	return &privateChannels{list: list, now: time.Now, ttl: hintListTTL}
}

// get returns the list, read again when older than the TTL. A failed
// read is not kept, nor an empty list: a node whose first private channel
// just opened hints it in its next invoice. Callers must not modify the
// result.
func (p *privateChannels) get() ([]privateChannel, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.valid && !now.Before(p.at) && now.Sub(p.at) < p.ttl {
		return p.cached, nil
	}
	l, err := p.list()
	if err != nil {
		p.valid = false
		return nil, err
	}
	p.cached, p.at, p.valid = l, now, len(l) > 0
	return l, nil
}
