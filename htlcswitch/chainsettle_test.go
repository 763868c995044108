package htlcswitch

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// holdThroughBob has alice pay a hold invoice of carol's through bob
// (attempt 1) and waits until carol holds it.
func holdThroughBob(t *testing.T, l *line, preimage [32]byte,
	amt lnwire.MilliSatoshi) *lnwire.UpdateAddHTLC {

	t.Helper()
	ctx := context.Background()
	hash := sha256.Sum256(preimage[:])
	inv, err := l.c.reg.AddHoldInvoice(ctx, hash,
		invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	add := viaBob(t, l.bc.scid, l.c, finalHop(inv, amt, testHeight+100), hash)
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 1, add))
	eventually(t, "held at carol", func() bool {
		got, err := l.c.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	return add
}

// TestSettleFromChainForwarded: bob's HTLC to carol is claimed on chain
// (the court hands bob's switch the preimage) while alice is away; bob
// restarts before alice's HTLC is settled; then carol's settle arrives
// off chain too. Alice's HTLC is settled exactly once: her attempt is
// settled with the preimage, she pays once, bob logs one forward and
// keeps no circuit or package.
func TestSettleFromChainForwarded(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	const amt = lnwire.MilliSatoshi(3_000_000)
	preimage := [32]byte{7, 7}
	hash := sha256.Sum256(preimage[:])
	aBefore := localBalance(t, l.a)
	add := holdThroughBob(t, l, preimage, amt)

	l.ab.close(t, l.a, l.ba)
	l.bcConn.close(t, l.bc, l.c)
	if _, ok, _ := l.ba.sw.Preimage(hash); ok {
		t.Fatal("bob knows the preimage before it was revealed")
	}
	n, err := l.ba.sw.SettleFromChain(l.bc.scid, preimage)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("settled %d HTLCs from the chain, want 1", n)
	}
	// A second hand-off (the court after a restart) changes nothing.
	_, err = l.ba.sw.SettleFromChain(l.bc.scid, preimage)
	mustOK(t, err)
	if p, ok, err := l.ba.sw.Preimage(hash); err != nil || !ok || p != preimage {
		t.Fatalf("bob's stored preimage: %x %v %v", p, ok, err)
	}
	// Alice is away: the settle waits in bob's link when he restarts.
	l.ba.node.restart()
	if c, _ := openRecords(t, l.ba.node); c != 1 {
		t.Fatalf("bob holds %d circuits after the restart, want 1", c)
	}
	if p, ok, err := l.ba.sw.Preimage(hash); err != nil || !ok || p != preimage {
		t.Fatalf("bob's stored preimage after the restart: %x %v %v", p, ok, err)
	}
	// Carol settles off chain as well.
	l.bcConn = connect(t, l.bc, l.c, true)
	mustOK(t, l.c.reg.SettleInvoice(ctx, preimage))
	eventually(t, "carol's settle locked in at bob", func() bool {
		waitQuiet(t, l.bc, l.c)
		st, err := l.bc.db.FetchOpenChannel(l.bc.op)
		return err == nil && len(st.LocalCommit.HTLCs)+len(st.RemoteCommit.HTLCs) == 0
	})
	l.ab = connect(t, l.a, l.ba, true)
	res := waitResult(t, l.a, 1)
	if !res.Settled || res.Preimage != preimage {
		t.Fatalf("result %+v, want settled", res)
	}
	l.noHTLCs(t)
	if got, want := localBalance(t, l.a), aBefore-uint64(add.Amount); got != want {
		t.Fatalf("alice's balance %d, want %d", got, want)
	}
	evs := forwardingLog(t, l.ba.node)
	if len(evs) != 1 || evs[0].AmtIn != add.Amount || evs[0].AmtOut != amt {
		t.Fatalf("bob's forwarding log %+v, want one forward", evs)
	}
	eventually(t, "bob's records cleared", func() bool {
		c, p := openRecords(t, l.ba.node)
		return c == 0 && p == 0
	})
}

