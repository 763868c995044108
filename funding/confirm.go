package funding

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// watch waits for a persisted channel's funding transaction to confirm,
// unless it already has.
func (m *Manager) watch(op wire.OutPoint, w *watched) {
	if w.rec.State >= channeldb.FundingConfirmed {
		return
	}
	st, info, err := m.load(op)
	if err != nil {
		m.log.Error("pending channel unreadable", "chan_point", op, "err", err)
		return
	}
	p := paramsOf(st)
	_, pkScript, err := p.FundingScript()
	if err != nil {
		m.log.Error("funding script", "chan_point", op, "err", err)
		return
	}
	hint := max(int32(w.rec.BroadcastHeight)-6, 0)
	conf, err := m.cfg.Chain.RegisterConfirmations(op.Hash, pkScript,
		max(info.MinDepth, 1), hint)
	if err != nil {
		m.log.Error("register confirmations", "chan_point", op, "err", err)
		return
	}
	var epochs *chain.BlockEpochs
	if w.rec.Role == channeldb.Fundee {
		if epochs, err = m.cfg.Chain.RegisterBlockEpochs(); err != nil {
			conf.Cancel()
			m.log.Error("register blocks", "chan_point", op, "err", err)
			return
		}
	}
	w.cancel = func() {
		conf.Cancel()
		if epochs != nil {
			epochs.Cancel()
		}
	}
	m.wg.Add(1)
	go m.waitConf(op, w.rec, conf, epochs)
}

func (m *Manager) waitConf(op wire.OutPoint, rec *channeldb.PendingChannel,
	conf *chain.ConfirmationEvent, epochs *chain.BlockEpochs) {

	defer m.wg.Done()
	defer conf.Cancel()
	var blocks <-chan chain.BlockEvent
	if epochs != nil {
		defer epochs.Cancel()
		blocks = epochs.Events
	}
	for {
		select {
		case c, ok := <-conf.Confirmed:
			if !ok {
				return
			}
			m.confirmed(op, c)
			return
		case b, ok := <-blocks:
			if !ok {
				blocks = nil
				continue
			}
			if !b.Disconnected &&
				int64(b.Height) >= int64(rec.BroadcastHeight)+MaxWaitBlocks {

				m.forget(op, b.Height)
				return
			}
		case <-m.quit:
			return
		}
	}
}

// confirmed records the channel's position and sends channel_ready.
func (m *Manager) confirmed(op wire.OutPoint, c *chain.TxConfirmation) {
	var a after
	m.mu.Lock()
	defer func() {
		m.mu.Unlock()
		m.run(&a)
	}()
	w := m.pending[op]
	if w == nil || m.stopped {
		return
	}
	st, info, err := m.load(op)
	if err != nil {
		m.log.Error("pending channel unreadable", "chan_point", op, "err", err)
		return
	}
	if err := checkFundingOutput(st, c.Tx); err != nil {
		// The opener announced an outpoint that does not fund this
		// channel: it can never be used.
		m.log.Error("funding output does not match the channel",
			"chan_point", op, "err", err)
		if w.rec.Role == channeldb.Fundee {
			m.forgetLocked(op, w)
		}
		return
	}
	st.ShortChannelID = lnwire.ShortChannelID{BlockHeight: uint32(c.BlockHeight),
		TxIndex: c.TxIndex, TxPosition: uint16(op.Index)}
	if info.ScidAlias && len(st.Aliases) == 0 {
		alias, err := newAlias()
		if err != nil {
			m.log.Error("scid alias", "err", err)
			return
		}
		st.Aliases = append(st.Aliases, alias)
	}
	rec := *w.rec
	rec.State = channeldb.FundingConfirmed
	err = m.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutOpenChannel(tx, st); err != nil {
			return err
		}
		return channeldb.PutPendingChannel(tx, &rec)
	})
	if err != nil {
		m.log.Error("persist confirmation", "chan_point", op, "err", err)
		return
	}
	crashpoint.Hit(crashpoint.FundingConfirmed)
	w.rec = &rec
	m.log.Info("funding transaction confirmed", "chan_point", op,
		"scid", st.ShortChannelID)
	if err := m.sendReady(&a, op); err != nil {
		m.log.Error("channel_ready", "chan_point", op, "err", err)
		return
	}
	m.maybeReady(&a, op)
}

// newAlias picks a random scid alias in lnd's alias range.
func newAlias() (lnwire.ShortChannelID, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return lnwire.ShortChannelID{}, err
	}
	v := binary.BigEndian.Uint64(b[:])
	return lnwire.ShortChannelID{
		BlockHeight: aliasStart + uint32(v%(aliasEnd-aliasStart)),
		TxIndex:     uint32(v>>32) & 0xffffff,
		TxPosition:  uint16(v >> 16),
	}, nil
}

