package invoices

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
)

// Defaults, as lnd's.
const (
	// DefaultMPPTimeout is how long the parts of an incomplete
	// multi-part payment are held.
	DefaultMPPTimeout = 120 * time.Second
	// DefaultCltvDelta is the min_final_cltv_expiry_delta of an invoice
	// that names none.
	DefaultCltvDelta = 80
	// MinCltvDelta is the smallest delta an invoice may ask for.
	MinCltvDelta = 18
	// DefaultExpiry is the expiry of an invoice that names none.
	DefaultExpiry = 24 * time.Hour
	// MaxExpiry is the longest expiry an invoice may have.
	MaxExpiry = 365 * 24 * time.Hour
	// keysendCltvDelta is the delta a keysend invoice records.
	keysendCltvDelta = bolt11.DefaultMinFinalCLTVExpiryDelta
)

// Clock is the registry's time: injected so that tests drive the hold
// and expiry timers.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config is what the registry needs from the node.
type Config struct {
	// DB holds the invoices (channeldb's invoice store).
	DB *channeldb.DB
	// Net picks the payment request's prefix.
	Net *chaincfg.Params
	// Sign signs payment requests with the node key.
	Sign bolt11.Signer
	// RouteHints returns the hints for a private invoice of amt (0: any
	// amount): routes to us over our private channels, beside forced,
	// the caller's own hints (which it does not repeat). Nil gives none.
	RouteHints func(amt lnwire.MilliSatoshi, forced []bolt11.RouteHint) []bolt11.RouteHint
	// AcceptKeysend admits spontaneous payments (--accept-keysend).
	AcceptKeysend bool
	// MPPTimeout overrides DefaultMPPTimeout.
	MPPTimeout time.Duration
	// Clock overrides the wall clock.
	Clock Clock
	// BestHeight is the chain tip, named in the failures of HTLCs that
	// CancelInvoice fails back; nil (or an error) names the height at
	// which each was accepted.
	BestHeight func() (uint32, error)
	// Rand overrides crypto/rand for preimages and payment secrets.
	Rand io.Reader
	Log  *slog.Logger
}

// Registry is the invoice registry. Its methods are safe for concurrent
// use.
type Registry struct {
	cfg Config

	// mu orders every decision and its write, and the delivery of the
	// resulting events, so subscribers see changes in commit order.
	// AddInvoice alone writes without it, so that concurrent adds share
	// a commit; its invoices are announced in add-index order all the
	// same (announceAddedLocked).
	mu sync.Mutex
	// adding counts AddInvoice writes under way; added holds invoices
	// committed and not yet announced, by add index; announced is the
	// last add index announced (addKnown once read from the store).
	adding    int
	added     map[uint64]*channeldb.Invoice
	announced uint64
	addKnown  bool
	// addDone is signalled when invoices are announced.
	addDone *sync.Cond
	// held are the resolve functions of the HTLCs we hold.
	held map[channeldb.CircuitKey]func(*Resolution)
	// timers: MPP hold deadlines and invoice expiries; final holds
	// the invoices settled or canceled since the timers were last swept
	// of theirs (forgetTimersLocked).
	timers   timerHeap
	final    map[[32]byte]struct{}
	minSweep int
	subs     map[uint64]*subscriber
	nextID   uint64

	wake     chan struct{}
	quit     chan struct{}
	wg       sync.WaitGroup
	start    sync.Once
	stop     sync.Once
	startErr error
}

