package htlcswitch

import "lnd.xprv/lnwire"

// Remove stops the link of a channel and forgets it: the channel went to
// chain, so its state must no longer move. It reports whether there was
// one.
func (s *Links) Remove(id lnwire.ChannelID) bool {
	s.mu.Lock()
	l := s.byID[id]
	if l != nil {
		delete(s.byID, id)
		if m := s.byPeer[l.remote]; m != nil {
			delete(m, id)
			if len(m) == 0 {
				delete(s.byPeer, l.remote)
			}
		}
	}
	delete(s.held, id)
	s.mu.Unlock()
	if l == nil {
		return false
	}
	l.Stop()
	return true
}
