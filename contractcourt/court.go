package contractcourt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
)

// Errors callers branch on.
var (
	// ErrShutdown is returned by calls made after Stop.
	ErrShutdown = errors.New("contractcourt: shutting down")

	// ErrAlreadyClosing is returned by ForceClose for a channel that
	// already went to chain.
	ErrAlreadyClosing = errors.New("contractcourt: channel already closing")

	// ErrNoSweep is returned by BumpFee for an outpoint the court is
	// not sweeping.
	ErrNoSweep = errors.New("contractcourt: outpoint is not being swept")
)

// Defaults of Config.
const (
	// DefaultConfTarget is the confirmation target of sweeps without a
	// deadline (to_local, to_remote).
	DefaultConfTarget = 6

	// breachConfTarget is that of a justice transaction: the cheater's
	// to_self_delay is the deadline.
	breachConfTarget = 2

	// DefaultBumpAfter is how many blocks a sweep may stay unconfirmed
	// before it is replaced at a higher fee.
	DefaultBumpAfter = 2

	// DefaultIncomingDelta is how many blocks before an incoming HTLC
	// expires we go to chain to claim it with its preimage (lnd's
	// incoming broadcast delta).
	DefaultIncomingDelta = 10

	// DefaultFinalDepth is how deep the last transaction resolving a
	// contract must be before the contract is final: BOLT 5's
	// "irrevocably resolved" (100 blocks, the coinbase maturity, far
	// beyond any known fork). Until then every spend of the funding
	// output and of each output stays watched, and a reorg that takes
	// one out is undone.
	DefaultFinalDepth = 100

	// broadcastTimeout bounds one broadcast.
	broadcastTimeout = 30 * time.Second
)

// Config is what the court needs from the node.
type Config struct {
	DB       *channeldb.DB
	Notifier chain.Notifier
	Fees     chain.FeeEstimator

	// BestHeight returns the height of the chain tip.
	BestHeight func() (int32, error)

	// Broadcast publishes a transaction; ErrTxAlreadyKnown is success.
	Broadcast func(ctx context.Context, tx *wire.MsgTx) error

	// Unspent reports whether op is an unspent output of the best
	// chain (mempool spends aside). At start it tells a closing or
	// resolving transaction that a reorg took out while the node was
	// down, which no notification reports. May be nil (not checked).
	Unspent func(ctx context.Context, op wire.OutPoint) (bool, error)

	// Signer signs with our channel keys; Secrets gives a channel's
	// per-commitment secrets.
	Signer  lnwallet.Signer
	Secrets SecretsFunc

	// SweepScript returns a fresh wallet output script for a sweep.
	SweepScript func() ([]byte, error)

	// ChannelClosing is called when a channel's funding output is
	// spent, before its state is read: the daemon stops its link, so the
	// state no longer moves. May be nil.
	ChannelClosing func(op wire.OutPoint)

	// CooperativeClose hands on a mutual close seen on chain; the close
	// path records it. May be nil.
	CooperativeClose func(op wire.OutPoint, spend *chain.SpendDetail)

	// Preimage returns the preimage of a payment hash if we know it
	// (our invoices); may be nil. The preimages the switch learnt
	// downstream (channeldb.PutPreimages) are looked up first.
	Preimage PreimageFunc

	// OnPreimage hands upstream a preimage the peer revealed on chain
	// claiming an HTLC we offered on chanPoint, and returns once it is
	// persisted; it must be idempotent (a restart hands it again). On
	// an error the spend is not recorded, so a restart hands it again.
	// May be nil.
	OnPreimage func(chanPoint wire.OutPoint, hash, preimage [32]byte) error

	// OnTimeout hands upstream the failure of an HTLC we offered on
	// chanPoint (hash, amount on chain) whose timeout confirmed: the
	// incoming HTLC it pays for fails off chain (BOLT 5), a payment
	// attempt of ours fails. Idempotent, like OnPreimage; on an error
	// the spend is not recorded. May be nil.
	OnTimeout func(chanPoint wire.OutPoint, hash [32]byte, amt btcutil.Amount) error

	// OnTimeoutHTLC, if set, is called in OnTimeout's place with the id
	// of the HTLC whose timeout confirmed, when the confirmed commitment
	// says which it is (OnTimeout is called otherwise): two HTLCs of one
	// hash and amount are told apart. Idempotent, like OnTimeout.
	OnTimeoutHTLC func(chanPoint wire.OutPoint, id uint64) error

	// OnUnclaimable hands upstream the HTLCs we offered on chanPoint,
	// by id, that its confirmed commitment can never pay on chain
	// (dangling.go): the incoming HTLC each pays for is resolved off
	// chain now rather than at its expiry. Idempotent; a restart hands
	// them again until the contract is final. May be nil.
	OnUnclaimable func(chanPoint wire.OutPoint, ids []uint64) error

	// GoToChain force-closes a channel whose HTLC nears its deadline:
	// an outgoing one OutgoingGrace blocks past its expiry, an incoming
	// one whose preimage we know IncomingDelta blocks before it. May be
	// nil (no deadline watching).
	GoToChain     func(op wire.OutPoint)
	OutgoingGrace uint32
	IncomingDelta uint32

	// AttachFee pays for a zero-fee HTLC transaction (option_anchors):
	// it adds wallet inputs and a change output to tx so that they bring
	// fee more than they cost at rate, and returns finish, which signs
	// those inputs once the rest of tx is signed (prevOut is what tx's
	// first input spends) and publishes tx through the wallet. May be
	// nil: such transactions are then not sent.
	AttachFee func(ctx context.Context, tx *wire.MsgTx, prevOut *wire.TxOut,
		fee btcutil.Amount, rate chain.SatPerKWeight) (finish func(*wire.MsgTx) error, err error)

	// ChannelClosed is called once a commitment of a channel confirmed
	// and the channel's close summary is stored (lnd's closed channel
	// event), ChannelResolved once every output of it is resolved
	// (lnd's fully resolved event). Either may be nil.
	ChannelClosed   func(op wire.OutPoint)
	ChannelResolved func(op wire.OutPoint)

	// ConfTarget is the sweeps' confirmation target (0: default);
	// BumpAfter the blocks before an unconfirmed sweep is replaced.
	ConfTarget uint32
	BumpAfter  int32

	// FinalDepth is the confirmations the last resolving transaction
	// of a contract needs before it is marked resolved (0: default).
	FinalDepth uint32

	Logger *slog.Logger
}