// New returns a registry over cfg; Start loads what it must watch.
func New(cfg Config) *Registry {
	if cfg.MPPTimeout == 0 {
		cfg.MPPTimeout = DefaultMPPTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RouteHints == nil {
		cfg.RouteHints = func(lnwire.MilliSatoshi, []bolt11.RouteHint) []bolt11.RouteHint { return nil }
	}
	r := &Registry{
		cfg:      cfg,
		added:    make(map[uint64]*channeldb.Invoice),
		minSweep: minSweep,
		held:     make(map[channeldb.CircuitKey]func(*Resolution)),
		subs:     make(map[uint64]*subscriber),
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
	}
	r.addDone = sync.NewCond(&r.mu)
	return r
}

// Start reloads the open invoices (their expiries, and the hold timers
// of multi-part payments accepted before a restart) and starts the timer
// goroutine.
func (r *Registry) Start() error {
	r.start.Do(func() {
		var pending []*channeldb.Invoice
		err := r.cfg.DB.View(func(tx kvdb.RTx) error {
			var err error
			pending, err = channeldb.PendingInvoices(tx)
			return err
		})
		if err != nil {
			r.startErr = fmt.Errorf("invoices: load pending: %w", err)
			return
		}
		r.mu.Lock()
		for _, inv := range pending {
			r.scheduleLocked(inv)
		}
		err = r.loadAddIndexLocked()
		r.mu.Unlock()
		if err != nil {
			r.startErr = fmt.Errorf("invoices: load add index: %w", err)
			return
		}
		r.cfg.Log.Info("invoice registry started", "pending", len(pending))
		r.wg.Add(1)
		go r.timerLoop()
	})
	return r.startErr
}

// Stop ends the timer goroutine and every subscription. Held HTLCs stay
// held (in the store): the link replays them after the restart.
func (r *Registry) Stop() error {
	r.stop.Do(func() {
		// Under mu, so no subscription starts a goroutine after Wait.
		r.mu.Lock()
		close(r.quit)
		r.mu.Unlock()
		r.wg.Wait()
	})
	return nil
}

// NewInvoice is what AddInvoice needs from the caller.
type NewInvoice struct {
	Memo string
	// Value is the amount asked; zero lets the payer choose.
	Value lnwire.MilliSatoshi
	// Preimage is the payment preimage; nil draws a random one unless
	// Hash is set (a hold invoice, settled later with its preimage).
	Preimage *[32]byte
	Hash     *[32]byte
	// DescriptionHash replaces the memo in the payment request.
	DescriptionHash *[32]byte
	// Expiry defaults to DefaultExpiry.
	Expiry   time.Duration
	Fallback btcutil.Address
	// CltvDelta defaults to DefaultCltvDelta.
	CltvDelta uint32
	// RouteHints are the caller's own hints, written before those of
	// Private.
	RouteHints []bolt11.RouteHint
	// Private adds route hints for our private channels.
	Private bool
}

// AddInvoice creates, signs and stores an invoice; it returns it with its
// add index and payment request.
func (r *Registry) AddInvoice(ctx context.Context, n NewInvoice) (*channeldb.Invoice, error) {
	inv, err := r.newInvoice(&n)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if err := r.loadAddIndexLocked(); err != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("add invoice: %w", err)
	}
	r.adding++
	r.mu.Unlock()
	// Without mu: concurrent adds share one commit (kvdb's Batch).
	err = r.cfg.DB.Batch(func(tx kvdb.RwTx) error {
		// Set by a run that rolled back (the write may run again).
		inv.AddIndex = 0
		_, err := channeldb.AddInvoice(tx, inv)
		return err
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.adding--
	if err == nil {
		r.added[inv.AddIndex] = inv
		r.scheduleLocked(inv)
	}
	r.announceAddedLocked()
	switch {
	case errors.Is(err, channeldb.ErrDuplicateInvoice):
		return nil, fmt.Errorf("%w: %x", ErrInvoiceExists, inv.PaymentHash)
	case err != nil:
		return nil, fmt.Errorf("add invoice: %w", err)
	}
	// Returned once announced: nobody learns of an invoice (and pays
	// it) before its subscribers do.
	for r.announced < inv.AddIndex {
		r.addDone.Wait()
	}
	// The arguments are built only when they are logged.
	if r.cfg.Log.Enabled(ctx, slog.LevelDebug) {
		r.cfg.Log.Debug("invoice added", "hash", fmt.Sprintf("%x", inv.PaymentHash), "add_index", inv.AddIndex)
	}
	return inv.Copy(), nil
}

// loadAddIndexLocked reads the last add index announced, the last one
// stored, once.
func (r *Registry) loadAddIndexLocked() error {
	if r.addKnown {
		return nil
	}
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		r.announced = channeldb.LastInvoiceAddIndex(tx)
		return nil
	})
	r.addKnown = err == nil
	return err
}

