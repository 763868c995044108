package channeldb

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// InvoiceState is where an invoice is in its life. The numbers are
// stored and are lnd's Invoice.InvoiceState values.
type InvoiceState uint8

// The invoice states.
const (
	// InvoiceOpen waits for a payment.
	InvoiceOpen InvoiceState = 0
	// InvoiceSettled was paid; its preimage was released.
	InvoiceSettled InvoiceState = 1
	// InvoiceCanceled will take no payment; its HTLCs were failed.
	InvoiceCanceled InvoiceState = 2
	// InvoiceAccepted holds HTLCs paying it in full (a hold invoice
	// waiting for its preimage), neither settled nor failed yet.
	InvoiceAccepted InvoiceState = 3
)

func (s InvoiceState) String() string {
	switch s {
	case InvoiceOpen:
		return "OPEN"
	case InvoiceSettled:
		return "SETTLED"
	case InvoiceCanceled:
		return "CANCELED"
	case InvoiceAccepted:
		return "ACCEPTED"
	}
	return fmt.Sprintf("invoice state %d", uint8(s))
}

// IsFinal reports whether the state can no longer change.
func (s InvoiceState) IsFinal() bool { return s == InvoiceSettled || s == InvoiceCanceled }

// HTLCState is where one HTLC paying an invoice is; the numbers are
// lnd's InvoiceHTLCState.
type HTLCState uint8

// The HTLC states.
const (
	HTLCAccepted HTLCState = 0
	HTLCSettled  HTLCState = 1
	HTLCCanceled HTLCState = 2
)

func (s HTLCState) String() string {
	switch s {
	case HTLCAccepted:
		return "ACCEPTED"
	case HTLCSettled:
		return "SETTLED"
	case HTLCCanceled:
		return "CANCELED"
	}
	return fmt.Sprintf("htlc state %d", uint8(s))
}

// Limits on stored fields, as lnd's (a longer memo or request is refused
// when the invoice is added, and a record holding one is corrupt).
const (
	MaxMemoSize           = 1024
	MaxPaymentRequestSize = 4096
	maxCustomRecordSize   = 65535
	maxCustomRecords      = 1000
)

// InvoiceHTLC is an HTLC that paid, or tried to pay, an invoice.
type InvoiceHTLC struct {
	// Circuit is the incoming HTLC: its channel and HTLC id.
	Circuit CircuitKey
	Amount  lnwire.MilliSatoshi
	// MPPTotal is the total_msat of the onion payload (the invoice's
	// whole amount for a single-part payment).
	MPPTotal     lnwire.MilliSatoshi
	AcceptHeight uint32
	AcceptTime   time.Time
	// ResolveTime is zero while the HTLC is accepted.
	ResolveTime time.Time
	// Expiry is the HTLC's CLTV expiry height.
	Expiry uint32
	State  HTLCState
	// CustomRecords are the onion payload's TLV records of types at or
	// above 65536 (the keysend preimage among them).
	CustomRecords map[uint64][]byte
}

// Invoice is a payment request of ours and what paid it.
type Invoice struct {
	PaymentHash [32]byte
	// Preimage is nil for a hold invoice until it is settled.
	Preimage *[32]byte
	// PaymentAddr is the payment_secret (zero for a keysend invoice).
	PaymentAddr    [32]byte
	PaymentRequest string
	Memo           string
	Value          lnwire.MilliSatoshi
	CreationDate   time.Time
	// SettleDate is zero until settled.
	SettleDate time.Time
	// Expiry is how long after CreationDate it may be paid.
	Expiry time.Duration
	// CltvDelta is the min_final_cltv_expiry_delta it asks for.
	CltvDelta uint32
	State     InvoiceState
	AmtPaid   lnwire.MilliSatoshi
	// AddIndex and SettleIndex are assigned by the store: the order in
	// which invoices were added and settled, from 1.
	AddIndex    uint64
	SettleIndex uint64
	IsKeysend   bool
	IsAMP       bool
	Private     bool
	HTLCs       []InvoiceHTLC
}

