package funding

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/wallet"
)

// stage is how far an in-memory negotiation got.
type stage uint8

const (
	awaitAccept  stage = iota // opener: open_channel sent
	awaitSigned               // opener: funding_created sent
	awaitCreated              // accepter: accept_channel sent
)

// flow is a negotiation not yet persisted: nothing of it survives a
// restart, and nothing of it needs to.
type flow struct {
	id       [32]byte
	peer     *btcec.PublicKey
	role     channeldb.FundingRole
	stage    stage
	deadline time.Time

	capacity btcutil.Amount
	push     lnwire.MilliSatoshi
	chanType lnwallet.ChannelType
	typeBits *lnwire.RawFeatureVector // channel_type sent, nil if none
	feeRate  uint32
	private  bool
	minDepth uint32
	alias    bool
	// aliasOnly: the channel_type has option_scid_alias, so the real
	// scid must never route an incoming HTLC (BOLT 2 channel_ready).
	aliasOnly bool

	keys   *localKeys
	ours   side
	theirs side

	// Opener only: the leased coins and the funding transaction, and
	// the state built at funding_created.
	funded  *wallet.FundedTx
	outIdx  uint32
	st      *channeldb.OpenChannel
	updates chan Update
}

// watched is a persisted channel waiting for its confirmations or for
// channel_ready.
type watched struct {
	rec     *channeldb.PendingChannel
	updates chan Update // the opener's caller, if still around
	cancel  func()
}

// Manager runs channel openings. Create it with New; it is safe for
// concurrent use.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	flows   map[[32]byte]*flow
	pending map[wire.OutPoint]*watched
	started bool
	stopped bool

	quit chan struct{}
	wg   sync.WaitGroup
}

// New returns a manager; Start resumes persisted openings.
func New(cfg Config) (*Manager, error) {
	if cfg.Wallet == nil || cfg.Chain == nil || cfg.DB == nil ||
		cfg.SendMessage == nil || cfg.PeerFeatures == nil {

		return nil, fmt.Errorf("funding: config needs Wallet, Chain, DB, " +
			"SendMessage and PeerFeatures")
	}
	cfg.setDefaults()
	return &Manager{
		cfg:     cfg,
		log:     cfg.Logger,
		flows:   make(map[[32]byte]*flow),
		pending: make(map[wire.OutPoint]*watched),
		quit:    make(chan struct{}),
	}, nil
}

// Name names the manager among the server's subsystems.
func (m *Manager) Name() string { return "funding manager" }

// Start releases coins of openings that never reached funding_signed and
// resumes the persisted ones.
func (m *Manager) Start() error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return nil
	}
	m.started = true
	m.mu.Unlock()
	var a after
	if err := m.resume(&a); err != nil {
		return fmt.Errorf("funding: resume: %w", err)
	}
	m.run(&a)
	m.wg.Add(1)
	go m.sweepLoop()
	return nil
}