// announceAddedLocked tells subscribers of the added invoices in add
// index order: those that follow the last announced without a gap, or,
// once no AddInvoice write is under way, all of them (a gap is then an
// index no write of ours will report, taken by a commit that failed
// after it reached the disk).
func (r *Registry) announceAddedLocked() {
	for {
		inv, ok := r.added[r.announced+1]
		if !ok {
			break
		}
		delete(r.added, inv.AddIndex)
		r.announced = inv.AddIndex
		r.notifyLocked(inv)
	}
	if r.adding == 0 && len(r.added) > 0 {
		idx := make([]uint64, 0, len(r.added))
		for i := range r.added {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		for _, i := range idx {
			r.notifyLocked(r.added[i])
			delete(r.added, i)
			r.announced = max(r.announced, i)
		}
	}
	r.addDone.Broadcast()
}

// AddHoldInvoice adds an invoice whose preimage the caller keeps: HTLCs
// paying it are held until SettleInvoice or CancelInvoice.
func (r *Registry) AddHoldInvoice(ctx context.Context, hash [32]byte, n NewInvoice) (*channeldb.Invoice, error) {
	n.Hash, n.Preimage = &hash, nil
	return r.AddInvoice(ctx, n)
}

func (r *Registry) newInvoice(n *NewInvoice) (*channeldb.Invoice, error) {
	if err := checkNewInvoice(n); err != nil {
		return nil, err
	}
	inv := &channeldb.Invoice{
		Memo:         n.Memo,
		Value:        n.Value,
		CreationDate: time.Unix(r.cfg.Clock.Now().Unix(), 0),
		Expiry:       n.Expiry,
		CltvDelta:    n.CltvDelta,
		Private:      n.Private,
		State:        channeldb.InvoiceOpen,
	}
	switch {
	case n.Hash != nil:
		inv.PaymentHash = *n.Hash
	case n.Preimage != nil:
		p := *n.Preimage
		inv.Preimage, inv.PaymentHash = &p, sha256.Sum256(p[:])
	default:
		var p [32]byte
		if _, err := io.ReadFull(r.cfg.Rand, p[:]); err != nil {
			return nil, fmt.Errorf("preimage: %w", err)
		}
		inv.Preimage, inv.PaymentHash = &p, sha256.Sum256(p[:])
	}
	if _, err := io.ReadFull(r.cfg.Rand, inv.PaymentAddr[:]); err != nil {
		return nil, fmt.Errorf("payment secret: %w", err)
	}
	req, err := r.paymentRequest(inv, n)
	if err != nil {
		return nil, err
	}
	inv.PaymentRequest = req
	return inv, nil
}

func checkNewInvoice(n *NewInvoice) error {
	switch {
	case n.Preimage != nil && n.Hash != nil:
		return fmt.Errorf("%w: a preimage and a hash", ErrInvalidInvoice)
	case len(n.Memo) > channeldb.MaxMemoSize:
		return fmt.Errorf("%w: memo too large: %d bytes (maxsize=%d)", ErrInvalidInvoice,
			len(n.Memo), channeldb.MaxMemoSize)
	case n.Value > btcutil.MaxSatoshi*1000:
		return fmt.Errorf("%w: amount of %d msat exceeds 21M BTC", ErrInvalidInvoice, n.Value)
	case n.Expiry < 0:
		return fmt.Errorf("%w: negative expiry", ErrInvalidInvoice)
	case n.Expiry > MaxExpiry:
		return fmt.Errorf("%w: expiry of %v greater than max invoice expiry of %v",
			ErrInvalidInvoice, n.Expiry, MaxExpiry)
	case n.CltvDelta != 0 && n.CltvDelta < MinCltvDelta:
		return fmt.Errorf("%w: CLTV delta of %d must be at least %d", ErrInvalidInvoice,
			n.CltvDelta, MinCltvDelta)
	case n.CltvDelta > 1<<16-1:
		return fmt.Errorf("%w: CLTV delta of %d exceeds %d", ErrInvalidInvoice, n.CltvDelta, 1<<16-1)
	}
	if n.Expiry == 0 {
		n.Expiry = DefaultExpiry
	}
	n.Expiry = n.Expiry.Truncate(time.Second)
	if n.CltvDelta == 0 {
		n.CltvDelta = DefaultCltvDelta
	}
	return nil
}

// paymentRequest encodes and signs inv's BOLT 11 request: the fields lnd
// writes, in its order.
func (r *Registry) paymentRequest(inv *channeldb.Invoice, n *NewInvoice) (string, error) {
	b := &bolt11.Invoice{Net: r.cfg.Net, Amount: bolt11.MilliSatoshi(n.Value), Timestamp: inv.CreationDate,
		// p, d or h, x, c, f, the hints, s and 9: appended without
		// growing.
		Fields: make([]bolt11.Field, 0, 7+len(n.RouteHints)+8)}
	b.Fields = append(b.Fields, bolt11.PaymentHash(inv.PaymentHash))
	if n.DescriptionHash != nil {
		b.Fields = append(b.Fields, bolt11.DescriptionHash(*n.DescriptionHash))
	} else {
		b.Fields = append(b.Fields, bolt11.Description(n.Memo))
	}
	if n.Expiry != time.Duration(bolt11.DefaultExpiry)*time.Second {
		b.Fields = append(b.Fields, bolt11.Expiry(n.Expiry/time.Second))
	}
	b.Fields = append(b.Fields, bolt11.MinFinalCLTVExpiryDelta(n.CltvDelta))
	if n.Fallback != nil {
		if !n.Fallback.IsForNet(r.cfg.Net) {
			return "", fmt.Errorf("%w: fallback address %v is not for %s", ErrInvalidInvoice,
				n.Fallback, r.cfg.Net.Name)
		}
		b.Fields = append(b.Fields, bolt11.Fallback{Address: n.Fallback})
	}
	for _, h := range n.RouteHints {
		if len(h) == 0 {
			return "", fmt.Errorf("%w: an empty route hint", ErrInvalidInvoice)
		}
		b.Fields = append(b.Fields, h)
	}
	if n.Private {
		for _, h := range r.cfg.RouteHints(n.Value, n.RouteHints) {
			b.Fields = append(b.Fields, h)
		}
	}
	b.Fields = append(b.Fields, bolt11.PaymentSecret(inv.PaymentAddr),
		bolt11.NewFeatures(bolt11.FeatureVarOnionOptin, bolt11.FeaturePaymentSecret,
			bolt11.FeatureBasicMPP+1))
	req, err := b.Encode(r.cfg.Sign)
	if err != nil {
		return "", fmt.Errorf("payment request: %w", err)
	}
	if len(req) > channeldb.MaxPaymentRequestSize {
		return "", fmt.Errorf("%w: payment request of %d bytes", ErrInvalidInvoice, len(req))
	}
	return req, nil
}

// LookupInvoice returns the invoice of hash (channeldb.ErrInvoiceNotFound
// if there is none).
func (r *Registry) LookupInvoice(ctx context.Context, hash [32]byte) (*channeldb.Invoice, error) {
	var inv *channeldb.Invoice
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		inv, err = channeldb.FetchInvoice(tx, hash)
		return err
	})
	return inv, err
}

