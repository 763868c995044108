package swarm

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/brontide"
	"lnd.xprv/lnwire"
)

// node is the other end of the swarm's connections, over a real
// brontide listener: it sends init (or, if refuse, hangs up at once),
// reads the peer's and hands the connection to the test.
type node struct {
	key   *btcec.PrivateKey
	l     *brontide.Listener
	conns chan *brontide.Conn
}

func newNode(t *testing.T, refuse bool) *node {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := brontide.NewListener(&brontide.PrivKeyECDH{PrivKey: key}, inner)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{key: key, l: l, conns: make(chan *brontide.Conn, 100)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.AcceptConn()
			if err != nil {
				return
			}
			if refuse {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close() })
			send(t, c, &lnwire.Init{GlobalFeatures: lnwire.NewRawFeatureVector(),
				Features: lnwire.NewRawFeatureVector()})
			if _, ok := read(t, c).(*lnwire.Init); !ok {
				t.Error("peer's first message is not init")
			}
			n.conns <- c
		}
	}()
	return n
}

func (n *node) config() Config {
	return Config{Addr: n.l.Addr().String(), NodeKey: n.key.PubKey(), Chain: chainhash.Hash{1}}
}

func send(t *testing.T, c *brontide.Conn, msg lnwire.Message) {
	b, err := lnwire.Serialize(msg)
	if err == nil {
		err = c.WriteMessage(b)
	}
	if err != nil {
		t.Error(err)
	}
}

func read(t *testing.T, c *brontide.Conn) lnwire.Message {
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Error(err)
		return nil
	}
	b, err := c.ReadMessage()
	if err != nil {
		t.Error(err)
		return nil
	}
	msg, err := lnwire.ParseMessage(b)
	if err != nil {
		t.Error(err)
	}
	return msg
}

// TestSwarmPings: every peer completes init with its own key, answers
// pings with the pong asked for, ignores other messages, and counts as
// disconnected once the node hangs up.
func TestSwarmPings(t *testing.T) {
	const n = 5
	nd := newNode(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Connect(ctx, nd.config(), n)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := make(map[string]bool)
	for _, k := range s.PubKeys() {
		keys[k] = true
	}
	if len(keys) != n {
		t.Fatalf("%d distinct keys among %d peers", len(keys), n)
	}
	var conns []*brontide.Conn
	for range n {
		c := <-nd.conns
		conns = append(conns, c)
		send(t, c, &lnwire.Warning{Data: []byte("ignored")})
		send(t, c, &lnwire.Ping{NumPongBytes: 7, Padding: make([]byte, 3)})
		pong, ok := read(t, c).(*lnwire.Pong)
		if !ok || len(pong.Padding) != 7 {
			t.Fatalf("answer to a ping for 7 bytes: %v", pong)
		}
	}
	if up, err := s.Connected(); up != n || err != nil {
		t.Fatalf("%d of %d connected (%v)", up, n, err)
	}
	conns[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		up, err := s.Connected()
		if up == n-1 && err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the node hung up on one: %d connected (%v)", up, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSwarmRefused: a node that hangs up before init fails Connect with
// ErrNoInit.
func TestSwarmRefused(t *testing.T) {
	nd := newNode(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Connect(ctx, nd.config(), 2)
	if !errors.Is(err, ErrNoInit) {
		t.Fatalf("Connect to a refusing node: %v, want %v", err, ErrNoInit)
	}
}
