package lnwallet

import (
	"errors"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// TestAddChecks checks each BOLT 2 rule on update_add_htlc in both
// directions: our AddHTLC refuses with the sentinel, and the same add
// forced on the peer's ReceiveHTLC gives a PeerError wrapping it.
func TestAddChecks(t *testing.T) {
	small := func(c *channeldb.ChannelConstraints) {
		c.MaxAcceptedHtlcs = 2
		c.MaxHtlcValueInFlightMsat = 30_000_000
		c.HtlcMinimumMsat = 5000
		c.ChanReserve = 10_000
	}
	tests := []struct {
		name    string
		prepare int // HTLCs of 1,000,000 msat added and locked first
		amt     uint64
		expiry  uint32
		want    error
	}{
		{"zero amount", 0, 0, 500, ErrZeroAmount},
		{"below htlc_minimum_msat", 0, 4999, 500, ErrBelowMinimum},
		{"cltv_expiry too high", 0, 10_000, MaxCltvExpiry, ErrInvalidExpiry},
		{"max_accepted_htlcs", 2, 10_000, 500, ErrTooManyHTLCs},
		{"max_htlc_value_in_flight", 0, 30_000_001, 500, ErrMaxInFlight},
		{"reserve", 0, 25_000_001, 500, ErrBelowReserve},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Bob (not the opener) holds 35,000 sat; reserve 10,000.
			alice, bob := newNodePair(t, pairSpec{
				chanType: ChannelTypeAnchors, capacity: 1_000_000,
				pushMsat: 35_000_000, feeRate: 2500, seed: 5,
				constrain: small})
			for i := 0; i < tc.prepare; i++ {
				add, err := bob.ch.AddHTLC(addMsg(1_000_000,
					uint64(i)))
				if err != nil {
					t.Fatal(err)
				}
				alice.exchange(t, add)
			}
			m := addMsg(tc.amt, 9)
			m.Expiry = tc.expiry
			if _, err := bob.ch.AddHTLC(m); !errors.Is(err, tc.want) {
				t.Fatalf("AddHTLC: %v, want %v", err, tc.want)
			}
			m.ChanID, m.ID = alice.ch.ChannelID(), uint64(tc.prepare)
			err := alice.ch.ReceiveHTLC(m)
			var pe *PeerError
			if !errors.As(err, &pe) || !errors.Is(err, tc.want) {
				t.Fatalf("ReceiveHTLC: %v, want PeerError(%v)", err,
					tc.want)
			}
		})
	}
}

// TestFeeSpikeBuffer: the opener keeps enough for twice the fee rate and
// one more HTLC; an add leaving less is refused by the opener, though the
// peer would accept it.
func TestFeeSpikeBuffer(t *testing.T) {
	// Alice holds 60,000 sat with a 10,000 reserve and pays the fee at
	// 10,000 sat/kw: base anchor fee 11,240, one more HTLC 1,720.
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 940_000_000, feeRate: 10_000,
		seed: 6, constrain: func(c *channeldb.ChannelConstraints) {
			c.ChanReserve = 10_000
		}})
	// At 1x the add fits (balance 60,000 - 20,000 - fee(1 HTLC) 12,960
	// - anchors 660 > reserve); at 2x with one more HTLC it does not.
	m := addMsg(20_000_000, 1)
	if _, err := alice.ch.AddHTLC(m); !errors.Is(err, ErrFeeSpikeBuffer) {
		t.Fatalf("AddHTLC: %v, want ErrFeeSpikeBuffer", err)
	}
	m.ChanID = bob.ch.ChannelID()
	if err := bob.ch.ReceiveHTLC(m); err != nil {
		t.Fatalf("the fee spike buffer is the sender's rule: %v", err)
	}
}

// TestDustExposure: trimmed HTLCs are bounded on our side; the peer's
// excess is flagged to be failed once committed, not refused.
func TestDustExposure(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 400_000_000, feeRate: 2500,
		seed: 7})
	alice.ch.cfg.MaxDustExposureMsat = 1_000_000
	bob.ch.cfg.MaxDustExposureMsat = 1_000_000
	// 300 sat HTLCs are below the 354 sat dust limit.
	for i := uint64(0); i < 3; i++ {
		add, err := alice.ch.AddHTLC(addMsg(300_000, i))
		if err != nil {
			t.Fatal(err)
		}
		bob.exchange(t, add)
	}
	if _, err := alice.ch.AddHTLC(addMsg(300_000, 4)); !errors.Is(err,
		ErrDustExposure) {

		t.Fatalf("AddHTLC: %v, want ErrDustExposure", err)
	}
	// Bob, with a looser limit, offers a non-dust HTLC and a fourth
	// dust one: alice accepts both and flags the dust one.
	bob.ch.cfg.MaxDustExposureMsat = 1 << 40
	add, err := bob.ch.AddHTLC(addMsg(3_000_000, 5))
	if err != nil {
		t.Fatal(err)
	}
	add2, err := bob.ch.AddHTLC(addMsg(300_000, 6))
	if err != nil {
		t.Fatal(err)
	}
	alice.exchange(t, add, add2)
	_, resA := round(t, bob, alice)
	locked := resA.LockedIn
	flagged := 0
	for _, l := range locked {
		if l.FailDust {
			flagged++
		}
	}
	if len(locked) != 2 || flagged != 1 {
		t.Fatalf("alice locked in %d HTLCs, %d flagged; want 2, 1",
			len(locked), flagged)
	}
}

