package invoices

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// Payload is what the final hop's onion payload says about the payment.
type Payload struct {
	// AmtToForward and OutgoingCLTV are the payload's amt_to_forward and
	// outgoing_cltv_value: the HTLC must carry at least as much, and
	// expire no sooner (BOLT 4's final_incorrect_* failures).
	AmtToForward lnwire.MilliSatoshi
	OutgoingCLTV uint32

	// MPP is the payment_data record: the invoice's payment_secret and
	// the payment's total_msat. Nil if absent.
	MPP *MPP
	// CustomRecords are the records of type 65536 and above, the
	// keysend preimage (sphinx.KeysendPreimageType) among them.
	CustomRecords map[uint64][]byte
}

// MPP is a payment_data record.
type MPP struct {
	PaymentAddr [32]byte
	TotalMsat   lnwire.MilliSatoshi
}

// PayloadFromOnion takes what the registry needs from a decoded final
// hop payload.
func PayloadFromOnion(p *sphinx.HopPayload) Payload {
	out := Payload{CustomRecords: p.CustomRecords, AmtToForward: lnwire.MilliSatoshi(p.AmtToForward),
		OutgoingCLTV: p.OutgoingCLTV}
	if p.PaymentData != nil {
		out.MPP = &MPP{PaymentAddr: p.PaymentData.PaymentSecret,
			TotalMsat: lnwire.MilliSatoshi(p.PaymentData.TotalMsat)}
	}
	return out
}

// Resolution is the registry's decision on an HTLC: fulfil it with
// Preimage, or fail it with Failure (a BOLT 4 message to encrypt back).
type Resolution struct {
	Circuit  channeldb.CircuitKey
	Preimage *[32]byte
	Failure  sphinx.FailureMessage
	// Reason says why, for logs.
	Reason string
}

// Settled reports whether the HTLC is to be fulfilled.
func (r *Resolution) Settled() bool { return r.Preimage != nil }

// delivery is a resolution for an HTLC held earlier.
type delivery struct {
	circuit channeldb.CircuitKey
	res     *Resolution
}

