package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/brontide"
	"lnd.xprv/lnwire"
	"lnd.xprv/peer"
)

// Errors callers branch on. Their texts are lnd's where apps match them.
var (
	ErrAlreadyConnected = errors.New("already connected to peer")
	ErrNotConnected     = errors.New("peer is not connected")
	ErrSelfConnect      = errors.New("cannot connect to self")
	ErrServerShutdown   = errors.New("server is shutting down")
	ErrUserDisconnect   = errors.New("disconnected by request")
	errReplaced         = errors.New("replaced by a newer connection")
	errDuplicate        = errors.New("duplicate connection")
)

// Defaults for Config's zero values.
const (
	DefaultConnTimeout = 30 * time.Second
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = time.Hour
	// maxPendingHandshakes bounds inbound connections still in the
	// BOLT 8 handshake, so a flood of half-open connections cannot
	// exhaust file descriptors.
	maxPendingHandshakes = 256
	// stableConn is how long a connection must last for the next
	// reconnect to start from the minimum backoff again.
	stableConn = 10 * time.Minute
)

// Config is everything the server needs, handed in by the daemon.
type Config struct {
	// NodeKey is our identity, as an ECDH capability (the key stays in
	// the wallet).
	NodeKey brontide.ECDH

	ChainHash chainhash.Hash

	// Features we send in init, and those we require of peers.
	Features *lnwire.RawFeatureVector
	Required []lnwire.FeatureBit

	// ListenAddrs are the peer listeners (none: accept nothing).
	ListenAddrs []string

	// MaxInbound caps inbound peers; persistent peers are let in anyway.
	// Zero means no inbound connections at all but persistent peers'.
	MaxInbound int

	// Dial opens outbound connections: plain TCP, or through Tor.
	Dial brontide.DialFunc

	ConnTimeout  time.Duration
	MinBackoff   time.Duration
	MaxBackoff   time.Duration
	PingInterval time.Duration
	PongTimeout  time.Duration

	// Subsystems are started in this order, after the query loop and
	// before the peer listeners, and stopped in reverse after the
	// listeners close (the funding manager, then those later work adds:
	// switch, nursery, breach arbiter, router).
	Subsystems []Subsystem

	// OnPeerMessage receives the messages peers do not handle themselves
	// (funding, channel updates, gossip). Nil drops them.
	OnPeerMessage func(p *peer.Peer, msg lnwire.Message)

	Logger     *slog.Logger
	PeerLogger *slog.Logger
}

// ErrListen wraps a failure to open a peer listener.
var ErrListen = errors.New("listen")

// Subsystem is a part of the node whose life the server orders.
type Subsystem interface {
	Name() string
	Start() error
	Stop() error
}

// PeerEventType says whether a peer came or went.
type PeerEventType int

const (
	PeerOnline PeerEventType = iota
	PeerOffline
)

// PeerEvent is a peer coming online or going offline.
type PeerEvent struct {
	PubKey [33]byte
	Type   PeerEventType
}

// connEntry is the connection the loop holds for one peer, from the end of
// the transport handshake on.
type connEntry struct {
	peer    *peer.Peer
	active  bool // init exchanged
	started time.Time
}

type persistentPeer struct {
	addr    net.Addr
	backoff time.Duration
	timer   *time.Timer
}

// Server owns the peers of the node.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ourPub [33]byte

	requests chan any
	quit     chan struct{}
	wg       sync.WaitGroup

	listenersMu sync.Mutex
	listeners   []*brontide.Listener

	// history outlives connections, as lnd's ListPeers errors and flap
	// counts do. Peers write to it from their own goroutines.
	historyMu sync.Mutex
	history   map[[33]byte]*PeerHistory

	// started are the subsystems running, in start order.
	started []Subsystem

	startOnce, stopOnce sync.Once
	dialCtx             context.Context
	cancelDials         context.CancelFunc
}