// TestUpdateFeeChecks: only the opener sends update_fee, within bounds.
func TestUpdateFeeChecks(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 400_000_000, feeRate: 2500,
		seed: 8})
	if _, err := bob.ch.UpdateFee(3000); !errors.Is(err, ErrNotOpener) {
		t.Fatalf("bob's UpdateFee: %v", err)
	}
	msg := &lnwire.UpdateFee{ChanID: alice.ch.ChannelID(), FeePerKw: 3000}
	if err := alice.ch.ReceiveUpdateFee(msg); !errors.Is(err,
		ErrNotOpener) || IsFatal(err) {

		t.Fatalf("alice receiving update_fee: %v", err)
	}
	for _, rate := range []uint32{100, 1_000_000} {
		if _, err := alice.ch.UpdateFee(rate); !errors.Is(err,
			ErrFeeRate) {

			t.Fatalf("UpdateFee(%d): %v", rate, err)
		}
		msg.FeePerKw = rate
		if err := bob.ch.ReceiveUpdateFee(msg); !errors.Is(err,
			ErrFeeRate) {

			t.Fatalf("ReceiveUpdateFee(%d): %v", rate, err)
		}
	}
	// A flood of update_fee collapses into one log entry.
	for rate := uint32(3000); rate < 4000; rate++ {
		msg.FeePerKw = rate
		if err := bob.ch.ReceiveUpdateFee(msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(bob.ch.st.RemoteLog); n != 1 {
		t.Fatalf("%d log entries after 1,000 update_fee", n)
	}
	if _, err := bob.ch.ChannelReestablish(); err != nil {
		t.Fatal(err)
	}

	fee, err := alice.ch.UpdateFee(5000)
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, fee)
	round(t, alice, bob)
	if bob.ch.st.LocalCommit.FeeRate != 5000 ||
		alice.ch.st.RemoteCommit.FeeRate != 5000 {

		t.Fatal("fee update not applied")
	}
}

// TestRemovalChecks: ids, preimages and lock-in of settles and fails.
func TestRemovalChecks(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 400_000_000, feeRate: 2500,
		seed: 9})
	add, err := alice.ch.AddHTLC(addMsg(5_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, add)
	pre, _ := htlcPreimage(1)
	if _, err := bob.ch.SettleHTLC(0, pre); !errors.Is(err,
		ErrHTLCNotLocked) && !errors.Is(err, ErrUnknownHTLC) {

		t.Fatalf("settle before lock-in: %v", err)
	}
	round(t, alice, bob)
	if _, err := bob.ch.SettleHTLC(1, pre); !errors.Is(err,
		ErrUnknownHTLC) {

		t.Fatalf("settle of unknown id: %v", err)
	}
	if _, err := bob.ch.SettleHTLC(0, [32]byte{1}); !errors.Is(err,
		ErrBadPreimage) {

		t.Fatalf("settle with wrong preimage: %v", err)
	}
	bad := &lnwire.UpdateFulfillHTLC{ChanID: alice.ch.ChannelID(), ID: 0,
		PaymentPreimage: [32]byte{1}}
	if err := alice.ch.ReceiveHTLCSettle(bad); !errors.Is(err,
		ErrBadPreimage) {

		t.Fatalf("receiving a wrong preimage: %v", err)
	}
	settle, err := bob.ch.SettleHTLC(0, pre)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.ch.FailHTLC(0, nil); !errors.Is(err,
		ErrAlreadyResolved) {

		t.Fatalf("fail after settle: %v", err)
	}
	if _, err := bob.ch.MalformedFailHTLC(0, 5, [32]byte{}); !errors.Is(
		err, ErrMalformedCode) {

		t.Fatalf("malformed without BADONION: %v", err)
	}
	alice.exchange(t, settle)
	if err := alice.ch.ReceiveHTLCSettle(settle); !errors.Is(err,
		ErrAlreadyResolved) {

		t.Fatalf("second settle: %v", err)
	}
	// Out-of-order HTLC id from the peer.
	m := addMsg(5_000_000, 2)
	m.ChanID, m.ID = alice.ch.ChannelID(), 7
	if err := alice.ch.ReceiveHTLC(m); !errors.Is(err, ErrHTLCID) {
		t.Fatalf("id out of order: %v", err)
	}
}