// LookupInvoiceByAddr returns the invoice whose payment address is addr.
func (r *Registry) LookupInvoiceByAddr(ctx context.Context, addr [32]byte) (*channeldb.Invoice, error) {
	var inv *channeldb.Invoice
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		inv, err = channeldb.FetchInvoiceByAddr(tx, addr)
		return err
	})
	return inv, err
}

// ListInvoices pages through the invoices as lnd's ListInvoices.
func (r *Registry) ListInvoices(ctx context.Context, q channeldb.InvoiceQuery) (*channeldb.InvoicePage, error) {
	var page *channeldb.InvoicePage
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		page, err = channeldb.QueryInvoices(tx, q)
		return err
	})
	return page, err
}

// SettleInvoice settles an ACCEPTED hold invoice with its preimage and
// fulfils its HTLCs. Settling a settled invoice with its preimage again
// is a no-op.
func (r *Registry) SettleInvoice(ctx context.Context, preimage [32]byte) error {
	hash := sha256.Sum256(preimage[:])
	return r.update(hash, func(inv *channeldb.Invoice, now time.Time) ([]delivery, error) {
		switch inv.State {
		case channeldb.InvoiceSettled:
			return nil, errNoChange
		case channeldb.InvoiceCanceled:
			return nil, ErrInvoiceAlreadyCanceled
		case channeldb.InvoiceOpen:
			return nil, ErrInvoiceStillOpen
		}
		inv.Preimage = &preimage
		return settleLocked(inv, now), nil
	})
}