// NotifyExitHopHtlc is how a link hands the registry an HTLC that ends
// here: its payment hash, amount, CLTV expiry, the current block height,
// its circuit key and the onion payload. The decision is persisted
// before it returns. A nil Resolution means the HTLC is held: resolve is
// then called once, later, from another goroutine, and must not block.
// An error means the registry could not decide (the store failed); the
// link should keep the HTLC and replay it.
func (r *Registry) NotifyExitHopHtlc(hash [32]byte, amt lnwire.MilliSatoshi, expiry, currentHeight uint32,
	circuit channeldb.CircuitKey, payload Payload, resolve func(*Resolution)) (*Resolution, error) {

	res, err := r.NotifyExitHopHtlcs(currentHeight, []ExitHTLC{{Hash: hash,
		Amt: amt, Expiry: expiry, Circuit: circuit, Payload: payload,
		Resolve: resolve}})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// ExitHTLC is one HTLC that ends here, as NotifyExitHopHtlc takes it.
type ExitHTLC struct {
	Hash    [32]byte
	Amt     lnwire.MilliSatoshi
	Expiry  uint32
	Circuit channeldb.CircuitKey
	Payload Payload
	Resolve func(*Resolution)
}

// NotifyExitHopHtlcs is NotifyExitHopHtlc for the HTLCs a link locked in
// together: every decision is persisted in one transaction, so that a
// commitment round of many payments costs one write. The i-th
// Resolution answers hs[i] (nil: held).
func (r *Registry) NotifyExitHopHtlcs(currentHeight uint32, hs []ExitHTLC) ([]*Resolution, error) {
	d := r.NewExitDecisions(currentHeight, hs)
	if len(d.todo) == 0 {
		return d.out, nil
	}
	r.mu.Lock()
	d.locked = true
	if err := r.cfg.DB.Batch(d.decide); err != nil {
		d.Abort()
		return nil, fmt.Errorf("%d htlcs from %v: %w", len(d.todo),
			hs[d.todo[0]].Circuit, err)
	}
	return d.Committed(), nil
}

// ExitDecisions are NotifyExitHopHtlcs made in the caller's transaction,
// so that they are durable with what the caller writes there (a link:
// the commitment transition that locked the HTLCs in). Decide them in
// the transaction, then call Committed once it has committed, or Abort
// if it did not.
type ExitDecisions struct {
	r      *Registry
	height uint32
	hs     []ExitHTLC
	out    []*Resolution
	todo   []int // indexes of hs the store decides

	locked         bool // r.mu held until Committed or Abort
	others         []delivery
	added, changed []*channeldb.Invoice
}

// NewExitDecisions prepares the decisions on hs at currentHeight.
func (r *Registry) NewExitDecisions(currentHeight uint32, hs []ExitHTLC) *ExitDecisions {
	d := &ExitDecisions{r: r, height: currentHeight, hs: hs,
		out: make([]*Resolution, len(hs))}
	for i := range hs {
		if res := d.htlc(i).checkOnion(); res != nil {
			d.out[i] = res
			continue
		}
		d.todo = append(d.todo, i)
	}
	return d
}

func (d *ExitDecisions) htlc(i int) *htlcIn {
	e := &d.hs[i]
	return &htlcIn{hash: e.Hash, amt: e.Amt, expiry: e.Expiry,
		height: d.height, circuit: e.Circuit, payload: e.Payload}
}

// Decide makes the decisions in tx (again, if a backend runs the
// transaction again). It returns ErrRegistryBusy, having written
// nothing, when another of the registry's calls is under way: those
// take the database's write lock after the registry's, which the
// caller of Decide already holds, so waiting could deadlock. The caller
// then decides the HTLCs later with NotifyExitHopHtlcs.
func (d *ExitDecisions) Decide(tx kvdb.RwTx) error {
	if len(d.todo) == 0 {
		return nil
	}
	if !d.locked {
		if !d.r.mu.TryLock() {
			return ErrRegistryBusy
		}
		d.locked = true
	}
	return d.decide(tx)
}

func (d *ExitDecisions) decide(tx kvdb.RwTx) error {
	d.others, d.added, d.changed = nil, nil, nil
	for _, i := range d.todo {
		res, more, add, stored, err := d.r.decideInTx(tx, d.htlc(i))
		if err != nil {
			return err
		}
		d.out[i] = res
		d.others = append(d.others, more...)
		if add != nil {
			d.added = append(d.added, add)
		}
		if stored != nil {
			d.changed = append(d.changed, stored)
		}
	}
	return nil
}

// Committed acts on decisions now durable (subscribers notified, held
// HTLCs registered, earlier held HTLCs answered) and returns them: the
// i-th Resolution answers the i-th HTLC (nil: held).
func (d *ExitDecisions) Committed() []*Resolution {
	if !d.locked {
		return d.out
	}
	r := d.r
	for _, inv := range d.added {
		if !r.addKnown {
			// No AddInvoice yet: nothing to keep in order with.
			r.notifyLocked(inv)
			continue
		}
		// Keysend invoices take add indexes too: announced in order
		// with AddInvoice's.
		r.added[inv.AddIndex] = inv
	}
	if len(d.added) > 0 && r.addKnown {
		r.announceAddedLocked()
	}
	for _, inv := range d.changed {
		crashIfSettled(inv)
		r.notifyLocked(inv)
		r.scheduleLocked(inv)
		r.forgetTimersLocked(inv)
	}
	for _, i := range d.todo {
		if d.out[i] == nil {
			r.held[d.hs[i].Circuit] = d.hs[i].Resolve
		}
	}
	fns := r.takeHeldLocked(d.others)
	d.locked = false
	r.mu.Unlock()
	runDeliveries(fns)
	if !r.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		return d.out
	}
	for _, i := range d.todo {
		if res := d.out[i]; res != nil {
			r.cfg.Log.Debug("htlc resolved", "circuit", d.hs[i].Circuit,
				"settled", res.Settled(), "reason", res.Reason)
		}
	}
	return d.out
}

// Abort forgets decisions whose transaction did not commit.
func (d *ExitDecisions) Abort() {
	if d.locked {
		d.locked = false
		d.r.mu.Unlock()
	}
}

// decideInTx decides one HTLC in the caller's transaction: its
// resolution (nil: held), the resolutions it releases for HTLCs held
// earlier, and the invoice it added (keysend) or changed.
func (r *Registry) decideInTx(tx kvdb.RwTx, h *htlcIn) (res *Resolution, others []delivery,
	added, stored *channeldb.Invoice, err error) {

	inv, err := channeldb.FetchInvoice(tx, h.hash)
	if errors.Is(err, channeldb.ErrInvoiceNotFound) {
		if inv, res = r.keysendInvoice(h); res != nil {
			return res, nil, nil, nil, nil
		}
		if _, err := channeldb.AddInvoice(tx, inv); err != nil {
			return nil, nil, nil, nil, err
		}
		added = inv.Copy()
	} else if err != nil {
		return nil, nil, nil, nil, err
	}
	if prev := findHTLC(inv, h.circuit); prev != nil {
		return replayed(inv, prev, h), nil, added, nil, nil
	}
	res, others, changed := r.decide(inv, h)
	if !changed {
		return res, others, added, nil, nil
	}
	if err := channeldb.UpdateInvoice(tx, inv); err != nil {
		return nil, nil, nil, nil, err
	}
	return res, others, added, inv, nil
}