// Court watches every channel's funding output and resolves the
// contracts of those that went to chain. All its state changes happen on
// one goroutine; the others only forward events to it.
type Court struct {
	cfg Config
	log *slog.Logger

	events chan func()
	quit   chan struct{}
	wg     sync.WaitGroup

	startOnce, stopOnce sync.Once

	// Owned by the run goroutine.
	height   int32
	funding  map[wire.OutPoint]func()
	outWatch map[wire.OutPoint]func()
	bumps    map[wire.OutPoint]bool

	// batch collects the spend registrations of start, made at its end
	// in one batch (watch.go); nil otherwise.
	batch *[]*spendWatch

	// coopSeen holds the height of the cooperative closes seen, whose
	// funding spend stays watched until FinalDepth in case a reorg
	// takes it out.
	coopSeen map[wire.OutPoint]int32

	// resend holds the contracts whose closing transaction a reorg
	// took out: their commitment is sent again every block.
	resend map[wire.OutPoint]bool

	// goneToChain holds the channels GoToChain was called for.
	goneToChain map[wire.OutPoint]bool

	// funded holds the fee-paying HTLC transactions sent, by the HTLC
	// output they spend, so that a block sends them again rather than
	// spend more wallet coins.
	funded map[wire.OutPoint]*wire.MsgTx

	// waiting, cpfpAt and cpfpRate follow our unconfirmed commitments:
	// the height first seen waiting, the height and rate of the last
	// anchor child.
	waiting  map[wire.OutPoint]int32
	cpfpAt   map[wire.OutPoint]int32
	cpfpRate map[wire.OutPoint]chain.SatPerKWeight
}

