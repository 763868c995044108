package funding

import (
	"reflect"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
)

// annSide is one node's announcement exchange with what it sent and
// what it completed.
type annSide struct {
	n    *node
	a    *Announcements
	st   *channeldb.OpenChannel
	mu   sync.Mutex
	out  []lnwire.Message
	anns []*lnwire.ChannelAnnouncement
}

func newAnnSide(t *testing.T, n *node, st *channeldb.OpenChannel) *annSide {
	t.Helper()
	s := &annSide{n: n, st: st}
	s.start(t)
	return s
}

func (s *annSide) start(t *testing.T) {
	t.Helper()
	s.a = NewAnnouncements(AnnounceConfig{
		ChainHash: *chaincfg.RegressionNetParams.GenesisHash,
		NodeKey:   [33]byte(s.n.key.PubKey().SerializeCompressed()),
		Wallet:    s.n.w, Chain: s.n.chain, DB: s.n.db,
		SendMessage: func(_ *btcec.PublicKey, msg lnwire.Message) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.out = append(s.out, msg)
			return nil
		},
		Announced: func(_ *channeldb.OpenChannel, ann *lnwire.ChannelAnnouncement) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.anns = append(s.anns, ann)
		},
	})
	t.Cleanup(s.a.Stop)
	if err := s.a.Track(s.st); err != nil {
		t.Fatal(err)
	}
}

func (s *annSide) sent() []lnwire.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.out
	s.out = nil
	return out
}

func (s *annSide) announced() []*lnwire.ChannelAnnouncement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*lnwire.ChannelAnnouncement(nil), s.anns...)
}

// exchange delivers what each side sent to the other until both are
// quiet, and returns how many messages went.
func exchange(a, b *annSide) int {
	n := 0
	for {
		ma, mb := a.sent(), b.sent()
		if len(ma)+len(mb) == 0 {
			return n
		}
		n += len(ma) + len(mb)
		for _, m := range ma {
			if s, ok := m.(*lnwire.AnnounceSignatures); ok {
				b.a.HandleMessage(a.n.pub(), s)
			}
		}
		for _, m := range mb {
			if s, ok := m.(*lnwire.AnnounceSignatures); ok {
				a.a.HandleMessage(b.n.pub(), s)
			}
		}
	}
}

// openForAnnouncement opens a channel between two nodes whose wallets
// hold their node keys, and returns both sides' exchanges.
func openForAnnouncement(t *testing.T) (*annSide, *annSide, *wire.MsgTx) {
	t.Helper()
	net, a, b := newPair(t)
	a.w.node, b.w.node = a.key, b.key
	ct := lnwallet.ChannelTypeAnchors
	_, tx := openToBroadcast(t, net, a, b, &ct)
	ca, cb := confirmAndReady(t, net, a, b, tx)
	sa, sb := newAnnSide(t, a, ca.State()), newAnnSide(t, b, cb.State())
	waitFor(t, "registrations for 6 confirmations", func() bool {
		return a.chain.registered(tx.TxHash()) == 2
	})
	return sa, sb, tx
}

// TestAnnounceSignatures: nothing goes before 6 confirmations; then
// both sides send theirs, answer the other's once, and build the same
// channel_announcement, whose four signatures verify.
func TestAnnounceSignatures(t *testing.T) {
	sa, sb, tx := openForAnnouncement(t)
	sa.a.PeerConnected(sb.n.pub())
	if n := exchange(sa, sb); n != 0 {
		t.Fatalf("%d messages before 6 confirmations", n)
	}
	sa.n.chain.confirm(tx, 7)
	waitFor(t, "both sides' signatures", func() bool {
		sa.mu.Lock()
		defer sa.mu.Unlock()
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return len(sa.out) == 1 && len(sb.out) == 1
	})
	// Each side's went once: the other's needs no answer.
	if n := exchange(sa, sb); n != 2 {
		t.Fatalf("%d messages, want each side's once", n)
	}
	aa, ab := sa.announced(), sb.announced()
	if len(aa) != 1 || len(ab) != 1 {
		t.Fatalf("announced %d and %d times, want once each", len(aa), len(ab))
	}
	if !reflect.DeepEqual(aa[0], ab[0]) {
		t.Fatal("the two sides built different announcements")
	}
	if err := routing.VerifyChannelAnnouncement(aa[0]); err != nil {
		t.Fatal(err)
	}
	if aa[0].ShortChannelID != sa.st.ShortChannelID {
		t.Fatalf("scid %v, want %v", aa[0].ShortChannelID, sa.st.ShortChannelID)
	}

	// A restart rebuilds the announcement from the stored signatures
	// without asking the peer again.
	sa.a.Stop()
	sa.start(t)
	waitFor(t, "a new registration", func() bool { return sa.n.chain.registered(tx.TxHash()) == 1 })
	sa.n.chain.confirm(tx, 7)
	waitFor(t, "the announcement again", func() bool { return len(sa.announced()) == 2 })
	if got := sa.announced()[1]; !reflect.DeepEqual(got, aa[0]) {
		t.Fatal("announcement after restart differs")
	}
	if out := sa.sent(); len(out) != 0 {
		t.Fatalf("sent %d messages after restart with the peer's signatures in", len(out))
	}
	// A peer that lacks ours sends its own on reconnection: it gets
	// ours in answer, once.
	sa.a.PeerConnected(sb.n.pub())
	theirs, err := sb.a.ourSigs(sb.st)
	if err != nil {
		t.Fatal(err)
	}
	sa.a.HandleMessage(sb.n.pub(), theirs)
	sa.a.HandleMessage(sb.n.pub(), theirs)
	if out := sa.sent(); len(out) != 1 || out[0].MsgType() != lnwire.MsgAnnounceSignatures {
		t.Fatalf("answered the peer's signatures with %v", out)
	}
}