// IsPending reports whether the invoice is OPEN or ACCEPTED.
func (inv *Invoice) IsPending() bool {
	return inv.State == InvoiceOpen || inv.State == InvoiceAccepted
}

// Copy returns a deep copy.
func (inv *Invoice) Copy() *Invoice {
	c := *inv
	if inv.Preimage != nil {
		p := *inv.Preimage
		c.Preimage = &p
	}
	c.HTLCs = make([]InvoiceHTLC, len(inv.HTLCs))
	for i, h := range inv.HTLCs {
		h.CustomRecords = maps.Clone(h.CustomRecords)
		c.HTLCs[i] = h
	}
	return &c
}

var (
	invoiceBucket       = []byte("invoices")
	invoiceAddIndex     = []byte("invoice-add-index")
	invoiceSettleIndex  = []byte("invoice-settle-index")
	invoicePayAddrIndex = []byte("invoice-payaddr-index")
)

const invoiceVersion = 1

// Invoice flags.
const (
	invFlagPreimage = 1 << iota
	invFlagKeysend
	invFlagAMP
	invFlagPrivate
)

// AddInvoice stores a new invoice, gives it the next add index (set in
// inv.AddIndex and returned) and indexes its payment address. An
// invoice whose payment hash or (non-zero) payment address is already
// stored is refused with ErrDuplicateInvoice or ErrDuplicatePayAddr.
func AddInvoice(tx kvdb.RwTx, inv *Invoice) (uint64, error) {
	if inv.State != InvoiceOpen || inv.AddIndex != 0 || inv.SettleIndex != 0 {
		return 0, fmt.Errorf("add invoice %x: a new invoice is open and unindexed", inv.PaymentHash)
	}
	b, err := invoiceRWBucket(tx, invoiceBucket)
	if err != nil {
		return 0, err
	}
	if b.Get(inv.PaymentHash[:]) != nil {
		return 0, fmt.Errorf("%w: %x", ErrDuplicateInvoice, inv.PaymentHash)
	}
	if inv.PaymentAddr != ([32]byte{}) {
		pb, err := invoiceRWBucket(tx, invoicePayAddrIndex)
		if err != nil {
			return 0, err
		}
		if pb.Get(inv.PaymentAddr[:]) != nil {
			return 0, fmt.Errorf("%w: %x", ErrDuplicatePayAddr, inv.PaymentAddr)
		}
		if err := pb.Put(inv.PaymentAddr[:], inv.PaymentHash[:]); err != nil {
			return 0, err
		}
	}
	ab, err := invoiceRWBucket(tx, invoiceAddIndex)
	if err != nil {
		return 0, err
	}
	kvdb.AppendOnly(ab)
	idx, err := ab.NextSequence()
	if err != nil {
		return 0, err
	}
	inv.AddIndex = idx
	v, err := encodeInvoice(inv)
	if err != nil {
		inv.AddIndex = 0
		return 0, err
	}
	if err := ab.Put(u64Key(idx), inv.PaymentHash[:]); err != nil {
		return 0, err
	}
	return idx, b.Put(inv.PaymentHash[:], v)
}

// invoiceRWBucket opens a top-level bucket of the invoice store, creating
// it the first time: opening an existing one copies no name (creating
// does, twice, on every call).
func invoiceRWBucket(tx kvdb.RwTx, name []byte) (kvdb.RwBucket, error) {
	if b := tx.ReadWriteBucket(name); b != nil {
		return b, nil
	}
	return tx.CreateTopLevelBucket(name)
}

// FetchInvoice returns the invoice paid by hash, or ErrInvoiceNotFound.
func FetchInvoice(tx kvdb.RTx, hash [32]byte) (*Invoice, error) {
	b := tx.ReadBucket(invoiceBucket)
	if b == nil {
		return nil, fmt.Errorf("%w: %x", ErrInvoiceNotFound, hash)
	}
	v := b.Get(hash[:])
	if v == nil {
		return nil, fmt.Errorf("%w: %x", ErrInvoiceNotFound, hash)
	}
	return DecodeInvoice(hash[:], v)
}