// TestSettleFromChainAttempt: alice's own HTLC to bob is claimed on
// chain: her attempt's result becomes settled with the preimage, and
// the later off-chain settle is only acknowledged. Bob, who learnt the
// preimage off chain, has it stored for his court.
func TestSettleFromChainAttempt(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	const amt = lnwire.MilliSatoshi(2_000_000)
	preimage := [32]byte{9, 1}
	hash := sha256.Sum256(preimage[:])
	aBefore := localBalance(t, l.a)
	add := holdThroughBob(t, l, preimage, amt)

	// An unrelated channel or hash settles nothing.
	n, err := l.a.sw.SettleFromChain(l.bc.scid, preimage)
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("settled %d HTLCs on another channel", n)
	}
	n, err = l.a.sw.SettleFromChain(l.a.scid, [32]byte{1})
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("settled %d HTLCs of another hash", n)
	}

	n, err = l.a.sw.SettleFromChain(l.a.scid, preimage)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("settled %d attempts from the chain, want 1", n)
	}
	res := waitResult(t, l.a, 1)
	if !res.Settled || res.Preimage != preimage {
		t.Fatalf("result %+v, want settled", res)
	}
	if _, ok, _ := l.ba.sw.Preimage(hash); ok {
		t.Fatal("bob knows the preimage before carol settled")
	}
	mustOK(t, l.c.reg.SettleInvoice(ctx, preimage))
	l.noHTLCs(t)
	if p, ok, err := l.ba.sw.Preimage(hash); err != nil || !ok || p != preimage {
		t.Fatalf("bob's stored preimage: %x %v %v", p, ok, err)
	}
	res = waitResult(t, l.a, 1)
	if !res.Settled || res.Preimage != preimage {
		t.Fatalf("result after the off-chain settle %+v", res)
	}
	if got, want := localBalance(t, l.a), aBefore-uint64(add.Amount); got != want {
		t.Fatalf("alice's balance %d, want %d", got, want)
	}
	eventually(t, "alice's records cleared", func() bool {
		c, p := openRecords(t, l.a.node)
		return c == 0 && p == 0
	})
}

// TestSettleFromChainRestart: bob learns the preimage only from the
// chain, with alice and carol away, and restarts before alice is back;
// carol never comes back (her channel is on chain). Alice's HTLC is
// settled from the stored preimage once she reconnects.
func TestSettleFromChainRestart(t *testing.T) {
	l := startLine(t)
	const amt = lnwire.MilliSatoshi(1_500_000)
	preimage := [32]byte{5, 5, 5}
	add := holdThroughBob(t, l, preimage, amt)

	l.ab.close(t, l.a, l.ba)
	l.bcConn.close(t, l.bc, l.c)
	n, err := l.ba.sw.SettleFromChain(l.bc.scid, preimage)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("settled %d HTLCs from the chain, want 1", n)
	}
	l.ba.node.restart()
	l.ab = connect(t, l.a, l.ba, true)
	res := waitResult(t, l.a, 1)
	if !res.Settled || res.Preimage != preimage {
		t.Fatalf("result %+v, want settled", res)
	}
	evs := forwardingLog(t, l.ba.node)
	if len(evs) != 1 || evs[0].AmtIn != add.Amount || evs[0].AmtOut != amt {
		t.Fatalf("bob's forwarding log %+v, want one forward", evs)
	}
	eventually(t, "bob's circuit removed", func() bool {
		c, _ := openRecords(t, l.ba.node)
		return c == 0
	})
}

