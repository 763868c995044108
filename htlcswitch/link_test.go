package htlcswitch

import (
	"context"
	"testing"

	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

func bothActive(a, b *side) func() bool {
	return func() bool { return a.link.Active() && b.link.Active() }
}

// wantTypes checks the message types sent on an end, in order.
func wantTypes(t *testing.T, who string, got []lnwire.Message, want ...lnwire.MessageType) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s sent %d messages %v, want %v", who, len(got), types(got), want)
	}
	for i := range want {
		if got[i].MsgType() != want[i] {
			t.Fatalf("%s sent %v, want %v", who, types(got), want)
		}
	}
}

func types(msgs []lnwire.Message) []lnwire.MessageType {
	out := make([]lnwire.MessageType, len(msgs))
	for i, m := range msgs {
		out[i] = m.MsgType()
	}
	return out
}

// waitQuiet waits until the links handled everything queued so far.
func waitQuiet(t *testing.T, sides ...*side) {
	t.Helper()
	for _, s := range sides {
		done := make(chan struct{})
		mustOK(t, s.link.enqueue(event{kind: evFlush, done: done}))
		<-done
	}
}

// closer is a Peer that drops what it is sent.
type closer chan struct{}

func (c closer) SendMessage(...lnwire.Message) error { return nil }

func TestReestablishNewChannel(t *testing.T) {
	for _, aFirst := range []bool{true, false} {
		name := map[bool]string{true: "opener first", false: "accepter first"}[aFirst]
		t.Run(name, func(t *testing.T) {
			a, b := newChannel(t)
			a.startLink()
			b.startLink()
			if a.link.Active() || b.link.Active() {
				t.Fatal("active before any connection")
			}
			c := connect(t, a, b, aFirst)
			eventually(t, "both active", bothActive(a, b))
			for _, e := range []struct {
				who string
				end *end
				s   *side
			}{{"alice", c.ab, a}, {"bob", c.ba, b}} {
				msgs := settle(t, e.end, 2)
				// next_commitment_number is 1 on both sides:
				// channel_ready is retransmitted.
				wantTypes(t, e.who, msgs, lnwire.MsgChannelReestablish,
					lnwire.MsgChannelReady)
				re := msgs[0].(*lnwire.ChannelReestablish)
				if re.NextCommitmentNumber != 1 || re.NextRevocationNumber != 0 {
					t.Fatalf("%s: reestablish %d/%d, want 1/0", e.who,
						re.NextCommitmentNumber, re.NextRevocationNumber)
				}
				ready := msgs[1].(*lnwire.ChannelReady)
				if !ready.NextPerCommitmentPoint.IsEqual(e.s.point(1)) {
					t.Fatalf("%s: channel_ready with the wrong point", e.who)
				}
			}
		})
	}
}

func TestReconnectAndRestart(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	c := connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))

	c.close(t, a, b)
	eventually(t, "both inactive", func() bool {
		return !a.link.Active() && !b.link.Active()
	})

	// Reconnection, the accepter hearing of it first.
	c = connect(t, a, b, false)
	eventually(t, "both active again", bothActive(a, b))
	wantTypes(t, "alice", settle(t, c.ab, 2), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady)

	// Restart of one side from its database file.
	c.close(t, a, b)
	b.restart()
	if b.link.Active() {
		t.Fatal("restarted link active before reconnection")
	}
	c = connect(t, a, b, true)
	eventually(t, "active after restart", bothActive(a, b))
	wantTypes(t, "bob", settle(t, c.ba, 2), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady)
}

// TestReestablishBeforeConnectEvent: the peer's channel_reestablish can
// reach the link before the server's connection event; the link still
// sends its own first, once.
func TestReestablishBeforeConnectEvent(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	ab, ba := &end{remote: b.link}, &end{remote: a.link}
	ab.back, ba.back = ba, ab
	mustOK(t, a.link.PeerConnected(ab)) // b hears only a's message
	eventually(t, "both active", bothActive(a, b))
	mustOK(t, b.link.PeerConnected(ba)) // the late event
	waitQuiet(t, b)
	wantTypes(t, "bob", ba.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady)
}

