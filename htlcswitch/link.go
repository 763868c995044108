package htlcswitch

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// DefaultQueueSize is the number of messages and connection events a link
// holds before HandleMessage waits (back-pressure on the peer's read loop).
// It is above what a peer may legitimately send before it needs an answer
// from us (483 adds, as many removals, an update_fee and a round's
// commitment_signed and revoke_and_ack): were the queue to fill with
// legitimate traffic while our link waits to write to that same peer,
// both sides would wait on each other.
const DefaultQueueSize = 2048

// ErrLinkStopped is returned by a link's calls after Stop.
var ErrLinkStopped = errors.New("htlcswitch: link stopped")

// Peer is one connection to the channel's peer. A new connection is a new
// Peer: the link compares them to tell a reconnection from the same one.
// *peer.Peer is one.
type Peer interface {
	SendMessage(msgs ...lnwire.Message) error
}

// disconnecter is a Peer that can close its connection: after a warning
// BOLT 1 has us close it, and the peer's uncommitted updates are then
// forgotten on both sides.
type disconnecter interface {
	Disconnect(reason error)
}

// LinkConfig is what a Link needs.
type LinkConfig struct {
	// Channel is the channel's state machine, the link's from now on.
	Channel *lnwallet.Channel

	// DB persists the channel's transitions, with the switch's records
	// of each commitment round in the same transaction.
	DB *channeldb.DB

	// DataLoss says the peer proved earlier that our state is old (the
	// stored mark): the link starts failed. MarkDataLoss stores that
	// mark when a peer proves it (nil: not stored).
	DataLoss     bool
	MarkDataLoss func() error

	// Close, if set, lets the link close the channel cooperatively
	// (link_close.go); without it shutdown gets a warning.
	Close *CloseConfig

	// ReadyMessage returns our channel_ready, retransmitted when both
	// channel_reestablish say next_commitment_number 1
	// (funding.ReadyMessage).
	ReadyMessage func() (*lnwire.ChannelReady, error)

	// OnActivity, if set, is told each change of the link's activity
	// (Active), on the link's goroutine: channel events follow it at once
	// rather than by sampling. It must not block.
	OnActivity func(active bool)

	// AliasOnly says the channel's type has option_scid_alias: no HTLC
	// is forwarded into it by its real short channel id (BOLT 2
	// channel_ready), only by an alias. Our own payments may still name
	// the real one.
	AliasOnly bool

	// QueueSize bounds the link's queue (0: DefaultQueueSize).
	QueueSize int

	// Logger is the subsystem's logger (nil: discard).
	Logger *slog.Logger
}

// event is one entry of the link's queue: a connection change or a
// message received on a connection.
type event struct {
	kind eventKind
	peer Peer
	msg  lnwire.Message
	done chan struct{} // evFlush: closed once handled
	fn   func()        // evCall: run on the link's goroutine
}

type eventKind uint8

const (
	evConnected eventKind = iota
	evInSync
	evDisconnected
	evMessage
	evFlush
	evCall
)

// Link runs one open channel against its peer.
type Link struct {
	cfg    LinkConfig
	ch     *lnwallet.Channel
	chanID lnwire.ChannelID
	op     wire.OutPoint
	remote [33]byte
	log    *slog.Logger

	queue *eventQueue
	quit  chan struct{}
	done  chan struct{}
	start sync.Once
	stop  sync.Once

	active    atomic.Bool
	broken    atomic.Bool // failed, for other goroutines
	bandwidth atomic.Uint64

	sw   *Switch // set when added to the switch's Links
	scid lnwire.ShortChannelID
	// aliases are the SCID aliases we gave the peer in channel_ready:
	// BOLT 2 has us accept them, as the real scid, for HTLCs forwarded
	// into this channel (our peer's invoices name the channel by them).
	aliases []lnwire.ShortChannelID
	mbox    *mailbox
	batch   batchConfig

	// shutdown and waitingClose mirror the close in progress for
	// readers off the goroutine (link_close.go).
	shutdown, waitingClose atomic.Bool

	// Owned by the goroutine.
	ops    opState
	timer  *time.Timer
	timerC <-chan time.Time

	conn      Peer
	sentReest *lnwire.ChannelReestablish // ours, on conn
	gotReest  bool                       // the peer's, on conn
	failed    bool                       // never active again
	closing   closeState                 // cooperative close
}

