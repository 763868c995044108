package invoices

import (
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/channeldb"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_700_000_000, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, clockWaiter{c.now.Add(d), ch})
	}
	return ch
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
		} else {
			w.ch <- c.now
		}
	}
	c.waiters = kept
}

var nodeKey, _ = btcec.PrivKeyFromBytes([]byte("xlnd invoice registry test key!!"))

// harness is a registry over a real bbolt file that a test can restart.
type harness struct {
	t     *testing.T
	path  string
	clock *testClock
	cfg   Config
	db    *channeldb.DB
	reg   *Registry
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "channel.db"), clock: newTestClock()}
	h.cfg = Config{
		Net:   &chaincfg.RegressionNetParams,
		Sign:  bolt11.KeySigner(nodeKey),
		Clock: h.clock,
	}
	if mod != nil {
		mod(&h.cfg)
	}
	h.open()
	t.Cleanup(h.close)
	return h
}

func (h *harness) open() {
	h.t.Helper()
	db, err := channeldb.Open(h.path, channeldb.WithNoSync())
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := h.cfg
	cfg.DB = db
	h.db, h.reg = db, New(cfg)
	if err := h.reg.Start(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) close() {
	if h.reg == nil {
		return
	}
	h.reg.Stop()
	h.db.Close()
	h.reg, h.db = nil, nil
}

func (h *harness) restart() {
	h.close()
	h.open()
}

func (h *harness) add(n NewInvoice) *channeldb.Invoice {
	h.t.Helper()
	inv, err := h.reg.AddInvoice(context.Background(), n)
	if err != nil {
		h.t.Fatal(err)
	}
	return inv
}

func (h *harness) lookup(hash [32]byte) *channeldb.Invoice {
	h.t.Helper()
	inv, err := h.reg.LookupInvoice(context.Background(), hash)
	if err != nil {
		h.t.Fatal(err)
	}
	return inv
}

// htlc is one incoming HTLC as a link would hand it over.
type htlc struct {
	hash    [32]byte
	amt     lnwire.MilliSatoshi
	expiry  uint32
	height  uint32
	id      uint64
	payload Payload
}

const testHeight = 1000

func payment(inv *channeldb.Invoice, id uint64, amt, total lnwire.MilliSatoshi) htlc {
	return htlc{hash: inv.PaymentHash, amt: amt, expiry: testHeight + inv.CltvDelta, height: testHeight, id: id,
		payload: Payload{MPP: &MPP{PaymentAddr: inv.PaymentAddr, TotalMsat: total}}}
}

func circuit(id uint64) channeldb.CircuitKey {
	return channeldb.CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(7 << 40), HtlcID: id}
}

// resolved collects the resolutions of held HTLCs.
type resolved chan *Resolution

