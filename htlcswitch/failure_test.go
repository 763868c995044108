package htlcswitch

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// failCase is a payment alice makes through bob to carol, broken in one
// way, and the failure alice must read.
type failCase struct {
	name string
	// change alters the route before the onion is built; the add's
	// amount and expiry are then alice's to alter too.
	bob, carol func(p *sphinx.HopPayload)
	add        func(a *lnwire.UpdateAddHTLC)
	carolKey   *btcec.PublicKey // nil: carol's
	unknown    bool             // pay a hash carol has no invoice for
	before     func(t *testing.T, l *line)
	after      func(t *testing.T, l *line)
	want       sphinx.FailCode
	sender     int // 0 bob, 1 carol
	update     bool
}

// TestForwardFailures: each BOLT 4 failure a forwarding node or the final
// node raises reaches the origin encrypted, wrapped by every hop, and
// decrypts there to the right code and hop; the failures that carry a
// channel_update carry ours.
func TestForwardFailures(t *testing.T) {
	stranger, err := btcec.NewPrivateKey()
	mustOK(t, err)
	const amt = lnwire.MilliSatoshi(3_000_000)
	setPolicy := func(f func(p *ForwardingPolicy)) func(*testing.T, *line) {
		return func(t *testing.T, l *line) {
			p := DefaultForwardingPolicy()
			f(&p)
			mustOK(t, l.ba.sw.SetPolicies(map[wire.OutPoint]ForwardingPolicy{l.bc.op: p}))
		}
	}
	resetPolicy := setPolicy(func(*ForwardingPolicy) {})
	cases := []failCase{
		{name: "fee_insufficient", want: sphinx.CodeFeeInsufficient, update: true,
			add: func(a *lnwire.UpdateAddHTLC) { a.Amount-- }},
		{name: "incorrect_cltv_expiry", want: sphinx.CodeIncorrectCltvExpiry, update: true,
			add: func(a *lnwire.UpdateAddHTLC) { a.Expiry-- }},
		{name: "expiry_too_soon", want: sphinx.CodeExpiryTooSoon, update: true,
			bob: func(p *sphinx.HopPayload) { p.OutgoingCLTV = testHeight + OutgoingCltvRejectDelta }},
		{name: "expiry_too_far", want: sphinx.CodeExpiryTooFar,
			bob: func(p *sphinx.HopPayload) { p.OutgoingCLTV = testHeight + MaxOutgoingCltvExpiry + 1 }},
		{name: "amount_below_minimum", want: sphinx.CodeAmountBelowMinimum, update: true,
			before: setPolicy(func(p *ForwardingPolicy) { p.MinHTLC = amt + 1 }),
			after:  resetPolicy},
		{name: "temporary_channel_failure", want: sphinx.CodeTemporaryChannelFailure, update: true,
			before: setPolicy(func(p *ForwardingPolicy) { p.MaxHTLC = amt - 1 }),
			after:  resetPolicy},
		{name: "channel_disabled", want: sphinx.CodeChannelDisabled, update: true,
			before: func(t *testing.T, l *line) {
				l.bcConn.close(t, l.bc, l.c)
				eventually(t, "bob-carol inactive", func() bool { return !l.bc.link.Active() })
			},
			after: func(t *testing.T, l *line) {
				l.bcConn = connect(t, l.bc, l.c, true)
				eventually(t, "bob-carol active", bothActive(l.bc, l.c))
			}},
		{name: "unknown_next_peer", want: sphinx.CodeUnknownNextPeer,
			bob: func(p *sphinx.HopPayload) { x := uint64(77 << 40); p.ShortChannelID = &x }},
		{name: "invalid_onion_payload", want: sphinx.CodeInvalidOnionPayload,
			bob: func(p *sphinx.HopPayload) { p.ShortChannelID = nil }},
		{name: "invalid_onion_hmac", want: sphinx.CodeInvalidOnionHMAC,
			carolKey: stranger.PubKey()},
		{name: "incorrect_or_unknown_payment_details", sender: 1,
			want: sphinx.CodeIncorrectOrUnknownPaymentDetails, unknown: true},
		{name: "final_incorrect_cltv_expiry", sender: 1,
			want:  sphinx.CodeFinalIncorrectCltvExpiry,
			carol: func(p *sphinx.HopPayload) { p.OutgoingCLTV++ }},
		{name: "final_incorrect_htlc_amount", sender: 1,
			want: sphinx.CodeFinalIncorrectHtlcAmount,
			bob:  func(p *sphinx.HopPayload) { p.AmtToForward-- }},
	}

	a, ba, bc, c := newLine(t)
	ba.chanUpdate = func(scid lnwire.ShortChannelID) (*lnwire.ChannelUpdate, error) {
		return &lnwire.ChannelUpdate{ShortChannelID: scid, TimeLockDelta: 80}, nil
	}
	for _, s := range []*side{a, ba, bc, c} {
		s.startLink()
	}
	l := &line{a: a, ba: ba, bc: bc, c: c}
	l.connect(t)
	pol := DefaultForwardingPolicy()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t, l)
			}
			inv := addInvoice(t, l.c, amt)
			hash := inv.PaymentHash
			if tc.unknown {
				hash[0] ^= 1
			}
			final := finalHop(inv, amt, testHeight+100)
			scid := l.bc.scid.ToUint64()
			bob := sphinx.HopPayload{AmtToForward: uint64(amt),
				OutgoingCLTV: final.OutgoingCLTV, ShortChannelID: &scid}
			if tc.bob != nil {
				tc.bob(&bob)
			}
			if tc.carol != nil {
				tc.carol(&final)
			}
			carolKey := l.c.idKey.PubKey()
			if tc.carolKey != nil {
				carolKey = tc.carolKey
			}
			blob, circ := routeOnion(t, hash, []hopSpec{
				{l.ba.idKey.PubKey(), bob}, {carolKey, final}})
			fwd := lnwire.MilliSatoshi(bob.AmtToForward)
			add := &lnwire.UpdateAddHTLC{Amount: fwd + pol.Fee(fwd),
				PaymentHash: hash, Expiry: bob.OutgoingCLTV + pol.TimeLockDelta,
				OnionBlob: blob}
			if tc.add != nil {
				tc.add(add)
			}
			id := uint64(1000 + i)
			mustOK(t, l.a.sw.SendHTLC(l.a.scid, id, add))
			res := waitResult(t, l.a, id)
			if res.Settled || res.LocalFailure != nil || len(res.Reason) == 0 {
				t.Fatalf("result %+v, want an encrypted failure", res)
			}
			df, err := circ.DecryptFailure(res.Reason, nil)
			mustOK(t, err)
			if df.SenderIdx != tc.sender || df.Failure == nil ||
				df.Failure.Code() != tc.want {
				t.Fatalf("failure from hop %d: %v (%v), want %v from hop %d",
					df.SenderIdx, df.Failure, df.DecodeErr, tc.want, tc.sender)
			}
			if tc.update {
				checkUpdate(t, df.Failure, l.bc.scid)
			}
			if tc.after != nil {
				tc.after(t, l)
			}
		})
	}
	l.noHTLCs(t)
}