// New returns a court; Start begins watching.
func New(cfg Config) *Court {
	if cfg.ConfTarget == 0 {
		cfg.ConfTarget = DefaultConfTarget
	}
	if cfg.BumpAfter <= 0 {
		cfg.BumpAfter = DefaultBumpAfter
	}
	if cfg.FinalDepth == 0 {
		cfg.FinalDepth = DefaultFinalDepth
	}
	if cfg.IncomingDelta == 0 {
		cfg.IncomingDelta = DefaultIncomingDelta
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Preimage = storedPreimages(cfg.DB, cfg.Preimage, cfg.Logger)
	return &Court{
		cfg:      cfg,
		log:      cfg.Logger,
		events:   make(chan func()),
		quit:     make(chan struct{}),
		funding:  map[wire.OutPoint]func(){},
		outWatch: map[wire.OutPoint]func(){},
		bumps:    map[wire.OutPoint]bool{},
		coopSeen: map[wire.OutPoint]int32{},
		resend:   map[wire.OutPoint]bool{},

		goneToChain: map[wire.OutPoint]bool{},
		funded:      map[wire.OutPoint]*wire.MsgTx{},
		waiting:     map[wire.OutPoint]int32{},
		cpfpAt:      map[wire.OutPoint]int32{},
		cpfpRate:    map[wire.OutPoint]chain.SatPerKWeight{},
	}
}

// Name implements server.Subsystem.
func (c *Court) Name() string { return "contract court" }

// Start watches every open channel and resumes every unresolved contract.
func (c *Court) Start() error {
	var err error
	c.startOnce.Do(func() { err = c.start() })
	return err
}

func (c *Court) start() error {
	h, err := c.cfg.BestHeight()
	if err != nil {
		return fmt.Errorf("contract court: best height: %w", err)
	}
	c.height = h
	epochs, err := c.cfg.Notifier.RegisterBlockEpochs()
	if err != nil {
		return fmt.Errorf("contract court: %w", err)
	}
	open, err := c.cfg.DB.ListOpenChannels()
	if err != nil {
		epochs.Cancel()
		return fmt.Errorf("contract court: %w", err)
	}
	var recs []*channeldb.ContractRecord
	err = c.cfg.DB.View(func(tx kvdb.RTx) error {
		recs, err = channeldb.ListContracts(tx)
		return err
	})
	if err != nil {
		epochs.Cancel()
		return fmt.Errorf("contract court: %w", err)
	}
	var watches []*spendWatch
	c.batch = &watches
	for _, st := range open {
		// A channel still being opened has no confirmed funding
		// output yet: it is watched once open (Watch).
		if st.ShortChannelID.BlockHeight == 0 {
			continue
		}
		c.watchFunding(st)
	}
	for _, r := range recs {
		c.resume(r)
	}
	c.batch = nil
	c.registerBatch(watches)
	c.log.Info("Contract court started", "final_depth", c.cfg.FinalDepth,
		"contracts", len(recs), "outpoints_watched", len(watches))
	c.wg.Add(1)
	go c.run(epochs)
	return nil
}

// Stop ends every goroutine and registration.
func (c *Court) Stop() error {
	c.stopOnce.Do(func() {
		close(c.quit)
		c.wg.Wait()
		for _, cancel := range c.funding {
			cancel()
		}
		for _, cancel := range c.outWatch {
			cancel()
		}
	})
	return nil
}

func (c *Court) run(epochs *chain.BlockEpochs) {
	defer c.wg.Done()
	defer epochs.Cancel()
	c.sweepAll()
	for {
		select {
		case ev, ok := <-epochs.Events:
			if !ok {
				return
			}
			if ev.Disconnected {
				c.height = ev.Height - 1
				continue
			}
			c.height = ev.Height
			c.resendCloses()
			c.checkDeadlines()
			c.cpfpAll()
			c.sweepAll()
			c.finalizeAll()
		case f := <-c.events:
			f()
		case <-c.quit:
			return
		}
	}
}

// do runs f on the court's goroutine and waits for it.
func (c *Court) do(f func()) error {
	done := make(chan struct{})
	select {
	case c.events <- func() { f(); close(done) }:
	case <-c.quit:
		return ErrShutdown
	}
	select {
	case <-done:
		return nil
	case <-c.quit:
		return ErrShutdown
	}
}

// Watch starts watching the funding output of a channel that just
// opened. It does not wait: the funding manager may call it before the
// court started (Start watches every open channel anyway).
func (c *Court) Watch(st *channeldb.OpenChannel) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = c.do(func() { c.watchFunding(st) })
	}()
}