// New checks cfg and builds a server; nothing runs until Start.
func New(cfg Config) (*Server, error) {
	if cfg.NodeKey == nil {
		return nil, errors.New("server: no node key")
	}
	if cfg.Features == nil {
		return nil, errors.New("server: no feature vector")
	}
	if cfg.Dial == nil {
		cfg.Dial = net.DialTimeout
	}
	if cfg.ConnTimeout == 0 {
		cfg.ConnTimeout = DefaultConnTimeout
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PeerLogger == nil {
		cfg.PeerLogger = cfg.Logger
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		requests: make(chan any),
		quit:     make(chan struct{}),
		history:  make(map[[33]byte]*PeerHistory),
	}
	copy(s.ourPub[:], cfg.NodeKey.PubKey().SerializeCompressed())
	s.dialCtx, s.cancelDials = context.WithCancel(context.Background())
	return s, nil
}

// Start opens the listeners and starts the query loop.
func (s *Server) Start() error {
	var err error
	s.startOnce.Do(func() {
		for _, addr := range s.cfg.ListenAddrs {
			var l *brontide.Listener
			l, err = brontide.Listen(s.cfg.NodeKey, "tcp", addr,
				brontide.WithMaxPendingHandshakes(maxPendingHandshakes),
				brontide.WithHandshakeErrorHandler(func(remote net.Addr, herr error) {
					s.log.Debug("Inbound handshake failed", "remote", remote, "err", herr)
				}))
			if err != nil {
				err = fmt.Errorf("%w on %s: %w", ErrListen, addr, err)
				s.closeListeners()
				return
			}
			s.listenersMu.Lock()
			s.listeners = append(s.listeners, l)
			s.listenersMu.Unlock()
			s.log.Info("Listening for peers", "addr", l.Addr())
		}
		s.wg.Add(1)
		go s.queryLoop()
		if err = s.startSubsystems(); err != nil {
			s.stopOnce.Do(func() {
				close(s.quit)
				s.cancelDials()
				s.closeListeners()
				s.wg.Wait()
			})
			return
		}
		s.listenersMu.Lock()
		for _, l := range s.listeners {
			s.wg.Add(1)
			go s.acceptLoop(l)
		}
		s.listenersMu.Unlock()
	})
	return err
}

// Stop disconnects every peer and waits for every goroutine of the server.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.closeListeners()
		s.stopSubsystems(len(s.started))
		close(s.quit)
		s.cancelDials()
		s.wg.Wait()
	})
	return nil
}

// startSubsystems starts the subsystems in order; on a failure those
// started are stopped again, in reverse.
func (s *Server) startSubsystems() error {
	for _, sub := range s.cfg.Subsystems {
		s.log.Debug("Starting subsystem", "name", sub.Name())
		if err := sub.Start(); err != nil {
			s.stopSubsystems(len(s.started))
			return fmt.Errorf("start %s: %w", sub.Name(), err)
		}
		s.started = append(s.started, sub)
	}
	return nil
}

// stopSubsystems stops the first n started subsystems, last first.
func (s *Server) stopSubsystems(n int) {
	for i := n - 1; i >= 0; i-- {
		sub := s.started[i]
		if err := sub.Stop(); err != nil {
			s.log.Warn("Subsystem did not stop cleanly", "name", sub.Name(),
				"err", err)
		}
	}
	s.started = s.started[:0]
}

func (s *Server) closeListeners() {
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()
	for _, l := range s.listeners {
		l.Close()
	}
}

// ListenAddrs are the addresses the peer listeners are bound to.
func (s *Server) ListenAddrs() []net.Addr {
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()
	addrs := make([]net.Addr, 0, len(s.listeners))
	for _, l := range s.listeners {
		addrs = append(addrs, l.Addr())
	}
	return addrs
}

func (s *Server) acceptLoop(l *brontide.Listener) {
	defer s.wg.Done()
	for {
		conn, err := l.AcceptConn()
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("Accept failed", "err", err)
			continue
		}
		if !s.send(&newConnReq{conn: conn, inbound: true, addr: conn.RemoteAddr()}) {
			conn.Close()
			return
		}
	}
}

// send hands a request to the loop; false if the server is stopping.
func (s *Server) send(req any) bool {
	select {
	case s.requests <- req:
		return true
	case <-s.quit:
		return false
	}
}

// Requests served by the query loop.
type (
	newConnReq struct {
		conn    *brontide.Conn
		inbound bool
		addr    net.Addr
	}
	peerStartedReq struct {
		p   *peer.Peer
		err error
	}
	peerDoneReq struct{ p *peer.Peer }
	dialDoneReq struct {
		pub [33]byte
		err error
	}
	connectReq struct {
		addr  *brontide.NetAddress
		perm  bool
		reply chan chan error
	}
	disconnectReq struct {
		pub   [33]byte
		reply chan error
	}
	retryReq     struct{ pub [33]byte }
	listPeersReq struct{ reply chan []*peer.Peer }
	findPeerReq  struct {
		pub   [33]byte
		reply chan *peer.Peer
	}
	subscribeReq struct {
		online bool // start with the peers online now
		reply  chan *PeerEventSubscription
	}
	unsubscribeReq struct{ id uint64 }
)