// checkUpdate checks that a failure carries our channel_update of scid.
func checkUpdate(t *testing.T, f sphinx.FailureMessage, scid lnwire.ShortChannelID) {
	t.Helper()
	uc, ok := f.(sphinx.UpdateCarrier)
	if !ok {
		t.Fatalf("%v carries no channel_update", f.Code())
	}
	msg, err := lnwire.ParseMessage(uc.Update())
	mustOK(t, err)
	u, ok := msg.(*lnwire.ChannelUpdate)
	if !ok || u.ShortChannelID != scid {
		t.Fatalf("channel_update %+v, want one of %v", msg, scid)
	}
}

// TestFirstHopMalformed: an onion the first hop cannot read comes back
// as update_fail_malformed_htlc: a local failure from the first hop.
func TestFirstHopMalformed(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	const amt = lnwire.MilliSatoshi(1_000_000)
	inv := addInvoice(t, b, amt)
	blob, _ := routeOnion(t, inv.PaymentHash, []hopSpec{
		{b.idKey.PubKey(), finalHop(inv, amt, testHeight+100)}})
	blob[len(blob)-1] ^= 1 // the HMAC
	mustOK(t, a.sw.SendHTLC(a.scid, 9, &lnwire.UpdateAddHTLC{Amount: amt,
		PaymentHash: inv.PaymentHash, Expiry: testHeight + 100, OnionBlob: blob}))
	res := waitResult(t, a, 9)
	if !res.FromFirstHop || res.LocalFailure == nil ||
		res.LocalFailure.Code() != sphinx.CodeInvalidOnionHMAC {
		t.Fatalf("result %+v, want invalid_onion_hmac from the first hop", res)
	}
}