type htlcIn struct {
	hash    [32]byte
	amt     lnwire.MilliSatoshi
	expiry  uint32
	height  uint32
	circuit channeldb.CircuitKey
	payload Payload
}

// checkOnion compares the HTLC with what the onion told the final hop
// to expect; these failures name the HTLC's own value, not the invoice.
func (h *htlcIn) checkOnion() *Resolution {
	switch {
	case h.amt < h.payload.AmtToForward:
		return &Resolution{Circuit: h.circuit, Reason: "amount below amt_to_forward",
			Failure: &sphinx.FailFinalIncorrectHtlcAmount{IncomingHtlcAmt: uint64(h.amt)}}
	case h.expiry < h.payload.OutgoingCLTV:
		return &Resolution{Circuit: h.circuit, Reason: "expiry below outgoing_cltv_value",
			Failure: &sphinx.FailFinalIncorrectCltvExpiry{CltvExpiry: h.expiry}}
	}
	return nil
}

func (h *htlcIn) fail(reason string) *Resolution {
	return &Resolution{Circuit: h.circuit, Reason: reason,
		Failure: &sphinx.FailIncorrectOrUnknownPaymentDetails{HtlcMsat: uint64(h.amt), Height: h.height}}
}

// keysendInvoice builds the invoice of a keysend payment whose hash is
// unknown, or the failure to answer with.
func (r *Registry) keysendInvoice(h *htlcIn) (*channeldb.Invoice, *Resolution) {
	pre, ok := h.payload.CustomRecords[sphinx.KeysendPreimageType]
	switch {
	case !ok:
		return nil, h.fail("unknown payment hash")
	case !r.cfg.AcceptKeysend:
		return nil, h.fail("keysend not accepted")
	case len(pre) != 32 || sha256.Sum256(pre) != h.hash:
		return nil, h.fail("keysend preimage does not match the hash")
	case h.payload.MPP != nil && h.payload.MPP.TotalMsat != h.amt:
		return nil, h.fail("multi-part keysend")
	}
	p := [32]byte(pre)
	return &channeldb.Invoice{
		PaymentHash:  h.hash,
		Preimage:     &p,
		Value:        h.amt,
		CreationDate: time.Unix(r.cfg.Clock.Now().Unix(), 0),
		Expiry:       DefaultExpiry,
		CltvDelta:    keysendCltvDelta,
		State:        channeldb.InvoiceOpen,
		IsKeysend:    true,
	}, nil
}

func findHTLC(inv *channeldb.Invoice, c channeldb.CircuitKey) *channeldb.InvoiceHTLC {
	for i := range inv.HTLCs {
		if inv.HTLCs[i].Circuit == c {
			return &inv.HTLCs[i]
		}
	}
	return nil
}

// replayed answers an HTLC the registry decided on before (a link
// replaying after a restart) from what it stored.
func replayed(inv *channeldb.Invoice, prev *channeldb.InvoiceHTLC, h *htlcIn) *Resolution {
	switch prev.State {
	case channeldb.HTLCSettled:
		p := *inv.Preimage
		return &Resolution{Circuit: h.circuit, Preimage: &p, Reason: "replayed, settled"}
	case channeldb.HTLCCanceled:
		if inv.State == channeldb.InvoiceOpen {
			return &Resolution{Circuit: h.circuit, Failure: &sphinx.FailMPPTimeout{}, Reason: "replayed, mpp timeout"}
		}
		return h.fail("replayed, canceled")
	}
	return nil
}

