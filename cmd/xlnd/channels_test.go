package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/channeldb"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

type fakePeer struct {
	key  *btcec.PrivateKey
	sent []lnwire.Message
}

func (p *fakePeer) PubKey() [33]byte {
	return [33]byte(p.key.PubKey().SerializeCompressed())
}
func (p *fakePeer) IdentityKey() *btcec.PublicKey { return p.key.PubKey() }
func (p *fakePeer) SendMessage(msgs ...lnwire.Message) error {
	p.sent = append(p.sent, msgs...)
	return nil
}

type fakeFunding struct{ got []lnwire.Message }

func (f *fakeFunding) Reestablish(*btcec.PublicKey, *lnwire.ChannelReestablish) (
	[]lnwire.Message, bool) {

	return nil, false
}

func (f *fakeFunding) HandleMessage(_ *btcec.PublicKey, msg lnwire.Message) bool {
	switch msg.(type) {
	case *lnwire.OpenChannel, *lnwire.ChannelReady:
		f.got = append(f.got, msg)
		return true
	}
	return false
}

// TestPeerMessages: funding messages reach funding, messages of open
// channels are answered with a warning naming the channel, the rest go
// to gossip.
func TestPeerMessages(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	p := &fakePeer{key: k}
	fm := &fakeFunding{}
	var gossiped []lnwire.Message
	route := peerMessages(fm, htlcswitch.New(htlcswitch.Config{}).Links(),
		func([33]byte, lnwire.ChannelID) bool { return false }, func(_ msgPeer, m lnwire.Message) {
			gossiped = append(gossiped, m)
		}, slog.New(slog.DiscardHandler))

	route(p, &lnwire.OpenChannel{})
	chanID := lnwire.ChannelID{1, 2, 3}
	for _, m := range []lnwire.Message{
		&lnwire.UpdateAddHTLC{ChanID: chanID}, &lnwire.CommitSig{ChanID: chanID},
		&lnwire.RevokeAndAck{ChanID: chanID}, &lnwire.Shutdown{ChanID: chanID},
		&lnwire.ClosingSigned{ChanID: chanID}, &lnwire.UpdateFee{ChanID: chanID},
		&lnwire.ChannelReestablish{ChanID: chanID},
	} {
		route(p, m)
	}
	route(p, &lnwire.QueryChannelRange{})

	if len(fm.got) != 1 {
		t.Fatalf("funding got %d messages", len(fm.got))
	}
	if len(p.sent) != 7 {
		t.Fatalf("%d warnings, want 7", len(p.sent))
	}
	for _, m := range p.sent {
		w, ok := m.(*lnwire.Warning)
		if !ok || w.ChanID != chanID {
			t.Fatalf("sent %v", m)
		}
	}
	if len(gossiped) != 1 {
		t.Fatalf("gossip got %d", len(gossiped))
	}
}

// TestChannelInfoCloseAddress: an upfront shutdown script shows as its
// address (a witness script once made the address decoding panic).
func TestChannelInfoCloseAddress(t *testing.T) {
	script := append([]byte{0, 20}, bytes.Repeat([]byte{7}, 20)...)
	st := &channeldb.OpenChannel{ChanType: uint8(lnwallet.ChannelTypeAnchors),
		IsInitiator: true, Capacity: 1_000_000,
		LocalCommit: channeldb.ChannelCommitment{LocalBalanceMsat: 1_000_000_000}}
	info := &channeldb.ChannelOpenInfo{LocalShutdown: script,
		PeerAlias: lnwire.NewShortChanIDFromInt(99)}
	ci := channelInfo(st, info, &chaincfg.RegressionNetParams)
	if !strings.HasPrefix(ci.CloseAddress, "bcrt1q") || ci.PeerScidAlias != 99 {
		t.Fatalf("close address %q, peer alias %d", ci.CloseAddress, ci.PeerScidAlias)
	}
}