// NewLink builds the link of a channel; Start runs it.
func NewLink(cfg LinkConfig) *Link {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := cfg.Channel.State()
	l := &Link{
		cfg:     cfg,
		ch:      cfg.Channel,
		chanID:  st.ChannelID(),
		op:      st.FundingOutpoint,
		scid:    st.ShortChannelID,
		aliases: append([]lnwire.ShortChannelID(nil), st.Aliases...),
		mbox:    newMailbox(),
		queue:   newEventQueue(cfg.QueueSize),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		failed:  cfg.DataLoss,
	}
	if st.RemoteNode != nil {
		copy(l.remote[:], st.RemoteNode.SerializeCompressed())
	}
	l.log = log.With("chan_point", l.op)
	l.broken.Store(cfg.DataLoss)
	return l
}

// ChanID is the channel's BOLT 2 channel_id.
func (l *Link) ChanID() lnwire.ChannelID { return l.chanID }

// ChanPoint is the channel's funding outpoint.
func (l *Link) ChanPoint() wire.OutPoint { return l.op }

// RemotePub is the peer's identity key, compressed.
func (l *Link) RemotePub() [33]byte { return l.remote }

// Active reports whether the channel is usable: its peer connected and
// channel_reestablish exchanged on this connection without fault.
func (l *Link) Active() bool { return l.active.Load() }

// setActive records the link's activity and reports a change.
func (l *Link) setActive(v bool) {
	if l.active.Swap(v) != v && l.cfg.OnActivity != nil {
		l.cfg.OnActivity(v)
	}
}

// Start runs the link's goroutine.
func (l *Link) Start() {
	l.start.Do(func() { go l.run() })
}

// Stop ends the goroutine and waits for it; queued events are dropped.
func (l *Link) Stop() {
	l.stop.Do(func() { close(l.quit) })
	l.start.Do(func() { close(l.done) })
	<-l.done
}

// PeerConnected tells the link of a new connection to its peer: it sends
// our channel_reestablish on it before anything else.
func (l *Link) PeerConnected(p Peer) error {
	return l.enqueue(event{kind: evConnected, peer: p})
}

// PeerInSync tells the link that the channel is already in sync on
// connection p: the funding flow just exchanged channel_ready on it, so
// the channel is active without a channel_reestablish.
func (l *Link) PeerInSync(p Peer) error {
	return l.enqueue(event{kind: evInSync, peer: p})
}

// PeerDisconnected tells the link that connection p ended.
func (l *Link) PeerDisconnected(p Peer) error {
	return l.enqueue(event{kind: evDisconnected, peer: p})
}

// HandleMessage queues a message of the channel received on connection p.
// It waits while the queue is full.
func (l *Link) HandleMessage(p Peer, msg lnwire.Message) error {
	return l.enqueue(event{kind: evMessage, peer: p, msg: msg})
}

func (l *Link) enqueue(ev event) error {
	return l.queue.push(ev, l.quit)
}

func (l *Link) run() {
	defer close(l.done)
	l.loadClose()
	l.batch = newBatchConfig(l.sw)
	l.ops.init()
	l.publishBandwidth()
	hold := time.NewTicker(holdCheckInterval)
	defer hold.Stop()
	fee := time.NewTimer(l.feeInterval())
	defer fee.Stop()
	for {
		select {
		case <-l.queue.ready:
			if ev, ok := l.queue.pop(); ok {
				l.handle(ev)
			}
		case <-l.mbox.notify:
			for _, it := range l.mbox.take() {
				l.fromSwitch(it)
			}
		case <-l.timerC:
			l.timerC = nil
			l.commit()
		case <-hold.C:
			l.expireHeld()
		case <-fee.C:
			l.checkFee()
			fee.Reset(l.feeInterval())
		case <-l.quit:
			l.setActive(false)
			l.stopped()
			return
		}
	}
}

func (l *Link) handle(ev event) {
	switch ev.kind {
	case evConnected:
		l.connect(ev.peer)
	case evInSync:
		l.disconnect()
		l.conn = ev.peer
		if !l.failed {
			l.activate()
		}
	case evDisconnected:
		if ev.peer == l.conn {
			l.disconnect()
		}
	case evFlush:
		close(ev.done)
	case evCall:
		ev.fn()
	case evMessage:
		if ev.peer != l.conn {
			// The peer's first message on a connection we were not
			// told of yet: the connection event is still on its way.
			l.connect(ev.peer)
		}
		l.message(ev.msg)
	}
}

// disconnect forgets the connection; the channel is inactive until the
// next reestablishment.
func (l *Link) disconnect() {
	l.conn, l.sentReest, l.gotReest = nil, nil, false
	l.setActive(false)
	l.dropUnsent()
	l.closeDisconnected()
}