// TestFailFromChain: bob's HTLC to carol times out on chain (his court
// hands his switch the timeout): alice's HTLC is failed back at once
// with permanent_channel_failure from bob, not left until it expires;
// a call for another amount or a second call fails nothing more. Then
// alice's own HTLC to bob times out on chain: her attempt fails.
func TestFailFromChain(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	const amt = lnwire.MilliSatoshi(2_500_500) // on chain: 2,500 sat
	preimage := [32]byte{4, 2}
	hash := sha256.Sum256(preimage[:])
	aBefore := localBalance(t, l.a)
	inv, err := l.c.reg.AddHoldInvoice(ctx, hash, invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	final := finalHop(inv, amt, testHeight+100)
	pol := DefaultForwardingPolicy()
	next := l.bc.scid.ToUint64()
	blob, circ := routeOnion(t, hash, []hopSpec{
		{l.ba.idKey.PubKey(), sphinx.HopPayload{AmtToForward: uint64(amt),
			OutgoingCLTV: final.OutgoingCLTV, ShortChannelID: &next}},
		{l.c.idKey.PubKey(), final}})
	add := &lnwire.UpdateAddHTLC{Amount: amt + pol.Fee(amt), PaymentHash: hash,
		Expiry: final.OutgoingCLTV + pol.TimeLockDelta, OnionBlob: blob}
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 1, add))
	eventually(t, "held at carol", func() bool {
		got, err := l.c.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	l.bcConn.close(t, l.bc, l.c)

	n, err := l.ba.sw.FailFromChain(l.bc.scid, hash, amt.ToSatoshis()+1)
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("failed %d HTLCs of another amount", n)
	}
	n, err = l.ba.sw.FailFromChain(l.bc.scid, hash, amt.ToSatoshis())
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("failed %d HTLCs from the chain, want 1", n)
	}
	_, err = l.ba.sw.FailFromChain(l.bc.scid, hash, amt.ToSatoshis())
	mustOK(t, err)
	res := waitResult(t, l.a, 1)
	if res.Settled || len(res.Reason) == 0 {
		t.Fatalf("result %+v, want an encrypted failure", res)
	}
	df, err := circ.DecryptFailure(res.Reason, nil)
	mustOK(t, err)
	if df.SenderIdx != 0 || df.Failure == nil || df.Failure.Code() != sphinx.CodePermanentChannelFailure {
		t.Fatalf("failure from hop %d: %v (%v), want permanent_channel_failure from bob",
			df.SenderIdx, df.Failure, df.DecodeErr)
	}
	eventually(t, "alice's HTLC removed", func() bool {
		return localBalance(t, l.a) == aBefore
	})
	eventually(t, "bob's circuit removed", func() bool {
		c, _ := openRecords(t, l.ba.node)
		return c == 0
	})

	// Alice's own HTLC to bob, held by a hold invoice of bob's.
	pre2 := [32]byte{4, 3}
	hash2 := sha256.Sum256(pre2[:])
	inv2, err := l.ba.reg.AddHoldInvoice(ctx, hash2, invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	blob2, _ := routeOnion(t, hash2, []hopSpec{{l.ba.idKey.PubKey(), finalHop(inv2, amt, testHeight+100)}})
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 2, &lnwire.UpdateAddHTLC{Amount: amt,
		PaymentHash: hash2, Expiry: testHeight + 100, OnionBlob: blob2}))
	eventually(t, "held at bob", func() bool {
		got, err := l.ba.reg.LookupInvoice(ctx, hash2)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	n, err = l.a.sw.FailFromChain(l.a.scid, hash2, amt.ToSatoshis())
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("failed %d attempts from the chain, want 1", n)
	}
	res = waitResult(t, l.a, 2)
	if _, ok := res.LocalFailure.(*sphinx.FailPermanentChannelFailure); !ok || res.Settled {
		t.Fatalf("attempt result %+v, want permanent_channel_failure", res)
	}
}

