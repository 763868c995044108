package peer

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire"
)

// Errors callers branch on.
var (
	// ErrIncompatible: the peer's init asked for something we cannot give
	// (an unknown required feature, no common chain) or lacks a feature we
	// require. An error message was sent to the peer before disconnecting.
	ErrIncompatible = errors.New("incompatible peer")

	// ErrPingTimeout: no pong arrived in time.
	ErrPingTimeout = errors.New("ping timeout")

	// ErrPeerExiting: the peer is disconnecting or gone.
	ErrPeerExiting = errors.New("peer exiting")

	// ErrRemoteError: the peer sent an error during the init exchange.
	ErrRemoteError = errors.New("peer sent an error")
)

// Defaults for the zero values of Config.
const (
	DefaultInitTimeout  = 15 * time.Second
	DefaultPingInterval = time.Minute
	// DefaultPongTimeout is generous on purpose: a peer under load may
	// answer slowly, and a slow pong must not cost the connection.
	DefaultPongTimeout  = 90 * time.Second
	DefaultWriteTimeout = 50 * time.Second

	// maxPongBytes is the largest num_pong_bytes we answer (BOLT 1).
	maxPongBytes = 65531

	// maxErrors is how many received errors and warnings are kept for
	// ListPeers.
	maxErrors = 20

	sendQueueLen = 256

	// pongBurst pongs may be sent at once, and one more every pongRefill:
	// ample for any honest peer (BOLT 1 expects about one ping per 30 s).
	pongBurst  = 10
	pongRefill = 10 * time.Second
)

// Conn is the transport of a peer; *brontide.Conn satisfies it.
type Conn interface {
	ReadMessage() ([]byte, error)
	WriteMessage([]byte) error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	RemoteAddr() net.Addr
	RemotePub() *btcec.PublicKey
	Close() error
}

// Config is what a Peer needs from the node.
type Config struct {
	Conn Conn

	// Inbound says the remote node dialed us.
	Inbound bool

	// Address is the address the peer is known at: the one dialed, or the
	// remote address of an inbound connection.
	Address net.Addr

	// Features is the feature vector we send in init.
	Features *lnwire.RawFeatureVector

	// Required lists the features the peer must support (either bit of
	// each pair), as the required bit. Features BOLT 9 marks ASSUMED are
	// taken as supported even when the peer leaves them unset.
	Required []lnwire.FeatureBit

	// ChainHash is the genesis hash of our chain, sent in init's networks
	// and checked against the peer's.
	ChainHash chainhash.Hash

	InitTimeout  time.Duration
	PingInterval time.Duration
	PongTimeout  time.Duration
	WriteTimeout time.Duration

	// OnMessage receives every message the peer itself does not handle
	// (everything but init, ping, pong, warning, error and unknown odd
	// messages). It is called from the read loop: it must not block for
	// long. Nil drops them.
	OnMessage func(p *Peer, msg lnwire.Message)

	// OnError is told of every error or warning the peer sends, after it
	// is recorded. Nil ignores them.
	OnError func(p *Peer, e TimestampedError)

	Logger *slog.Logger
}

// TimestampedError is a warning or error received from the peer.
type TimestampedError struct {
	Time    time.Time
	Warning bool
	ChanID  lnwire.ChannelID
	Message string
}

// Stats is a snapshot of a peer's counters.
type Stats struct {
	BytesSent, BytesRecv uint64
	MsgsSent, MsgsRecv   uint64
	// PingTime is the round trip of the last answered ping.
	PingTime time.Duration
	// LastPingPayload is the padding of the last pong received.
	LastPingPayload []byte
	ConnectedAt     time.Time
}

// Peer is one connected and initialised remote node.
type Peer struct {
	cfg    Config
	log    *slog.Logger
	pubKey *btcec.PublicKey
	pub    [33]byte

	remoteFeatures *lnwire.FeatureVector

	sendQueue chan []byte
	pongs     chan *lnwire.Pong

	// pongBudget is touched by the read loop only.
	pongBudget tokenBucket

	bytesSent, bytesRecv atomic.Uint64
	msgsSent, msgsRecv   atomic.Uint64
	pingTime             atomic.Int64

	mu              sync.Mutex
	errs            []TimestampedError
	lastPingPayload []byte
	connectedAt     time.Time

	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	stopErr  error
	wg       sync.WaitGroup
}

