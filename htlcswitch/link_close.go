package htlcswitch

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// This file is the link's part of a cooperative close (BOLT 2 "Channel
// Close"): shutdown both ways, no new HTLC after it, waiting until the
// channel is clean, then the closing_signed negotiation of
// lnwallet.CloseNegotiation. What must survive a restart (both scripts,
// the operator's fee limits, the agreed transaction) is stored before the
// message that commits us to it is sent; the negotiation itself restarts
// on every connection, as BOLT 2 has it.

// Errors of a close request that callers branch on.
var (
	// ErrAlreadyClosing refuses a close of a channel already closing.
	ErrAlreadyClosing = errors.New("channel is already being closed")

	// ErrPeerInactive refuses a cooperative close while the peer is not
	// connected or the channel not reestablished.
	ErrPeerInactive = errors.New("peer is offline or the channel is not " +
		"active; a cooperative close needs the peer online")

	// ErrDeliveryScript refuses a delivery address BOLT 2 does not allow
	// or that differs from the upfront shutdown script.
	ErrDeliveryScript = errors.New("invalid delivery address")

	// ErrChannelFailed refuses a close of a channel that failed.
	ErrChannelFailed = errors.New("channel failed; it can only be " +
		"force closed")
)

// CloseStore keeps a channel's close in progress; *channeldb.DB with
// CoopCloseStore is one.
type CloseStore interface {
	FetchCoopClose(op wire.OutPoint) (*channeldb.CoopClose, error)
	PutCoopClose(c *channeldb.CoopClose) error
}

// CloseConfig is what a link needs to close its channel cooperatively.
type CloseConfig struct {
	Store CloseStore

	// DeliveryScript returns a fresh script of our wallet to be paid to.
	DeliveryScript func() ([]byte, error)

	// UpfrontScripts returns the upfront_shutdown_scripts both sides
	// committed to at opening (empty: none).
	UpfrontScripts func() (local, remote []byte, err error)

	// AnySegwit reports whether option_shutdown_anysegwit is negotiated
	// with the peer.
	AnySegwit func() bool

	// FeeRate is our ideal closing fee rate when the operator gave none.
	FeeRate func() (chainfee.SatPerKWeight, error)

	// BestHeight is the chain tip, a lower bound for the close's spend.
	BestHeight func() uint32

	// Started is called once a close is stored (our shutdown chosen or
	// the peer's received), so that the funding output is watched;
	// Agreed once the closing transaction is stored, to broadcast it.
	Started func(c *channeldb.CoopClose)
	Agreed  func(c *channeldb.CoopClose)
}

// CloseRequest is the operator's request to close the channel.
type CloseRequest struct {
	// DeliveryScript is where our funds go; nil: the upfront shutdown
	// script, or a new wallet address.
	DeliveryScript []byte

	// FeeRate and MaxFeeRate bound the closing fee (0: estimate, and
	// three times the ideal fee).
	FeeRate, MaxFeeRate chainfee.SatPerKWeight

	// Updates, if set, receives the agreed closing transaction, or the
	// error that stopped the negotiation. It must have room for one
	// value: the link never waits on it.
	Updates chan<- CloseUpdate
}

// CloseUpdate reports the end of a negotiation.
type CloseUpdate struct {
	Tx  *wire.MsgTx
	Err error
}

// closeState is the link's close in progress.
type closeState struct {
	rec   *channeldb.CoopClose
	neg   *lnwallet.CloseNegotiation // this connection's negotiation
	early *lnwire.ClosingSigned      // received before we were ready
	reqs  []*CloseRequest            // the operator's, told the outcome
	sent  bool                       // our shutdown went out on this connection
}

// ShuttingDown reports whether the channel is closing: it takes no new
// HTLC (BOLT 2, after shutdown either way).
func (l *Link) ShuttingDown() bool { return l.shutdown.Load() }

// Close starts a cooperative close of the channel. It returns once the
// request is taken or refused; the outcome arrives on req.Updates.
func (l *Link) Close(req *CloseRequest) error {
	res := make(chan error, 1)
	err := l.enqueue(event{kind: evCall, fn: func() { res <- l.startClose(req) }})
	if err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-l.quit:
		return ErrLinkStopped
	}
}

// loadClose reads a close in progress at start.
func (l *Link) loadClose() {
	cc := l.cfg.Close
	if cc == nil {
		return
	}
	rec, err := cc.Store.FetchCoopClose(l.op)
	if errors.Is(err, channeldb.ErrCoopCloseNotFound) {
		return
	}
	if err != nil {
		l.log.Error("Close in progress not read", "err", err)
		return
	}
	l.closing.rec = rec
	l.markShutdown()
	l.waitingClose.Store(rec.ClosingTx != nil)
	l.log.Info("Cooperative close resumes", "closing_tx", rec.ClosingTx != nil)
}

