package htlcswitch

import (
	"lnd.xprv/channeldb"
)

// A settle or fail of a forwarded HTLC, from downstream or from the chain,
// is handed to the incoming channel's link, which removes the incoming
// HTLC in its next commitment round. A link stays in the switch while its
// peer is away (the removal waits in it for the reconnection), but it
// can leave it: the channel is closing, or a force close was refused and
// the link was replaced. A removal given to a link that stopped before
// committing it, or found no link at all, must not be lost until the
// next restart: the switch keeps every removal it handed over until it
// is written, and gives it again to a new link of the channel.

// handoff is a removal handed over and not yet written, with the link it
// was last given to (nil: none yet).
type handoff struct {
	rm   *removal
	link *Link
}

// handOver gives rm, the removal of incoming HTLC in, to the incoming
// link, or keeps it for the channel's next link if there is none. It
// reports false, and does nothing, if a removal of in was handed over
// already (the same resolution came twice, or off chain and on chain).
func (s *Switch) handOver(in channeldb.CircuitKey, rm *removal) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.handed[in]; ok {
		return false
	}
	h := &handoff{rm: rm}
	s.handed[in] = h
	l := s.links.ByShortID(in.ChanID)
	if l == nil {
		s.log.Warn("Incoming link gone; removal kept until the channel's "+
			"link returns (the chain resolves it if the channel closes)",
			"incoming", in, "settle", rm.settle)
		return true
	}
	h.link = l
	l.resolveIncoming(rm)
	return true
}

// rehand gives link l of channel l.scid the removals handed over for
// the channel's HTLCs that another link (stopped since) or none took.
// It runs on l's goroutine once l has redone its forwarding packages.
func (s *Switch) rehand(l *Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for in, h := range s.handed {
		if in.ChanID != l.scid || h.link == l {
			continue
		}
		s.log.Info("Removal handed to the channel's new link", "incoming", in,
			"settle", h.rm.settle)
		h.link = l
		l.resolveIncoming(h.rm)
	}
}
