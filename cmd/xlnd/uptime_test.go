package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// TestUptimeTracker: a channel is monitored from the start or its
// opening, whichever is later, and its uptime counts only the peer's
// connections within that window, the open one up to now.
func TestUptimeTracker(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	u := newUptimeTracker(func() time.Time { return now })
	peer := [33]byte{2, 1}
	old, fresh := wire.OutPoint{Index: 1}, wire.OutPoint{Index: 2}

	now = now.Add(10 * time.Second)
	u.peerOnline(peer)
	now = now.Add(20 * time.Second) // online 10..30
	u.peerOffline(peer)
	now = now.Add(30 * time.Second)
	u.channelOpened(fresh) // opened at 60
	u.peerOnline(peer)
	u.peerOnline(peer) // a repeated event changes nothing
	now = now.Add(40 * time.Second)

	life, up := u.times(old, peer)
	if life != 100*time.Second || up != 60*time.Second {
		t.Fatalf("old channel: lifetime %v uptime %v, want 100s 60s", life, up)
	}
	life, up = u.times(fresh, peer)
	if life != 40*time.Second || up != 40*time.Second {
		t.Fatalf("new channel: lifetime %v uptime %v, want 40s 40s", life, up)
	}
	if life, up = u.times(old, [33]byte{3}); life != 100*time.Second || up != 0 {
		t.Fatalf("unknown peer: lifetime %v uptime %v", life, up)
	}
	var none *uptimeTracker
	if life, up = none.times(old, peer); life != 0 || up != 0 {
		t.Fatalf("nil tracker: %v %v", life, up)
	}
}

// TestUptimeFlapBound: a flapping peer keeps a bounded list of spans,
// and merging the oldest only counts the gap between them as online.
func TestUptimeFlapBound(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	u := newUptimeTracker(func() time.Time { return now })
	peer := [33]byte{2, 1}
	for i := 0; i < 3*maxOnlineSpans; i++ {
		u.peerOnline(peer)
		now = now.Add(time.Second)
		u.peerOffline(peer)
		now = now.Add(time.Second)
	}
	if n := len(u.online[peer]); n > maxOnlineSpans {
		t.Fatalf("%d spans kept", n)
	}
	life, up := u.times(wire.OutPoint{}, peer)
	if life != 6*maxOnlineSpans*time.Second || up < 3*maxOnlineSpans*time.Second || up > life {
		t.Fatalf("lifetime %v uptime %v", life, up)
	}
}

// TestCommitHTLCs: the HTLCs of our commitment with their forwarding
// sides from the circuits and locked_in from the peer's commitment.
func TestCommitHTLCs(t *testing.T) {
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"), channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k, _ := btcec.NewPrivateKey()
	scid := lnwire.NewShortChanIDFromInt(500 << 40)
	other := lnwire.NewShortChanIDFromInt(600 << 40)
	h := func(b byte) [32]byte { return [32]byte{b} }
	st := &channeldb.OpenChannel{ShortChannelID: scid, RemoteNode: k.PubKey(),
		LocalCommit: channeldb.ChannelCommitment{HTLCs: []channeldb.HTLC{
			// Forwarded from here to other as its HTLC 7.
			{ID: 0, Incoming: true, AmountMsat: 10_500, PaymentHash: h(1), CltvExpiry: 300},
			// Our own payment.
			{ID: 0, AmountMsat: 20_000, PaymentHash: h(2), CltvExpiry: 310},
			// Forwarded to here from other's HTLC 4; not yet on the
			// peer's commitment.
			{ID: 1, AmountMsat: 30_000, PaymentHash: h(3), CltvExpiry: 320},
			// Paying our invoice, no circuit.
			{ID: 1, Incoming: true, AmountMsat: 40_000, PaymentHash: h(4), CltvExpiry: 330},
		}},
		RemoteCommit: channeldb.ChannelCommitment{HTLCs: []channeldb.HTLC{
			{ID: 0, Incoming: true}, {ID: 0}, {ID: 1, Incoming: true},
		}},
	}
	err = db.Update(func(tx kvdb.RwTx) error {
		for _, c := range []*channeldb.PaymentCircuit{
			{Incoming: channeldb.CircuitKey{ChanID: scid, HtlcID: 0},
				Outgoing: &channeldb.CircuitKey{ChanID: other, HtlcID: 7}},
			{Incoming: channeldb.CircuitKey{HtlcID: 99},
				Outgoing: &channeldb.CircuitKey{ChanID: scid, HtlcID: 0}},
			{Incoming: channeldb.CircuitKey{ChanID: other, HtlcID: 4},
				Outgoing: &channeldb.CircuitKey{ChanID: scid, HtlcID: 1}},
		} {
			if err := channeldb.PutCircuit(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{chanDB: db}
	got, err := d.commitHTLCs(st)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		incoming      bool
		amt           uint64
		hash          byte
		expiry        uint32
		index         uint64
		fwdChan, fwdI uint64
		locked        bool
	}
	wants := []want{
		{true, 10_500, 1, 300, 0, other.ToUint64(), 7, true},
		{false, 20_000, 2, 310, 0, 0, 0, true},
		{false, 30_000, 3, 320, 1, other.ToUint64(), 4, false},
		{true, 40_000, 4, 330, 1, 0, 0, true},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d HTLCs, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Incoming != w.incoming || g.AmountMsat != w.amt || g.Hash != h(w.hash) ||
			g.Expiry != w.expiry || g.Index != w.index || g.ForwardChan != w.fwdChan ||
			g.ForwardIndex != w.fwdI || g.LockedIn != w.locked {

			t.Errorf("HTLC %d: got %+v, want %+v", i, g, w)
		}
	}
}