// New wraps an established transport. Nothing is sent until Start.
func New(cfg Config) *Peer {
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PongTimeout == 0 {
		cfg.PongTimeout = DefaultPongTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Address == nil {
		cfg.Address = cfg.Conn.RemoteAddr()
	}
	pub := cfg.Conn.RemotePub()
	p := &Peer{
		cfg:        cfg,
		pubKey:     pub,
		sendQueue:  make(chan []byte, sendQueueLen),
		pongBudget: tokenBucket{tokens: pongBurst, max: pongBurst, every: pongRefill},
		pongs:      make(chan *lnwire.Pong, 1),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	copy(p.pub[:], pub.SerializeCompressed())
	p.log = cfg.Logger.With("peer", fmt.Sprintf("%x@%v", p.pub, cfg.Address))
	return p
}

// PubKey is the peer's identity key.
func (p *Peer) PubKey() [33]byte { return p.pub }

// IdentityKey is the peer's identity key, parsed.
func (p *Peer) IdentityKey() *btcec.PublicKey { return p.pubKey }

// Address is the address the peer is known at.
func (p *Peer) Address() net.Addr { return p.cfg.Address }

// Inbound says the remote node dialed us.
func (p *Peer) Inbound() bool { return p.cfg.Inbound }

// RemoteFeatures is the feature vector the peer sent in init (nil before
// Start succeeded).
func (p *Peer) RemoteFeatures() *lnwire.FeatureVector { return p.remoteFeatures }

// Start sends our init, reads and checks the peer's, and starts the
// connection's goroutines. On error the connection is closed and the Peer
// is done.
func (p *Peer) Start() error {
	if err := p.exchangeInit(); err != nil {
		p.shutdown(err)
		close(p.done)
		return err
	}
	p.mu.Lock()
	p.connectedAt = time.Now()
	p.mu.Unlock()

	p.wg.Add(3)
	go p.readLoop()
	go p.writeLoop()
	go p.pingLoop()
	go func() {
		p.wg.Wait()
		close(p.done)
	}()
	p.log.Info("Peer connected", "inbound", p.cfg.Inbound,
		"features", featureNames(p.remoteFeatures))
	return nil
}

// exchangeInit sends init, then waits for the peer's (BOLT 1: init is the
// first message each side sends).
func (p *Peer) exchangeInit() error {
	ours := &lnwire.Init{
		GlobalFeatures: lnwire.NewRawFeatureVector(),
		Features:       p.cfg.Features,
		Networks:       []chainhash.Hash{p.cfg.ChainHash},
	}
	if err := p.writeDirect(ours); err != nil {
		return fmt.Errorf("send init: %w", err)
	}

	if err := p.cfg.Conn.SetReadDeadline(time.Now().Add(p.cfg.InitTimeout)); err != nil {
		return err
	}
	msg, err := p.readMessage()
	if err != nil {
		return fmt.Errorf("read init: %w", err)
	}
	if err := p.cfg.Conn.SetReadDeadline(time.Time{}); err != nil {
		return err
	}

	var theirs *lnwire.Init
	switch m := msg.(type) {
	case *lnwire.Init:
		theirs = m
	case *lnwire.Error:
		p.recordError(false, m.ChanID, m.Data)
		return fmt.Errorf("%w before init: %s", ErrRemoteError, printable(m.Data))
	case *lnwire.Warning:
		p.recordError(true, m.ChanID, m.Data)
		return fmt.Errorf("%w (warning) before init: %s", ErrRemoteError, printable(m.Data))
	default:
		return fmt.Errorf("first message is %v, not init", msg.MsgType())
	}

	if err := p.checkInit(theirs); err != nil {
		// Tell the peer why before hanging up; all-zero channel_id is
		// right here, as no channel can exist on a connection that
		// never initialised.
		_ = p.writeDirect(&lnwire.Error{Data: []byte(err.Error())})
		return fmt.Errorf("%w: %v", ErrIncompatible, err)
	}
	return nil
}

// checkInit applies BOLT 1's and BOLT 9's rules to the peer's init.
func (p *Peer) checkInit(m *lnwire.Init) error {
	// BOLT 1: the legacy global features count as local ones.
	fv := m.AllFeatures()
	p.remoteFeatures = fv

	// A required bit is "unknown" to us unless we implement it, which is
	// exactly when we advertise either bit of its pair.
	ours := lnwire.NewFeatureVector(p.cfg.Features)
	var unknown []string
	for _, bit := range fv.Bits() {
		if bit.IsRequired() && !ours.HasFeature(bit) {
			unknown = append(unknown, fmt.Sprintf("%d (%s)", bit, bit.Name()))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("peer requires features we do not support: %s",
			strings.Join(unknown, ", "))
	}
	// Dependencies are checked with the ASSUMED features taken as set,
	// for the same reason.
	withAssumed := fv.RawFeatureVector.Clone()
	for _, bit := range p.cfg.Required {
		if lnwire.IsAssumedFeature(bit) && !fv.HasFeature(bit) {
			withAssumed.Set(bit.Optional())
		}
	}
	if err := lnwire.ValidateDeps(withAssumed); err != nil {
		return fmt.Errorf("peer's features: %w", err)
	}
	for _, bit := range p.cfg.Required {
		// BOLT 9 marks features every node has had for years as
		// ASSUMED: a peer may leave them unset and still support them.
		if lnwire.IsAssumedFeature(bit) {
			continue
		}
		if !fv.HasFeature(bit) {
			return fmt.Errorf("peer lacks required feature %s", fv.Name(bit))
		}
	}
	if len(m.Networks) > 0 {
		common := false
		for _, h := range m.Networks {
			if h == p.cfg.ChainHash {
				common = true
				break
			}
		}
		if !common {
			return fmt.Errorf("no common chain: we are on %v", p.cfg.ChainHash)
		}
	}
	return nil
}

// SendMessage queues msgs for the peer, in order. It returns once they are
// queued, not sent; ErrPeerExiting if the peer is going away.
func (p *Peer) SendMessage(msgs ...lnwire.Message) error {
	for _, msg := range msgs {
		b, err := encode(msg)
		if err != nil {
			return err
		}
		if isClosed(p.quit) {
			return ErrPeerExiting
		}
		select {
		case p.sendQueue <- b:
		case <-p.quit:
			return ErrPeerExiting
		}
	}
	return nil
}

// Disconnect closes the connection; reason is what Done's consumers see in
// Err. Safe to call more than once and from any goroutine.
func (p *Peer) Disconnect(reason error) {
	p.shutdown(reason)
}

// Stop disconnects and waits for every goroutine of the peer to exit.
func (p *Peer) Stop() {
	p.shutdown(ErrPeerExiting)
	<-p.done
}

// Done is closed once the peer is disconnected and its goroutines are gone.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err is why the peer disconnected (valid after Done).
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopErr
}

func (p *Peer) shutdown(reason error) {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.stopErr = reason
		p.mu.Unlock()
		close(p.quit)
		p.cfg.Conn.Close()
		if reason != nil && !errors.Is(reason, ErrPeerExiting) {
			p.log.Info("Peer disconnected", "reason", reason)
		}
	})
}