// sendReady queues our channel_ready.
func (m *Manager) sendReady(a *after, op wire.OutPoint) error {
	st, info, err := m.load(op)
	if err != nil {
		return err
	}
	if !info.ScidAlias {
		st.Aliases = nil
	}
	msg, err := ReadyMessage(m.cfg.Wallet, st)
	if err != nil {
		return err
	}
	a.send(st.RemoteNode, msg)
	return nil
}

// ReadyMessage is our channel_ready of a channel: our second
// per_commitment_point, and the channel's first alias if it has one. The
// reestablishment of a channel still at its first commitment sends it
// again (BOLT 2 "Message Retransmission").
func ReadyMessage(w KeyWallet, st *channeldb.OpenChannel) (*lnwire.ChannelReady, error) {
	secrets, err := ChannelSecrets(w, st.RevocationRoot)
	if err != nil {
		return nil, err
	}
	next, err := commitPoint(secrets, 1)
	if err != nil {
		return nil, err
	}
	msg := &lnwire.ChannelReady{ChanID: st.ChannelID(), NextPerCommitmentPoint: next}
	if len(st.Aliases) > 0 {
		alias := st.Aliases[0]
		msg.AliasScid = &alias
	}
	return msg, nil
}

// handleReady stores the peer's second per_commitment_point.
func (m *Manager) handleReady(a *after, peer *btcec.PublicKey,
	msg *lnwire.ChannelReady) {

	var op wire.OutPoint
	var w *watched
	for cand, cw := range m.pending {
		if lnwire.NewChanIDFromOutPoint(cand) == msg.ChanID {
			op, w = cand, cw
			break
		}
	}
	if w == nil {
		// A retransmission for a channel already open is normal after
		// a reconnection; anything else is unknown.
		if !m.isOpen(msg.ChanID) {
			a.send(peer, &lnwire.Warning{ChanID: msg.ChanID,
				Data: []byte("channel_ready for an unknown channel")})
		}
		return
	}
	if !w.rec.PeerPub.IsEqual(peer) {
		a.send(peer, &lnwire.Warning{ChanID: msg.ChanID,
			Data: []byte("channel_ready for another peer's channel")})
		return
	}
	st, info, err := m.load(op)
	if err != nil {
		m.log.Error("pending channel unreadable", "chan_point", op, "err", err)
		return
	}
	// The peer's alias is kept when option_scid_alias was negotiated:
	// it is the scid the peer knows the channel by.
	peerAlias := info.ScidAlias && msg.AliasScid != nil &&
		*msg.AliasScid != info.PeerAlias
	if st.RemoteNextPoint == nil || peerAlias {
		if st.RemoteNextPoint == nil {
			st.RemoteNextPoint = msg.NextPerCommitmentPoint
		}
		if peerAlias {
			info.PeerAlias = *msg.AliasScid
		}
		err := m.cfg.DB.Update(func(tx kvdb.RwTx) error {
			if err := channeldb.PutChannelOpenInfo(tx, info); err != nil {
				return err
			}
			return channeldb.PutOpenChannel(tx, st)
		})
		if err != nil {
			m.log.Error("persist channel_ready", "chan_point", op, "err", err)
			return
		}
		crashpoint.Hit(crashpoint.FundingReadyReceived)
	}
	// Ours may not have reached the peer (sent while it was offline, or
	// lost with a connection after a restart) and, once the channel is
	// open, nothing here sends it again: repeat it now. A duplicate is
	// harmless.
	confirmed := w.rec.State == channeldb.FundingConfirmed
	if m.maybeReady(a, op) && confirmed {
		if err := m.sendReadyOf(a, st); err != nil {
			m.log.Warn("channel_ready", "chan_point", op, "err", err)
		}
	}
}