// markShutdown applies the stored shutdowns to the state machine.
func (l *Link) markShutdown() {
	rec := l.closing.rec
	if rec == nil {
		return
	}
	if rec.ShutdownSent {
		l.ch.MarkShutdownSent()
	}
	if rec.RemoteScript != nil {
		l.ch.MarkShutdownReceived()
	}
	l.shutdown.Store(true)
}

func (l *Link) startClose(req *CloseRequest) error {
	cc := l.cfg.Close
	switch {
	case l.failed:
		return ErrChannelFailed
	case cc == nil:
		return errors.New("cooperative close not configured")
	case l.closing.rec != nil:
		return l.joinClose(req)
	case !l.active.Load():
		return ErrPeerInactive
	}
	script, err := l.ourScript(req.DeliveryScript)
	if err != nil {
		return err
	}
	rec := &channeldb.CoopClose{ChanPoint: l.op, LocalScript: script,
		ShutdownSent: true, LocallyInitiated: true,
		LocalIsOpener: l.ch.Params().LocalIsOpener,
		FeeRate:       uint64(req.FeeRate), MaxFeeRate: uint64(req.MaxFeeRate),
		HeightHint: cc.BestHeight()}
	if err := cc.Store.PutCoopClose(rec); err != nil {
		return fmt.Errorf("store close: %w", err)
	}
	crashpoint.Hit(crashpoint.CloseShutdownPersisted)
	l.closing.rec, l.closing.reqs = rec, []*CloseRequest{req}
	l.markShutdown()
	cc.Started(rec)
	l.log.Info("Cooperative close requested", "delivery", fmt.Sprintf("%x", script))
	l.sendShutdown()
	l.closeProgress()
	return nil
}

// joinClose takes an operator's request for a channel whose close is
// already under way: the peer started it, or the stream of the first
// request ended with a restart. Like lnd's CloseChannel on a channel in
// shutdown, the request follows the close to its end, even while the
// peer is offline (it resumes on reconnection). What the close was
// started with stays: our shutdown is retransmitted as it was sent (BOLT
// 2), and the stored fee limits are those of the first request.
func (l *Link) joinClose(req *CloseRequest) error {
	rec := l.closing.rec
	switch {
	case rec.ClosingTx != nil:
		return ErrAlreadyClosing
	case len(req.DeliveryScript) > 0 &&
		!bytes.Equal(req.DeliveryScript, rec.LocalScript):

		return fmt.Errorf("%w: the close in progress already sent "+
			"shutdown paying %x", ErrDeliveryScript, rec.LocalScript)
	case req.FeeRate != 0 || req.MaxFeeRate != 0:
		return fmt.Errorf("%w: its fee limits were set when it began; "+
			"call again without a fee rate to follow it",
			ErrAlreadyClosing)
	}
	l.closing.reqs = append(l.closing.reqs, req)
	l.log.Info("Close request follows the close in progress",
		"locally_initiated", rec.LocallyInitiated)
	return nil
}

// ourScript picks our delivery script: the upfront one if we committed
// to one (a different requested one is refused), else the requested
// one, else a new wallet address.
func (l *Link) ourScript(requested []byte) ([]byte, error) {
	cc := l.cfg.Close
	upLocal, _, err := cc.UpfrontScripts()
	if err != nil {
		return nil, err
	}
	if len(requested) > 0 {
		if err := lnwallet.CheckShutdownScript(requested,
			cc.AnySegwit()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDeliveryScript, err)
		}
	}
	switch {
	case len(upLocal) > 0 && len(requested) > 0 &&
		!bytes.Equal(upLocal, requested):
		return nil, fmt.Errorf("%w: the channel committed to the "+
			"upfront shutdown script %x", ErrDeliveryScript, upLocal)
	case len(upLocal) > 0:
		return upLocal, nil
	case len(requested) > 0:
		return requested, nil
	}
	return cc.DeliveryScript()
}

// sendShutdown sends our shutdown on the connection, once per connection,
// when none of our updates waits for a commitment_signed (BOLT 2).
func (l *Link) sendShutdown() {
	rec := l.closing.rec
	if rec == nil || !rec.ShutdownSent || l.closing.sent || l.conn == nil ||
		!l.active.Load() || l.ch.HasUnsignedLocalUpdates() {

		return
	}
	l.send(&lnwire.Shutdown{ChanID: l.chanID, Address: rec.LocalScript})
	l.closing.sent = true
}

// closeMessage handles shutdown and closing_signed; it reports whether
// msg was one.
func (l *Link) closeMessage(msg lnwire.Message) bool {
	switch m := msg.(type) {
	case *lnwire.Shutdown:
		if l.cfg.Close == nil {
			return false
		}
		l.receiveShutdown(m)
	case *lnwire.ClosingSigned:
		if l.cfg.Close == nil {
			return false
		}
		l.receiveClosingSigned(m)
	default:
		return false
	}
	l.closeProgress()
	return true
}

