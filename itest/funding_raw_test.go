package itest

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/itest/harness"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc/lnrpc"
)

// rawChannelPeer connects a hand-driven peer to n, with the features of
// a channel peer, and waits until n lists it.
func rawChannelPeer(t *testing.T, n *harness.Node) *rawPeer {
	t.Helper()
	p := dialRaw(t, n)
	feats := lnwire.NewRawFeatureVector(xlndRequired...)
	feats.Set(lnwire.AnchorsZeroFeeHtlcTxOptional)
	p.send(&lnwire.Init{GlobalFeatures: lnwire.NewRawFeatureVector(),
		Features: feats, Networks: []chainhash.Hash{regtestChain()}})
	_, err := p.next(func(m lnwire.Message) bool { _, ok := m.(*lnwire.Init); return ok })
	check(t, err)
	check(t, n.WaitPeer(p.pub))
	return p
}

func lockedBalance(t *testing.T, n *harness.Node) int64 {
	t.Helper()
	b, err := n.Balance()
	check(t, err)
	return b.LockedBalance
}

// TestFundingRawPeer drives xlnd's funding flow from a hand-written peer:
// an opener killed (SIGKILL) while waiting for accept_channel comes back
// with its coins unlocked and nothing pending; a peer's refusal fails the
// opening at once; a bad open_channel is answered at once with an error
// for its temporary channel id.
func TestFundingRawPeer(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	check(t, nw.Fund(alice, 1_000_000))
	isOpen := func(m lnwire.Message) bool { _, ok := m.(*lnwire.OpenChannel); return ok }

	open := func(p *rawPeer) (lnrpc.Lightning_OpenChannelClient, *lnwire.OpenChannel) {
		t.Helper()
		key, err := hex.DecodeString(p.pub)
		check(t, err)
		stream, err := alice.RPC.OpenChannel(context.Background(),
			&lnrpc.OpenChannelRequest{NodePubkey: key, LocalFundingAmount: 200_000})
		check(t, err)
		msg, err := p.next(isOpen)
		check(t, err)
		return stream, msg.(*lnwire.OpenChannel)
	}

	// Killed while waiting for accept_channel.
	p := rawChannelPeer(t, alice)
	open(p)
	if lockedBalance(t, alice) == 0 {
		t.Fatal("no coin leased for the opening")
	}
	alice.Kill()
	check(t, alice.Start())
	err := harness.WaitFor(func() error {
		if l := lockedBalance(t, alice); l != 0 {
			return fmt.Errorf("%d sat still locked", l)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	pend, err := alice.RPC.PendingChannels(context.Background(), &lnrpc.PendingChannelsRequest{})
	check(t, err)
	if len(pend.PendingOpenChannels) != 0 {
		t.Fatalf("pending after the kill: %v", pend)
	}

	// Killed after funding_created, before any funding_signed: the
	// opening is forgotten at the restart and its coins unlocked.
	p = rawChannelPeer(t, alice)
	_, msg := open(p)
	p.send(acceptFor(t, msg))
	_, err = p.next(func(m lnwire.Message) bool { _, ok := m.(*lnwire.FundingCreated); return ok })
	check(t, err)
	alice.Kill()
	check(t, alice.Start())
	err = harness.WaitFor(func() error {
		if l := lockedBalance(t, alice); l != 0 {
			return fmt.Errorf("%d sat still locked", l)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)

	// A funding_signed whose signature is wrong is refused with an
	// error; nothing is broadcast and nothing stays locked.
	p = rawChannelPeer(t, alice)
	stream, msg := open(p)
	p.send(acceptFor(t, msg))
	fc, err := p.next(func(m lnwire.Message) bool { _, ok := m.(*lnwire.FundingCreated); return ok })
	check(t, err)
	chanID := lnwire.NewChanIDFromOutPoint(fc.(*lnwire.FundingCreated).FundingPoint)
	p.send(&lnwire.FundingSigned{ChanID: chanID, CommitSig: fc.(*lnwire.FundingCreated).CommitSig})
	reply, err := p.next(func(m lnwire.Message) bool { _, ok := m.(*lnwire.Error); return ok })
	check(t, err)
	if e := reply.(*lnwire.Error); e.ChanID != chanID || !strings.Contains(string(e.Data), "funding_signed") {
		t.Fatalf("error %x %q", e.ChanID, e.Data)
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("opening went on after a bad funding_signed")
	}
	if l := lockedBalance(t, alice); l != 0 {
		t.Fatalf("%d sat locked after a bad funding_signed", l)
	}
	if n, err := nw.MempoolSize(); err != nil || n != 0 {
		t.Fatalf("mempool %d, %v: something was broadcast", n, err)
	}

	// The peer refuses: the caller learns at once, nothing stays locked.
	p = rawChannelPeer(t, alice)
	stream, msg = open(p)
	p.send(&lnwire.Error{ChanID: msg.PendingChannelID, Data: []byte("not today")})
	_, err = stream.Recv()
	if err == nil || !strings.Contains(err.Error(), "not today") {
		t.Fatalf("stream after the refusal: %v", err)
	}
	if l := lockedBalance(t, alice); l != 0 {
		t.Fatalf("%d sat locked after the refusal", l)
	}

	// A bad open_channel to alice gets an error for its temporary id.
	// Its content is alice's own open_channel with the chain changed.
	bad := *msg
	bad.ChainHash[0] ^= 1
	bad.PendingChannelID[0] ^= 1
	p.send(&bad)
	reply, err = p.next(func(m lnwire.Message) bool { _, ok := m.(*lnwire.Error); return ok })
	check(t, err)
	e := reply.(*lnwire.Error)
	if e.ChanID != bad.PendingChannelID || !strings.Contains(string(e.Data), "chain_hash") {
		t.Fatalf("error %x %q", e.ChanID, e.Data)
	}
}

// acceptFor is a valid accept_channel for open: fresh keys, lnd-like
// limits, the same channel type.
func acceptFor(t *testing.T, open *lnwire.OpenChannel) *lnwire.AcceptChannel {
	t.Helper()
	key := func() *btcec.PublicKey {
		k, err := btcec.NewPrivateKey()
		check(t, err)
		return k.PubKey()
	}
	return &lnwire.AcceptChannel{
		PendingChannelID: open.PendingChannelID,
		DustLimit:        354,
		MaxValueInFlight: lnwire.NewMSatFromSatoshis(open.FundingAmount),
		ChannelReserve:   open.FundingAmount / 100,
		HtlcMinimum:      1,
		MinAcceptDepth:   3,
		CsvDelay:         144,
		MaxAcceptedHTLCs: 483,
		FundingKey:       key(), RevocationPoint: key(), PaymentPoint: key(),
		DelayedPaymentPoint: key(), HtlcPoint: key(), FirstCommitmentPoint: key(),
		ChannelType: open.ChannelType,
	}
}