// FetchInvoiceByAddr returns the invoice whose payment address is addr,
// or ErrInvoiceNotFound.
func FetchInvoiceByAddr(tx kvdb.RTx, addr [32]byte) (*Invoice, error) {
	b := tx.ReadBucket(invoicePayAddrIndex)
	if b == nil {
		return nil, fmt.Errorf("%w: payment address %x", ErrInvoiceNotFound, addr)
	}
	h := b.Get(addr[:])
	if len(h) != 32 {
		return nil, fmt.Errorf("%w: payment address %x", ErrInvoiceNotFound, addr)
	}
	return FetchInvoice(tx, [32]byte(h))
}

// UpdateInvoice rewrites a stored invoice (found by inv.PaymentHash, with
// the same add index and payment address). An invoice that becomes
// SETTLED gets the next settle index here (set in inv.SettleIndex); a
// final state is never left.
func UpdateInvoice(tx kvdb.RwTx, inv *Invoice) error {
	b := tx.ReadWriteBucket(invoiceBucket)
	var v []byte
	if b != nil {
		v = b.Get(inv.PaymentHash[:])
	}
	if v == nil {
		return fmt.Errorf("%w: %x", ErrInvoiceNotFound, inv.PaymentHash)
	}
	// The stored record's indexes and state only: the caller fetched
	// the whole invoice in this transaction, and the record is
	// rewritten from inv.
	old, err := peekInvoice(inv.PaymentHash[:], v)
	if err != nil {
		return err
	}
	switch {
	case old.AddIndex != inv.AddIndex || old.PaymentAddr != inv.PaymentAddr:
		return fmt.Errorf("update invoice %x: add index or payment address changed", inv.PaymentHash)
	case old.State.IsFinal() && inv.State != old.State:
		return fmt.Errorf("%w: %x is %v", ErrInvoiceFinal, inv.PaymentHash, old.State)
	}
	if inv.State == InvoiceSettled && old.SettleIndex == 0 {
		sb, err := invoiceRWBucket(tx, invoiceSettleIndex)
		if err != nil {
			return err
		}
		kvdb.AppendOnly(sb)
		idx, err := sb.NextSequence()
		if err != nil {
			return err
		}
		if err := sb.Put(u64Key(idx), inv.PaymentHash[:]); err != nil {
			return err
		}
		inv.SettleIndex = idx
	} else {
		inv.SettleIndex = old.SettleIndex
	}
	enc, err := encodeInvoice(inv)
	if err != nil {
		return err
	}
	return b.Put(inv.PaymentHash[:], enc)
}

// storedInvoice is what UpdateInvoice checks of a stored record.
type storedInvoice struct {
	PaymentAddr [32]byte
	State       InvoiceState
	AddIndex    uint64
	SettleIndex uint64
}

// peekInvoice reads a record's payment address, state and indexes
// without decoding (and copying) the rest: the fields DecodeInvoice
// reads before its HTLCs, with the same checks, their strings skipped.
func peekInvoice(key, v []byte) (storedInvoice, error) {
	var s storedInvoice
	r := recReader{b: v}
	r.version(invoiceVersion)
	flags := r.u8("flags")
	if r.err == nil && flags > invFlagPrivate<<1-1 {
		r.fail(fmt.Errorf("unknown flags %#x", flags))
	}
	if flags&invFlagPreimage != 0 {
		r.take(32, "preimage")
	}
	s.PaymentAddr = r.bytes32("payment address")
	r.skipBytes(MaxPaymentRequestSize, "payment request")
	r.skipBytes(MaxMemoSize, "memo")
	r.msat("value")
	r.unixTime("creation date")
	r.unixTime("settle date")
	if exp := r.u64("expiry"); r.err == nil && exp > uint64(maxDurationSecs) {
		r.fail(fmt.Errorf("expiry of %d s", exp))
	}
	r.u32("cltv delta")
	s.State = InvoiceState(r.u8("state"))
	if r.err == nil && s.State > InvoiceAccepted {
		r.fail(fmt.Errorf("unknown %v", s.State))
	}
	r.msat("amount paid")
	s.AddIndex = r.u64("add index")
	s.SettleIndex = r.u64("settle index")
	if r.err != nil {
		return s, NewRecordError("invoice", fmt.Sprintf("%x", key), r.err)
	}
	return s, nil
}

