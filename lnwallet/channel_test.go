package lnwallet

import (
	"context"
	"errors"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// testNode is one side of a test channel: the Channel and its store.
type testNode struct {
	ch    *Channel
	store *memStore
	p     *party

	// db, if set, is where the node persists instead of store.
	db Store
}

// backend returns where the node persists.
func (n *testNode) backend() Store {
	if n.db != nil {
		return n.db
	}
	return n.store
}

func newNodePair(t testing.TB, ps pairSpec) (*testNode, *testNode) {
	t.Helper()
	a, b, sa, sb := newStates(t, ps)
	ca, err := NewChannel(sa, a.config())
	if err != nil {
		t.Fatal(err)
	}
	cb, err := NewChannel(sb, b.config())
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{ch: ca, store: &memStore{}, p: a},
		&testNode{ch: cb, store: &memStore{}, p: b}
}

// receive hands one message to n the way a link would: updates are
// applied, commitment_signed is answered with revoke_and_ack,
// revoke_and_ack is persisted. It returns the messages to send back and
// what was resolved.
func (n *testNode) receive(msg lnwire.Message) ([]lnwire.Message,
	*Resolutions, error) {

	ch := n.ch
	var (
		p   *Pending
		err error
	)
	switch m := msg.(type) {
	case *lnwire.UpdateAddHTLC:
		return nil, nil, ch.ReceiveHTLC(m)
	case *lnwire.UpdateFulfillHTLC:
		return nil, nil, ch.ReceiveHTLCSettle(m)
	case *lnwire.UpdateFailHTLC:
		return nil, nil, ch.ReceiveFailHTLC(m)
	case *lnwire.UpdateFailMalformedHTLC:
		return nil, nil, ch.ReceiveMalformedFailHTLC(m)
	case *lnwire.UpdateFee:
		return nil, nil, ch.ReceiveUpdateFee(m)
	case *lnwire.CommitSig:
		if err := ch.ReceiveNewCommitment(m); err != nil {
			return nil, nil, err
		}
		p, err = ch.RevokeCurrentCommitment()
	case *lnwire.RevokeAndAck:
		p, err = ch.ReceiveRevocation(m)
	case *lnwire.ChannelReestablish:
		msgs, err := ch.ReceiveReestablish(m)
		return msgs, nil, err
	default:
		return nil, nil, errors.New("unexpected message")
	}
	if err != nil {
		return nil, nil, err
	}
	out, err := p.Persist(context.Background(), n.backend())
	if err != nil {
		return nil, nil, err
	}
	return out.Messages, &out.Resolutions, nil
}

// sign signs n's next commitment and returns the commitment_signed.
func (n *testNode) sign(t testing.TB) lnwire.Message {
	t.Helper()
	p, err := n.ch.SignNextCommitment()
	out := persist(t, p, err, n.backend())
	return out.Messages[0]
}

// exchange delivers msgs to n and fails on any error.
func (n *testNode) exchange(t testing.TB,
	msgs ...lnwire.Message) ([]lnwire.Message, *Resolutions) {

	t.Helper()
	var (
		back []lnwire.Message
		res  Resolutions
	)
	for _, m := range msgs {
		out, r, err := n.receive(m)
		if err != nil {
			t.Fatalf("%v: %v", m.MsgType(), err)
		}
		back = append(back, out...)
		if r != nil {
			res.LockedIn = append(res.LockedIn, r.LockedIn...)
			res.Settled = append(res.Settled, r.Settled...)
			res.Failed = append(res.Failed, r.Failed...)
			res.Removed = append(res.Removed, r.Removed...)
		}
	}
	return back, &res
}

// round runs a full commitment round started by a: a signs, b revokes and
// signs, a revokes, b takes the revocation.
func round(t testing.TB, a, b *testNode) (resA, resB *Resolutions) {
	t.Helper()
	cs := a.sign(t)
	raa, _ := b.exchange(t, cs)
	_, r1 := a.exchange(t, raa...)
	cs2 := b.sign(t)
	raa2, r2 := a.exchange(t, cs2)
	_, r3 := b.exchange(t, raa2...)
	r1.LockedIn = append(r1.LockedIn, r2.LockedIn...)
	r1.Settled = append(r1.Settled, r2.Settled...)
	r1.Failed = append(r1.Failed, r2.Failed...)
	r1.Removed = append(r1.Removed, r2.Removed...)
	return r1, r3
}

func addMsg(amt uint64, n uint64) *lnwire.UpdateAddHTLC {
	_, hash := htlcPreimage(n)
	return &lnwire.UpdateAddHTLC{
		Amount: lnwire.MilliSatoshi(amt), PaymentHash: hash,
		Expiry: 500 + uint32(n),
	}
}

func TestCommitmentRound(t *testing.T) {
	for _, ct := range []ChannelType{ChannelTypeStaticRemoteKey,
		ChannelTypeAnchors} {

		t.Run(ct.String(), func(t *testing.T) {
			testCommitmentRound(t, ct)
		})
	}
}

func testCommitmentRound(t *testing.T, ct ChannelType) {
	alice, bob := newNodePair(t, pairSpec{chanType: ct,
		capacity: 1_000_000, pushMsat: 200_000_000, feeRate: 2500,
		seed: 1})

	add, err := alice.ch.AddHTLC(addMsg(50_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, add)
	_, resB := round(t, alice, bob)
	if len(resB.LockedIn) != 1 || resB.LockedIn[0].Add.ID != 0 {
		t.Fatalf("bob locked in %+v, want HTLC 0", resB.LockedIn)
	}
	if n := len(alice.ch.st.LocalCommit.HTLCs); n != 1 {
		t.Fatalf("alice's commitment has %d HTLCs", n)
	}

	pre, _ := htlcPreimage(1)
	settle, err := bob.ch.SettleHTLC(0, pre)
	if err != nil {
		t.Fatal(err)
	}
	alice.exchange(t, settle)
	resB2, resA := round(t, bob, alice)
	if len(resA.Settled) != 1 {
		t.Fatalf("alice settled %d HTLCs, want 1", len(resA.Settled))
	}
	_ = resB2
	for _, n := range []*testNode{alice, bob} {
		st := n.ch.st
		if len(st.LocalCommit.HTLCs) != 0 || len(st.RemoteCommit.HTLCs) != 0 {
			t.Fatal("HTLC left after settle")
		}
		if len(st.LocalLog) != 0 || len(st.RemoteLog) != 0 {
			t.Fatalf("logs not pruned: %d/%d", len(st.LocalLog),
				len(st.RemoteLog))
		}
	}
	if got := bob.ch.st.LocalCommit.LocalBalanceMsat; got != 250_000_000 {
		t.Fatalf("bob's balance %d, want 250000000", got)
	}
	if alice.ch.st.LocalCommit.Number != 2 || bob.ch.st.LocalCommit.Number != 2 {
		t.Fatal("wrong commitment numbers")
	}
}

// TestRevocationLog runs rounds persisted to channeldb files and checks
// that every revoked remote commitment is in the revocation log with its
// txid and outputs, and that closing moves the channel to the closed
// summaries in one transaction.
func TestRevocationLog(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 300_000_000, feeRate: 2500,
		seed: 13})
	dbs := map[*testNode]*channeldb.DB{}
	for _, n := range []*testNode{alice, bob} {
		db, err := channeldb.Open(t.TempDir()+"/channel.db",
			channeldb.WithNoSync())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		n.db, dbs[n] = db, db
	}
	signed := map[uint64]channeldb.ChannelCommitment{}
	for i := uint64(1); i <= 4; i++ {
		add, err := alice.ch.AddHTLC(addMsg(20_000_000*i, i))
		if err != nil {
			t.Fatal(err)
		}
		bob.exchange(t, add)
		round(t, alice, bob)
		rc := alice.ch.st.RemoteCommit
		signed[rc.Number] = rc
	}
	st := alice.ch.st
	var entries []*channeldb.RevocationLogEntry
	err := dbs[alice].View(func(tx kvdb.RTx) error {
		return channeldb.ForEachRevocationLog(tx,
			channeldb.ChannelKey(st.FundingOutpoint),
			func(e *channeldb.RevocationLogEntry) error {
				entries = append(entries, e)
				return nil
			})
	})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(entries)) != st.RemoteCommit.Number {
		t.Fatalf("%d revocation log entries for %d revoked commitments",
			len(entries), st.RemoteCommit.Number)
	}
	for _, e := range entries {
		c, ok := signed[e.CommitNum]
		if !ok {
			continue
		}
		if e.CommitTxID != c.TxID || len(e.HTLCs) != len(c.HTLCs) ||
			e.TheirOutput == nil || e.OurOutput == nil ||
			e.TheirOutput.Amount != c.ToLocalAmount {

			t.Fatalf("entry %d does not describe the revoked "+
				"commitment: %+v", e.CommitNum, e)
		}
	}

	// Bob's locked-in adds are in forwarding packages, one per
	// revocation that locked some in.
	var adds int
	err = dbs[bob].View(func(tx kvdb.RTx) error {
		pkgs, err := channeldb.ListFwdPkgs(tx, bob.ch.st.ShortChannelID)
		for _, p := range pkgs {
			adds += len(p.Adds)
		}
		return err
	})
	if err != nil || adds != 4 {
		t.Fatalf("forwarding packages hold %d adds (%v), want 4", adds,
			err)
	}

	sum := &channeldb.ChannelCloseSummary{ChanPoint: st.FundingOutpoint,
		Capacity: st.Capacity, CloseType: channeldb.CooperativeClose,
		RemotePub: bob.p.cfg.FundingKey}
	if err := dbs[alice].CloseChannel(st.FundingOutpoint, sum); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[alice].FetchOpenChannel(st.FundingOutpoint); !errors.Is(
		err, channeldb.ErrChannelNotFound) {

		t.Fatalf("open record after close: %v", err)
	}
	err = dbs[alice].View(func(tx kvdb.RTx) error {
		_, err := channeldb.FetchClosedChannel(tx, st.FundingOutpoint)
		return err
	})
	if err != nil {
		t.Fatalf("closed summary: %v", err)
	}
}