// decide applies the final-node rules to a new HTLC for inv, changing
// inv if it accepts it. It returns the HTLC's resolution (nil: held),
// the resolutions of other HTLCs of the set it completes, and whether inv
// changed.
func (r *Registry) decide(inv *channeldb.Invoice, h *htlcIn) (*Resolution, []delivery, bool) {
	now := r.cfg.Clock.Now()
	switch inv.State {
	case channeldb.InvoiceSettled:
		return h.fail("invoice already paid"), nil, false
	case channeldb.InvoiceCanceled:
		return h.fail("invoice canceled"), nil, false
	case channeldb.InvoiceAccepted:
		return h.fail("htlc set already complete"), nil, false
	}
	total := h.amt
	if !inv.IsKeysend {
		switch {
		case h.payload.MPP == nil:
			return h.fail("no payment secret"), nil, false
		case h.payload.MPP.PaymentAddr != inv.PaymentAddr:
			return h.fail("payment secret mismatch"), nil, false
		}
	}
	if h.payload.MPP != nil {
		total = h.payload.MPP.TotalMsat
	}
	var setSum lnwire.MilliSatoshi
	for _, prev := range inv.HTLCs {
		if prev.State != channeldb.HTLCAccepted {
			continue
		}
		if prev.MPPTotal != total {
			// BOLT 4: the whole set fails.
			return h.fail("htlc set total mismatch"),
				cancelHTLCs(inv, now, failUnknown("htlc set total mismatch", h.height)), true
		}
		setSum += prev.Amount
	}
	switch {
	case setSum == 0 && now.After(inv.CreationDate.Add(inv.Expiry)):
		return h.fail("invoice expired"), nil, false
	case uint64(h.expiry) < uint64(h.height)+uint64(inv.CltvDelta):
		return h.fail("expiry too soon"), nil, false
	case inv.Value > 0 && total < inv.Value:
		return h.fail("amount too low"), nil, false
	case inv.Value > 0 && total > 2*inv.Value:
		return h.fail("amount too high"), nil, false
	case setSum >= total:
		return h.fail("htlc set already paid"), nil, false
	}
	inv.HTLCs = append(inv.HTLCs, channeldb.InvoiceHTLC{
		Circuit: h.circuit, Amount: h.amt, MPPTotal: total, AcceptHeight: h.height,
		AcceptTime: time.Unix(now.Unix(), 0), Expiry: h.expiry, State: channeldb.HTLCAccepted,
		CustomRecords: h.payload.CustomRecords,
	})
	inv.AmtPaid += h.amt
	if setSum+h.amt < total {
		return nil, nil, true // wait for the other parts
	}
	if inv.Preimage == nil {
		inv.State = channeldb.InvoiceAccepted // a hold invoice
		return nil, nil, true
	}
	var own *Resolution
	var others []delivery
	for _, d := range settleLocked(inv, now) {
		if d.circuit == h.circuit {
			own = d.res
		} else {
			others = append(others, d)
		}
	}
	return own, others, true
}

// settleLocked marks inv settled and its accepted HTLCs fulfilled.
func settleLocked(inv *channeldb.Invoice, now time.Time) []delivery {
	inv.State = channeldb.InvoiceSettled
	inv.SettleDate = time.Unix(now.Unix(), 0)
	var out []delivery
	for i := range inv.HTLCs {
		hl := &inv.HTLCs[i]
		if hl.State != channeldb.HTLCAccepted {
			continue
		}
		hl.State, hl.ResolveTime = channeldb.HTLCSettled, inv.SettleDate
		p := *inv.Preimage
		out = append(out, delivery{hl.Circuit, &Resolution{Circuit: hl.Circuit, Preimage: &p, Reason: "settled"}})
	}
	return out
}

// cancelHTLCs fails inv's accepted HTLCs with the failure fail builds.
func cancelHTLCs(inv *channeldb.Invoice, now time.Time, fail func(*channeldb.InvoiceHTLC) *Resolution) []delivery {
	var out []delivery
	for i := range inv.HTLCs {
		hl := &inv.HTLCs[i]
		if hl.State != channeldb.HTLCAccepted {
			continue
		}
		hl.State, hl.ResolveTime = channeldb.HTLCCanceled, time.Unix(now.Unix(), 0)
		inv.AmtPaid -= hl.Amount
		out = append(out, delivery{hl.Circuit, fail(hl)})
	}
	return out
}

// failUnknown fails an HTLC with incorrect_or_unknown_payment_details
// naming the current height, or the HTLC's accept height if that is not
// known (zero).
func failUnknown(reason string, height uint32) func(*channeldb.InvoiceHTLC) *Resolution {
	return func(hl *channeldb.InvoiceHTLC) *Resolution {
		h := height
		if h == 0 {
			h = hl.AcceptHeight
		}
		return &Resolution{Circuit: hl.Circuit, Reason: reason,
			Failure: &sphinx.FailIncorrectOrUnknownPaymentDetails{HtlcMsat: uint64(hl.Amount), Height: h}}
	}
}

func failMPPTimeout(hl *channeldb.InvoiceHTLC) *Resolution {
	return &Resolution{Circuit: hl.Circuit, Failure: &sphinx.FailMPPTimeout{}, Reason: "mpp timeout"}
}

// takeHeldLocked pairs deliveries with the resolve functions of the
// HTLCs held; one not held (not yet replayed after a restart) gets its
// answer from the store when the link replays it.
func (r *Registry) takeHeldLocked(ds []delivery) []func() {
	var fns []func()
	for _, d := range ds {
		fn, ok := r.held[d.circuit]
		if !ok {
			continue
		}
		delete(r.held, d.circuit)
		if fn != nil {
			res := d.res
			fns = append(fns, func() { fn(res) })
		}
	}
	return fns
}

func runDeliveries(fns []func()) {
	for _, f := range fns {
		f()
	}
}