// Stats returns a snapshot of the counters.
func (p *Peer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		BytesSent:       p.bytesSent.Load(),
		BytesRecv:       p.bytesRecv.Load(),
		MsgsSent:        p.msgsSent.Load(),
		MsgsRecv:        p.msgsRecv.Load(),
		PingTime:        time.Duration(p.pingTime.Load()),
		LastPingPayload: append([]byte(nil), p.lastPingPayload...),
		ConnectedAt:     p.connectedAt,
	}
}

// Errors returns the errors and warnings received, oldest first.
func (p *Peer) Errors() []TimestampedError {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]TimestampedError(nil), p.errs...)
}

func (p *Peer) recordError(warning bool, chanID lnwire.ChannelID, data []byte) {
	e := TimestampedError{
		Time:    time.Now(),
		Warning: warning,
		ChanID:  chanID,
		Message: printable(data),
	}
	p.mu.Lock()
	p.errs = append(p.errs, e)
	if len(p.errs) > maxErrors {
		p.errs = p.errs[len(p.errs)-maxErrors:]
	}
	p.mu.Unlock()

	kind := "error"
	if warning {
		kind = "warning"
	}
	p.log.Warn("Received "+kind+" from peer", "chan_id", chanID, "message", e.Message)
	if p.cfg.OnError != nil {
		p.cfg.OnError(p, e)
	}
}

