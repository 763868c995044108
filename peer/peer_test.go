package peer

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire"
)

// pipeConn is one end of an in-memory message pipe: a unit-test stand-in
// for brontide.Conn (the transport has its own tests).
type pipeConn struct {
	in     chan []byte
	out    chan []byte
	pub    *btcec.PublicKey
	closed chan struct{}
	once   *sync.Once // shared by both ends, like closed

	mu           sync.Mutex
	readDeadline time.Time
}

func newPipe(t *testing.T) (local, remote *pipeConn) {
	ka, _ := btcec.NewPrivateKey()
	kb, _ := btcec.NewPrivateKey()
	ab, ba := make(chan []byte, 64), make(chan []byte, 64)
	closed, once := make(chan struct{}), new(sync.Once)
	local = &pipeConn{in: ba, out: ab, pub: kb.PubKey(), closed: closed, once: once}
	remote = &pipeConn{in: ab, out: ba, pub: ka.PubKey(), closed: closed, once: once}
	return local, remote
}

func (c *pipeConn) ReadMessage() ([]byte, error) {
	c.mu.Lock()
	dl := c.readDeadline
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		timeout = time.After(time.Until(dl))
	}
	select {
	case b := <-c.in:
		return b, nil
	case <-c.closed:
		return nil, io.EOF
	case <-timeout:
		return nil, errors.New("read deadline")
	}
}

func (c *pipeConn) WriteMessage(b []byte) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	select {
	case c.out <- append([]byte(nil), b...):
		return nil
	case <-c.closed:
		return net.ErrClosed
	}
}

func (c *pipeConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return nil
}
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }
func (c *pipeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9735} }
func (c *pipeConn) RemotePub() *btcec.PublicKey      { return c.pub }
func (c *pipeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// remote scripts the other side of the pipe.
type remote struct {
	t    *testing.T
	conn *pipeConn
}

func (r *remote) send(msg lnwire.Message) {
	r.t.Helper()
	var buf bytes.Buffer
	if _, err := lnwire.WriteMessage(&buf, msg); err != nil {
		r.t.Fatal(err)
	}
	r.sendRaw(buf.Bytes())
}

func (r *remote) sendRaw(b []byte) {
	select {
	case r.conn.out <- b:
	case <-r.conn.closed:
	}
}

// recv returns the next message from the peer, or nil if the connection
// closed.
func (r *remote) recv() lnwire.Message {
	r.t.Helper()
	// Messages written before a close are still delivered.
	select {
	case b := <-r.conn.in:
		return r.decode(b)
	default:
	}
	select {
	case b := <-r.conn.in:
		return r.decode(b)
	case <-r.conn.closed:
		// Both may have become ready at once: select picks either.
		select {
		case b := <-r.conn.in:
			return r.decode(b)
		default:
			return nil
		}
	case <-time.After(5 * time.Second):
		r.t.Fatal("no message from the peer")
		return nil
	}
}

func (r *remote) decode(b []byte) lnwire.Message {
	r.t.Helper()
	msg, err := lnwire.ReadMessage(bytes.NewReader(b))
	if err != nil {
		r.t.Fatal(err)
	}
	return msg
}

var (
	regtest  = *chaincfg.RegressionNetParams.GenesisHash
	ourFeats = []lnwire.FeatureBit{
		lnwire.DataLossProtectRequired, lnwire.TLVOnionPayloadRequired,
		lnwire.StaticRemoteKeyRequired, lnwire.PaymentAddrRequired,
		lnwire.ChannelTypeRequired, lnwire.GossipQueriesOptional,
		lnwire.AnchorsZeroFeeHtlcTxOptional,
	}
)

func goodInit() *lnwire.Init {
	return &lnwire.Init{
		GlobalFeatures: lnwire.NewRawFeatureVector(),
		Features:       lnwire.NewRawFeatureVector(ourFeats...),
		Networks:       []chainhash.Hash{regtest},
	}
}

func newTestPeer(t *testing.T, mod func(*Config)) (*Peer, *remote) {
	local, rc := newPipe(t)
	cfg := Config{
		Conn:        local,
		Features:    lnwire.NewRawFeatureVector(ourFeats...),
		Required:    append(ourFeats[:5:5], lnwire.AnchorsZeroFeeHtlcTxRequired),
		ChainHash:   regtest,
		InitTimeout: 2 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	p := New(cfg)
	t.Cleanup(func() { p.Disconnect(ErrPeerExiting) })
	return p, &remote{t: t, conn: rc}
}

// startWith runs Start while the remote answers with theirs.
func startWith(t *testing.T, p *Peer, r *remote, theirs lnwire.Message) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- p.Start() }()
	if _, ok := r.recv().(*lnwire.Init); !ok {
		t.Fatal("peer did not send init first")
	}
	r.send(theirs)
	return <-errc
}