// loopState is owned by the query loop goroutine alone.
type loopState struct {
	conns      map[[33]byte]*connEntry
	persistent map[[33]byte]*persistentPeer
	dialing    map[[33]byte]bool
	waiters    map[[33]byte][]chan error
	subs       map[uint64]*PeerEventSubscription
	nextSubID  uint64
	inbound    int
}

func (s *Server) queryLoop() {
	defer s.wg.Done()
	st := &loopState{
		conns:      make(map[[33]byte]*connEntry),
		persistent: make(map[[33]byte]*persistentPeer),
		dialing:    make(map[[33]byte]bool),
		waiters:    make(map[[33]byte][]chan error),
		subs:       make(map[uint64]*PeerEventSubscription),
	}
	defer s.shutdown(st)

	for {
		select {
		case req := <-s.requests:
			s.handle(st, req)
		case <-s.quit:
			return
		}
	}
}

func (s *Server) handle(st *loopState, req any) {
	switch r := req.(type) {
	case *newConnReq:
		s.handleNewConn(st, r)
	case *peerStartedReq:
		s.handlePeerStarted(st, r)
	case *peerDoneReq:
		s.handlePeerDone(st, r.p)
	case *dialDoneReq:
		delete(st.dialing, r.pub)
		if r.err != nil {
			if _, ok := st.conns[r.pub]; !ok {
				s.notifyWaiters(st, r.pub, r.err)
			}
			s.scheduleRetry(st, r.pub, false)
		}
	case *connectReq:
		r.reply <- s.handleConnect(st, r)
	case *disconnectReq:
		r.reply <- s.handleDisconnect(st, r.pub)
	case *retryReq:
		if pp, ok := st.persistent[r.pub]; ok {
			pp.timer = nil
			if _, connected := st.conns[r.pub]; !connected {
				s.dial(st, r.pub, pp.addr)
			}
		}
	case *listPeersReq:
		peers := make([]*peer.Peer, 0, len(st.conns))
		for _, e := range st.conns {
			if e.active {
				peers = append(peers, e.peer)
			}
		}
		r.reply <- peers
	case *findPeerReq:
		var p *peer.Peer
		if e, ok := st.conns[r.pub]; ok && e.active {
			p = e.peer
		}
		r.reply <- p
	case *subscribeReq:
		st.nextSubID++
		sub := newSubscription(st.nextSubID, s)
		st.subs[sub.id] = sub
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sub.q.run()
		}()
		if r.online {
			// In the same loop step as the subscription: no
			// peer's event falls between the two.
			for pub, e := range st.conns {
				if e.active {
					sub.q.push(PeerEvent{PubKey: pub, Type: PeerOnline})
				}
			}
		}
		r.reply <- sub
	case *unsubscribeReq:
		if sub, ok := st.subs[r.id]; ok {
			delete(st.subs, r.id)
			sub.q.close()
		}
	}
}

// keepNew decides between an existing connection to a peer and a new one.
// Two connections in the same direction: the new one wins (the old is
// likely dead, its peer restarted). Opposite directions (both nodes dialed
// at once): the one whose initiator has the smaller public key wins, which
// both nodes compute alike.
func (s *Server) keepNew(existing *connEntry, newInbound bool) bool {
	if existing.peer.Inbound() == newInbound {
		return true
	}
	remote := existing.peer.PubKey()
	var newInitiator [33]byte
	if newInbound {
		newInitiator = remote
	} else {
		newInitiator = s.ourPub
	}
	other := s.ourPub
	if newInitiator == s.ourPub {
		other = remote
	}
	return bytes.Compare(newInitiator[:], other[:]) < 0
}