// TestAnnounceSignaturesReconnect: signatures lost with a connection go
// again on reconnection until the peer's are in.
func TestAnnounceSignaturesReconnect(t *testing.T) {
	sa, sb, tx := openForAnnouncement(t)
	sa.n.chain.confirm(tx, 7)
	waitFor(t, "signatures", func() bool {
		sa.mu.Lock()
		defer sa.mu.Unlock()
		return len(sa.out) == 1
	})
	sa.sent() // lost
	sb.sent() // lost
	sa.a.PeerConnected(sb.n.pub())
	out := sa.sent()
	if len(out) != 1 || out[0].MsgType() != lnwire.MsgAnnounceSignatures {
		t.Fatalf("on reconnection sent %v", out)
	}
	// b hears of the connection too and sends its own; a's reaches it
	// after.
	sb.a.PeerConnected(sa.n.pub())
	sb.a.HandleMessage(sa.n.pub(), out[0].(*lnwire.AnnounceSignatures))
	exchange(sa, sb)
	if len(sa.announced()) != 1 || len(sb.announced()) != 1 {
		t.Fatal("announcement not complete after reconnection")
	}
	// With the peer's in, a reconnection sends nothing.
	sa.a.PeerConnected(sb.n.pub())
	if out := sa.sent(); len(out) != 0 {
		t.Fatalf("sent %v with the peer's signatures in", out)
	}
}

// TestAnnounceSignaturesRefused: bad signatures or a wrong position get
// a warning and are not stored.
func TestAnnounceSignaturesRefused(t *testing.T) {
	sa, sb, tx := openForAnnouncement(t)
	sa.n.chain.confirm(tx, 7)
	waitFor(t, "signatures", func() bool {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return len(sb.out) == 1
	})
	sa.sent()
	good := *sb.sent()[0].(*lnwire.AnnounceSignatures)
	bad := []func(m *lnwire.AnnounceSignatures){
		func(m *lnwire.AnnounceSignatures) { m.NodeSignature = m.BitcoinSignature },
		func(m *lnwire.AnnounceSignatures) { m.BitcoinSignature[40] ^= 1 },
		func(m *lnwire.AnnounceSignatures) { m.ShortChannelID.TxIndex++ },
	}
	for i, mod := range bad {
		m := good
		mod(&m)
		sa.a.HandleMessage(sb.n.pub(), &m)
		out := sa.sent()
		if len(out) != 1 || out[0].MsgType() != lnwire.MsgWarning {
			t.Fatalf("case %d: sent %v, want a warning", i, out)
		}
	}
	// From another node than the channel's peer.
	other, _ := btcec.NewPrivateKey()
	sa.a.HandleMessage(other.PubKey(), &good)
	if out := sa.sent(); len(out) != 1 || out[0].MsgType() != lnwire.MsgWarning {
		t.Fatalf("wrong peer: sent %v", out)
	}
	err := sa.n.db.View(func(tx kvdb.RTx) error {
		_, err := channeldb.FetchAnnounceSigs(tx, sa.st.FundingOutpoint)
		return err
	})
	if err != channeldb.ErrAnnounceSigsNotFound {
		t.Fatalf("refused signatures stored: %v", err)
	}
	if len(sa.announced()) != 0 {
		t.Fatal("announced with refused signatures")
	}
	sa.a.HandleMessage(sb.n.pub(), &good)
	if len(sa.announced()) != 1 {
		t.Fatal("good signatures not taken")
	}
}

// TestAnnounceSignaturesHeld: the peer's signatures for a channel not
// tracked yet are taken when it is.
func TestAnnounceSignaturesHeld(t *testing.T) {
	sa, sb, tx := openForAnnouncement(t)
	sa.n.chain.confirm(tx, 7)
	waitFor(t, "signatures", func() bool {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return len(sb.out) == 1
	})
	msg := sb.sent()[0].(*lnwire.AnnounceSignatures)
	sa.a.Stop()
	sa.a = NewAnnouncements(sa.a.cfg)
	t.Cleanup(sa.a.Stop)
	sa.a.HandleMessage(sb.n.pub(), msg)
	if err := sa.a.Track(sa.st); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a registration", func() bool { return sa.n.chain.registered(tx.TxHash()) == 1 })
	sa.n.chain.confirm(tx, 7)
	waitFor(t, "the announcement", func() bool { return len(sa.announced()) == 1 })
}