func TestInitRules(t *testing.T) {
	// A peer may leave ASSUMED features unset (BOLT 9), even those
	// others depend on (payment_secret needs var_onion_optin).
	assumedOmitted := goodInit()
	for _, b := range []lnwire.FeatureBit{lnwire.DataLossProtectRequired,
		lnwire.TLVOnionPayloadRequired, lnwire.StaticRemoteKeyRequired,
		lnwire.ChannelTypeRequired} {
		assumedOmitted.Features.Unset(b)
	}

	// Lacking a feature we require that is not ASSUMED is refused.
	lacking := goodInit()
	lacking.Features.Unset(lnwire.AnchorsZeroFeeHtlcTxOptional)

	unknownEven := goodInit()
	unknownEven.Features.Set(lnwire.FeatureBit(100))

	unsupported := goodInit()
	unsupported.Features.Set(lnwire.DualFundRequired)

	unknownOdd := goodInit()
	unknownOdd.Features.Set(lnwire.FeatureBit(101))

	otherChain := goodInit()
	otherChain.Networks = []chainhash.Hash{*chaincfg.MainNetParams.GenesisHash}

	noNetworks := goodInit()
	noNetworks.Networks = nil

	// option_zeroconf needs option_scid_alias.
	badDeps := goodInit()
	badDeps.Features.Set(lnwire.ZeroConfOptional)

	// Legacy peers put some bits in globalfeatures.
	legacy := goodInit()
	legacy.Features.Unset(lnwire.DataLossProtectRequired)
	legacy.GlobalFeatures.Set(lnwire.DataLossProtectRequired)

	cases := []struct {
		name    string
		theirs  lnwire.Message
		wantErr string
	}{
		{"good", goodInit(), ""},
		{"unknown odd bit tolerated", unknownOdd, ""},
		{"no networks", noNetworks, ""},
		{"legacy global features", legacy, ""},
		{"assumed features omitted", assumedOmitted, ""},
		{"lacks required", lacking, "lacks required feature option_anchors"},
		{"unknown even bit", unknownEven, "do not support: 100"},
		{"known but unsupported even bit", unsupported, "option_dual_fund"},
		{"other chain", otherChain, "no common chain"},
		{"broken dependencies", badDeps, "option_scid_alias"},
		{"error instead of init", &lnwire.Error{Data: []byte("go away")}, "go away"},
		{"other message first", &lnwire.Ping{NumPongBytes: 1}, "not init"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, r := newTestPeer(t, nil)
			err := startWith(t, p, r, c.theirs)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Start = %v, want an error containing %q", err, c.wantErr)
			}
			if _, isInit := c.theirs.(*lnwire.Init); isInit {
				if !errors.Is(err, ErrIncompatible) {
					t.Fatalf("not ErrIncompatible: %v", err)
				}
				// We told the peer why, with an error.
				m, ok := r.recv().(*lnwire.Error)
				if !ok || !strings.Contains(string(m.Data), c.wantErr) {
					t.Fatalf("no error message sent, got %v", m)
				}
			}
			select {
			case <-p.Done():
			case <-time.After(time.Second):
				t.Fatal("failed peer not done")
			}
		})
	}
}

func TestInitTimeout(t *testing.T) {
	p, r := newTestPeer(t, func(c *Config) { c.InitTimeout = 100 * time.Millisecond })
	errc := make(chan error, 1)
	go func() { errc <- p.Start() }()
	r.recv() // our init; the remote stays silent
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("silent peer accepted")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start hung on a silent peer")
	}
}

func TestPingPongAndMessages(t *testing.T) {
	var got []lnwire.Message
	var mu sync.Mutex
	p, r := newTestPeer(t, func(c *Config) {
		c.OnMessage = func(_ *Peer, m lnwire.Message) {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
	})
	if err := startWith(t, p, r, goodInit()); err != nil {
		t.Fatal(err)
	}

	r.send(&lnwire.Ping{NumPongBytes: 10})
	pong, ok := r.recv().(*lnwire.Pong)
	if !ok || len(pong.Padding) != 10 {
		t.Fatalf("pong %+v", pong)
	}

	// num_pong_bytes ≥ 65532: no answer (BOLT 1). The next ping is
	// answered, so the first was skipped rather than delayed.
	r.send(&lnwire.Ping{NumPongBytes: 65532})
	r.send(&lnwire.Ping{NumPongBytes: 3})
	if pong, ok := r.recv().(*lnwire.Pong); !ok || len(pong.Padding) != 3 {
		t.Fatalf("pong %+v", pong)
	}

	// Unknown odd message: ignored, connection kept.
	r.sendRaw([]byte{0x80, 0x01, 0xde, 0xad})
	r.send(&lnwire.Warning{Data: []byte("careful")})
	r.send(&lnwire.Stfu{Initiator: true})
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stfu not routed to OnMessage")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := got[0].(*lnwire.Stfu); !ok {
		t.Fatalf("routed %T", got[0])
	}
	errs := p.Errors()
	if len(errs) != 1 || !errs[0].Warning || errs[0].Message != "careful" {
		t.Fatalf("errors %+v", errs)
	}
	if st := p.Stats(); st.MsgsRecv != 7 || st.MsgsSent != 3 {
		t.Fatalf("stats %+v", st)
	}

	// Unknown even message: a warning, then the connection closes.
	r.sendRaw([]byte{0x80, 0x00})
	if w, ok := r.recv().(*lnwire.Warning); !ok || w == nil {
		t.Fatalf("no warning before disconnect, got %T", w)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("peer kept a connection after an unknown even message")
	}
	if !errors.Is(p.Err(), lnwire.ErrUnknownRequiredMessage) {
		t.Fatalf("disconnect reason %v", p.Err())
	}
}