// persist runs a Pending through the side's database and returns its
// messages.
func (s *side) persist(p *lnwallet.Pending, err error) []lnwire.Message {
	t := s.t
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Persist(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// feeRound runs a whole update_fee round between the stored channels of
// a (the opener) and b, as two links would, and persists every step.
func feeRound(t *testing.T, a, b *side, rate uint32) {
	t.Helper()
	ca, cb := a.channel(), b.channel()
	fee, err := ca.UpdateFee(rate)
	mustOK(t, err)
	mustOK(t, cb.ReceiveUpdateFee(fee))
	cs := a.persist(ca.SignNextCommitment())
	mustOK(t, cb.ReceiveNewCommitment(cs[0].(*lnwire.CommitSig)))
	raa := b.persist(cb.RevokeCurrentCommitment())
	a.persist(ca.ReceiveRevocation(raa[0].(*lnwire.RevokeAndAck)))
	cs = b.persist(cb.SignNextCommitment())
	mustOK(t, ca.ReceiveNewCommitment(cs[0].(*lnwire.CommitSig)))
	raa = a.persist(ca.RevokeCurrentCommitment())
	b.persist(cb.ReceiveRevocation(raa[0].(*lnwire.RevokeAndAck)))
}

// TestRetransmission: a commitment_signed persisted but never received is
// sent again, with the update it covers, right after the reestablish; no
// channel_ready once commitments moved on.
func TestRetransmission(t *testing.T) {
	a, b := newChannel(t)
	feeRound(t, a, b, 3000)

	ca := a.channel()
	_, err := ca.UpdateFee(3500)
	mustOK(t, err)
	a.persist(ca.SignNextCommitment()) // lost on the way

	a.startLink()
	b.startLink()
	c := connect(t, a, b, false)
	eventually(t, "both active", bothActive(a, b))
	// Bob's answer may already be on its way: alice's revoke_and_ack
	// can follow at once, so only the first three are checked here.
	msgs := settle(t, c.ab, 3)
	wantTypes(t, "alice", msgs[:3], lnwire.MsgChannelReestablish,
		lnwire.MsgUpdateFee, lnwire.MsgCommitSig)
	if fee := msgs[1].(*lnwire.UpdateFee); fee.FeePerKw != 3500 {
		t.Fatalf("retransmitted update_fee %d, want 3500", fee.FeePerKw)
	}
	re := msgs[0].(*lnwire.ChannelReestablish)
	if re.NextCommitmentNumber != 2 || re.NextRevocationNumber != 1 {
		t.Fatalf("reestablish %d/%d, want 2/1", re.NextCommitmentNumber,
			re.NextRevocationNumber)
	}
	// Bob completes the round: he revokes and signs, alice revokes.
	settle(t, c.ab, 4)
	waitQuiet(t, a, b)
	wantTypes(t, "bob", c.ba.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgRevokeAndAck, lnwire.MsgCommitSig)
	wantTypes(t, "alice", c.ab.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgUpdateFee, lnwire.MsgCommitSig, lnwire.MsgRevokeAndAck)
	for _, s := range []*side{a, b} {
		st, err := s.db.FetchOpenChannel(s.op)
		mustOK(t, err)
		if st.LocalCommit.FeeRate != 3500 || st.RemoteCommit.FeeRate != 3500 {
			t.Fatalf("%s: fee rates %d/%d after the round, want 3500",
				s.name, st.LocalCommit.FeeRate, st.RemoteCommit.FeeRate)
		}
	}
}

// TestDataLoss: a node restored from an old copy of its database learns
// from the peer's channel_reestablish that its state is old; it says so
// with an error and the channel never becomes active.
func TestDataLoss(t *testing.T) {
	a, b := newChannel(t)
	feeRound(t, a, b, 3000)
	mustOK(t, a.db.Close())
	backup := a.path + ".old"
	copyFile(t, a.path, backup)
	a.open()
	feeRound(t, a, b, 4000)
	feeRound(t, a, b, 5000)
	mustOK(t, a.db.Close())
	copyFile(t, backup, a.path)
	a.open()

	a.startLink()
	b.startLink()
	c := connect(t, a, b, true)
	settle(t, c.ab, 2)
	waitQuiet(t, a, b)
	wantTypes(t, "alice", c.ab.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgError)
	if a.link.Active() || b.link.Active() {
		t.Fatal("a channel with lost state became active")
	}
	// Reconnecting does not revive it.
	c.close(t, a, b)
	c = connect(t, a, b, false)
	settle(t, c.ab, 2)
	waitQuiet(t, a, b)
	if a.link.Active() {
		t.Fatal("failed channel active after reconnection")
	}
	if got := c.ab.messages(); got[len(got)-1].MsgType() != lnwire.MsgError {
		t.Fatalf("alice sent %v after reconnection, want an error last", types(got))
	}
	// The restored record is untouched: nothing was written over it.
	st, err := a.db.FetchOpenChannel(a.op)
	mustOK(t, err)
	if st.LocalCommit.Number != 1 {
		t.Fatalf("restored commitment %d, want 1", st.LocalCommit.Number)
	}
}

// TestBadUpdateGetsWarning: an update_add_htlc out of order is refused
// with a warning and the connection is given up (BOLT 2: the update is
// forgotten and the channel resumes on reconnection).
func TestBadUpdateGetsWarning(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	c := connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	waitQuiet(t, a, b)
	add := &lnwire.UpdateAddHTLC{ChanID: a.link.ChanID(), ID: 5, Amount: 1000}
	mustOK(t, a.link.HandleMessage(c.ab, add))
	waitQuiet(t, a)
	wantTypes(t, "alice", c.ab.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady, lnwire.MsgWarning)
	if a.link.Active() {
		t.Fatal("channel still active on the connection after a warning")
	}
	c.close(t, a, b)
	connect(t, a, b, true)
	eventually(t, "both active again", bothActive(a, b))
}

func TestStopUnblocks(t *testing.T) {
	a, _ := newChannel(t)
	l := NewLink(LinkConfig{Channel: a.channel(), DB: a.db,
		ReadyMessage: a.readyMessage, QueueSize: 1})
	// Never started: the queue fills, and Stop releases the waiter.
	mustOK(t, l.HandleMessage(closer(nil), &lnwire.UpdateFee{}))
	errc := make(chan error, 1)
	go func() { errc <- l.HandleMessage(closer(nil), &lnwire.UpdateFee{}) }()
	l.Stop()
	if err := <-errc; err != ErrLinkStopped {
		t.Fatalf("blocked HandleMessage returned %v, want ErrLinkStopped", err)
	}
}

// TestReestablishAfterInSync: a channel the funding flow just opened is
// active without a reestablish; if the peer sends one anyway, ours goes
// out first and the channel stays active.
func TestReestablishAfterInSync(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	ab, ba := &end{remote: b.link}, &end{remote: a.link}
	ab.back, ba.back = ba, ab
	mustOK(t, a.link.PeerInSync(ab))
	waitQuiet(t, a)
	if !a.link.Active() || len(ab.messages()) != 0 {
		t.Fatalf("in sync: active %v, sent %v", a.link.Active(), types(ab.messages()))
	}
	mustOK(t, b.link.PeerConnected(ba))
	eventually(t, "both active", bothActive(a, b))
	waitQuiet(t, a, b)
	wantTypes(t, "alice", ab.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady)
	// A second one on the same connection is a protocol violation.
	mustOK(t, a.link.HandleMessage(ab, ba.messages()[0]))
	waitQuiet(t, a)
	wantTypes(t, "alice", ab.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady, lnwire.MsgWarning)
}

// TestHeldReestablish: the peer's channel_reestablish came before the
// funding flow handed the channel over; the new link answers it.
func TestHeldReestablish(t *testing.T) {
	a, b := newChannel(t)
	links := New(Config{DB: a.db}).Links()
	t.Cleanup(links.Stop)
	la := NewLink(LinkConfig{Channel: a.channel(), DB: a.db,
		ReadyMessage: a.readyMessage})
	a.link = la
	ab := &end{} // bob's side is only recorded
	reest, err := b.channel().ChannelReestablish()
	mustOK(t, err)
	links.Hold(ab, reest)
	if !links.AddReady(la, ab) || links.AddReady(la, ab) {
		t.Fatal("AddReady: want true once, then false")
	}
	waitQuiet(t, a)
	wantTypes(t, "alice", ab.messages(), lnwire.MsgChannelReestablish,
		lnwire.MsgChannelReady)
	if !la.Active() || !links.Active(a.op) {
		t.Fatal("link not active after answering the held reestablish")
	}
}