// readMessage reads and decodes one message, counting it.
func (p *Peer) readMessage() (lnwire.Message, error) {
	b, err := p.cfg.Conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	p.bytesRecv.Add(uint64(len(b)))
	p.msgsRecv.Add(1)
	msg, err := lnwire.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return nil, &decodeError{err: err}
	}
	return msg, nil
}

// decodeError is a message that arrived whole but did not parse, as
// opposed to a transport failure.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "malformed message: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// writeDirect sends msg outside the write loop: during init, and for the
// error or warning that ends a connection, which must go out before the
// close rather than wait in the queue. The transport serialises writers.
func (p *Peer) writeDirect(msg lnwire.Message) error {
	b, err := encode(msg)
	if err != nil {
		return err
	}
	return p.write(b)
}

func (p *Peer) write(b []byte) error {
	if err := p.cfg.Conn.SetWriteDeadline(time.Now().Add(p.cfg.WriteTimeout)); err != nil {
		return err
	}
	if err := p.cfg.Conn.WriteMessage(b); err != nil {
		return err
	}
	p.bytesSent.Add(uint64(len(b)))
	p.msgsSent.Add(1)
	return nil
}

func (p *Peer) readLoop() {
	defer p.wg.Done()
	for {
		msg, err := p.readMessage()
		if err != nil {
			if errors.Is(err, lnwire.ErrUnknownRequiredMessage) {
				// BOLT 1: an unknown even message closes the
				// connection; say why first.
				_ = p.writeDirect(&lnwire.Warning{
					Data: []byte(err.Error()),
				})
				p.shutdown(fmt.Errorf("peer sent %w", err))
				return
			}
			if isClosed(p.quit) {
				return
			}
			var derr *decodeError
			if errors.As(err, &derr) {
				// A message we could not parse: warn, then
				// hang up (BOLT 1 allows closing).
				_ = p.writeDirect(&lnwire.Warning{
					Data: []byte(derr.Error()),
				})
			}
			p.shutdown(fmt.Errorf("read: %w", err))
			return
		}

		switch m := msg.(type) {
		case *lnwire.Ping:
			if m.NumPongBytes > maxPongBytes {
				continue
			}
			if !p.pongBudget.take(time.Now()) {
				// A peer pinging far more than BOLT 1's
				// once per 30 s could make us send up to
				// 64 KiB per 6-byte ping; ignore the excess.
				p.log.Debug("Ping ignored: peer pings too often")
				continue
			}
			pong := lnwire.NewPong(m.NumPongBytes)
			if err := p.SendMessage(pong); err != nil {
				return
			}
		case *lnwire.Pong:
			select {
			case p.pongs <- m:
			default:
				// No ping outstanding; an unsolicited pong is
				// harmless.
			}
		case *lnwire.Error:
			p.recordError(false, m.ChanID, m.Data)
			// The owner of the channel it names (funding, for a
			// channel being opened) must hear of it too.
			if p.cfg.OnMessage != nil {
				p.cfg.OnMessage(p, msg)
			}
		case *lnwire.Warning:
			p.recordError(true, m.ChanID, m.Data)
		case *lnwire.Init:
			p.log.Warn("Peer sent a second init; ignored")
		case *lnwire.UnknownMessage:
			// It's OK to be odd (BOLT 1).
			p.log.Debug("Ignoring unknown odd message", "type", m.Type)
		default:
			if p.cfg.OnMessage != nil {
				p.cfg.OnMessage(p, msg)
			} else {
				p.log.Debug("No handler for message; dropped", "type", msg.MsgType())
			}
		}
	}
}