// holdAttempt has alice pay a hold invoice of carol's through bob as
// attempt id and waits until carol holds it.
func holdAttempt(t *testing.T, l *line, id uint64, preimage [32]byte,
	amt lnwire.MilliSatoshi) {

	t.Helper()
	ctx := context.Background()
	hash := sha256.Sum256(preimage[:])
	inv, err := l.c.reg.AddHoldInvoice(ctx, hash,
		invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	add := viaBob(t, l.bc.scid, l.c, finalHop(inv, amt, testHeight+100), hash)
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, id, add))
	eventually(t, "held at carol", func() bool {
		got, err := l.c.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
}

// TestChainResolutionsReachNewLink: with alice away, bob's channel to
// her has no link (closing, say, then the close refused) when one of
// his HTLCs to carol times out on chain, and another is claimed on chain
// with its preimage while the link of the moment is replaced by a new
// one before it committed the settle. Once the channel's link is back
// and alice reconnects, without a restart of bob, her first attempt
// fails and her second settles, each once; a second hand-off from the
// court changes nothing, and bob keeps no circuit.
func TestChainResolutionsReachNewLink(t *testing.T) {
	l := startLine(t)
	const amt = lnwire.MilliSatoshi(2_000_000)
	failPre, settlePre := [32]byte{6, 1}, [32]byte{6, 2}
	failHash := sha256.Sum256(failPre[:])
	aBefore := localBalance(t, l.a)
	holdAttempt(t, l, 1, failPre, amt)
	holdAttempt(t, l, 2, settlePre, amt)
	l.ab.close(t, l.a, l.ba)
	l.bcConn.close(t, l.bc, l.c)

	// The settle is handed to bob's (inactive) link, which then stops.
	n, err := l.ba.sw.SettleFromChain(l.bc.scid, settlePre)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("settled %d HTLCs from the chain, want 1", n)
	}
	waitQuiet(t, l.ba)
	l.ba.sw.Links().Remove(l.ba.link.ChanID())

	// The timeout finds no link at all.
	for range 2 {
		n, err = l.ba.sw.FailFromChain(l.bc.scid, failHash, amt.ToSatoshis())
		mustOK(t, err)
		if n != 1 {
			t.Fatalf("failed %d HTLCs from the chain, want 1", n)
		}
	}

	l.ba.startLink()
	l.ab = connect(t, l.a, l.ba, true)
	res := waitResult(t, l.a, 1)
	if res.Settled || len(res.Reason) == 0 {
		t.Fatalf("attempt 1: %+v, want an encrypted failure", res)
	}
	res = waitResult(t, l.a, 2)
	if !res.Settled || res.Preimage != settlePre {
		t.Fatalf("attempt 2: %+v, want settled", res)
	}
	eventually(t, "alice's HTLCs removed", func() bool {
		waitQuiet(t, l.a, l.ba)
		st, err := l.a.db.FetchOpenChannel(l.a.op)
		return err == nil && len(st.LocalCommit.HTLCs)+len(st.RemoteCommit.HTLCs) == 0
	})
	pol := DefaultForwardingPolicy()
	if got, want := localBalance(t, l.a), aBefore-uint64(amt+pol.Fee(amt)); got != want {
		t.Fatalf("alice's balance %d, want %d (one payment)", got, want)
	}
	// The court hands both on again (as after a restart): nothing
	// changes.
	_, err = l.ba.sw.SettleFromChain(l.bc.scid, settlePre)
	mustOK(t, err)
	_, err = l.ba.sw.FailFromChain(l.bc.scid, failHash, amt.ToSatoshis())
	mustOK(t, err)
	evs := forwardingLog(t, l.ba.node)
	if len(evs) != 1 || evs[0].AmtOut != amt {
		t.Fatalf("bob's forwarding log %+v, want one forward", evs)
	}
	eventually(t, "bob's circuits removed", func() bool {
		c, _ := openRecords(t, l.ba.node)
		return c == 0
	})
}