// connect starts the reestablishment on a new connection: our
// channel_reestablish goes first.
func (l *Link) connect(p Peer) {
	if p == l.conn {
		return
	}
	l.disconnect()
	l.conn = p
	l.sendReestablish()
}

// sendReestablish sends our channel_reestablish on the connection.
func (l *Link) sendReestablish() {
	msg, err := l.ch.ChannelReestablish()
	if err != nil {
		l.log.Error("channel_reestablish not built; channel stays inactive",
			"err", err)
		return
	}
	if err := l.conn.SendMessage(msg); err != nil {
		l.log.Debug("channel_reestablish not sent", "err", err)
		return
	}
	l.sentReest = msg
	l.log.Debug("channel_reestablish sent",
		"next_commitment_number", msg.NextCommitmentNumber,
		"next_revocation_number", msg.NextRevocationNumber)
}

// message handles one message of the channel from the current connection.
func (l *Link) message(msg lnwire.Message) {
	if m, ok := msg.(*lnwire.ChannelReestablish); ok {
		l.reestablish(m)
		return
	}
	if !l.active.Load() {
		l.warn(fmt.Sprintf("%v before channel_reestablish completed",
			msg.MsgType()))
		return
	}
	if l.failed {
		l.fail("channel failed earlier; it stays closed to updates")
		return
	}
	if l.closeMessage(msg) {
		return
	}
	l.update(msg)
	// A commitment round may have cleared the last HTLC of a closing
	// channel (link_close.go).
	l.closeProgress()
}

// reestablish processes the peer's channel_reestablish and, if it agrees
// with our state, retransmits what it asks for and marks the channel
// active.
func (l *Link) reestablish(m *lnwire.ChannelReestablish) {
	if l.gotReest {
		l.warn("channel_reestablish received twice on one connection")
		return
	}
	l.gotReest = true
	if l.sentReest == nil {
		// A channel the funding flow just opened on this connection
		// needs none, but the peer may resynchronise anyway (lnd does
		// after a restart): ours still goes before anything else.
		l.sendReestablish()
		if l.sentReest == nil {
			return
		}
	}
	if l.failed {
		l.setActive(false)
		l.fail("channel failed earlier; it stays closed to updates")
		return
	}
	out, err := l.ch.ReceiveReestablish(m)
	if err != nil {
		l.refuse(err)
		return
	}
	if m.NextCommitmentNumber == 1 && l.sentReest.NextCommitmentNumber == 1 {
		ready, err := l.cfg.ReadyMessage()
		if err != nil {
			l.log.Error("channel_ready not rebuilt; channel stays "+
				"inactive", "err", err)
			return
		}
		out = append([]lnwire.Message{ready}, out...)
	}
	if len(out) > 0 {
		if err := l.conn.SendMessage(out...); err != nil {
			l.log.Debug("retransmission not sent", "err", err)
			return
		}
	}
	l.log.Info("Channel reestablished", "retransmitted", len(out))
	l.activate()
	l.closeReconnected()
}

// refuse answers a channel_reestablish the state machine rejected. A
// fatal violation (including the peer's proof that our state is old)
// fails the channel: error, and never active again in this process.
func (l *Link) refuse(err error) {
	var pe *lnwallet.PeerError
	switch {
	case errors.Is(err, lnwallet.ErrDataLoss):
		l.failed = true
		l.broken.Store(true)
		l.markDataLoss()
		l.log.Error("Peer proved our channel state is old: we must not "+
			"broadcast our commitment; waiting for the peer to close",
			"err", err)
		l.fail("xlnd lost channel state: please close the channel " +
			"(we will not broadcast our commitment)")
	case lnwallet.IsFatal(err):
		l.failed = true
		l.broken.Store(true)
		l.log.Error("channel_reestablish failed the channel", "err", err)
		l.fail(err.Error())
	case errors.As(err, &pe):
		l.log.Warn("channel_reestablish refused", "err", err)
		l.warn(err.Error())
	default:
		l.log.Error("channel_reestablish not processed", "err", err)
		l.warn("internal error processing channel_reestablish")
	}
}

func (l *Link) warn(text string) {
	l.send(&lnwire.Warning{ChanID: l.chanID, Data: []byte(text)})
}

func (l *Link) fail(text string) {
	l.send(&lnwire.Error{ChanID: l.chanID, Data: []byte(text)})
}

func (l *Link) send(msgs ...lnwire.Message) {
	if l.conn == nil || len(msgs) == 0 {
		return
	}
	if err := l.conn.SendMessage(msgs...); err != nil {
		l.log.Debug("messages not sent", "first", msgs[0].MsgType(),
			"n", len(msgs), "err", err)
	}
}