func (s *Server) handleNewConn(st *loopState, r *newConnReq) {
	var pub [33]byte
	copy(pub[:], r.conn.RemotePub().SerializeCompressed())
	if pub == s.ourPub {
		r.conn.Close()
		return
	}

	if existing, ok := st.conns[pub]; ok {
		if !s.keepNew(existing, r.inbound) {
			s.log.Debug("Dropping duplicate connection", "peer", fmt.Sprintf("%x", pub),
				"inbound", r.inbound)
			r.conn.Close()
			return
		}
		s.log.Debug("Replacing connection", "peer", fmt.Sprintf("%x", pub),
			"inbound", r.inbound)
		s.removeConn(st, pub, existing)
		existing.peer.Disconnect(errReplaced)
	} else if r.inbound {
		if _, perm := st.persistent[pub]; !perm && st.inbound >= s.cfg.MaxInbound {
			s.log.Info("Refusing inbound peer: limit reached",
				"peer", fmt.Sprintf("%x", pub), "limit", s.cfg.MaxInbound)
			r.conn.Close()
			return
		}
	}

	addr := r.addr
	if pp, ok := st.persistent[pub]; ok && r.inbound {
		// Keep dialing back to the address we were given, not the
		// peer's ephemeral source port.
		_ = pp
	}
	p := peer.New(peer.Config{
		Conn:         r.conn,
		Inbound:      r.inbound,
		Address:      addr,
		Features:     s.cfg.Features,
		Required:     s.cfg.Required,
		ChainHash:    s.cfg.ChainHash,
		PingInterval: s.cfg.PingInterval,
		PongTimeout:  s.cfg.PongTimeout,
		OnMessage:    s.cfg.OnPeerMessage,
		OnError:      s.recordPeerError,
		Logger:       s.cfg.PeerLogger,
	})
	st.conns[pub] = &connEntry{peer: p, started: time.Now()}
	if r.inbound {
		st.inbound++
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := p.Start()
		if !s.send(&peerStartedReq{p: p, err: err}) {
			p.Stop()
		}
	}()
}

func (s *Server) removeConn(st *loopState, pub [33]byte, e *connEntry) {
	if st.conns[pub] != e {
		return
	}
	delete(st.conns, pub)
	if e.peer.Inbound() {
		st.inbound--
	}
	if e.active {
		s.emit(st, PeerEvent{PubKey: pub, Type: PeerOffline})
	}
}

func (s *Server) handlePeerStarted(st *loopState, r *peerStartedReq) {
	pub := r.p.PubKey()
	e, ok := st.conns[pub]
	current := ok && e.peer == r.p
	if r.err != nil {
		if current {
			s.removeConn(st, pub, e)
			s.notifyWaiters(st, pub, fmt.Errorf("connect to %x: %w", pub, r.err))
			s.scheduleRetry(st, pub, false)
		}
		s.log.Info("Peer failed to initialise", "peer", fmt.Sprintf("%x", pub),
			"err", r.err)
		return
	}
	if !current {
		// Replaced while its init was under way.
		r.p.Disconnect(errDuplicate)
		return
	}
	e.active = true
	s.recordFlap(pub)
	s.notifyWaiters(st, pub, nil)
	s.emit(st, PeerEvent{PubKey: pub, Type: PeerOnline})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-r.p.Done():
			s.send(&peerDoneReq{p: r.p})
		case <-s.quit:
		}
	}()
}

func (s *Server) handlePeerDone(st *loopState, p *peer.Peer) {
	pub := p.PubKey()
	e, ok := st.conns[pub]
	if !ok || e.peer != p {
		return
	}
	s.removeConn(st, pub, e)
	stable := time.Since(e.started) > stableConn
	if !errors.Is(p.Err(), ErrUserDisconnect) {
		s.scheduleRetry(st, pub, stable)
	}
}

func (s *Server) handleConnect(st *loopState, r *connectReq) chan error {
	done := make(chan error, 1)
	var pub [33]byte
	copy(pub[:], r.addr.IdentityKey.SerializeCompressed())
	if pub == s.ourPub {
		done <- ErrSelfConnect
		return done
	}
	if r.perm {
		pp, ok := st.persistent[pub]
		if !ok {
			pp = &persistentPeer{}
			st.persistent[pub] = pp
		}
		pp.addr = r.addr.Address
	}
	if e, ok := st.conns[pub]; ok && e.active {
		done <- fmt.Errorf("%w: %x@%v", ErrAlreadyConnected, pub, e.peer.Address())
		return done
	}
	st.waiters[pub] = append(st.waiters[pub], done)
	if _, pending := st.conns[pub]; !pending && !st.dialing[pub] {
		s.dial(st, pub, r.addr.Address)
	}
	return done
}