func (p *Peer) writeLoop() {
	defer p.wg.Done()
	for {
		select {
		case b := <-p.sendQueue:
			if err := p.write(b); err != nil {
				p.shutdown(fmt.Errorf("write: %w", err))
				return
			}
		case <-p.quit:
			return
		}
	}
}

// pingLoop sends a ping every PingInterval and disconnects when its pong is
// more than PongTimeout late.
func (p *Peer) pingLoop() {
	defer p.wg.Done()
	ticker := time.NewTicker(p.cfg.PingInterval)
	defer ticker.Stop()

	var (
		outstanding bool
		sentAt      time.Time
		wantBytes   uint16
		deadline    = time.NewTimer(time.Hour)
	)
	deadline.Stop()
	defer deadline.Stop()

	for {
		select {
		case <-ticker.C:
			if outstanding {
				// Still waiting; the deadline timer decides.
				continue
			}
			wantBytes = randomPongBytes()
			ping := &lnwire.Ping{NumPongBytes: wantBytes}
			if err := p.SendMessage(ping); err != nil {
				return
			}
			outstanding, sentAt = true, time.Now()
			deadline.Reset(p.cfg.PongTimeout)

		case pong := <-p.pongs:
			if !outstanding {
				continue
			}
			outstanding = false
			deadline.Stop()
			rtt := time.Since(sentAt)
			p.pingTime.Store(int64(rtt))
			p.mu.Lock()
			p.lastPingPayload = append([]byte(nil), pong.Padding...)
			p.mu.Unlock()
			if len(pong.Padding) != int(wantBytes) {
				p.log.Debug("Pong of unexpected length",
					"want", wantBytes, "got", len(pong.Padding))
			}

		case <-deadline.C:
			p.shutdown(fmt.Errorf("%w: no pong after %v", ErrPingTimeout,
				p.cfg.PongTimeout))
			return

		case <-p.quit:
			return
		}
	}
}

func randomPongBytes() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint16(b[:]) % 256
}

func encode(msg lnwire.Message) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := lnwire.WriteMessage(&buf, msg); err != nil {
		return nil, fmt.Errorf("encode %v: %w", msg.MsgType(), err)
	}
	return buf.Bytes(), nil
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// printable renders a peer's error data for logs and RPC: text as is,
// anything else in hex, never more than 512 characters.
func printable(data []byte) string {
	const max = 512
	ok := true
	for _, c := range data {
		if c < 0x20 && c != '\n' && c != '\t' || c > 0x7e {
			ok = false
			break
		}
	}
	s := string(data)
	if !ok {
		s = fmt.Sprintf("%x", data)
	}
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// featureNames renders a feature vector for logs: "name(bit)" pairs.
func featureNames(fv *lnwire.FeatureVector) string {
	var parts []string
	for _, b := range fv.Bits() {
		parts = append(parts, fmt.Sprintf("%s(%d)", b.Name(), b))
	}
	return strings.Join(parts, " ")
}

// tokenBucket allows max events at once and one more every interval.
type tokenBucket struct {
	tokens, max int
	every       time.Duration
	last        time.Time
}

// take spends a token if one is left at now.
func (b *tokenBucket) take(now time.Time) bool {
	if b.last.IsZero() {
		b.last = now
	}
	if earned := int(now.Sub(b.last) / b.every); earned > 0 {
		b.tokens = min(b.max, b.tokens+earned)
		b.last = b.last.Add(time.Duration(earned) * b.every)
	}
	if b.tokens == 0 {
		return false
	}
	b.tokens--
	return true
}
