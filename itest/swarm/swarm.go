package swarm

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/brontide"
	"lnd.xprv/lnwire"
)

// ErrNoInit: the node sent something other than init first, or hung up
// before sending it.
var ErrNoInit = errors.New("node did not send init")

// DefaultFeatures are the feature bits a swarm peer requires in its
// init: those xlnd and lnd require of every peer (a peer lacking them is
// refused), nothing that would make the node start gossip queries.
var DefaultFeatures = []lnwire.FeatureBit{
	lnwire.DataLossProtectRequired,
	lnwire.TLVOnionPayloadRequired,
	lnwire.StaticRemoteKeyRequired,
	lnwire.PaymentAddrRequired,
	lnwire.ChannelTypeRequired,
}

// Config says which node to connect to and how.
type Config struct {
	// Addr is the node's peer address, host:port.
	Addr string

	// NodeKey is the node's identity key.
	NodeKey *btcec.PublicKey

	// Chain is the genesis hash sent in init's networks.
	Chain chainhash.Hash

	// Features are sent in init; nil means DefaultFeatures.
	Features []lnwire.FeatureBit

	// Parallel bounds the handshakes in flight; 0 means 8.
	Parallel int

	// Timeout bounds one connection's handshake and init; 0 means 30 s.
	Timeout time.Duration
}

// Swarm is a set of connected peers. Close disconnects them all.
type Swarm struct {
	cfg   Config
	mu    sync.Mutex
	peers []*peer
	wg    sync.WaitGroup
}

// peer is one connection and the goroutine answering its pings.
type peer struct {
	conn *brontide.Conn
	pub  string

	mu  sync.Mutex
	err error // why it disconnected; nil while connected
}

// Connect opens n connections to the node, each with a fresh identity
// key, and returns once every one has exchanged init. On error the peers
// connected so far are closed.
func Connect(ctx context.Context, cfg Config, n int) (*Swarm, error) {
	if cfg.Features == nil {
		cfg.Features = DefaultFeatures
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	s := &Swarm{cfg: cfg}
	if err := s.Add(ctx, n); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Add connects n more peers, cfg.Parallel at a time.
func (s *Swarm) Add(ctx context.Context, n int) error {
	addr, err := net.ResolveTCPAddr("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("swarm: %w", err)
	}
	remote := &brontide.NetAddress{IdentityKey: s.cfg.NodeKey, Address: addr}
	sem := make(chan struct{}, s.cfg.Parallel)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p, err := s.dial(ctx, remote)
			if err != nil {
				errs <- err
				return
			}
			s.mu.Lock()
			s.peers = append(s.peers, p)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				p.serve()
			}()
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) > 0 {
		return fmt.Errorf("swarm: %d of %d connections failed: %w", len(all), n,
			errors.Join(all...))
	}
	return nil
}

// dial connects one peer and exchanges init.
func (s *Swarm) dial(ctx context.Context, remote *brontide.NetAddress) (*peer, error) {
	key, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, err
	}
	conn, err := brontide.DialContext(ctx, &brontide.PrivKeyECDH{PrivKey: key},
		remote, s.cfg.Timeout, nil)
	if err != nil {
		return nil, err
	}
	p := &peer{conn: conn, pub: hex.EncodeToString(key.PubKey().SerializeCompressed())}
	if err := p.init(s.cfg); err != nil {
		conn.Close()
		return nil, fmt.Errorf("peer %s: %w", p.pub, err)
	}
	return p, nil
}

// init sends our init and reads the node's, answering a ping that comes
// first.
func (p *peer) init(cfg Config) error {
	ours := &lnwire.Init{
		GlobalFeatures: lnwire.NewRawFeatureVector(),
		Features:       lnwire.NewRawFeatureVector(cfg.Features...),
		Networks:       []chainhash.Hash{cfg.Chain},
	}
	if err := p.send(ours); err != nil {
		return fmt.Errorf("send init: %w", err)
	}
	if err := p.conn.SetReadDeadline(time.Now().Add(cfg.Timeout)); err != nil {
		return err
	}
	defer p.conn.SetReadDeadline(time.Time{})
	for {
		msg, err := p.read()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNoInit, err)
		}
		switch m := msg.(type) {
		case *lnwire.Init:
			return nil
		case *lnwire.Ping:
			if err := p.send(lnwire.NewPong(m.NumPongBytes)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: first message %v", ErrNoInit, msg.MsgType())
		}
	}
}

// serve answers pings until the connection ends.
func (p *peer) serve() {
	for {
		msg, err := p.read()
		if err != nil {
			p.setErr(err)
			return
		}
		ping, ok := msg.(*lnwire.Ping)
		if !ok || ping.NumPongBytes > lnwire.MaxPongBytes {
			continue
		}
		if err := p.send(lnwire.NewPong(ping.NumPongBytes)); err != nil {
			p.setErr(err)
			p.conn.Close()
			return
		}
	}
}

func (p *peer) read() (lnwire.Message, error) {
	b, err := p.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	msg, err := lnwire.ParseMessage(b)
	if err != nil {
		// A message this build cannot parse is no reason to hang up:
		// the peer reads nothing but init and pings.
		return &lnwire.UnknownMessage{}, nil
	}
	return msg, nil
}

func (p *peer) send(msg lnwire.Message) error {
	b, err := lnwire.Serialize(msg)
	if err != nil {
		return err
	}
	return p.conn.WriteMessage(b)
}

func (p *peer) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

func (p *peer) disconnected() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// PubKeys are the peers' identity keys, hex, in the order they connected.
func (s *Swarm) PubKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, len(s.peers))
	for i, p := range s.peers {
		keys[i] = p.pub
	}
	return keys
}

// Connected counts the peers whose connection is still up, and returns
// the first reason one went down.
func (s *Swarm) Connected() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := 0
	var first error
	for _, p := range s.peers {
		if err := p.disconnected(); err != nil {
			if first == nil {
				first = fmt.Errorf("peer %s: %w", p.pub, err)
			}
			continue
		}
		up++
	}
	return up, first
}

// Close disconnects every peer and waits for their goroutines.
func (s *Swarm) Close() {
	s.mu.Lock()
	for _, p := range s.peers {
		p.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