// skipBytes passes over a length-prefixed byte string of at most max
// bytes (bytes without the copy).
func (r *recReader) skipBytes(max int, what string) {
	n := r.uvarint(what + " length")
	if r.err == nil && n > uint64(max) {
		r.fail(fmt.Errorf("%s: length %d exceeds %d", what, n, max))
	}
	if r.err == nil {
		r.take(int(n), what)
	}
}

// text reads a length-prefixed string of at most max bytes: one copy,
// where string(r.bytes(...)) makes two.
func (r *recReader) text(max int, what string) string {
	n := r.uvarint(what + " length")
	if r.err == nil && n > uint64(max) {
		r.fail(fmt.Errorf("%s: length %d exceeds %d", what, n, max))
	}
	if r.err != nil {
		return ""
	}
	return string(r.take(int(n), what))
}

// text writes a length-prefixed string, as bytes does.
func (w *recWriter) text(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// InvoiceQuery pages through invoices in add-index order, as lnd's
// ListInvoices: IndexOffset is exclusive (the add index of the last
// invoice seen; 0 starts at the beginning, or at the end if Reversed),
// at most NumMax invoices (0: none), only OPEN and ACCEPTED ones if
// PendingOnly.
type InvoiceQuery struct {
	IndexOffset uint64
	NumMax      uint64
	Reversed    bool
	PendingOnly bool
}

// InvoicePage is a query's answer, in ascending add-index order either
// way; FirstIndexOffset and LastIndexOffset are the add indices of its
// first and last invoice (both the query's offset if it is empty).
type InvoicePage struct {
	Invoices         []*Invoice
	FirstIndexOffset uint64
	LastIndexOffset  uint64
}

// LastInvoiceAddIndex is the add index of the last invoice added, 0 if
// none was.
func LastInvoiceAddIndex(tx kvdb.RTx) uint64 {
	if ab := tx.ReadBucket(invoiceAddIndex); ab != nil {
		return ab.Sequence()
	}
	return 0
}

// QueryInvoices answers q.
func QueryInvoices(tx kvdb.RTx, q InvoiceQuery) (*InvoicePage, error) {
	page := &InvoicePage{FirstIndexOffset: q.IndexOffset, LastIndexOffset: q.IndexOffset}
	ab := tx.ReadBucket(invoiceAddIndex)
	if ab == nil || q.NumMax == 0 {
		return page, nil
	}
	c := ab.ReadCursor()
	var k, v []byte
	switch {
	case q.Reversed && q.IndexOffset == 0:
		k, v = c.Last()
	case q.Reversed:
		if k, _ = c.Seek(u64Key(q.IndexOffset)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	default:
		k, v = c.Seek(u64Key(q.IndexOffset + 1))
	}
	for k != nil && uint64(len(page.Invoices)) < q.NumMax {
		inv, err := invoiceAt(tx, k, v)
		if err != nil {
			return nil, err
		}
		if !q.PendingOnly || inv.IsPending() {
			page.Invoices = append(page.Invoices, inv)
		}
		if q.Reversed {
			k, v = c.Prev()
		} else {
			k, v = c.Next()
		}
	}
	if q.Reversed {
		slices.Reverse(page.Invoices)
	}
	if n := len(page.Invoices); n > 0 {
		page.FirstIndexOffset = page.Invoices[0].AddIndex
		page.LastIndexOffset = page.Invoices[n-1].AddIndex
	}
	return page, nil
}

// invoiceAt reads the invoice an index entry (k: index, v: hash) points
// to.
func invoiceAt(tx kvdb.RTx, k, v []byte) (*Invoice, error) {
	if len(k) != 8 || len(v) != 32 {
		return nil, NewRecordError("invoice index entry", fmt.Sprintf("%x", k),
			fmt.Errorf("key of %d bytes, hash of %d", len(k), len(v)))
	}
	return FetchInvoice(tx, [32]byte(v))
}

// InvoicesAddedSince returns the invoices whose add index is above
// addIndex, in order (for SubscribeInvoices' replay).
func InvoicesAddedSince(tx kvdb.RTx, addIndex uint64) ([]*Invoice, error) {
	return invoicesSince(tx, invoiceAddIndex, addIndex)
}

// InvoicesSettledSince returns the invoices whose settle index is above
// settleIndex, in settle order.
func InvoicesSettledSince(tx kvdb.RTx, settleIndex uint64) ([]*Invoice, error) {
	return invoicesSince(tx, invoiceSettleIndex, settleIndex)
}

func invoicesSince(tx kvdb.RTx, bucket []byte, after uint64) ([]*Invoice, error) {
	b := tx.ReadBucket(bucket)
	if b == nil {
		return nil, nil
	}
	var out []*Invoice
	c := b.ReadCursor()
	for k, v := c.Seek(u64Key(after + 1)); k != nil; k, v = c.Next() {
		inv, err := invoiceAt(tx, k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// PendingInvoices returns every OPEN or ACCEPTED invoice, in add order:
// what the registry reloads at start (HTLCs it holds, expiries to watch).
func PendingInvoices(tx kvdb.RTx) ([]*Invoice, error) {
	var out []*Invoice
	var after uint64
	for {
		// A page holds up to NumMax pending invoices, scanning past
		// the others: an empty one is the end.
		page, err := QueryInvoices(tx, InvoiceQuery{IndexOffset: after, NumMax: 1000, PendingOnly: true})
		if err != nil {
			return nil, err
		}
		if len(page.Invoices) == 0 {
			return out, nil
		}
		out = append(out, page.Invoices...)
		after = page.LastIndexOffset
	}
}

func encodeInvoice(inv *Invoice) ([]byte, error) {
	switch {
	case inv.State > InvoiceAccepted:
		return nil, fmt.Errorf("invoice %x: unknown %v", inv.PaymentHash, inv.State)
	case len(inv.Memo) > MaxMemoSize:
		return nil, fmt.Errorf("invoice %x: %w", inv.PaymentHash, ErrMemoTooLong)
	case len(inv.PaymentRequest) > MaxPaymentRequestSize:
		return nil, fmt.Errorf("invoice %x: %w", inv.PaymentHash, ErrPayReqTooLong)
	case inv.Expiry < 0 || inv.Expiry%time.Second != 0:
		return nil, fmt.Errorf("invoice %x: expiry %v is not whole seconds", inv.PaymentHash, inv.Expiry)
	case len(inv.HTLCs) > maxInvoiceHTLCs:
		return nil, fmt.Errorf("invoice %x: %d HTLCs", inv.PaymentHash, len(inv.HTLCs))
	}
	var flags uint8
	if inv.Preimage != nil {
		flags |= invFlagPreimage
	}
	if inv.IsKeysend {
		flags |= invFlagKeysend
	}
	if inv.IsAMP {
		flags |= invFlagAMP
	}
	if inv.Private {
		flags |= invFlagPrivate
	}
	w := recWriter{b: make([]byte, 0, 256+len(inv.PaymentRequest)+len(inv.Memo))}
	w.u8(invoiceVersion)
	w.u8(flags)
	if inv.Preimage != nil {
		w.raw(inv.Preimage[:])
	}
	w.raw(inv.PaymentAddr[:])
	w.text(inv.PaymentRequest)
	w.text(inv.Memo)
	w.u64(uint64(inv.Value))
	w.u64(unixOrZero(inv.CreationDate))
	w.u64(unixOrZero(inv.SettleDate))
	w.u64(uint64(inv.Expiry / time.Second))
	w.u32(inv.CltvDelta)
	w.u8(uint8(inv.State))
	w.u64(uint64(inv.AmtPaid))
	w.u64(inv.AddIndex)
	w.u64(inv.SettleIndex)
	w.uvarint(uint64(len(inv.HTLCs)))
	for i := range inv.HTLCs {
		if err := encodeInvoiceHTLC(&w, &inv.HTLCs[i]); err != nil {
			return nil, fmt.Errorf("invoice %x: %w", inv.PaymentHash, err)
		}
	}
	return w.b, nil
}

// maxInvoiceHTLCs bounds the HTLCs of one invoice (483 a channel; an MPP
// payment spread over many channels stays far below).
const maxInvoiceHTLCs = 10_000

// minHTLCLen is the smallest encoded HTLC, for count checks.
const minHTLCLen = 16 + 8 + 8 + 4 + 8 + 8 + 4 + 1 + 1

func encodeInvoiceHTLC(w *recWriter, h *InvoiceHTLC) error {
	if h.State > HTLCCanceled {
		return fmt.Errorf("htlc %v: unknown %v", h.Circuit, h.State)
	}
	if len(h.CustomRecords) > maxCustomRecords {
		return fmt.Errorf("htlc %v: %d custom records", h.Circuit, len(h.CustomRecords))
	}
	w.raw(h.Circuit.bytes())
	w.u64(uint64(h.Amount))
	w.u64(uint64(h.MPPTotal))
	w.u32(h.AcceptHeight)
	w.u64(unixOrZero(h.AcceptTime))
	w.u64(unixOrZero(h.ResolveTime))
	w.u32(h.Expiry)
	w.u8(uint8(h.State))
	if err := w.customRecords(h.CustomRecords); err != nil {
		return fmt.Errorf("htlc %v: %w", h.Circuit, err)
	}
	return nil
}

// DecodeInvoice decodes an invoice record stored under key (its payment
// hash).
func DecodeInvoice(key, v []byte) (*Invoice, error) {
	// The name is formatted only for an error.
	if len(key) != 32 {
		return nil, NewRecordError("invoice", fmt.Sprintf("%x", key), fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	r.version(invoiceVersion)
	inv := &Invoice{PaymentHash: [32]byte(key)}
	flags := r.u8("flags")
	if r.err == nil && flags > invFlagPrivate<<1-1 {
		r.fail(fmt.Errorf("unknown flags %#x", flags))
	}
	if flags&invFlagPreimage != 0 {
		p := r.bytes32("preimage")
		inv.Preimage = &p
	}
	inv.IsKeysend = flags&invFlagKeysend != 0
	inv.IsAMP = flags&invFlagAMP != 0
	inv.Private = flags&invFlagPrivate != 0
	inv.PaymentAddr = r.bytes32("payment address")
	inv.PaymentRequest = r.text(MaxPaymentRequestSize, "payment request")
	inv.Memo = r.text(MaxMemoSize, "memo")
	inv.Value = r.msat("value")
	inv.CreationDate = r.unixTime("creation date")
	inv.SettleDate = r.unixTime("settle date")
	exp := r.u64("expiry")
	if r.err == nil && exp > uint64(maxDurationSecs) {
		r.fail(fmt.Errorf("expiry of %d s", exp))
	}
	inv.Expiry = time.Duration(exp) * time.Second
	inv.CltvDelta = r.u32("cltv delta")
	inv.State = InvoiceState(r.u8("state"))
	if r.err == nil && inv.State > InvoiceAccepted {
		r.fail(fmt.Errorf("unknown %v", inv.State))
	}
	inv.AmtPaid = r.msat("amount paid")
	inv.AddIndex = r.u64("add index")
	inv.SettleIndex = r.u64("settle index")
	n := r.count(minHTLCLen, "htlcs")
	if r.err == nil && n > maxInvoiceHTLCs {
		r.fail(fmt.Errorf("%d HTLCs", n))
		n = 0
	}
	if n > 0 && r.err == nil {
		inv.HTLCs = make([]InvoiceHTLC, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		inv.HTLCs = append(inv.HTLCs, decodeInvoiceHTLC(&r))
	}
	if err := r.done(); err != nil {
		return nil, NewRecordError("invoice", fmt.Sprintf("%x", key), err)
	}
	return inv, nil
}

func decodeInvoiceHTLC(r *recReader) InvoiceHTLC {
	var h InvoiceHTLC
	ck := r.take(16, "htlc circuit key")
	if ck != nil {
		h.Circuit, _ = parseCircuitKey(ck)
	}
	h.Amount = r.msat("htlc amount")
	h.MPPTotal = r.msat("htlc mpp total")
	h.AcceptHeight = r.u32("htlc accept height")
	h.AcceptTime = r.unixTime("htlc accept time")
	h.ResolveTime = r.unixTime("htlc resolve time")
	h.Expiry = r.u32("htlc expiry")
	h.State = HTLCState(r.u8("htlc state"))
	if r.err == nil && h.State > HTLCCanceled {
		r.fail(fmt.Errorf("unknown %v", h.State))
	}
	h.CustomRecords = r.customRecords()
	return h
}

// customRecords writes an HTLC's custom TLV records, in type order.
func (w *recWriter) customRecords(recs map[uint64][]byte) error {
	if len(recs) > maxCustomRecords {
		return fmt.Errorf("%d custom records", len(recs))
	}
	w.uvarint(uint64(len(recs)))
	// The types sorted in a stack array when few (every HTLC of every
	// invoice and payment is written with its records).
	var buf [8]uint64
	types := buf[:0]
	for typ := range recs {
		types = append(types, typ)
	}
	slices.Sort(types)
	for _, typ := range types {
		v := recs[typ]
		if len(v) > maxCustomRecordSize {
			return fmt.Errorf("custom record %d of %d bytes", typ, len(v))
		}
		w.uvarint(typ)
		w.bytes(v)
	}
	return nil
}

// customRecords reads what recWriter.customRecords wrote: nil when there
// are none; types strictly increasing.
func (r *recReader) customRecords() map[uint64][]byte {
	n := r.count(2, "custom records")
	if n > maxCustomRecords {
		r.fail(fmt.Errorf("%d custom records", n))
		n = 0
	}
	var recs map[uint64][]byte
	var last uint64
	for i := 0; i < n && r.err == nil; i++ {
		typ := r.uvarint("custom record type")
		v := r.bytes(maxCustomRecordSize, "custom record")
		if r.err == nil && i > 0 && typ <= last {
			r.fail(fmt.Errorf("custom record %d out of order", typ))
		}
		last = typ
		if r.err == nil {
			if recs == nil {
				recs = make(map[uint64][]byte, n)
			}
			if v == nil {
				v = []byte{}
			}
			recs[typ] = v
		}
	}
	return recs
}

// maxDurationSecs is the longest time.Duration in whole seconds.
const maxDurationSecs = int64(^uint64(0)>>1) / int64(time.Second)

// msat reads a millisatoshi amount, which no valid record holds above
// 21M BTC.
func (r *recReader) msat(what string) lnwire.MilliSatoshi {
	v := r.u64(what)
	if r.err == nil && v > maxMsat {
		r.fail(fmt.Errorf("%s: %d msat exceeds 21M BTC", what, v))
		return 0
	}
	return lnwire.MilliSatoshi(v)
}

const maxMsat = 21_000_000 * 100_000_000 * 1000

// unixTime reads a time stored as unix seconds, 0 for the zero time.
func (r *recReader) unixTime(what string) time.Time {
	v := r.u64(what)
	switch {
	case r.err != nil || v == 0:
		return time.Time{}
	case v > 1<<40:
		r.fail(fmt.Errorf("%s: %d s is beyond any date", what, v))
		return time.Time{}
	}
	return time.Unix(int64(v), 0)
}

func unixOrZero(t time.Time) uint64 {
	if t.IsZero() || t.Unix() <= 0 {
		return 0
	}
	return uint64(t.Unix())
}
