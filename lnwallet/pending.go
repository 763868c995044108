package lnwallet

import (
	"context"
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwire"
)

// Store persists a channel's state; channeldb implements it. Persist must
// return only once the update is durable.
type Store interface {
	PersistChannel(ctx context.Context, u *channeldb.ChannelUpdate) error
}

// Pending is the outcome of a transition that commits us to something:
// the state to persist, and the messages and HTLC resolutions that are
// released only once it is persisted. Its fields are unexported so that
// the messages cannot be reached any other way.
type Pending struct {
	ch     *Channel
	update channeldb.ChannelUpdate
	out    Outcome
	done   bool

	// point is the crash point between the state being durable and
	// the outcome being released (see internal/crashpoint).
	point crashpoint.Point
}

// Outcome is what a persisted transition releases.
type Outcome struct {
	// Messages are to be sent to the peer, in this order.
	Messages []lnwire.Message

	// Resolutions are the HTLC changes now irrevocably committed on
	// both commitments, for the switch to act on.
	Resolutions Resolutions
}

// newPending registers the transition's result with the channel, which
// refuses further transitions until it is persisted.
func (c *Channel) newPending(point crashpoint.Point, u channeldb.ChannelUpdate,
	msgs ...lnwire.Message) *Pending {

	u.State = c.st
	p := &Pending{ch: c, update: u, out: Outcome{Messages: msgs}, point: point}
	c.unpersisted = p
	return p
}

// Persist writes the state through s and, once s reports it durable,
// returns what the transition released. If s fails, nothing is released
// and the channel refuses every further transition (ErrChannelBroken):
// the caller must reload it from the store.
func (p *Pending) Persist(ctx context.Context, s Store) (*Outcome, error) {
	if p.done {
		return nil, fmt.Errorf("lnwallet: pending state persisted twice")
	}
	c := p.ch
	if c.unpersisted != p {
		return nil, ErrChannelBroken
	}
	if err := s.PersistChannel(ctx, &p.update); err != nil {
		c.broken = true
		c.unpersisted = nil
		return nil, fmt.Errorf("persist channel %v: %w",
			c.st.FundingOutpoint, err)
	}
	p.done = true
	c.unpersisted = nil
	crashAt(p.point)
	return &p.out, nil
}

// Resolutions are the HTLC changes the transition commits irrevocably,
// known before it is persisted so that the caller can write its records
// of them in the same transaction; its messages stay with Persist.
func (p *Pending) Resolutions() *Resolutions { return &p.out.Resolutions }

// FwdPkg is the forwarding package the transition writes, nil if none,
// for the caller's records in the same transaction; it must not be
// changed.
func (p *Pending) FwdPkg() *channeldb.FwdPkg { return p.update.FwdPkg }

// crashAt is the crash point of the transition just persisted: one call
// per point, so that each is hit at one place (internal/crashpoint).
func crashAt(p crashpoint.Point) {
	if !crashpoint.Enabled {
		return
	}
	switch p {
	case crashpoint.CommitSigned:
		crashpoint.Hit(crashpoint.CommitSigned)
	case crashpoint.CommitRevoked:
		crashpoint.Hit(crashpoint.CommitRevoked)
	case crashpoint.CommitRevocationReceived:
		crashpoint.Hit(crashpoint.CommitRevocationReceived)
	}
}