// watchFunding registers for the spend of st's funding output.
func (c *Court) watchFunding(st *channeldb.OpenChannel) {
	c.watchFundingFrom(st, int32(st.ShortChannelID.BlockHeight))
}

// rescanMargin is how far below a recorded spend the notifier looks for
// it again after a restart: a reorg while the node was down may have
// moved it a little lower. (The notifier scans blocks only for an output
// already spent, from the hint to the tip.)
const rescanMargin = 6

// rescanHint is the height hint for a spend recorded at height.
func rescanHint(height uint32, floor int32) int32 {
	return max(int32(height)-rescanMargin, floor)
}

// watchFundingFrom registers for the spend of st's funding output from
// height hint.
func (c *Court) watchFundingFrom(st *channeldb.OpenChannel, hint int32) {
	op := st.FundingOutpoint
	if _, ok := c.funding[op]; ok {
		return
	}
	p := lnwallet.ParamsOf(st)
	_, pkScript, err := p.FundingScript()
	if err != nil {
		c.log.Error("Channel not watched", "chan_point", op, "err", err)
		return
	}
	c.funding[op] = func() {} // taken; the registration fills it in
	c.registerSpend(chain.SpendRequest{OutPoint: op, PkScript: pkScript, HeightHint: hint},
		func(ev *chain.SpendEvent) {
			c.funding[op] = ev.Cancel
			c.forward(ev, func(d *chain.SpendDetail) { c.fundingSpent(op, d) },
				func() { c.fundingReorged(op) })
		}, func(err error) {
			delete(c.funding, op)
			c.log.Error("Channel not watched", "chan_point", op, "err", err)
		})
}

// forward hands each spend of ev, and each reorg that takes it out, to
// the court's goroutine. The notifier alternates them (a spend, its
// reorg, the next spend), but from two channels: reading them in turn
// keeps that order.
func (c *Court) forward(ev *chain.SpendEvent, spent func(*chain.SpendDetail),
	reorged func()) {

	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			var d *chain.SpendDetail
			select {
			case s, ok := <-ev.Spend:
				if !ok {
					return
				}
				d = s
			case <-c.quit:
				return
			}
			if !c.send(func() { spent(d) }) {
				return
			}
			select {
			case _, ok := <-ev.Reorged:
				if !ok {
					return
				}
			case <-c.quit:
				return
			}
			if !c.send(reorged) {
				return
			}
		}
	}()
}

// send hands f to the court's goroutine; false once it stops.
func (c *Court) send(f func()) bool {
	select {
	case c.events <- f:
		return true
	case <-c.quit:
		return false
	}
}

// unwatchFunding drops the funding registration of op.
func (c *Court) unwatchFunding(op wire.OutPoint) {
	if cancel, ok := c.funding[op]; ok {
		cancel()
		delete(c.funding, op)
	}
}

// fetch reads the contract record of op, nil if none.
func (c *Court) fetch(op wire.OutPoint) (*channeldb.ContractRecord, error) {
	var rec *channeldb.ContractRecord
	err := c.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		rec, err = channeldb.FetchContract(tx, op)
		return err
	})
	if errors.Is(err, channeldb.ErrContractNotFound) {
		return nil, nil
	}
	return rec, err
}

// put writes rec.
func (c *Court) put(rec *channeldb.ContractRecord) error {
	return c.cfg.DB.Update(func(tx kvdb.RwTx) error {
		return channeldb.PutContract(tx, rec)
	})
}