func (h *harness) notify(in htlc, later resolved) *Resolution {
	h.t.Helper()
	res, err := h.reg.NotifyExitHopHtlc(in.hash, in.amt, in.expiry, in.height, circuit(in.id), in.payload,
		func(r *Resolution) { later <- r })
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (later resolved) next(t *testing.T) *Resolution {
	t.Helper()
	select {
	case r := <-later:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no resolution for a held HTLC")
		return nil
	}
}

func wantSettle(t *testing.T, res *Resolution, pre [32]byte) {
	t.Helper()
	if res == nil || res.Preimage == nil || *res.Preimage != pre || res.Failure != nil {
		t.Fatalf("resolution %+v, want settle with %x", res, pre)
	}
}

func wantUnknown(t *testing.T, res *Resolution, amt lnwire.MilliSatoshi, height uint32) {
	t.Helper()
	if res == nil || res.Preimage != nil {
		t.Fatalf("resolution %+v, want incorrect_or_unknown_payment_details", res)
	}
	f, ok := res.Failure.(*sphinx.FailIncorrectOrUnknownPaymentDetails)
	if !ok || f.HtlcMsat != uint64(amt) || f.Height != height {
		t.Fatalf("failure %#v (%s), want incorrect_or_unknown_payment_details(%d, %d)",
			res.Failure, res.Reason, amt, height)
	}
}

func TestAddInvoicePaymentRequest(t *testing.T) {
	hint := bolt11.RouteHint{{NodeID: nodeKey.PubKey(), ChannelID: bolt11.NewShortChannelID(700, 1, 0),
		FeeBaseMSat: 1000, FeeProportionalMillionths: 1, CLTVExpiryDelta: 40}}
	h := newHarness(t, func(c *Config) {
		c.RouteHints = func(lnwire.MilliSatoshi, []bolt11.RouteHint) []bolt11.RouteHint {
			return []bolt11.RouteHint{hint}
		}
	})
	fallback, err := btcutil.DecodeAddress("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	pre := [32]byte{1, 2, 3}
	inv := h.add(NewInvoice{Memo: "coffee", Value: 150_000, Preimage: &pre, Expiry: 600 * time.Second,
		CltvDelta: 40, Fallback: fallback, Private: true})
	if inv.AddIndex != 1 || inv.PaymentHash != sha256.Sum256(pre[:]) || inv.State != channeldb.InvoiceOpen {
		t.Fatalf("added %+v", inv)
	}
	dec, err := bolt11.Decode(inv.PaymentRequest, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := dec.Description()
	switch {
	case dec.Amount != 150_000 || dec.PaymentHash() != inv.PaymentHash || dec.PaymentSecret() != inv.PaymentAddr:
		t.Fatalf("request amount %d hash %x secret %x", dec.Amount, dec.PaymentHash(), dec.PaymentSecret())
	case desc != "coffee" || dec.ExpirySeconds() != 600 || dec.MinFinalCLTVExpiryDelta() != 40:
		t.Fatalf("request desc %q expiry %d cltv %d", desc, dec.ExpirySeconds(), dec.MinFinalCLTVExpiryDelta())
	case !dec.Payee().IsEqual(nodeKey.PubKey()) || !dec.Timestamp.Equal(inv.CreationDate):
		t.Fatalf("payee %x timestamp %v", dec.Payee().SerializeCompressed(), dec.Timestamp)
	case len(dec.Fallbacks()) != 1 || dec.Fallbacks()[0].String() != fallback.String():
		t.Fatalf("fallbacks %v", dec.Fallbacks())
	case len(dec.RouteHints()) != 1 || dec.RouteHints()[0][0].ChannelID != hint[0].ChannelID:
		t.Fatalf("route hints %v", dec.RouteHints())
	}
	f := dec.Features()
	if !f.IsSet(bolt11.FeatureVarOnionOptin) || !f.IsSet(bolt11.FeaturePaymentSecret) ||
		!f.IsSet(bolt11.FeatureBasicMPP+1) {
		t.Fatalf("features %v", f.Bits())
	}

	// Description hash, no amount, defaults; not private: no hints.
	dh := sha256.Sum256([]byte("a long description"))
	inv2 := h.add(NewInvoice{DescriptionHash: &dh})
	dec, err = bolt11.Decode(inv2.PaymentRequest, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := dec.DescriptionHash(); !ok || got != dh || dec.HasAmount() || len(dec.RouteHints()) != 0 ||
		dec.ExpirySeconds() != uint64(DefaultExpiry/time.Second) || dec.MinFinalCLTVExpiryDelta() != DefaultCltvDelta {
		t.Fatalf("second request: %+v", dec)
	}
	if inv2.Preimage == nil || sha256.Sum256(inv2.Preimage[:]) != inv2.PaymentHash || inv2.AddIndex != 2 {
		t.Fatalf("random preimage %x for %x", inv2.Preimage, inv2.PaymentHash)
	}
	if got := h.lookup(inv.PaymentHash); got.PaymentRequest != inv.PaymentRequest {
		t.Fatalf("looked up %+v", got)
	}

	bad := []NewInvoice{
		{Preimage: &pre},                     // same hash again
		{Memo: string(make([]byte, 1025))},   // memo too long
		{CltvDelta: 17},                      // below the minimum
		{Expiry: MaxExpiry + time.Second},    // too long
		{Expiry: -time.Second},               // negative
		{Value: btcutil.MaxSatoshi*1000 + 1}, // beyond all bitcoin
	}
	for i, n := range bad {
		_, err := h.reg.AddInvoice(context.Background(), n)
		if err == nil || (i == 0) != errors.Is(err, ErrInvoiceExists) || (i > 0) != errors.Is(err, ErrInvalidInvoice) {
			t.Errorf("bad invoice %d: %v", i, err)
		}
	}
	testnet, _ := btcutil.DecodeAddress("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", &chaincfg.TestNet3Params)
	if _, err := h.reg.AddInvoice(context.Background(), NewInvoice{Fallback: testnet}); !errors.Is(err, ErrInvalidInvoice) {
		t.Errorf("fallback of another network: %v", err)
	}
}

func TestSettleSinglePart(t *testing.T) {
	h := newHarness(t, nil)
	inv := h.add(NewInvoice{Value: 100_000})
	later := make(resolved, 4)
	wantSettle(t, h.notify(payment(inv, 1, 100_000, 100_000), later), *inv.Preimage)
	got := h.lookup(inv.PaymentHash)
	if got.State != channeldb.InvoiceSettled || got.SettleIndex != 1 || got.AmtPaid != 100_000 ||
		len(got.HTLCs) != 1 || got.HTLCs[0].State != channeldb.HTLCSettled || got.SettleDate.IsZero() {
		t.Fatalf("settled invoice %+v", got)
	}
	// A second payment of a paid invoice is refused.
	wantUnknown(t, h.notify(payment(inv, 2, 100_000, 100_000), later), 100_000, testHeight)
	if got := h.lookup(inv.PaymentHash); len(got.HTLCs) != 1 || got.AmtPaid != 100_000 {
		t.Fatalf("after a refused second payment: %+v", got)
	}
}

// TestFinalHopRules drives every BOLT 4 final-node check with one HTLC.
func TestFinalHopRules(t *testing.T) {
	h := newHarness(t, nil)
	later := make(resolved, 4)
	id := uint64(0)
	fresh := func() *channeldb.Invoice { return h.add(NewInvoice{Value: 100_000, CltvDelta: 40}) }
	tests := []struct {
		name   string
		change func(inv *channeldb.Invoice, in *htlc)
		settle bool
	}{
		{"exact", func(*channeldb.Invoice, *htlc) {}, true},
		{"unknown hash", func(_ *channeldb.Invoice, in *htlc) { in.hash[0] ^= 1 }, false},
		{"no payment secret", func(_ *channeldb.Invoice, in *htlc) { in.payload.MPP = nil }, false},
		{"wrong payment secret", func(_ *channeldb.Invoice, in *htlc) { in.payload.MPP.PaymentAddr[0] ^= 1 }, false},
		{"underpaid", func(_ *channeldb.Invoice, in *htlc) { in.amt, in.payload.MPP.TotalMsat = 99_999, 99_999 }, false},
		{"overpaid twice", func(_ *channeldb.Invoice, in *htlc) { in.amt, in.payload.MPP.TotalMsat = 200_000, 200_000 }, true},
		{"overpaid beyond twice", func(_ *channeldb.Invoice, in *htlc) {
			in.amt, in.payload.MPP.TotalMsat = 200_001, 200_001
		}, false},
		{"cltv at the delta", func(inv *channeldb.Invoice, in *htlc) { in.expiry = in.height + inv.CltvDelta }, true},
		{"cltv below the delta", func(inv *channeldb.Invoice, in *htlc) { in.expiry = in.height + inv.CltvDelta - 1 }, false},
		{"total below the invoice", func(_ *channeldb.Invoice, in *htlc) { in.payload.MPP.TotalMsat = 99_000 }, false},
		{"part beyond the total", func(_ *channeldb.Invoice, in *htlc) { in.amt = 100_001 }, true},
	}
	onion := []struct {
		name   string
		change func(in *htlc)
		check  func(f sphinx.FailureMessage) bool
	}{
		{"amount below amt_to_forward", func(in *htlc) { in.payload.AmtToForward = in.amt + 1 },
			func(f sphinx.FailureMessage) bool {
				x, ok := f.(*sphinx.FailFinalIncorrectHtlcAmount)
				return ok && x.IncomingHtlcAmt == 100_000
			}},
		{"expiry below outgoing_cltv_value", func(in *htlc) { in.payload.OutgoingCLTV = in.expiry + 1 },
			func(f sphinx.FailureMessage) bool {
				x, ok := f.(*sphinx.FailFinalIncorrectCltvExpiry)
				return ok && x.CltvExpiry == testHeight+40
			}},
	}
	for _, tc := range onion {
		inv := fresh()
		id++
		in := payment(inv, id, 100_000, 100_000)
		in.payload.AmtToForward, in.payload.OutgoingCLTV = in.amt, in.expiry
		tc.change(&in)
		if res := h.notify(in, later); res == nil || !tc.check(res.Failure) {
			t.Errorf("%s: %+v", tc.name, res)
		}
	}
	for _, tc := range tests {
		inv := fresh()
		id++
		in := payment(inv, id, 100_000, 100_000)
		tc.change(inv, &in)
		res := h.notify(in, later)
		if tc.settle {
			wantSettle(t, res, *inv.Preimage)
			continue
		}
		wantUnknown(t, res, in.amt, testHeight)
		if got := h.lookup(inv.PaymentHash); got.State != channeldb.InvoiceOpen || len(got.HTLCs) != 0 {
			t.Errorf("%s: a refused HTLC changed the invoice: %+v", tc.name, got)
		}
	}

	// An expired invoice takes no payment, and its timer cancels it.
	inv := h.add(NewInvoice{Value: 100_000, Expiry: time.Minute})
	h.clock.Advance(time.Minute + time.Second)
	wantUnknown(t, h.notify(payment(inv, 100, 100_000, 100_000), later), 100_000, testHeight)
	waitState(t, h, inv.PaymentHash, channeldb.InvoiceCanceled)
}

func waitState(t *testing.T, h *harness, hash [32]byte, want channeldb.InvoiceState) *channeldb.Invoice {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		inv := h.lookup(hash)
		if inv.State == want {
			return inv
		}
		if time.Now().After(deadline) {
			t.Fatalf("invoice %x stays %v, want %v", hash, inv.State, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMultiPart(t *testing.T) {
	h := newHarness(t, nil)
	inv := h.add(NewInvoice{Value: 100_000})
	later := make(resolved, 4)
	if res := h.notify(payment(inv, 1, 40_000, 100_000), later); res != nil {
		t.Fatalf("first part resolved at once: %+v", res)
	}
	if got := h.lookup(inv.PaymentHash); got.State != channeldb.InvoiceOpen || got.AmtPaid != 40_000 {
		t.Fatalf("after one part: %+v", got)
	}
	if res := h.notify(payment(inv, 2, 20_000, 100_000), later); res != nil {
		t.Fatalf("second part resolved at once: %+v", res)
	}
	wantSettle(t, h.notify(payment(inv, 3, 40_000, 100_000), later), *inv.Preimage)
	for range 2 {
		wantSettle(t, later.next(t), *inv.Preimage)
	}
	got := h.lookup(inv.PaymentHash)
	if got.State != channeldb.InvoiceSettled || got.AmtPaid != 100_000 || len(got.HTLCs) != 3 {
		t.Fatalf("settled: %+v", got)
	}

	// A part naming another total fails, and the held parts with it
	// (BOLT 4: the whole set).
	inv2 := h.add(NewInvoice{Value: 100_000})
	if res := h.notify(payment(inv2, 10, 40_000, 100_000), later); res != nil {
		t.Fatalf("first part resolved at once: %+v", res)
	}
	wantUnknown(t, h.notify(payment(inv2, 11, 60_000, 120_000), later), 60_000, testHeight)
	wantUnknown(t, later.next(t), 40_000, testHeight)
	if got := h.lookup(inv2.PaymentHash); got.State != channeldb.InvoiceOpen || got.AmtPaid != 0 ||
		got.HTLCs[0].State != channeldb.HTLCCanceled {
		t.Fatalf("after a mismatched part: %+v", got)
	}
	// A part beyond a complete set's total is refused before settling:
	// the set is settled by the part that completes it.
	wantSettle(t, h.notify(payment(inv2, 12, 100_000, 100_000), later), *inv2.Preimage)
}

func TestMultiPartTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MPPTimeout = 30 * time.Second })
	inv := h.add(NewInvoice{Value: 100_000})
	later := make(resolved, 4)
	if res := h.notify(payment(inv, 1, 40_000, 100_000), later); res != nil {
		t.Fatalf("held part resolved: %+v", res)
	}
	h.clock.Advance(29 * time.Second)
	select {
	case r := <-later:
		t.Fatalf("part failed before its timeout: %+v", r)
	default:
	}
	h.clock.Advance(time.Second)
	res := later.next(t)
	if _, ok := res.Failure.(*sphinx.FailMPPTimeout); !ok || res.Circuit != circuit(1) {
		t.Fatalf("timeout resolution %+v", res)
	}
	got := h.lookup(inv.PaymentHash)
	if got.State != channeldb.InvoiceOpen || got.AmtPaid != 0 || got.HTLCs[0].State != channeldb.HTLCCanceled {
		t.Fatalf("after the timeout: %+v", got)
	}
	// The invoice can still be paid in full.
	wantSettle(t, h.notify(payment(inv, 2, 100_000, 100_000), later), *inv.Preimage)
}

func TestHoldInvoice(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.BestHeight = func() (uint32, error) { return testHeight + 7, nil }
	})
	ctx := context.Background()
	pre := [32]byte{9, 9}
	hash := sha256.Sum256(pre[:])
	inv, err := h.reg.AddHoldInvoice(ctx, hash, NewInvoice{Value: 50_000, Memo: "hold"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Preimage != nil {
		t.Fatal("a hold invoice holds a preimage")
	}
	if err := h.reg.SettleInvoice(ctx, pre); !errors.Is(err, ErrInvoiceStillOpen) {
		t.Fatalf("settle an open hold invoice: %v", err)
	}
	later := make(resolved, 4)
	if res := h.notify(payment(inv, 1, 50_000, 50_000), later); res != nil {
		t.Fatalf("hold invoice HTLC resolved at once: %+v", res)
	}
	if got := h.lookup(hash); got.State != channeldb.InvoiceAccepted || got.AmtPaid != 50_000 {
		t.Fatalf("accepted: %+v", got)
	}
	// Held across a restart: the link replays the HTLC.
	h.restart()
	if res := h.notify(payment(inv, 1, 50_000, 50_000), later); res != nil {
		t.Fatalf("replayed hold HTLC resolved: %+v", res)
	}
	if err := h.reg.SettleInvoice(ctx, [32]byte{1}); !errors.Is(err, channeldb.ErrInvoiceNotFound) {
		t.Fatalf("settle with a wrong preimage: %v", err)
	}
	if err := h.reg.SettleInvoice(ctx, pre); err != nil {
		t.Fatal(err)
	}
	wantSettle(t, later.next(t), pre)
	got := h.lookup(hash)
	if got.State != channeldb.InvoiceSettled || got.Preimage == nil || *got.Preimage != pre || got.SettleIndex != 1 {
		t.Fatalf("settled hold invoice: %+v", got)
	}
	if err := h.reg.SettleInvoice(ctx, pre); err != nil {
		t.Fatalf("settle twice: %v", err)
	}
	if err := h.reg.CancelInvoice(ctx, hash); !errors.Is(err, ErrInvoiceAlreadySettled) {
		t.Fatalf("cancel a settled invoice: %v", err)
	}

	// Cancel fails the held HTLC.
	hash2 := sha256.Sum256([]byte{7})
	inv2, err := h.reg.AddHoldInvoice(ctx, hash2, NewInvoice{Value: 50_000})
	if err != nil {
		t.Fatal(err)
	}
	if res := h.notify(payment(inv2, 2, 50_000, 50_000), later); res != nil {
		t.Fatalf("held: %+v", res)
	}
	if err := h.reg.CancelInvoice(ctx, hash2); err != nil {
		t.Fatal(err)
	}
	// The failure names the height at the cancel.
	wantUnknown(t, later.next(t), 50_000, testHeight+7)
	if got := h.lookup(hash2); got.State != channeldb.InvoiceCanceled || got.AmtPaid != 0 ||
		got.HTLCs[0].State != channeldb.HTLCCanceled {
		t.Fatalf("canceled: %+v", got)
	}
	if err := h.reg.SettleInvoice(ctx, [32]byte{7}); err == nil {
		t.Fatal("settled a canceled invoice")
	}
}

func keysend(pre [32]byte, id uint64, amt lnwire.MilliSatoshi) htlc {
	return htlc{hash: sha256.Sum256(pre[:]), amt: amt, expiry: testHeight + 40, height: testHeight, id: id,
		payload: Payload{CustomRecords: map[uint64][]byte{sphinx.KeysendPreimageType: pre[:], 65537: {1}}}}
}

func TestKeysend(t *testing.T) {
	pre := [32]byte{5, 4, 3}
	later := make(resolved, 4)

	off := newHarness(t, nil)
	wantUnknown(t, off.notify(keysend(pre, 1, 1000), later), 1000, testHeight)
	if _, err := off.reg.LookupInvoice(context.Background(), sha256.Sum256(pre[:])); !errors.Is(err, channeldb.ErrInvoiceNotFound) {
		t.Fatalf("refused keysend left an invoice: %v", err)
	}

	on := newHarness(t, func(c *Config) { c.AcceptKeysend = true })
	sub, err := on.reg.SubscribeInvoices(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantSettle(t, on.notify(keysend(pre, 1, 1000), later), pre)
	got := on.lookup(sha256.Sum256(pre[:]))
	if !got.IsKeysend || got.State != channeldb.InvoiceSettled || got.Value != 1000 ||
		got.HTLCs[0].CustomRecords[65537][0] != 1 {
		t.Fatalf("keysend invoice %+v", got)
	}
	if a, s := next(t, sub), next(t, sub); a.State != channeldb.InvoiceOpen || s.State != channeldb.InvoiceSettled {
		t.Fatalf("keysend events %v then %v", a.State, s.State)
	}
	// The preimage must match the hash.
	bad := keysend(pre, 2, 1000)
	bad.hash = [32]byte{1}
	wantUnknown(t, on.notify(bad, later), 1000, testHeight)
}

func next(t *testing.T, s *Subscription) *channeldb.Invoice {
	t.Helper()
	select {
	case inv, ok := <-s.Updates:
		if !ok {
			t.Fatal("subscription closed")
		}
		return inv
	case <-time.After(10 * time.Second):
		t.Fatal("no update")
		return nil
	}
}

// TestRestartMidMPP stops the registry with one part of a payment held,
// reopens the file, and finishes the payment: the invoice is settled
// once, and every replay after that fulfils with the stored preimage.
func TestRestartMidMPP(t *testing.T) {
	h := newHarness(t, nil)
	inv := h.add(NewInvoice{Value: 100_000})
	later := make(resolved, 4)
	if res := h.notify(payment(inv, 1, 30_000, 100_000), later); res != nil {
		t.Fatalf("held part resolved: %+v", res)
	}
	h.restart()
	if res := h.notify(payment(inv, 1, 30_000, 100_000), later); res != nil {
		t.Fatalf("replayed held part resolved: %+v", res)
	}
	wantSettle(t, h.notify(payment(inv, 2, 70_000, 100_000), later), *inv.Preimage)
	wantSettle(t, later.next(t), *inv.Preimage)

	for range 2 {
		h.restart()
		wantSettle(t, h.notify(payment(inv, 1, 30_000, 100_000), later), *inv.Preimage)
		wantSettle(t, h.notify(payment(inv, 2, 70_000, 100_000), later), *inv.Preimage)
	}
	got := h.lookup(inv.PaymentHash)
	if got.SettleIndex != 1 || got.AmtPaid != 100_000 || len(got.HTLCs) != 2 {
		t.Fatalf("after replays: %+v", got)
	}
	settled, err := h.reg.SubscribeInvoices(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	settled.Cancel()

	// A part held over a restart whose timeout passes before the link
	// replays it is failed then with mpp_timeout.
	inv2 := h.add(NewInvoice{Value: 100_000})
	if res := h.notify(payment(inv2, 10, 30_000, 100_000), later); res != nil {
		t.Fatalf("held part resolved: %+v", res)
	}
	h.close()
	h.clock.Advance(DefaultMPPTimeout + time.Second)
	h.open()
	waitHTLC(t, h, inv2.PaymentHash, channeldb.HTLCCanceled)
	res := h.notify(payment(inv2, 10, 30_000, 100_000), later)
	if res == nil {
		t.Fatal("replayed timed-out part held")
	}
	if _, ok := res.Failure.(*sphinx.FailMPPTimeout); !ok {
		t.Fatalf("replayed timed-out part: %+v", res)
	}
}

func waitHTLC(t *testing.T, h *harness, hash [32]byte, want channeldb.HTLCState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		inv := h.lookup(hash)
		if len(inv.HTLCs) > 0 && inv.HTLCs[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("htlc of %x not %v: %+v", hash, want, inv.HTLCs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSubscriptions(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	var invs []*channeldb.Invoice
	for range 3 {
		invs = append(invs, h.add(NewInvoice{Value: 1000}))
	}
	later := make(resolved, 4)
	wantSettle(t, h.notify(payment(invs[0], 1, 1000, 1000), later), *invs[0].Preimage)

	// Replay from add index 1 and settle index 0: invoices 2 and 3.
	sub, err := h.reg.SubscribeInvoices(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := next(t, sub), next(t, sub); a.AddIndex != 2 || b.AddIndex != 3 {
		t.Fatalf("replayed %d %d", a.AddIndex, b.AddIndex)
	}
	// Then live: an add and a settle.
	inv4 := h.add(NewInvoice{Value: 1000})
	if got := next(t, sub); got.AddIndex != 4 || got.State != channeldb.InvoiceOpen {
		t.Fatalf("live add %+v", got)
	}
	wantSettle(t, h.notify(payment(invs[1], 2, 1000, 1000), later), *invs[1].Preimage)
	if got := next(t, sub); got.PaymentHash != invs[1].PaymentHash || got.State != channeldb.InvoiceSettled ||
		got.SettleIndex != 2 {
		t.Fatalf("live settle %+v", got)
	}

	// Settle replay.
	sub2, err := h.reg.SubscribeInvoices(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(t, sub2); got.SettleIndex != 2 {
		t.Fatalf("settle replay %+v", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	single, err := h.reg.SubscribeSingleInvoice(cctx, inv4.PaymentHash)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(t, single); got.State != channeldb.InvoiceOpen {
		t.Fatalf("single: first %v", got.State)
	}
	wantSettle(t, h.notify(payment(inv4, 3, 1000, 1000), later), *inv4.Preimage)
	if got := next(t, single); got.State != channeldb.InvoiceSettled {
		t.Fatalf("single: then %v", got.State)
	}
	cancel()
	for range single.Updates {
	}
	if _, err := h.reg.SubscribeSingleInvoice(ctx, [32]byte{1}); !errors.Is(err, channeldb.ErrInvoiceNotFound) {
		t.Fatalf("subscribe to an unknown invoice: %v", err)
	}
	// Stop closes the remaining subscriptions.
	h.close()
	for range sub.Updates {
	}
	for range sub2.Updates {
	}
}

func TestListInvoices(t *testing.T) {
	h := newHarness(t, nil)
	for range 5 {
		h.add(NewInvoice{Value: 1000})
	}
	page, err := h.reg.ListInvoices(context.Background(), channeldb.InvoiceQuery{IndexOffset: 1, NumMax: 2})
	if err != nil || len(page.Invoices) != 2 || page.FirstIndexOffset != 2 || page.LastIndexOffset != 3 {
		t.Fatalf("page %+v %v", page, err)
	}
}

func TestPayloadFromOnion(t *testing.T) {
	hp := &sphinx.HopPayload{AmtToForward: 5000, OutgoingCLTV: 700,
		PaymentData:   &sphinx.PaymentData{PaymentSecret: [32]byte{3}, TotalMsat: 9000},
		CustomRecords: map[uint64][]byte{sphinx.KeysendPreimageType: {1}}}
	p := PayloadFromOnion(hp)
	if p.AmtToForward != 5000 || p.OutgoingCLTV != 700 || p.MPP == nil || p.MPP.PaymentAddr != [32]byte{3} ||
		p.MPP.TotalMsat != 9000 || len(p.CustomRecords[sphinx.KeysendPreimageType]) != 1 {
		t.Fatalf("payload %+v", p)
	}
	if p := PayloadFromOnion(&sphinx.HopPayload{}); p.MPP != nil {
		t.Fatalf("no payment_data gave %+v", p.MPP)
	}
}