// TestFailUnclaimable: bob's channel to carol closed on a commitment
// that cannot pay his two HTLCs to her (dust, say). The court hands him
// their ids: the one whose preimage bob knows settles alice's attempt,
// the other fails it with permanent_channel_failure; an unknown id and a
// second call change nothing.
func TestFailUnclaimable(t *testing.T) {
	l := startLine(t)
	const amt = lnwire.MilliSatoshi(1_000_000)
	failPre, settlePre := [32]byte{8, 1}, [32]byte{8, 2}
	holdAttempt(t, l, 1, failPre, amt)   // bob -> carol id 0
	holdAttempt(t, l, 2, settlePre, amt) // id 1
	l.bcConn.close(t, l.bc, l.c)
	// Bob learnt the second preimage (stored as the switch stores those
	// of forwarded HTLCs).
	mustOK(t, l.ba.db.Update(func(tx kvdb.RwTx) error {
		return channeldb.PutPreimages(tx, [][32]byte{settlePre})
	}))
	n, err := l.ba.sw.FailUnclaimable(l.bc.scid, []uint64{7})
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("resolved %d HTLCs of an unknown id", n)
	}
	for range 2 {
		n, err = l.ba.sw.FailUnclaimable(l.bc.scid, []uint64{0, 1})
		mustOK(t, err)
		if n != 2 {
			t.Fatalf("resolved %d HTLCs, want 2", n)
		}
	}
	res := waitResult(t, l.a, 1)
	if res.Settled || len(res.Reason) == 0 {
		t.Fatalf("attempt 1: %+v, want an encrypted failure", res)
	}
	res = waitResult(t, l.a, 2)
	if !res.Settled || res.Preimage != settlePre {
		t.Fatalf("attempt 2: %+v, want settled", res)
	}
	eventually(t, "bob's circuits removed", func() bool {
		c, _ := openRecords(t, l.ba.node)
		return c == 0
	})
	evs := forwardingLog(t, l.ba.node)
	if len(evs) != 1 || evs[0].AmtOut != amt {
		t.Fatalf("bob's forwarding log %+v, want one forward", evs)
	}
	n, err = l.ba.sw.FailUnclaimable(l.bc.scid, []uint64{0, 1})
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("resolved %d HTLCs again", n)
	}
}

// markFinal writes what the court leaves of s's channel once its
// contract is final: the closed summary, no longer pending, and the
// resolved contract record. (The open channel stays, for the test's
// links.)
func markFinal(t *testing.T, s *side, resolved bool) {
	t.Helper()
	st, err := s.db.FetchOpenChannel(s.op)
	mustOK(t, err)
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&s.op, nil, nil))
	mustOK(t, s.db.Update(func(dtx kvdb.RwTx) error {
		err := channeldb.PutContract(dtx, &channeldb.ContractRecord{ChanPoint: s.op,
			Kind: channeldb.ContractRemoteCommit, CloseTx: tx, CloseHeight: 100,
			Channel: st, Resolved: resolved})
		if err != nil {
			return err
		}
		return channeldb.PutClosedChannel(dtx, &channeldb.ChannelCloseSummary{
			ChanPoint: s.op, ShortChanID: s.scid, ClosingTxID: tx.TxHash(),
			RemotePub:   st.RemoteNode,
			CloseHeight: 100, CloseType: channeldb.RemoteForceClose,
			IsPending: !resolved})
	}))
}

