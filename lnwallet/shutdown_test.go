package lnwallet

import (
	"errors"
	"testing"
)

// TestShutdownStopsAdds: after shutdown no HTLC is offered, an add from
// the peer after its own shutdown is a violation, and the channel is
// clean for closing only once every HTLC is gone from both commitments.
func TestShutdownStopsAdds(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 200_000_000, feeRate: 2500, seed: 3})
	if !alice.ch.IsClean() || !bob.ch.IsClean() || alice.ch.ShuttingDown() {
		t.Fatal("a fresh channel is clean and not shutting down")
	}
	add, err := alice.ch.AddHTLC(addMsg(50_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !alice.ch.HasUnsignedLocalUpdates() || alice.ch.IsClean() {
		t.Fatal("an unsigned add leaves the channel clean")
	}
	bob.exchange(t, add)
	round(t, alice, bob)
	if alice.ch.HasUnsignedLocalUpdates() || alice.ch.IsClean() || bob.ch.IsClean() {
		t.Fatal("an HTLC in flight leaves the channel clean")
	}

	// Alice sends shutdown: she adds nothing more; bob still may until
	// he has seen it (his add is then failed by the link).
	alice.ch.MarkShutdownSent()
	bob.ch.MarkShutdownReceived()
	if _, err := alice.ch.AddHTLC(addMsg(1_000_000, 2)); !errors.Is(err, ErrChannelClosing) {
		t.Fatalf("alice adds after her shutdown: %v", err)
	}
	if _, err := bob.ch.AddHTLC(addMsg(1_000_000, 3)); !errors.Is(err, ErrChannelClosing) {
		t.Fatalf("bob adds after alice's shutdown: %v", err)
	}
	late := addMsg(1_000_000, 4)
	late.ChanID, late.ID = alice.ch.ChannelID(), 0
	var pe *PeerError
	if err := bob.ch.ReceiveHTLC(late); !errors.As(err, &pe) ||
		!errors.Is(err, ErrChannelClosing) || pe.FailChannel {

		t.Fatalf("add after the sender's shutdown: %v", err)
	}

	// The HTLC settles: both commitments are clean again.
	pre, _ := htlcPreimage(1)
	settle, err := bob.ch.SettleHTLC(0, pre)
	if err != nil {
		t.Fatal(err)
	}
	alice.exchange(t, settle)
	round(t, bob, alice)
	if !alice.ch.IsClean() || !bob.ch.IsClean() {
		t.Fatal("not clean after the last HTLC settled")
	}
	terms := alice.ch.CloseTerms([]byte{0, 20}, []byte{0, 32})
	if terms.LocalBalanceMsat != 750_000_000 || terms.RemoteBalanceMsat != 250_000_000 ||
		!terms.Params.LocalIsOpener {

		t.Fatalf("close terms %+v", terms)
	}
}
