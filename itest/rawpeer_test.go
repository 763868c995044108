package itest

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/brontide"
	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/lnwire"
)

// rawPeer is a hand-driven Lightning connection from the test process to a
// node: BOLT 8 transport, BOLT 1 messages written and read one by one.
type rawPeer struct {
	t    *testing.T
	conn *brontide.Conn
	pub  string
}

func dialRaw(t *testing.T, n *harness.Node) *rawPeer {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	check(t, err)
	raw, err := hex.DecodeString(n.PubKey())
	check(t, err)
	remote, err := btcec.ParsePubKey(raw)
	check(t, err)
	addr, err := net.ResolveTCPAddr("tcp", n.P2PAddr())
	check(t, err)
	conn, err := brontide.Dial(&brontide.PrivKeyECDH{PrivKey: key},
		&brontide.NetAddress{IdentityKey: remote, Address: addr}, 20*time.Second, nil)
	check(t, err)
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{t: t, conn: conn, pub: hex.EncodeToString(key.PubKey().SerializeCompressed())}
}

func (p *rawPeer) send(msg lnwire.Message) {
	p.t.Helper()
	b, err := lnwire.Serialize(msg)
	check(p.t, err)
	check(p.t, p.conn.WriteMessage(b))
}

// sendRaw sends a message of any type with the given payload.
func (p *rawPeer) sendRaw(msgType uint16, payload []byte) {
	p.t.Helper()
	b := binary.BigEndian.AppendUint16(nil, msgType)
	check(p.t, p.conn.WriteMessage(append(b, payload...)))
}

// errClosed: the node closed the connection.
var errClosed = errors.New("connection closed by the node")

