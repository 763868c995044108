package lnwallet

import (
	"errors"
	"testing"

	"lnd.xprv/lnwire"
)

// TestRevokeAndSign: answering a commitment_signed with revoke_and_ack
// and commitment_signed costs one write, whose state alone carries both
// (a restart retransmits them), and the round ends as it would have.
func TestRevokeAndSign(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 200_000_000, feeRate: 2500,
		seed: 3})
	add, err := alice.ch.AddHTLC(addMsg(50_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, add)
	cs := alice.sign(t)
	if err := bob.ch.ReceiveNewCommitment(cs.(*lnwire.CommitSig)); err != nil {
		t.Fatal(err)
	}
	writes := bob.store.writes
	p, signed, err := bob.ch.RevokeAndSign()
	out := persist(t, p, err, bob.store)
	if !signed || bob.store.writes != writes+1 {
		t.Fatalf("signed %v in %d writes, want one", signed,
			bob.store.writes-writes)
	}
	if len(out.Messages) != 2 || out.Messages[0].MsgType() != lnwire.MsgRevokeAndAck ||
		out.Messages[1].MsgType() != lnwire.MsgCommitSig {
		t.Fatalf("messages %v, want revoke_and_ack, commitment_signed",
			out.Messages)
	}
	st := bob.store.load(t)
	if st.PendingRemote == nil || st.LocalCommit.Number != 1 ||
		len(st.LocalCommit.HTLCs) != 1 {
		t.Fatalf("stored state lacks the revocation or the signature: "+
			"local commitment %d, %d HTLCs, pending remote %v",
			st.LocalCommit.Number, len(st.LocalCommit.HTLCs),
			st.PendingRemote != nil)
	}
	raa, _ := alice.exchange(t, out.Messages...)
	_, res := bob.exchange(t, raa...)
	if len(res.LockedIn) != 1 || res.LockedIn[0].Add.ID != 0 {
		t.Fatalf("bob locked in %+v, want HTLC 0", res.LockedIn)
	}
}

// TestRevokeAndSignAwaiting: with its own signature unrevoked, the
// answer is the revocation alone, to sign once the revocation comes.
func TestRevokeAndSignAwaiting(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 200_000_000, feeRate: 2500,
		seed: 4})
	addA, err := alice.ch.AddHTLC(addMsg(50_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	addB, err := bob.ch.AddHTLC(addMsg(40_000_000, 2))
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, addA)
	alice.exchange(t, addB)
	csA := alice.sign(t)
	bob.sign(t)
	if err := bob.ch.ReceiveNewCommitment(csA.(*lnwire.CommitSig)); err != nil {
		t.Fatal(err)
	}
	p, signed, err := bob.ch.RevokeAndSign()
	out := persist(t, p, err, bob.store)
	if signed || len(out.Messages) != 1 ||
		out.Messages[0].MsgType() != lnwire.MsgRevokeAndAck {
		t.Fatalf("signed %v, messages %v; want the revocation alone",
			signed, out.Messages)
	}
	if _, err := bob.ch.SignNextCommitment(); !errors.Is(err, ErrAwaitRevocation) {
		t.Fatalf("sign before alice's revocation: %v", err)
	}
}