func TestTokenBucket(t *testing.T) {
	b := tokenBucket{tokens: 2, max: 2, every: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, false}, // the burst of 2
		{9 * time.Second, false}, // not yet a new token
		{10 * time.Second, true}, // one per interval
		{11 * time.Second, false},
		{time.Hour, true}, {time.Hour, true}, // a long quiet spell refills
		{time.Hour, false}, // to the burst, no more
	}
	for i, s := range steps {
		if got := b.take(t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d at +%v: take = %v, want %v", i, s.at, got, s.want)
		}
	}
}

// A ping flood is answered up to the budget, then ignored without a
// disconnect.
func TestPingFlood(t *testing.T) {
	p, r := newTestPeer(t, nil)
	if err := startWith(t, p, r, goodInit()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < pongBurst+5; i++ {
		r.send(&lnwire.Ping{NumPongBytes: 1000})
	}
	// A warning after the flood marks the end of what was read.
	r.send(&lnwire.Warning{Data: []byte("end")})
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Errors()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("flood not read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pongs := 0
	for {
		select {
		case b := <-r.conn.in:
			if msg, err := lnwire.ReadMessage(bytes.NewReader(b)); err == nil {
				if _, ok := msg.(*lnwire.Pong); ok {
					pongs++
				}
			}
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	if pongs != pongBurst {
		t.Fatalf("%d pongs for %d pings, want %d", pongs, pongBurst+5, pongBurst)
	}
	select {
	case <-p.Done():
		t.Fatal("a ping flood cost the connection")
	default:
	}
}

func TestMalformedMessage(t *testing.T) {
	p, r := newTestPeer(t, nil)
	if err := startWith(t, p, r, goodInit()); err != nil {
		t.Fatal(err)
	}
	// A ping cut short: type 18 with one byte of num_pong_bytes.
	r.sendRaw([]byte{0x00, 0x12, 0x00})
	w, ok := r.recv().(*lnwire.Warning)
	if !ok || !strings.Contains(string(w.Data), "malformed") {
		t.Fatalf("want a warning naming the malformed message, got %v", w)
	}
	<-p.Done()
}

func TestRemoteHangUp(t *testing.T) {
	p, r := newTestPeer(t, nil)
	if err := startWith(t, p, r, goodInit()); err != nil {
		t.Fatal(err)
	}
	r.conn.Close()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("peer not done after the remote hung up")
	}
	if !errors.Is(p.Err(), io.EOF) {
		t.Fatalf("reason %v", p.Err())
	}
}

func TestPongTimeout(t *testing.T) {
	p, r := newTestPeer(t, func(c *Config) {
		c.PingInterval = 20 * time.Millisecond
		// Wide enough for the remote to answer the first ping on a
		// loaded machine.
		c.PongTimeout = time.Second
	})
	if err := startWith(t, p, r, goodInit()); err != nil {
		t.Fatal(err)
	}
	// Answer the first ping, then go silent.
	ping, ok := r.recv().(*lnwire.Ping)
	if !ok {
		t.Fatalf("expected a ping, got %T", ping)
	}
	r.send(lnwire.NewPong(ping.NumPongBytes))
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect after a missing pong")
	}
	if !errors.Is(p.Err(), ErrPingTimeout) {
		t.Fatalf("reason %v", p.Err())
	}
	if p.Stats().PingTime <= 0 {
		t.Fatal("ping time of the answered ping not recorded")
	}
}

func TestSendAfterDisconnect(t *testing.T) {
	p, r := newTestPeer(t, nil)
	if err := startWith(t, p, r, goodInit()); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if err := p.SendMessage(&lnwire.Ping{}); !errors.Is(err, ErrPeerExiting) {
		t.Fatalf("send after stop: %v", err)
	}
}