// Stop ends every goroutine; negotiations in memory are abandoned and
// their coins released.
func (m *Manager) Stop() error {
	m.mu.Lock()
	if m.stopped || !m.started {
		m.stopped = true
		m.mu.Unlock()
		return nil
	}
	m.stopped = true
	close(m.quit)
	for id, f := range m.flows {
		m.dropFlow(id, f, ErrShuttingDown)
	}
	for _, w := range m.pending {
		if w.cancel != nil {
			w.cancel()
		}
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// outMsg is a message to send once the lock is released.
type outMsg struct {
	peer *btcec.PublicKey
	msg  lnwire.Message
}

// after are the effects of a step that run outside the lock, in order.
type after struct {
	msgs    []outMsg
	pending []*channeldb.OpenChannel
	ready   []*lnwallet.Channel
}

func (a *after) send(peer *btcec.PublicKey, msg lnwire.Message) {
	a.msgs = append(a.msgs, outMsg{peer, msg})
}

func (m *Manager) run(a *after) {
	for _, st := range a.pending {
		if m.cfg.ChannelPending != nil {
			m.cfg.ChannelPending(st)
		}
	}
	for _, o := range a.msgs {
		if err := m.cfg.SendMessage(o.peer, o.msg); err != nil {
			m.log.Warn("send failed", "peer", peerStr(o.peer),
				"msg", o.msg.MsgType(), "err", err)
		}
	}
	for _, ch := range a.ready {
		if m.cfg.ChannelReady != nil {
			m.cfg.ChannelReady(ch)
		}
	}
}

// HandleMessage takes a funding message from a peer: open_channel,
// accept_channel, funding_created, funding_signed, channel_ready, and
// error/warning about a pending channel. It reports whether the message
// was the manager's. (A channel_reestablish goes to Reestablish.)
func (m *Manager) HandleMessage(peer *btcec.PublicKey, msg lnwire.Message) bool {
	var a after
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return true
	}
	switch msg := msg.(type) {
	case *lnwire.OpenChannel:
		m.handleOpen(&a, peer, msg)
	case *lnwire.AcceptChannel:
		m.handleAccept(&a, peer, msg)
	case *lnwire.FundingCreated:
		m.handleCreated(&a, peer, msg)
	case *lnwire.FundingSigned:
		m.handleSigned(&a, peer, msg)
	case *lnwire.ChannelReady:
		m.handleReady(&a, peer, msg)
	case *lnwire.Error:
		m.handlePeerError(peer, msg.ChanID, msg.Data)
	default:
		m.mu.Unlock()
		return false
	}
	m.mu.Unlock()
	m.run(&a)
	return true
}

// refuseFlow tells the peer why a negotiation ends, at once.
func (m *Manager) refuseFlow(a *after, peer *btcec.PublicKey, id [32]byte,
	err error) {

	m.log.Info("channel refused", "peer", peerStr(peer),
		"pending_id", fmt.Sprintf("%x", id), "reason", err)
	a.send(peer, &lnwire.Error{ChanID: id, Data: []byte(err.Error())})
}

// dropFlow forgets a negotiation: the opener's coins are released and its
// caller told why.
func (m *Manager) dropFlow(id [32]byte, f *flow, why error) {
	delete(m.flows, id)
	m.releaseCoins(f)
	notify(f.updates, Update{Err: why})
}

func (m *Manager) releaseCoins(f *flow) {
	if f.funded == nil {
		return
	}
	for _, in := range f.funded.Inputs {
		if err := m.cfg.Wallet.ReleaseOutput(f.funded.LockID, in.OutPoint); err != nil {
			m.log.Warn("release coin", "outpoint", in.OutPoint, "err", err)
		}
	}
	f.funded = nil
}

// handlePeerError ends the negotiation the peer's error names (all of
// the peer's if the channel id is zero). A persisted channel stays: its
// funding transaction may confirm.
func (m *Manager) handlePeerError(peer *btcec.PublicKey, id lnwire.ChannelID,
	data []byte) {

	for fid, f := range m.flows {
		if !f.peer.IsEqual(peer) {
			continue
		}
		if id.IsZero() || fid == id || (f.stage == awaitSigned &&
			lnwire.NewChanIDFromOutPoint(f.st.FundingOutpoint) == id) {

			m.log.Info("peer refused channel", "peer", peerStr(peer),
				"error", printable(data))
			m.dropFlow(fid, f, fmt.Errorf("%w: %s", ErrPeerError,
				printable(data)))
		}
	}
}

// PeerDisconnected abandons the negotiations with a peer; persisted
// channels wait for their confirmations.
func (m *Manager) PeerDisconnected(peer *btcec.PublicKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, f := range m.flows {
		if f.peer.IsEqual(peer) {
			m.dropFlow(id, f, fmt.Errorf("%w: peer disconnected", ErrAborted))
		}
	}
}

// PeerConnected sends channel_ready again for every confirmed channel
// with the peer that is not yet open (BOLT 2: channel_ready is
// retransmitted on reconnection until the channel is used).
func (m *Manager) PeerConnected(peer *btcec.PublicKey) {
	var a after
	m.mu.Lock()
	for op, w := range m.pending {
		if w.rec.PeerPub.IsEqual(peer) &&
			w.rec.State == channeldb.FundingConfirmed {

			if err := m.sendReady(&a, op); err != nil {
				m.log.Warn("channel_ready", "chan_point", op, "err", err)
			}
		}
	}
	m.mu.Unlock()
	m.run(&a)
}

// sweepLoop abandons negotiations the peer stopped answering.
func (m *Manager) sweepLoop() {
	defer m.wg.Done()
	every := m.cfg.NegotiationTimeout / 4
	for {
		select {
		case <-m.cfg.Clock.After(every):
		case <-m.quit:
			return
		}
		var a after
		m.mu.Lock()
		now := m.cfg.Clock.Now()
		for id, f := range m.flows {
			if now.After(f.deadline) {
				m.refuseFlow(&a, f.peer, id, refuse("timed out"))
				m.dropFlow(id, f, fmt.Errorf("%w: peer did not answer "+
					"in %v", ErrAborted, m.cfg.NegotiationTimeout))
			}
		}
		m.mu.Unlock()
		m.run(&a)
	}
}

// countPending counts the openings in progress, with one peer and in
// all.
func (m *Manager) countPending(peer *btcec.PublicKey) (perPeer, total int) {
	for _, f := range m.flows {
		if f.peer.IsEqual(peer) {
			perPeer++
		}
	}
	for _, w := range m.pending {
		if w.rec.PeerPub.IsEqual(peer) {
			perPeer++
		}
	}
	return perPeer, len(m.flows) + len(m.pending)
}

func newPendingID() ([32]byte, error) {
	var id [32]byte
	_, err := rand.Read(id[:])
	return id, err
}

func peerStr(p *btcec.PublicKey) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%x", p.SerializeCompressed())
}

// printable keeps the printable ASCII of a peer's error text.
func printable(b []byte) string {
	b = bytes.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, b)
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