func (l *Link) receiveShutdown(m *lnwire.Shutdown) {
	cc := l.cfg.Close
	rec := l.closing.rec
	if rec != nil && rec.RemoteScript != nil {
		if !bytes.Equal(rec.RemoteScript, m.Address) {
			// After a reconnection the peer retransmits the same
			// shutdown; a new script cannot replace the one the
			// close is negotiated with.
			l.warn("shutdown with a different scriptpubkey than before")
		}
		return
	}
	if err := lnwallet.CheckShutdownScript(m.Address, cc.AnySegwit()); err != nil {
		l.log.Warn("Shutdown refused; channel stays open", "err", err)
		l.warn(fmt.Sprintf("shutdown refused: %v", err))
		return
	}
	_, upRemote, err := cc.UpfrontScripts()
	if err != nil {
		l.log.Error("Upfront scripts not read", "err", err)
		return
	}
	if len(upRemote) > 0 && !bytes.Equal(upRemote, m.Address) {
		l.log.Warn("Shutdown script differs from the upfront one; refused")
		l.warn(fmt.Sprintf("shutdown refused: scriptpubkey %x is not the "+
			"upfront_shutdown_script %x", m.Address, upRemote))
		return
	}
	if rec == nil {
		script, err := l.ourScript(nil)
		if err != nil {
			l.log.Error("No delivery script for the close", "err", err)
			l.warn("internal error: no delivery script")
			return
		}
		rec = &channeldb.CoopClose{ChanPoint: l.op, LocalScript: script,
			LocalIsOpener: l.ch.Params().LocalIsOpener,
			HeightHint:    cc.BestHeight()}
	}
	next := *rec
	next.RemoteScript = append([]byte{}, m.Address...)
	next.ShutdownSent = true
	if err := cc.Store.PutCoopClose(&next); err != nil {
		l.log.Error("Close not stored; shutdown ignored", "err", err)
		l.warn("internal error storing the close")
		return
	}
	crashpoint.Hit(crashpoint.CloseShutdownReceived)
	started := l.closing.rec == nil
	l.closing.rec = &next
	l.markShutdown()
	if started {
		cc.Started(&next)
	}
	l.log.Info("Shutdown received", "script", fmt.Sprintf("%x", m.Address))
	l.sendShutdown()
}

// closeProgress starts the negotiation once both shutdowns are exchanged
// on this connection and the channel is clean; the switch's commitment
// rounds call it too, as HTLCs clear.
func (l *Link) closeProgress() {
	rec := l.closing.rec
	if rec == nil {
		return
	}
	l.sendShutdown()
	if rec.RemoteScript == nil || !l.closing.sent || l.closing.neg != nil ||
		!l.ch.IsClean() {

		return
	}
	if rec.ClosingTx != nil {
		// Agreed before a restart: we only echo the agreed fee.
		return
	}
	neg, err := l.newNegotiation(rec)
	if err != nil {
		l.log.Error("Closing negotiation not started", "err", err)
		l.finishRequest(nil, err)
		return
	}
	l.closing.neg = neg
	msg, err := neg.Start()
	if err != nil {
		l.log.Error("closing_signed not signed", "err", err)
		return
	}
	if msg != nil {
		l.log.Info("Proposing closing fee", "fee", msg.FeeSatoshis)
		l.send(msg)
	}
	if early := l.closing.early; early != nil {
		l.closing.early = nil
		l.receiveClosingSigned(early)
	}
}

func (l *Link) newNegotiation(rec *channeldb.CoopClose) (
	*lnwallet.CloseNegotiation, error) {

	rate := chainfee.SatPerKWeight(rec.FeeRate)
	if rate == 0 {
		var err error
		if rate, err = l.cfg.Close.FeeRate(); err != nil {
			return nil, fmt.Errorf("closing fee rate: %w", err)
		}
	}
	terms := l.ch.CloseTerms(rec.LocalScript, rec.RemoteScript)
	fees := lnwallet.FeesForRate(&terms, rate,
		chainfee.SatPerKWeight(rec.MaxFeeRate))
	return lnwallet.NewCloseNegotiation(terms, fees, l.ch.Signer())
}

func (l *Link) receiveClosingSigned(m *lnwire.ClosingSigned) {
	rec := l.closing.rec
	switch {
	case rec == nil:
		l.warn("closing_signed before shutdown")
		return
	case rec.ClosingTx != nil:
		l.echoAgreed(m)
		return
	case l.closing.neg == nil:
		// Before the channel is clean on our side: kept until it is.
		l.closing.early = m
		return
	}
	step, err := l.closing.neg.Receive(m)
	if err != nil {
		l.refuseClose(err)
		return
	}
	if step.Tx != nil {
		tx, fee := l.closing.neg.Final()
		if !l.storeAgreed(tx, fee) {
			return
		}
	}
	if step.Reply != nil {
		l.send(step.Reply)
	}
}