func (s *Server) handleDisconnect(st *loopState, pub [33]byte) error {
	if pp, ok := st.persistent[pub]; ok {
		if pp.timer != nil {
			pp.timer.Stop()
		}
		delete(st.persistent, pub)
	}
	e, ok := st.conns[pub]
	if !ok || !e.active {
		return fmt.Errorf("unable to disconnect: %w: %x", ErrNotConnected, pub)
	}
	s.removeConn(st, pub, e)
	e.peer.Disconnect(ErrUserDisconnect)
	return nil
}

// dial connects to pub at addr in its own goroutine.
func (s *Server) dial(st *loopState, pub [33]byte, addr net.Addr) {
	key, err := btcec.ParsePubKey(pub[:])
	if err != nil {
		s.notifyWaiters(st, pub, err)
		return
	}
	st.dialing[pub] = true
	remote := &brontide.NetAddress{IdentityKey: key, Address: addr}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		conn, err := brontide.DialContext(s.dialCtx, s.cfg.NodeKey, remote,
			s.cfg.ConnTimeout, s.cfg.Dial)
		if err != nil {
			s.log.Debug("Dial failed", "peer", remote, "err", err)
			s.send(&dialDoneReq{pub: pub, err: err})
			return
		}
		if !s.send(&dialDoneReq{pub: pub}) ||
			!s.send(&newConnReq{conn: conn, inbound: false, addr: addr}) {
			conn.Close()
		}
	}()
}

// scheduleRetry arranges the next dial to a persistent peer, backing off
// exponentially with jitter.
func (s *Server) scheduleRetry(st *loopState, pub [33]byte, resetBackoff bool) {
	pp, ok := st.persistent[pub]
	if !ok || pp.timer != nil || pp.addr == nil {
		return
	}
	if _, connected := st.conns[pub]; connected || st.dialing[pub] {
		return
	}
	switch {
	case resetBackoff || pp.backoff == 0:
		pp.backoff = s.cfg.MinBackoff
	default:
		pp.backoff = min(pp.backoff*2, s.cfg.MaxBackoff)
	}
	wait := pp.backoff + time.Duration(rand.Int64N(int64(pp.backoff)/2+1))
	s.log.Debug("Reconnecting to persistent peer later", "peer",
		fmt.Sprintf("%x", pub), "in", wait)
	pp.timer = time.AfterFunc(wait, func() { s.send(&retryReq{pub: pub}) })
}

func (s *Server) notifyWaiters(st *loopState, pub [33]byte, err error) {
	for _, w := range st.waiters[pub] {
		w <- err
	}
	delete(st.waiters, pub)
}

func (s *Server) emit(st *loopState, ev PeerEvent) {
	for _, sub := range st.subs {
		sub.q.push(ev)
	}
}

// shutdown runs when the loop exits: every peer is stopped and waited for.
func (s *Server) shutdown(st *loopState) {
	for pub, w := range st.waiters {
		for _, c := range w {
			c <- ErrServerShutdown
		}
		delete(st.waiters, pub)
	}
	for _, pp := range st.persistent {
		if pp.timer != nil {
			pp.timer.Stop()
		}
	}
	for _, e := range st.conns {
		e.peer.Disconnect(peer.ErrPeerExiting)
	}
	for _, e := range st.conns {
		<-e.peer.Done()
	}
	for _, sub := range st.subs {
		sub.q.close()
	}
}

// ConnectToPeer connects to addr and returns once the peer is initialised
// (or the attempt failed, or ctx ended). With perm the server reconnects to
// it whenever the connection drops, until DisconnectPeer.
func (s *Server) ConnectToPeer(ctx context.Context, addr *brontide.NetAddress,
	perm bool) error {

	if addr == nil || addr.IdentityKey == nil || addr.Address == nil {
		return errors.New("connect: peer address needs a public key and a host")
	}
	reply := make(chan chan error, 1)
	if !s.send(&connectReq{addr: addr, perm: perm, reply: reply}) {
		return ErrServerShutdown
	}
	var done chan error
	select {
	case done = <-reply:
	case <-s.quit:
		return ErrServerShutdown
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("connect to %v: %w", addr, ctx.Err())
	case <-s.quit:
		return ErrServerShutdown
	}
}