// TestBadSignatures: a wrong commitment or HTLC signature, or a wrong
// revocation secret, fails the channel.
func TestBadSignatures(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 400_000_000, feeRate: 2500,
		seed: 10})
	add, err := alice.ch.AddHTLC(addMsg(5_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, add)
	cs := alice.sign(t).(*lnwire.CommitSig)
	for _, mutate := range []func(*lnwire.CommitSig){
		func(m *lnwire.CommitSig) { m.CommitSig = m.HtlcSigs[0] },
		func(m *lnwire.CommitSig) { m.HtlcSigs[0] = m.CommitSig },
		func(m *lnwire.CommitSig) { m.HtlcSigs = nil },
	} {
		bad := *cs
		bad.HtlcSigs = append([]lnwire.Sig(nil), cs.HtlcSigs...)
		mutate(&bad)
		if err := bob.ch.ReceiveNewCommitment(&bad); !IsFatal(err) {
			t.Fatalf("bad commitment_signed: %v", err)
		}
	}
	raa, _ := bob.exchange(t, cs)
	rev := *raa[0].(*lnwire.RevokeAndAck)
	rev.Revocation[0] ^= 1
	if _, err := alice.ch.ReceiveRevocation(&rev); !IsFatal(err) ||
		!errors.Is(err, ErrBadRevocation) {

		t.Fatalf("bad revocation: %v", err)
	}
	alice.exchange(t, raa...)
	if _, err := alice.ch.ReceiveRevocation(raa[0].(*lnwire.RevokeAndAck)); !IsFatal(err) {
		t.Fatalf("unexpected revocation: %v", err)
	}
}

// TestDataLossProtect: a side restored from an old backup learns from the
// peer's channel_reestablish that its state is old (and must not
// broadcast), and the peer learns it is talking to a node that is behind.
func TestDataLossProtect(t *testing.T) {
	alice, bob := newNodePair(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 400_000_000, feeRate: 2500,
		seed: 11})
	add, err := alice.ch.AddHTLC(addMsg(5_000_000, 1))
	if err != nil {
		t.Fatal(err)
	}
	bob.exchange(t, add)
	round(t, alice, bob)
	backup := append([]byte(nil), alice.store.data...)
	for i := uint64(2); i < 5; i++ {
		add, err := alice.ch.AddHTLC(addMsg(5_000_000, i))
		if err != nil {
			t.Fatal(err)
		}
		bob.exchange(t, add)
		round(t, alice, bob)
	}
	old, err := channeldb.DecodeOpenChannel(backup)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := NewChannel(old, alice.p.config())
	if err != nil {
		t.Fatal(err)
	}
	mine, err := stale.ChannelReestablish()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := bob.ch.ChannelReestablish()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stale.ReceiveReestablish(theirs); !errors.Is(err,
		ErrDataLoss) || !IsFatal(err) {

		t.Fatalf("stale side: %v, want ErrDataLoss", err)
	}
	if _, err := stale.LocalCommitTx(); !errors.Is(err, ErrDataLoss) {
		t.Fatalf("stale commitment offered for broadcast: %v", err)
	}
	if _, err := bob.ch.LocalCommitTx(); err != nil {
		t.Fatalf("up-to-date commitment: %v", err)
	}
	if _, err := bob.ch.ReceiveReestablish(mine); !errors.Is(err,
		ErrPeerDataLoss) {

		t.Fatalf("up-to-date side: %v, want ErrPeerDataLoss", err)
	}
	// A forged secret proves nothing.
	theirs.YourLastPerCommitmentSecret[0] ^= 1
	if _, err := stale.ReceiveReestablish(theirs); errors.Is(err,
		ErrDataLoss) || !errors.Is(err, ErrReestablish) {

		t.Fatalf("forged proof: %v", err)
	}
}

// TestFirstCommitment: the funding flow's signatures of commitment 0 are
// checked, and the records then produce a broadcastable commitment.
func TestFirstCommitment(t *testing.T) {
	a, b, sa, sb := newStates(t, pairSpec{chanType: ChannelTypeAnchors,
		capacity: 1_000_000, pushMsat: 100_000_000, feeRate: 2500,
		seed: 15})
	sig, err := SignFirstCommitment(sa, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	bad := sig
	bad[40] ^= 1
	if err := ReceiveFirstSignature(sb, b.config().Secrets, bad); !IsFatal(err) {
		t.Fatalf("bad first signature: %v", err)
	}
	ch, err := NewChannel(sb, b.config())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	if tx.TxHash() != sa.RemoteCommit.TxID {
		t.Fatal("the two sides recorded different commitment 0 txids")
	}
}