// next reads messages until match accepts one (returned) or the node closes
// the connection (errClosed) or the deadline passes.
func (p *rawPeer) next(match func(lnwire.Message) bool) (lnwire.Message, error) {
	check(p.t, p.conn.SetReadDeadline(time.Now().Add(harness.SyncTimeout)))
	for {
		b, err := p.conn.ReadMessage()
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return nil, errClosed
		}
		if err != nil {
			return nil, err
		}
		msg, err := lnwire.ParseMessage(b)
		if err != nil {
			return nil, fmt.Errorf("node sent an unparsable message: %w", err)
		}
		if match(msg) {
			return msg, nil
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// xlndRequired are the feature bits xlnd requires of every peer.
var xlndRequired = []lnwire.FeatureBit{
	lnwire.DataLossProtectRequired,
	lnwire.TLVOnionPayloadRequired,
	lnwire.StaticRemoteKeyRequired,
	lnwire.PaymentAddrRequired,
	lnwire.ChannelTypeRequired,
}

func regtestChain() chainhash.Hash { return *regtest.Params.GenesisHash }

// TestRawPeerInit talks BOLT 1 to a node by hand: a valid init, or one
// leaving out the features BOLT 9 ASSUMED, gets the node's init and pongs;
// an init for another chain only, or one requiring a feature the node does
// not know, gets an error and the connection closed; after init, an unknown odd
// message is ignored and an unknown even one closes the connection; a peer
// that never sends init is dropped.
func TestRawPeerInit(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	node := startNode(t, nw, "alice")

	isInit := func(m lnwire.Message) bool { _, ok := m.(*lnwire.Init); return ok }
	isPong := func(m lnwire.Message) bool { _, ok := m.(*lnwire.Pong); return ok }
	isError := func(m lnwire.Message) bool { _, ok := m.(*lnwire.Error); return ok }

	// handshake sends init and checks the node's.
	handshake := func(t *testing.T, p *rawPeer, init *lnwire.Init) {
		t.Helper()
		p.send(init)
		msg, err := p.next(isInit)
		check(t, err)
		theirs := msg.(*lnwire.Init)
		fv := theirs.AllFeatures()
		for _, b := range xlndRequired {
			if !fv.HasFeature(b) || !fv.RequiresFeature(b) {
				t.Errorf("node's init does not require %v", b)
			}
		}
		if len(theirs.Networks) != 1 || theirs.Networks[0] != regtestChain() {
			t.Errorf("node's init networks %v, want regtest's genesis", theirs.Networks)
		}
	}
	ping := func(t *testing.T, p *rawPeer, n uint16) {
		t.Helper()
		p.send(&lnwire.Ping{NumPongBytes: n, Padding: make([]byte, 3)})
		msg, err := p.next(isPong)
		check(t, err)
		if got := len(msg.(*lnwire.Pong).Padding); got != int(n) {
			t.Errorf("pong with %d bytes, want %d", got, n)
		}
	}
	good := func() *lnwire.Init {
		return &lnwire.Init{
			GlobalFeatures: lnwire.NewRawFeatureVector(),
			Features:       lnwire.NewRawFeatureVector(xlndRequired...),
			Networks:       []chainhash.Hash{regtestChain()},
		}
	}

	t.Run("valid init, ping, unknown odd then even message", func(t *testing.T) {
		p := dialRaw(t, node)
		handshake(t, p, good())
		check(t, node.WaitPeer(p.pub))
		peer, err := node.Peer(p.pub)
		check(t, err)
		if f, ok := peer.Features[uint32(lnwire.ChannelTypeRequired)]; !ok || !f.IsRequired {
			t.Errorf("node lists our features as %v", peer.Features)
		}
		ping(t, p, 7)

		p.sendRaw(32001, []byte{1, 2, 3}) // unknown odd: ignore it
		ping(t, p, 0)
		p.sendRaw(32000, []byte{1, 2, 3}) // unknown even: close
		if _, err := p.next(func(lnwire.Message) bool { return false }); !errors.Is(err, errClosed) {
			t.Errorf("after an unknown even message: %v, want the connection closed", err)
		}
		check(t, node.WaitNoPeer(p.pub))
	})

	t.Run("warning and error shown in listpeers and logged", func(t *testing.T) {
		p := dialRaw(t, node)
		handshake(t, p, good())
		check(t, node.WaitPeer(p.pub))
		p.send(&lnwire.Warning{Data: []byte("itest warning 1")})
		err := harness.WaitFor(func() error {
			peer, err := node.Peer(p.pub)
			if err != nil {
				return err
			}
			if peer == nil {
				return errors.New("peer gone after a warning")
			}
			for _, e := range peer.Errors {
				if strings.Contains(e.Error, "itest warning 1") {
					return nil
				}
			}
			return fmt.Errorf("listpeers errors: %v", peer.Errors)
		}, harness.SyncTimeout)
		check(t, err)
		// A warning fails nothing: the connection stays.
		ping(t, p, 1)

		p.send(&lnwire.Error{Data: []byte("itest error 2")})
		_, err = node.WaitLogLine(harness.SyncTimeout, "Received error from peer", "itest error 2")
		check(t, err)
	})

	// Every feature xlnd requires is ASSUMED by BOLT 9 (a node may leave
	// it unset): a peer that sets none of them is accepted.
	t.Run("no features at all", func(t *testing.T) {
		p := dialRaw(t, node)
		init := good()
		init.Features = lnwire.NewRawFeatureVector()
		handshake(t, p, init)
		check(t, node.WaitPeer(p.pub))
		ping(t, p, 2)
	})

	t.Run("silent peer dropped after the init timeout", func(t *testing.T) {
		p := dialRaw(t, node)
		// Read the node's init but send none back: the node must not
		// wait forever (peer.DefaultInitTimeout is 15 s).
		if _, err := p.next(isInit); err != nil {
			t.Fatalf("no init from the node: %v", err)
		}
		if _, err := p.next(func(lnwire.Message) bool { return false }); !errors.Is(err, errClosed) {
			t.Errorf("a peer that sends no init: %v, want the connection closed", err)
		}
	})

	refused := []struct {
		name string
		init func() *lnwire.Init
	}{
		{"another chain only", func() *lnwire.Init {
			i := good()
			i.Networks = []chainhash.Hash{*chaincfg.MainNetParams.GenesisHash}
			return i
		}},
		{"requiring an unknown feature", func() *lnwire.Init {
			i := good()
			i.Features.Set(lnwire.FeatureBit(100))
			return i
		}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			p := dialRaw(t, node)
			p.send(tc.init())
			msg, err := p.next(isError)
			if err != nil {
				t.Fatalf("no error message from the node: %v", err)
			}
			t.Logf("node's error: %q", msg.(*lnwire.Error).Data)
			if _, err := p.next(func(lnwire.Message) bool { return false }); !errors.Is(err, errClosed) {
				t.Errorf("after the error: %v, want the connection closed", err)
			}
			check(t, node.WaitNoPeer(p.pub))
		})
	}
}