// DisconnectPeer drops the connection to pub and forgets that it is
// persistent.
func (s *Server) DisconnectPeer(pub *btcec.PublicKey) error {
	var key [33]byte
	copy(key[:], pub.SerializeCompressed())
	reply := make(chan error, 1)
	if !s.send(&disconnectReq{pub: key, reply: reply}) {
		return ErrServerShutdown
	}
	select {
	case err := <-reply:
		return err
	case <-s.quit:
		return ErrServerShutdown
	}
}

// Peers lists the initialised peers.
func (s *Server) Peers() []*peer.Peer {
	reply := make(chan []*peer.Peer, 1)
	if !s.send(&listPeersReq{reply: reply}) {
		return nil
	}
	select {
	case peers := <-reply:
		return peers
	case <-s.quit:
		return nil
	}
}

// FindPeer returns the initialised peer with key pub, or nil.
func (s *Server) FindPeer(pub [33]byte) *peer.Peer {
	reply := make(chan *peer.Peer, 1)
	if !s.send(&findPeerReq{pub: pub, reply: reply}) {
		return nil
	}
	select {
	case p := <-reply:
		return p
	case <-s.quit:
		return nil
	}
}

// SendToPeer queues msgs for the peer with key pub.
func (s *Server) SendToPeer(pub [33]byte, msgs ...lnwire.Message) error {
	p := s.FindPeer(pub)
	if p == nil {
		return fmt.Errorf("%w: %x", ErrNotConnected, pub)
	}
	return p.SendMessage(msgs...)
}

// Broadcast queues msgs for every initialised peer but those in skip.
func (s *Server) Broadcast(skip map[[33]byte]struct{}, msgs ...lnwire.Message) error {
	var errs []error
	for _, p := range s.Peers() {
		if _, ok := skip[p.PubKey()]; ok {
			continue
		}
		if err := p.SendMessage(msgs...); err != nil && !errors.Is(err, peer.ErrPeerExiting) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SubscribePeerEvents streams peers coming online and going offline from
// now on (lnd's SubscribePeerEvents: no event for a peer already online).
func (s *Server) SubscribePeerEvents() (*PeerEventSubscription, error) {
	return s.subscribe(false)
}

// FollowPeers is SubscribePeerEvents for a subsystem that must know every
// connected peer: it starts with a PeerOnline for each peer online at the
// call, then goes on as SubscribePeerEvents. The server accepts peers from
// Start, so a subsystem subscribing later would otherwise miss those that
// connected in between.
func (s *Server) FollowPeers() (*PeerEventSubscription, error) {
	return s.subscribe(true)
}

func (s *Server) subscribe(online bool) (*PeerEventSubscription, error) {
	reply := make(chan *PeerEventSubscription, 1)
	if !s.send(&subscribeReq{online: online, reply: reply}) {
		return nil, ErrServerShutdown
	}
	select {
	case sub := <-reply:
		return sub, nil
	case <-s.quit:
		return nil, ErrServerShutdown
	}
}

// PeerHistory is what the node remembers of a peer across connections.
type PeerHistory struct {
	// Errors are the last errors and warnings it sent, oldest first.
	Errors []peer.TimestampedError
	// FlapCount counts its connections; LastFlap is the latest's time.
	FlapCount int
	LastFlap  time.Time
}

// maxHistoryErrors bounds the errors kept per peer.
const maxHistoryErrors = 20

// History returns what the node remembers of the peer with key pub.
func (s *Server) History(pub [33]byte) PeerHistory {
	s.historyMu.Lock()
	defer s.historyMu.Unlock()
	h, ok := s.history[pub]
	if !ok {
		return PeerHistory{}
	}
	out := *h
	out.Errors = append([]peer.TimestampedError(nil), h.Errors...)
	return out
}

func (s *Server) historyOf(pub [33]byte) *PeerHistory {
	h, ok := s.history[pub]
	if !ok {
		h = &PeerHistory{}
		s.history[pub] = h
	}
	return h
}

func (s *Server) recordPeerError(p *peer.Peer, e peer.TimestampedError) {
	s.historyMu.Lock()
	defer s.historyMu.Unlock()
	h := s.historyOf(p.PubKey())
	h.Errors = append(h.Errors, e)
	if len(h.Errors) > maxHistoryErrors {
		h.Errors = h.Errors[len(h.Errors)-maxHistoryErrors:]
	}
}

func (s *Server) recordFlap(pub [33]byte) {
	s.historyMu.Lock()
	defer s.historyMu.Unlock()
	h := s.historyOf(pub)
	h.FlapCount++
	h.LastFlap = time.Now()
}