// Reestablish answers the peer's channel_reestablish for a channel still
// pending here: both sides signed its first commitment, so it is a
// channel that BOLT 2 reestablishes on every reconnection. The peer may
// have opened it already (it got our channel_ready and we did not get
// its, or a crash lost ours after the channel opened on its side); its
// link waits for our channel_reestablish before it retransmits
// channel_ready. The replies are ours, then our channel_ready if the
// funding transaction is deep enough here (next_commitment_number 1 on
// both sides); the caller sends them on the connection the message came
// from (the peer's first messages may arrive before the node lists it
// as connected). It reports false for a channel not pending with the
// peer, or a message not about a first commitment: the caller routes it
// on (to the link, once the channel has one).
func (m *Manager) Reestablish(peer *btcec.PublicKey,
	msg *lnwire.ChannelReestablish) ([]lnwire.Message, bool) {

	if msg.NextCommitmentNumber != 1 || msg.NextRevocationNumber != 0 {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var op wire.OutPoint
	var w *watched
	for cand, cw := range m.pending {
		if lnwire.NewChanIDFromOutPoint(cand) == msg.ChanID {
			op, w = cand, cw
			break
		}
	}
	if w == nil || !w.rec.PeerPub.IsEqual(peer) {
		return nil, false
	}
	st, _, err := m.load(op)
	if err != nil {
		m.log.Error("pending channel unreadable", "chan_point", op, "err", err)
		return nil, true
	}
	ch, err := NewChannel(m.cfg.Wallet, st)
	if err != nil {
		m.log.Error("channel does not resume", "chan_point", op, "err", err)
		return nil, true
	}
	ours, err := ch.ChannelReestablish()
	if err != nil {
		m.log.Error("channel_reestablish", "chan_point", op, "err", err)
		return nil, true
	}
	replies := []lnwire.Message{ours}
	if w.rec.State == channeldb.FundingConfirmed {
		ready, err := ReadyMessage(m.cfg.Wallet, st)
		if err != nil {
			m.log.Warn("channel_ready", "chan_point", op, "err", err)
		} else {
			replies = append(replies, ready)
		}
	}
	m.log.Info("pending channel reestablished", "chan_point", op)
	return replies, true
}

// sendReadyOf queues our channel_ready of a loaded channel.
func (m *Manager) sendReadyOf(a *after, st *channeldb.OpenChannel) error {
	msg, err := ReadyMessage(m.cfg.Wallet, st)
	if err != nil {
		return err
	}
	a.send(st.RemoteNode, msg)
	return nil
}

// isOpen reports whether an open channel (no longer pending) has id.
func (m *Manager) isOpen(id lnwire.ChannelID) bool {
	chans, err := m.cfg.DB.ListOpenChannels()
	if err != nil {
		return false
	}
	for _, c := range chans {
		if c.ChannelID() == id {
			return true
		}
	}
	return false
}

// maybeReady opens the channel once it is confirmed on our side and the
// peer's channel_ready is in.
func (m *Manager) maybeReady(a *after, op wire.OutPoint) bool {
	w := m.pending[op]
	if w == nil || w.rec.State != channeldb.FundingConfirmed {
		return false
	}
	st, _, err := m.load(op)
	if err != nil || st.RemoteNextPoint == nil {
		return false
	}
	ch, err := NewChannel(m.cfg.Wallet, st)
	if err != nil {
		m.log.Error("channel does not resume", "chan_point", op, "err", err)
		return false
	}
	err = m.cfg.DB.Update(func(tx kvdb.RwTx) error {
		return channeldb.DeletePendingChannel(tx, w.rec.PendingChanID)
	})
	if err != nil {
		m.log.Error("persist open channel", "chan_point", op, "err", err)
		return false
	}
	crashpoint.Hit(crashpoint.FundingOpen)
	delete(m.pending, op)
	m.log.Info("channel open", "chan_point", op, "peer", peerStr(st.RemoteNode))
	notify(w.updates, Update{Open: &ChanOpen{ChanPoint: op}})
	a.ready = append(a.ready, ch)
	return true
}

// checkFundingOutput checks that the confirmed transaction pays the
// channel's capacity to its 2-of-2 script at the channel's outpoint.
func checkFundingOutput(st *channeldb.OpenChannel, tx *wire.MsgTx) error {
	if tx == nil {
		return nil // the backend did not give it; nothing to check
	}
	op := st.FundingOutpoint
	if tx.TxHash() != op.Hash || int(op.Index) >= len(tx.TxOut) {
		return fmt.Errorf("no output %v", op)
	}
	p := paramsOf(st)
	_, pkScript, err := p.FundingScript()
	if err != nil {
		return err
	}
	out := tx.TxOut[op.Index]
	if out.Value != int64(st.Capacity) || !bytes.Equal(out.PkScript, pkScript) {
		return fmt.Errorf("output pays %d to %x, want %d to %x", out.Value,
			out.PkScript, st.Capacity, pkScript)
	}
	return nil
}

// forget drops a channel we accepted whose funding transaction did not
// confirm in time (BOLT 2: 2016 blocks).
func (m *Manager) forget(op wire.OutPoint, height int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.pending[op]
	if w == nil {
		return
	}
	m.log.Info("funding transaction never confirmed; forgetting the channel",
		"chan_point", op, "height", height, "since", w.rec.BroadcastHeight)
	m.forgetLocked(op, w)
}

// forgetLocked deletes every record of a pending channel.
func (m *Manager) forgetLocked(op wire.OutPoint, w *watched) {
	err := m.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.DeletePendingChannel(tx, w.rec.PendingChanID); err != nil {
			return err
		}
		if err := channeldb.DeleteChannelOpenInfo(tx, op); err != nil {
			return err
		}
		return channeldb.DeleteOpenChannel(tx, op)
	})
	if err != nil {
		m.log.Error("forget pending channel", "chan_point", op, "err", err)
		return
	}
	delete(m.pending, op)
	m.log.Info("pending channel forgotten", "chan_point", op)
}

