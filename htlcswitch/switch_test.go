package htlcswitch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// hopSpec is one hop of a test route: the node, and what its payload
// tells it.
type hopSpec struct {
	node    *btcec.PublicKey
	payload sphinx.HopPayload
}

// routeOnion builds the onion of a route and the circuit the origin
// keeps to decrypt failures.
func routeOnion(t testing.TB, hash [32]byte, hops []hopSpec) ([lnwire.OnionPacketSize]byte, *sphinx.Circuit) {
	t.Helper()
	session, err := btcec.NewPrivateKey()
	mustOK(t, err)
	route := make([]sphinx.Hop, len(hops))
	path := make([]*btcec.PublicKey, len(hops))
	for i := range hops {
		b, err := hops[i].payload.Encode()
		mustOK(t, err)
		route[i] = sphinx.Hop{PubKey: hops[i].node, Payload: b}
		path[i] = hops[i].node
	}
	pkt, err := sphinx.NewOnionPacket(route, session, hash[:])
	mustOK(t, err)
	circ, err := sphinx.NewCircuit(session, path)
	mustOK(t, err)
	var blob [lnwire.OnionPacketSize]byte
	copy(blob[:], pkt.Bytes())
	return blob, circ
}

// finalHop is the payload of the final hop paying inv.
func finalHop(inv *channeldb.Invoice, amt lnwire.MilliSatoshi, expiry uint32) sphinx.HopPayload {
	return sphinx.HopPayload{AmtToForward: uint64(amt), OutgoingCLTV: expiry,
		PaymentData: &sphinx.PaymentData{PaymentSecret: inv.PaymentAddr,
			TotalMsat: uint64(amt)}}
}

// waitResult waits for an attempt's result.
func waitResult(t testing.TB, s *side, id uint64) AttemptResult {
	t.Helper()
	ch, err := s.sw.GetAttemptResult(id)
	mustOK(t, err)
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no result for attempt %d", s.name, id)
	}
	return AttemptResult{}
}

func addInvoice(t testing.TB, s *side, amt lnwire.MilliSatoshi) *channeldb.Invoice {
	t.Helper()
	inv, err := s.reg.AddInvoice(context.Background(),
		invoices.NewInvoice{Memo: "test", Value: amt})
	mustOK(t, err)
	return inv
}

func localBalance(t *testing.T, s *side) uint64 {
	t.Helper()
	st, err := s.db.FetchOpenChannel(s.op)
	mustOK(t, err)
	if st.LocalCommit.LocalBalanceMsat != st.RemoteCommit.LocalBalanceMsat {
		t.Fatalf("%s: commitments disagree on our balance: %d, %d", s.name,
			st.LocalCommit.LocalBalanceMsat, st.RemoteCommit.LocalBalanceMsat)
	}
	return st.LocalCommit.LocalBalanceMsat
}

// TestOneHopPayment: alice pays bob's invoice over their channel; the
// attempt's result is the preimage, persisted, and the balances moved.
func TestOneHopPayment(t *testing.T) {
	a, b := newChannel(t)
	a.startLink()
	b.startLink()
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))

	const amt = lnwire.MilliSatoshi(10_000_000)
	inv := addInvoice(t, b, amt)
	expiry := uint32(testHeight + 100)
	blob, _ := routeOnion(t, inv.PaymentHash, []hopSpec{
		{b.idKey.PubKey(), finalHop(inv, amt, expiry)}})
	add := &lnwire.UpdateAddHTLC{Amount: amt, PaymentHash: inv.PaymentHash,
		Expiry: expiry, OnionBlob: blob}
	beforeA, beforeB := localBalance(t, a), localBalance(t, b)
	bw, ok := a.sw.Bandwidth(a.scid)
	if !ok || bw < amt {
		t.Fatalf("bandwidth %v %v before paying", bw, ok)
	}

	mustOK(t, a.sw.SendHTLC(a.scid, 1, add))
	if err := a.sw.SendHTLC(a.scid, 1, add); !errors.Is(err, ErrDuplicateAttempt) {
		t.Fatalf("second SendHTLC of attempt 1: %v, want ErrDuplicateAttempt", err)
	}
	res := waitResult(t, a, 1)
	if !res.Settled || res.Preimage != *inv.Preimage {
		t.Fatalf("result %+v, want settled with the invoice's preimage", res)
	}
	paid, err := b.reg.LookupInvoice(context.Background(), inv.PaymentHash)
	mustOK(t, err)
	if paid.State != channeldb.InvoiceSettled || paid.AmtPaid != amt {
		t.Fatalf("invoice %v paid %v, want settled %v", paid.State, paid.AmtPaid, amt)
	}
	eventually(t, "balances moved", func() bool {
		waitQuiet(t, a, b)
		sa, _ := a.db.FetchOpenChannel(a.op)
		sb, _ := b.db.FetchOpenChannel(b.op)
		return len(sa.LocalCommit.HTLCs)+len(sa.RemoteCommit.HTLCs)+
			len(sb.LocalCommit.HTLCs)+len(sb.RemoteCommit.HTLCs) == 0
	})
	if got := localBalance(t, a); got != beforeA-uint64(amt) {
		t.Fatalf("alice's balance %d, want %d", got, beforeA-uint64(amt))
	}
	if got := localBalance(t, b); got != beforeB+uint64(amt) {
		t.Fatalf("bob's balance %d, want %d", got, beforeB+uint64(amt))
	}

	// The result outlives a restart; the attempt id stays used.
	a.restart()
	res = waitResult(t, a, 1)
	if !res.Settled || res.Preimage != *inv.Preimage {
		t.Fatalf("result after restart %+v", res)
	}
	if err := a.sw.SendHTLC(a.scid, 1, add); !errors.Is(err, ErrDuplicateAttempt) {
		t.Fatalf("SendHTLC of a resolved attempt: %v, want ErrDuplicateAttempt", err)
	}
	mustOK(t, a.sw.CleanAttemptResults(map[uint64]struct{}{}))
	ch, err := a.sw.GetAttemptResult(1)
	mustOK(t, err)
	select {
	case r := <-ch:
		t.Fatalf("result %+v after CleanAttemptResults", r)
	default:
	}
}

// TestSendUnknownHop: an HTLC to a channel we have no link for fails
// locally with unknown_next_peer.
func TestSendUnknownHop(t *testing.T) {
	a, _ := newChannel(t)
	a.startLink()
	add := &lnwire.UpdateAddHTLC{Amount: 1000, Expiry: testHeight + 50}
	mustOK(t, a.sw.SendHTLC(lnwire.NewShortChanIDFromInt(42), 7, add))
	res := waitResult(t, a, 7)
	if res.Settled || res.FromFirstHop || res.LocalFailure == nil ||
		res.LocalFailure.Code() != sphinx.CodeUnknownNextPeer {
		t.Fatalf("result %+v, want a local unknown_next_peer", res)
	}
	// The link exists but its peer is away.
	mustOK(t, a.sw.SendHTLC(a.scid, 8, add))
	res = waitResult(t, a, 8)
	if res.LocalFailure == nil ||
		res.LocalFailure.Code() != sphinx.CodeTemporaryChannelFailure {
		t.Fatalf("result %+v, want a local temporary_channel_failure", res)
	}
}
