package lnwallet

import (
	"context"
	"errors"
	"testing"

	"lnd.xprv/channeldb"
)

// failStore refuses every write.
type failStore struct{}

func (failStore) PersistChannel(context.Context, *channeldb.ChannelUpdate) error {
	return errors.New("disk full")
}

// TestPersistBeforeSend checks the persist-then-send contract: no
// message without a successful Persist, no transition while one is
// pending, and a channel whose store failed refuses to go on.
func TestPersistBeforeSend(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 100_000_000, feeRate: 2500,
		seed: 3})
	if _, err := alice.ch.AddHTLC(addMsg(10_000_000, 1)); err != nil {
		t.Fatal(err)
	}
	p, err := alice.ch.SignNextCommitment()
	if err != nil {
		t.Fatal(err)
	}
	// While unpersisted, every transition is refused.
	if _, err := alice.ch.AddHTLC(addMsg(10_000_000, 2)); !errors.Is(err,
		ErrUnpersisted) {

		t.Fatalf("add while unpersisted: %v", err)
	}
	if _, err := alice.ch.SignNextCommitment(); !errors.Is(err,
		ErrUnpersisted) {

		t.Fatalf("sign while unpersisted: %v", err)
	}
	if _, err := alice.ch.ChannelReestablish(); !errors.Is(err,
		ErrUnpersisted) {

		t.Fatalf("reestablish while unpersisted: %v", err)
	}

	// A failing store releases nothing and breaks the channel.
	out, err := p.Persist(context.Background(), failStore{})
	if err == nil || out != nil {
		t.Fatalf("persist to a failing store: %v, %v", out, err)
	}
	if _, err := alice.ch.AddHTLC(addMsg(10_000_000, 2)); !errors.Is(err,
		ErrChannelBroken) {

		t.Fatalf("add after failed persist: %v", err)
	}
	if _, err := p.Persist(context.Background(), alice.store); err == nil {
		t.Fatal("a failed Pending persisted later")
	}

	// Reloading from the store (which never saw the signature) gives
	// a working channel again, with the unsigned add forgotten.
	st := alice.store
	if st.data == nil {
		// Nothing persisted yet: the initial record is the state.
		if err := st.PersistChannel(context.Background(),
			&channeldb.ChannelUpdate{State: initialOf(t, alice)}); err != nil {

			t.Fatal(err)
		}
	}
	ch, err := NewChannel(st.load(t), alice.p.config())
	if err != nil {
		t.Fatal(err)
	}
	alice.ch = ch
	if n := len(ch.st.LocalLog); n != 0 {
		t.Fatalf("reloaded channel kept %d unsigned updates", n)
	}
	add, err := alice.ch.AddHTLC(addMsg(10_000_000, 3))
	if err != nil {
		t.Fatal(err)
	}
	if add.ID != 0 {
		t.Fatalf("HTLC id %d after forgetting the unsigned add", add.ID)
	}
	bob.exchange(t, add)
	round(t, alice, bob)

	// A Pending persists once.
	if _, err := alice.ch.AddHTLC(addMsg(10_000_000, 4)); err != nil {
		t.Fatal(err)
	}
	p, err = alice.ch.SignNextCommitment()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Persist(context.Background(), alice.store); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Persist(context.Background(), alice.store); err == nil {
		t.Fatal("Pending persisted twice")
	}
}

// initialOf rebuilds a node's initial record (its channel was created
// from it before any write).
func initialOf(t *testing.T, n *testNode) *channeldb.OpenChannel {
	t.Helper()
	_, _, sa, sb := newStates(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 100_000_000, feeRate: 2500,
		seed: 3})
	if sa.LocalConfig.FundingKey.IsEqual(n.p.cfg.FundingKey) {
		return sa
	}
	return sb
}