// resume carries an unresolved contract on after a restart.
func (c *Court) resume(rec *channeldb.ContractRecord) {
	if rec.Resolved {
		return
	}
	if rec.CloseHeight != 0 && c.reorgedWhileDown(rec) {
		c.log.Warn("Closing transaction left the chain while the node "+
			"was down; waiting for the funding output to be spent again",
			"chan_point", rec.ChanPoint, "txid", rec.CloseTx.TxHash())
		if err := c.unclose(rec); err != nil {
			c.log.Error("Contract not reset", "chan_point", rec.ChanPoint,
				"err", err)
			return
		}
	}
	fundingHeight := int32(rec.Channel.ShortChannelID.BlockHeight)
	if rec.CloseHeight == 0 {
		c.watchFunding(rec.Channel)
	} else {
		c.watchFundingFrom(rec.Channel, rescanHint(rec.CloseHeight, fundingHeight))
	}
	if rec.CloseHeight == 0 {
		// Our commitment went out (or the one that confirmed was
		// reorged out) and has not confirmed: send it again and wait
		// for whatever spends the funding output.
		c.rebroadcastClose(rec)
		return
	}
	// Spent outputs too: until the contract is final, a reorg may take
	// their spends out. The notifier hands the spends in the chain
	// again at once.
	for i := range rec.Outputs {
		o := &rec.Outputs[i]
		hint := int32(max(rec.CloseHeight, o.ConfHeight))
		if o.Resolved() {
			hint = rescanHint(o.SpentHeight, hint)
		}
		c.watchOutput(rec.ChanPoint, o, hint)
	}
	if rec.SweepTx != nil && !sweepDone(rec) {
		c.broadcast(rec.SweepTx, "sweep")
	}
}

// reorgedWhileDown reports whether rec's funding output, spent by its
// closing transaction, is unspent in the chain again; an output spent by
// a transaction a reorg took out is marked unspent. Errors count as no.
func (c *Court) reorgedWhileDown(rec *channeldb.ContractRecord) bool {
	if c.cfg.Unspent == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), broadcastTimeout)
	defer cancel()
	if ok, err := c.cfg.Unspent(ctx, rec.ChanPoint); err != nil || ok {
		return err == nil
	}
	changed := false
	for i := 0; i < len(rec.Outputs); i++ {
		o := &rec.Outputs[i]
		if o.SpentBy == (chainhash.Hash{}) {
			// Unspent, or an anchor abandoned on chain: no spend
			// of ours to lose.
			continue
		}
		if ok, err := c.cfg.Unspent(ctx, o.OutPoint); err != nil || !ok {
			continue
		}
		c.log.Warn("Spend of a contract output left the chain while the "+
			"node was down", "outpoint", o.OutPoint, "txid", o.SpentBy)
		c.unspend(rec, o)
		changed, i = true, -1 // outputs moved: look again
	}
	if changed {
		if err := c.put(rec); err != nil {
			c.log.Error("Contract not updated", "chan_point", rec.ChanPoint,
				"err", err)
		}
	}
	return false
}

// resendCloses sends again, every block, the commitments a reorg took
// out until one confirms: the backend may not have kept them in its
// mempool.
func (c *Court) resendCloses() {
	for op := range c.resend {
		rec, err := c.fetch(op)
		if err != nil || rec == nil || rec.Resolved || rec.CloseHeight != 0 {
			delete(c.resend, op)
			continue
		}
		c.rebroadcastClose(rec)
	}
}

// rebroadcastClose sends the commitment of a contract waiting for its
// closing transaction: ours, or the peer's current one that a reorg
// took out (valid, and the close we already planned for). A revoked
// commitment is never sent: the peer's cheat is its own to publish.
func (c *Court) rebroadcastClose(rec *channeldb.ContractRecord) {
	if rec.Kind == channeldb.ContractBreach {
		return
	}
	c.broadcast(rec.CloseTx, "commitment")
}

// broadcast publishes tx, logging the outcome.
func (c *Court) broadcast(tx *wire.MsgTx, what string) {
	ctx, cancel := context.WithTimeout(context.Background(), broadcastTimeout)
	defer cancel()
	err := c.cfg.Broadcast(ctx, tx)
	if err != nil && !errors.Is(err, chain.ErrTxAlreadyKnown) {
		c.log.Warn("Broadcast refused", "what", what, "txid", tx.TxHash(),
			"err", err)
		return
	}
	c.log.Info("Broadcast", "what", what, "txid", tx.TxHash())
}