// load reads a pending channel's state and opening info.
func (m *Manager) load(op wire.OutPoint) (*channeldb.OpenChannel,
	*channeldb.ChannelOpenInfo, error) {

	var (
		st   *channeldb.OpenChannel
		info *channeldb.ChannelOpenInfo
	)
	err := m.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		if st, err = channeldb.FetchOpenChannel(tx, op); err != nil {
			return err
		}
		info, err = channeldb.FetchChannelOpenInfo(tx, op)
		return err
	})
	return st, info, err
}

// resume is Start's work: leases of openings that never got
// funding_signed are released, and every persisted pending channel is
// watched again (the opener's funding transaction rebroadcast).
func (m *Manager) resume(a *after) error {
	var recs []*channeldb.PendingChannel
	err := m.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		recs, err = channeldb.ListPendingChannels(tx)
		return err
	})
	if err != nil {
		return err
	}
	keep := make(map[wire.OutPoint]bool)
	for _, r := range recs {
		if r.FundingTx != nil {
			for _, in := range r.FundingTx.TxIn {
				keep[in.PreviousOutPoint] = true
			}
		}
	}
	if err := m.releaseStale(keep); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		if r.ChanPoint == nil || r.State == channeldb.FundingNegotiating {
			m.log.Info("forgetting unsigned opening", "pending_id",
				fmt.Sprintf("%x", r.PendingChanID))
			if err := m.cfg.DB.Update(func(tx kvdb.RwTx) error {
				return channeldb.DeletePendingChannel(tx, r.PendingChanID)
			}); err != nil {
				return err
			}
			continue
		}
		w := &watched{rec: r}
		m.pending[*r.ChanPoint] = w
		// The opener broadcasts again what it may not have (the
		// wallet rebroadcasts too; a known transaction is no error).
		if r.Role == channeldb.Funder && r.State < channeldb.FundingConfirmed {
			m.broadcast(w)
		}
		m.watch(*r.ChanPoint, w)
		m.maybeReady(a, *r.ChanPoint)
	}
	return nil
}

// releaseStale ends every funding lease whose coin no persisted funding
// transaction spends.
func (m *Manager) releaseStale(keep map[wire.OutPoint]bool) error {
	leases, err := m.cfg.Wallet.ListLeases()
	if err != nil {
		return err
	}
	for _, l := range leases {
		if !isFundingLock(l.LockID) || keep[l.OutPoint] {
			continue
		}
		if err := m.cfg.Wallet.ReleaseOutput(l.LockID, l.OutPoint); err != nil {
			return fmt.Errorf("release %v: %w", l.OutPoint, err)
		}
		m.log.Info("released coin of an abandoned opening", "outpoint", l.OutPoint)
	}
	return nil
}

// PendingChannel describes a channel being opened, for the RPC.
type PendingChannel struct {
	ChanPoint   wire.OutPoint
	Peer        *btcec.PublicKey
	Capacity    int64
	Initiator   bool
	State       channeldb.FundingState
	Height      uint32
	Channel     *channeldb.OpenChannel
	Private     bool
	ChannelType lnwallet.ChannelType
}

// PendingChannels lists the persisted channels not yet open.
func (m *Manager) PendingChannels() ([]PendingChannel, error) {
	var out []PendingChannel
	err := m.cfg.DB.View(func(tx kvdb.RTx) error {
		recs, err := channeldb.ListPendingChannels(tx)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.ChanPoint == nil {
				continue
			}
			st, err := channeldb.FetchOpenChannel(tx, *r.ChanPoint)
			if err != nil {
				return err
			}
			info, err := channeldb.FetchChannelOpenInfo(tx, *r.ChanPoint)
			if err != nil && !errors.Is(err, channeldb.ErrOpenInfoNotFound) {
				return err
			}
			pc := PendingChannel{ChanPoint: *r.ChanPoint, Peer: r.PeerPub,
				Capacity: int64(r.Capacity), Initiator: r.Role == channeldb.Funder,
				State: r.State, Height: r.BroadcastHeight, Channel: st,
				ChannelType: lnwallet.ChannelType(st.ChanType)}
			if info != nil {
				pc.Private = info.Private
			}
			out = append(out, pc)
		}
		return nil
	})
	return out, err
}

// IsPending reports whether a channel is still being opened.
func (m *Manager) IsPending(op wire.OutPoint) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.pending[op]
	return ok
}