// TestFinalOutgoingFailsAfterRestart: bob's channel to carol went to
// chain with his HTLC to her, and its contract became final (the HTLC
// timed out, say) while alice was away; bob restarts after that, so his
// court hands nothing on. At his start the switch fails alice's HTLC
// all the same, once she is back. Alice's own attempt over a channel
// whose contract is final fails at her start; over one not yet final it
// stays in flight (the court still hands its resolution on).
func TestFinalOutgoingFailsAfterRestart(t *testing.T) {
	l := startLine(t)
	const amt = lnwire.MilliSatoshi(1_200_000)
	holdAttempt(t, l, 1, [32]byte{3, 1}, amt)
	l.ab.close(t, l.a, l.ba)
	l.bcConn.close(t, l.bc, l.c)
	markFinal(t, l.bc, true)
	l.ba.node.restart()
	if c, _ := openRecords(t, l.ba.node); c != 1 {
		t.Fatalf("bob holds %d circuits before alice is back, want 1", c)
	}
	l.ab = connect(t, l.a, l.ba, true)
	res := waitResult(t, l.a, 1)
	if res.Settled || len(res.Reason) == 0 {
		t.Fatalf("attempt 1: %+v, want an encrypted failure", res)
	}
	eventually(t, "bob's circuit removed", func() bool {
		c, _ := openRecords(t, l.ba.node)
		return c == 0
	})

	// Alice's own attempt, held by a hold invoice of bob's.
	ctx := context.Background()
	pre := [32]byte{3, 2}
	hash := sha256.Sum256(pre[:])
	inv, err := l.ba.reg.AddHoldInvoice(ctx, hash, invoices.NewInvoice{Memo: "hold", Value: amt})
	mustOK(t, err)
	blob, _ := routeOnion(t, hash, []hopSpec{{l.ba.idKey.PubKey(), finalHop(inv, amt, testHeight+100)}})
	mustOK(t, l.a.sw.SendHTLC(l.a.scid, 2, &lnwire.UpdateAddHTLC{Amount: amt,
		PaymentHash: hash, Expiry: testHeight + 100, OnionBlob: blob}))
	eventually(t, "held at bob", func() bool {
		got, err := l.ba.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	l.ab.close(t, l.a, l.ba)
	markFinal(t, l.a, false)
	l.a.node.restart()
	ch, err := l.a.sw.GetAttemptResult(2)
	mustOK(t, err)
	select {
	case r := <-ch:
		t.Fatalf("attempt 2 resolved before its contract is final: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
	markFinal(t, l.a, true)
	l.a.node.restart()
	res = waitResult(t, l.a, 2)
	if _, ok := res.LocalFailure.(*sphinx.FailPermanentChannelFailure); !ok || res.Settled {
		t.Fatalf("attempt 2: %+v, want permanent_channel_failure", res)
	}
}

// TestFailTimedOutByID: alice pays bob in two shards of one hash and
// amount over one channel; the first times out on chain. FailTimedOut
// fails that attempt only: the other, which bob may still claim, settles
// when he does.
func TestFailTimedOutByID(t *testing.T) {
	l := startLine(t)
	ctx := context.Background()
	const amt = lnwire.MilliSatoshi(1_000_000)
	pre := [32]byte{2, 9}
	hash := sha256.Sum256(pre[:])
	inv, err := l.ba.reg.AddHoldInvoice(ctx, hash, invoices.NewInvoice{Memo: "hold", Value: 2 * amt})
	mustOK(t, err)
	for id := uint64(1); id <= 2; id++ {
		hop := finalHop(inv, amt, testHeight+100)
		hop.PaymentData.TotalMsat = uint64(2 * amt)
		blob, _ := routeOnion(t, hash, []hopSpec{{l.ba.idKey.PubKey(), hop}})
		mustOK(t, l.a.sw.SendHTLC(l.a.scid, id, &lnwire.UpdateAddHTLC{Amount: amt,
			PaymentHash: hash, Expiry: testHeight + 100, OnionBlob: blob}))
	}
	eventually(t, "both shards held at bob", func() bool {
		got, err := l.ba.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})
	n, err := l.a.sw.FailTimedOut(l.a.scid, 0)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("failed %d HTLCs, want 1", n)
	}
	res := waitResult(t, l.a, 1)
	if _, ok := res.LocalFailure.(*sphinx.FailPermanentChannelFailure); !ok || res.Settled {
		t.Fatalf("attempt 1: %+v, want permanent_channel_failure", res)
	}
	n, err = l.a.sw.FailTimedOut(l.a.scid, 0)
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("failed %d HTLCs again", n)
	}
	mustOK(t, l.ba.reg.SettleInvoice(ctx, pre))
	res = waitResult(t, l.a, 2)
	if !res.Settled || res.Preimage != pre {
		t.Fatalf("attempt 2: %+v, want settled", res)
	}
}
