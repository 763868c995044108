package htlcswitch

import (
	"context"
	"testing"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// TestForwardAliasOnly: bob's channel to carol has an option_scid_alias
// type. A forward naming its real scid fails at bob as unknown_next_peer
// (BOLT 2: the real scid must not route incoming HTLCs to it); one
// naming the alias reaches carol; bob's own payment to carol over the
// channel, which names the real scid, still works.
func TestForwardAliasOnly(t *testing.T) {
	a, ba, bc, c := newLine(t)
	alias := lnwire.ShortChannelID{BlockHeight: 16_000_000, TxIndex: 2, TxPosition: 9}
	st, err := bc.db.FetchOpenChannel(bc.op)
	mustOK(t, err)
	st.Aliases = []lnwire.ShortChannelID{alias}
	mustOK(t, bc.db.PersistChannel(context.Background(), &channeldb.ChannelUpdate{State: st}))
	bc.aliasOnly = true
	for _, s := range []*side{a, ba, bc, c} {
		s.startLink()
	}
	l := &line{a: a, ba: ba, bc: bc, c: c}
	l.connect(t)

	const amt = lnwire.MilliSatoshi(5_000_000)
	pay := func(next lnwire.ShortChannelID, id uint64) (AttemptResult,
		*channeldb.Invoice, *sphinx.Circuit) {

		t.Helper()
		inv := addInvoice(t, l.c, amt)
		final := finalHop(inv, amt, testHeight+100)
		pol := DefaultForwardingPolicy()
		scid := next.ToUint64()
		blob, circ := routeOnion(t, inv.PaymentHash, []hopSpec{
			{bobKey(l.c), sphinx.HopPayload{AmtToForward: uint64(amt),
				OutgoingCLTV: final.OutgoingCLTV, ShortChannelID: &scid}},
			{l.c.idKey.PubKey(), final}})
		add := &lnwire.UpdateAddHTLC{Amount: amt + pol.Fee(amt),
			PaymentHash: inv.PaymentHash,
			Expiry:      final.OutgoingCLTV + pol.TimeLockDelta, OnionBlob: blob}
		mustOK(t, l.a.sw.SendHTLC(l.a.scid, id, add))
		return waitResult(t, l.a, id), inv, circ
	}

	res, inv, circ := pay(l.bc.scid, 1)
	if res.Settled || len(res.Reason) == 0 {
		t.Fatalf("forward by the real scid: %+v, want an encrypted failure", res)
	}
	df, err := circ.DecryptFailure(res.Reason, nil)
	mustOK(t, err)
	if df.SenderIdx != 0 || df.Failure == nil ||
		df.Failure.Code() != sphinx.CodeUnknownNextPeer {

		t.Fatalf("failure from hop %d: %v (%v), want unknown_next_peer "+
			"from bob", df.SenderIdx, df.Failure, df.DecodeErr)
	}
	got, err := l.c.reg.LookupInvoice(context.Background(), inv.PaymentHash)
	mustOK(t, err)
	if got.State == channeldb.InvoiceSettled {
		t.Fatal("carol's invoice paid through the real scid")
	}

	res, inv, _ = pay(alias, 2)
	if !res.Settled || res.Preimage != *inv.Preimage {
		t.Fatalf("forward by the alias: %+v, want settled", res)
	}

	// Bob's own payment names the real scid as its first hop.
	inv = addInvoice(t, l.c, amt)
	expiry := uint32(testHeight + 100)
	blob, _ := routeOnion(t, inv.PaymentHash, []hopSpec{
		{l.c.idKey.PubKey(), finalHop(inv, amt, expiry)}})
	mustOK(t, l.bc.sw.SendHTLC(l.bc.scid, 3, &lnwire.UpdateAddHTLC{
		Amount: amt, PaymentHash: inv.PaymentHash, Expiry: expiry,
		OnionBlob: blob}))
	if res := waitResult(t, l.bc, 3); !res.Settled || res.Preimage != *inv.Preimage {
		t.Fatalf("bob's own payment: %+v, want settled", res)
	}
}
