package funding

import (
	"testing"

	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// TestReadyLostAfterOpen: the opener opens the channel on the peer's
// channel_ready and dies before its own leaves (a crash at the
// funding-open or funding-confirmed crash point). Restarted, its link
// sends channel_reestablish; the peer, still pending, answers with its
// own and its channel_ready, so the opener's link retransmits
// channel_ready (next_commitment_number 1 on both sides) and the peer
// opens the channel too.
func TestReadyLostAfterOpen(t *testing.T) {
	net, a, b := newPair(t)
	_, tx := openToBroadcast(t, net, a, b, nil)
	waitFor(t, "registrations", func() bool { return a.chain.registered(tx.TxHash()) == 2 })
	a.chain.confirm(tx, 7)
	waitFor(t, "both channel_ready", func() bool { return queued(net) == 2 })
	for _, e := range net.take() {
		if e.from == b {
			a.m.HandleMessage(b.pub(), e.msg)
		}
	}
	ca := recvReady(t, a)
	net.take() // a's channel_ready, lost with the process
	a.restart()
	a.m.PeerConnected(b.pub())
	b.m.PeerConnected(a.pub())
	expectTypes(t, net.pump(), lnwire.MsgChannelReady)
	if p, _ := b.m.PendingChannels(); len(p) != 1 {
		t.Fatal("b no longer waiting for a's channel_ready")
	}

	// a's link sends its channel_reestablish; b answers.
	reest, err := ca.ChannelReestablish()
	if err != nil {
		t.Fatal(err)
	}
	replies, ok := b.m.Reestablish(a.pub(), reest)
	if !ok {
		t.Fatal("b did not take the reestablish of its pending channel")
	}
	if len(replies) != 2 || replies[1].MsgType() != lnwire.MsgChannelReady {
		t.Fatalf("b replied %v, want channel_reestablish and channel_ready", replies)
	}
	theirs := replies[0].(*lnwire.ChannelReestablish)
	if _, err := ca.ReceiveReestablish(theirs); err != nil {
		t.Fatalf("a's channel refuses b's channel_reestablish: %v", err)
	}
	if theirs.NextCommitmentNumber != 1 || reest.NextCommitmentNumber != 1 {
		t.Fatal("not both at the first commitment")
	}
	// Both say 1: a's link retransmits channel_ready.
	ready, err := ReadyMessage(a.w, ca.State())
	if err != nil {
		t.Fatal(err)
	}
	b.m.HandleMessage(a.pub(), ready)
	cb := recvReady(t, b)
	checkPair(t, ca, cb, lnwallet.ChannelTypeAnchors)
}

// TestReestablishNotPending: a channel_reestablish for a channel not
// pending with that peer, or past its first commitment, is not the
// manager's.
func TestReestablishNotPending(t *testing.T) {
	net, a, b := newPair(t)
	if _, ok := a.m.Reestablish(b.pub(), &lnwire.ChannelReestablish{NextCommitmentNumber: 1}); ok {
		t.Fatal("took a channel_reestablish of an unknown channel")
	}
	openToBroadcast(t, net, a, b, nil)
	pend, err := a.m.PendingChannels()
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending %v, %v", pend, err)
	}
	id := lnwire.NewChanIDFromOutPoint(pend[0].ChanPoint)
	if _, ok := a.m.Reestablish(b.pub(), &lnwire.ChannelReestablish{ChanID: id,
		NextCommitmentNumber: 2, NextRevocationNumber: 1}); ok {

		t.Fatal("took a channel_reestablish past the first commitment")
	}
	if _, ok := a.m.Reestablish(a.pub(), &lnwire.ChannelReestablish{ChanID: id,
		NextCommitmentNumber: 1}); ok {

		t.Fatal("took another peer's channel_reestablish")
	}
	replies, ok := a.m.Reestablish(b.pub(), &lnwire.ChannelReestablish{ChanID: id,
		NextCommitmentNumber: 1})
	if !ok {
		t.Fatal("did not take the pending channel's channel_reestablish")
	}
	// Not yet confirmed: our channel_reestablish, no channel_ready.
	if len(replies) != 1 || replies[0].MsgType() != lnwire.MsgChannelReestablish {
		t.Fatalf("replies %v, want our channel_reestablish only", replies)
	}
	if queued(net) != 0 {
		t.Fatal("the manager sent the replies itself")
	}
}