// storeAgreed persists the agreed transaction (before our last
// closing_signed goes out) and hands it on for broadcast.
func (l *Link) storeAgreed(tx *wire.MsgTx, fee btcutil.Amount) bool {
	next := *l.closing.rec
	next.ClosingTx, next.Fee = tx, fee
	if err := l.cfg.Close.Store.PutCoopClose(&next); err != nil {
		l.log.Error("Closing transaction not stored; not sent", "err", err)
		return false
	}
	crashpoint.Hit(crashpoint.CloseAgreed)
	l.closing.rec = &next
	l.waitingClose.Store(true)
	l.log.Info("Closing fee agreed", "fee", fee, "closing_txid", tx.TxHash())
	l.cfg.Close.Agreed(&next)
	l.finishRequest(tx, nil)
	return true
}

// echoAgreed answers a closing_signed after the agreement (a peer that
// restarted the negotiation after a reconnection): the agreed fee gets
// our signature again; anything else is ignored.
func (l *Link) echoAgreed(m *lnwire.ClosingSigned) {
	rec := l.closing.rec
	if m.FeeSatoshis != rec.Fee {
		l.log.Debug("closing_signed after agreement ignored", "fee",
			m.FeeSatoshis, "agreed", rec.Fee)
		return
	}
	tx := rec.ClosingTx.Copy()
	tx.TxIn[0].Witness = nil
	sig, err := lnwallet.SignFundingSpend(l.ch.Signer(), l.ch.Params(), tx)
	if err != nil {
		l.log.Error("closing_signed not re-signed", "err", err)
		return
	}
	wsig, err := lnwire.NewSigFromSignature(sig)
	if err != nil {
		return
	}
	l.send(&lnwire.ClosingSigned{ChanID: l.chanID, FeeSatoshis: rec.Fee,
		Signature: wsig})
}

// refuseClose answers a closing_signed the negotiation refused: a
// warning (the negotiation restarts on reconnection) or, where BOLT 2
// says to fail the channel, an error.
func (l *Link) refuseClose(err error) {
	l.closing.neg = nil
	var pe *lnwallet.PeerError
	switch {
	case lnwallet.IsFatal(err):
		l.log.Error("closing_signed fails the channel", "err", err)
		l.fail(err.Error())
	case errors.As(err, &pe):
		// BOLT 2: a warning and the connection closed; the
		// negotiation starts afresh on the next one.
		l.log.Warn("closing_signed refused", "err", err)
		l.warn(err.Error())
		conn := l.conn
		l.disconnect()
		if d, ok := conn.(disconnecter); ok {
			d.Disconnect(err)
		}
	default:
		l.log.Error("closing_signed not processed", "err", err)
		l.warn("internal error processing closing_signed")
	}
	l.finishRequest(nil, err)
}

func (l *Link) finishRequest(tx *wire.MsgTx, err error) {
	reqs := l.closing.reqs
	l.closing.reqs = nil
	for _, req := range reqs {
		if req.Updates == nil {
			continue
		}
		select {
		case req.Updates <- CloseUpdate{Tx: tx, Err: err}:
		default:
		}
	}
}

// closeReconnected follows a reestablishment: our shutdown is
// retransmitted (BOLT 2) and the negotiation starts afresh.
func (l *Link) closeReconnected() {
	l.closeProgress()
}

// closeDisconnected forgets the connection's negotiation.
func (l *Link) closeDisconnected() {
	l.closing.neg, l.closing.early, l.closing.sent = nil, nil, false
}

// WaitingClose reports whether a closing transaction was agreed.
func (l *Link) WaitingClose() bool { return l.waitingClose.Load() }

// markDataLoss stores that the peer proved our state old, so that the
// channel stays failed and reported after a restart.
func (l *Link) markDataLoss() {
	if l.cfg.MarkDataLoss == nil {
		return
	}
	if err := l.cfg.MarkDataLoss(); err != nil {
		l.log.Error("Data loss not stored", "err", err)
	}
}

// closingRefuses fails an HTLC to forward that the peer added after our
// shutdown (BOLT 2: "SHOULD fail to route any HTLC added after it has
// sent shutdown").
func (l *Link) closingRefuses(h *inHTLC) bool {
	if l.closing.rec == nil || !l.closing.rec.ShutdownSent {
		return false
	}
	l.log.Info("HTLC added after our shutdown not forwarded", "htlc_id", h.add.ID)
	l.failHTLC(h, &sphinx.FailPermanentChannelFailure{})
	return true
}
