package htlcswitch

import (
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
)

// TestFatalViolationFailsChannel: a commitment_signed whose signature
// does not verify fails the channel: alice sends error, the channel is
// inactive and stays so after a reconnection; her stored state is intact.
func TestFatalViolationFailsChannel(t *testing.T) {
	round := peerRound(t)
	a, b := newChannel(t)
	a.startLink()
	p := &end{}
	mustOK(t, a.link.PeerConnected(p))
	re, err := b.channel().ChannelReestablish()
	mustOK(t, err)
	mustOK(t, a.link.HandleMessage(p, re))
	eventually(t, "active", a.link.Active)
	cs := *round[1].(*lnwire.CommitSig)
	cs.CommitSig[10] ^= 1
	mustOK(t, a.link.HandleMessage(p, round[0]))
	mustOK(t, a.link.HandleMessage(p, &cs))
	waitQuiet(t, a)
	msgs := p.messages()
	if last := msgs[len(msgs)-1]; last.MsgType() != lnwire.MsgError {
		t.Fatalf("alice sent %v, want an error last", types(msgs))
	}
	if a.link.Active() {
		t.Fatal("channel active after a bad commitment_signed")
	}
	// A new connection does not revive it.
	p2 := &end{}
	mustOK(t, a.link.PeerConnected(p2))
	mustOK(t, a.link.HandleMessage(p2, re))
	waitQuiet(t, a)
	if a.link.Active() {
		t.Fatal("failed channel active after reconnection")
	}
	st, err := a.db.FetchOpenChannel(a.op)
	mustOK(t, err)
	if st.LocalCommit.Number != 0 || len(st.LocalCommit.HTLCs) != 0 {
		t.Fatalf("stored state moved: commitment %d, %d HTLCs",
			st.LocalCommit.Number, len(st.LocalCommit.HTLCs))
	}
}

// TestPolicyPersisted: SetPolicies applies at once, calls OnPolicyUpdate
// with the channels, and survives a restart of the switch.
func TestPolicyPersisted(t *testing.T) {
	a, _ := newChannel(t)
	var notified []wire.OutPoint
	a.startSwitch()
	a.sw.cfg.OnPolicyUpdate = func(ops []wire.OutPoint) { notified = ops }
	p := ForwardingPolicy{BaseFee: 7, FeeRatePPM: 9, TimeLockDelta: 33,
		MinHTLC: 11, MaxHTLC: 99_000}
	mustOK(t, a.sw.SetPolicies(map[wire.OutPoint]ForwardingPolicy{a.op: p}))
	if a.sw.Policy(a.op) != p || len(notified) != 1 || notified[0] != a.op {
		t.Fatalf("policy %+v, notified %v", a.sw.Policy(a.op), notified)
	}
	other := wire.OutPoint{Index: 3}
	if a.sw.Policy(other) != DefaultForwardingPolicy() {
		t.Fatalf("a channel without a policy: %+v", a.sw.Policy(other))
	}
	mustOK(t, a.sw.Stop())
	a.startSwitch()
	if a.sw.Policy(a.op) != p {
		t.Fatalf("after a restart: %+v, want %+v", a.sw.Policy(a.op), p)
	}
}