// CancelInvoice cancels an invoice that is not settled and fails the
// HTLCs it holds.
func (r *Registry) CancelInvoice(ctx context.Context, hash [32]byte) error {
	return r.update(hash, func(inv *channeldb.Invoice, now time.Time) ([]delivery, error) {
		switch inv.State {
		case channeldb.InvoiceSettled:
			return nil, ErrInvoiceAlreadySettled
		case channeldb.InvoiceCanceled:
			return nil, errNoChange
		}
		inv.State = channeldb.InvoiceCanceled
		return cancelHTLCs(inv, now, failUnknown("invoice canceled", r.bestHeight())), nil
	})
}

// bestHeight is Config.BestHeight's answer, or zero.
func (r *Registry) bestHeight() uint32 {
	if r.cfg.BestHeight == nil {
		return 0
	}
	h, err := r.cfg.BestHeight()
	if err != nil {
		r.cfg.Log.Warn("best height unknown", "err", err)
		return 0
	}
	return h
}

// errNoChange ends an update that has nothing to write.
var errNoChange = errors.New("no change")

// update runs change on the stored invoice of hash, writes it, then
// resolves held HTLCs and notifies subscribers.
func (r *Registry) update(hash [32]byte, change func(*channeldb.Invoice, time.Time) ([]delivery, error)) error {
	r.mu.Lock()
	var (
		inv *channeldb.Invoice
		out []delivery
	)
	err := r.cfg.DB.Batch(func(tx kvdb.RwTx) error {
		var err error
		if inv, err = channeldb.FetchInvoice(tx, hash); err != nil {
			return err
		}
		if out, err = change(inv, r.cfg.Clock.Now()); err != nil {
			return err
		}
		return channeldb.UpdateInvoice(tx, inv)
	})
	var fns []func()
	if err == nil {
		crashIfSettled(inv)
		r.notifyLocked(inv)
		r.forgetTimersLocked(inv)
		fns = r.takeHeldLocked(out)
	}
	r.mu.Unlock()
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("invoice %x: %w", hash, err)
	}
	runDeliveries(fns)
	return nil
}

// crashIfSettled is the crash point of an invoice just persisted as
// settled, before its HTLCs are fulfilled (internal/crashpoint).
func crashIfSettled(inv *channeldb.Invoice) {
	if inv.State == channeldb.InvoiceSettled {
		crashpoint.Hit(crashpoint.InvoiceSettled)
	}
}
