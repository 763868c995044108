package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/funding"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc"
	"lnd.xprv/wallet"
)

// This file wires cooperative closes: the links negotiate (htlcswitch);
// here the agreed closing transaction is broadcast, the funding output
// watched, and the channel moved to closed once a cooperative close of it
// confirms. Every close in progress is resumed at start.

// defaultCloseConf is the confirmation target of a closing fee when the
// operator gives none.
const defaultCloseConf = 6

// closeTimeout bounds the chain calls of the close path.
const closeTimeout = 30 * time.Second

// minCloseConfs is the fewest confirmations after which a cooperative
// close is final: shallow reorgs are the common ones (lnd's rule too).
const minCloseConfs = 3

// closeConfs is how deep a closing transaction must be before the
// channel is closed: three blocks, up to six for large channels, as the
// funding depth scales (lnd's CloseConfsForCapacity).
func closeConfs(capacity btcutil.Amount) uint32 {
	return max(minCloseConfs, funding.ScaleNumConfs(capacity, 0))
}

// closer follows the cooperative closes of the node.
type closer struct {
	d      *daemon
	log    *slog.Logger
	events *chanEvents

	mu       sync.Mutex
	watching map[wire.OutPoint]bool
	waiters  map[wire.OutPoint][]chan rpc.CloseEvent
	depth    map[wire.OutPoint]closeDepth
	quit     chan struct{}
	wg       sync.WaitGroup
}

func newCloser(d *daemon, events *chanEvents) *closer {
	return &closer{d: d, log: d.logs.Logger("CHCL"), events: events,
		watching: map[wire.OutPoint]bool{},
		waiters:  map[wire.OutPoint][]chan rpc.CloseEvent{},
		depth:    map[wire.OutPoint]closeDepth{},
		quit:     make(chan struct{})}
}

// stop ends the watches and waits for them.
func (c *closer) stop() {
	close(c.quit)
	c.wg.Wait()
}

// linkConfig is the close part of a channel's link.
func (c *closer) linkConfig(st *channeldb.OpenChannel) *htlcswitch.CloseConfig {
	d := c.d
	op := st.FundingOutpoint
	pub := [33]byte(st.RemoteNode.SerializeCompressed())
	return &htlcswitch.CloseConfig{
		Store: d.chanDB,
		DeliveryScript: func() ([]byte, error) {
			addr, err := d.wallet.NewAddress(wallet.AddressP2WPKH, false)
			if err != nil {
				return nil, err
			}
			return txscript.PayToAddrScript(addr)
		},
		UpfrontScripts: func() ([]byte, []byte, error) {
			info, err := d.openInfo(op)
			if err != nil {
				return nil, nil, err
			}
			return info.LocalShutdown, info.RemoteShutdown, nil
		},
		AnySegwit: func() bool {
			p := d.srv.FindPeer(pub)
			return p != nil && p.RemoteFeatures() != nil &&
				p.RemoteFeatures().HasFeature(lnwire.ShutdownAnySegwitOptional)
		},
		FeeRate: func() (chainfee.SatPerKWeight, error) {
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			defer cancel()
			return d.chain.EstimateFeePerKW(ctx, defaultCloseConf)
		},
		BestHeight: func() uint32 {
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			defer cancel()
			_, h, err := d.chain.BestBlock(ctx)
			if err != nil || h < 0 {
				return 0
			}
			return uint32(h)
		},
		Started: func(rec *channeldb.CoopClose) {
			c.watch(rec)
			d.announcing.closing(rec.ChanPoint)
		},
		Agreed: func(rec *channeldb.CoopClose) {
			c.watch(rec)
			// Off the link's goroutine: its closing_signed goes
			// out without waiting for the backend.
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				c.broadcast(rec)
			}()
		},
	}
}

// resume watches every close in progress and rebroadcasts the agreed
// closing transactions.
func (c *closer) resume() error {
	recs, err := c.d.chanDB.ListCoopCloses()
	if err != nil {
		return fmt.Errorf("closes in progress: %w", err)
	}
	for _, rec := range recs {
		c.watch(rec)
		if rec.ClosingTx != nil {
			c.broadcast(rec)
		}
	}
	return nil
}

// waitingClose reports whether op's closing transaction is agreed.
func (c *closer) waitingClose(op wire.OutPoint) bool {
	rec, err := c.d.chanDB.FetchCoopClose(op)
	return err == nil && rec.ClosingTx != nil
}

func (c *closer) broadcast(rec *channeldb.CoopClose) {
	tx := rec.ClosingTx
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := c.d.chain.Broadcast(ctx, tx)
	switch {
	case err == nil, errors.Is(err, chain.ErrTxAlreadyKnown):
		c.log.Info("Closing transaction broadcast", "chan_point",
			rec.ChanPoint, "closing_txid", tx.TxHash())
	default:
		// It may already be confirmed, or conflict with a force
		// close: the spend watch tells.
		c.log.Warn("Closing transaction not broadcast", "chan_point",
			rec.ChanPoint, "closing_txid", tx.TxHash(), "err", err)
	}
}

// watch registers for the spend of the funding output of a channel
// being closed.
func (c *closer) watch(rec *channeldb.CoopClose) {
	op := rec.ChanPoint
	c.mu.Lock()
	if c.watching[op] {
		c.mu.Unlock()
		return
	}
	c.watching[op] = true
	c.mu.Unlock()
	st, err := c.d.chanDB.FetchOpenChannel(op)
	if err != nil {
		c.log.Error("Closing channel not read", "chan_point", op, "err", err)
		return
	}
	_, pkScript, err := lnwallet.FundingScript(st.LocalConfig.FundingKey,
		st.RemoteConfig.FundingKey)
	if err != nil {
		c.log.Error("Funding script", "chan_point", op, "err", err)
		return
	}
	ev, err := c.d.chain.RegisterSpend(op, pkScript, int32(rec.HeightHint))
	if err != nil {
		c.log.Error("Funding output not watched", "chan_point", op, "err", err)
		c.mu.Lock()
		delete(c.watching, op)
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer ev.Cancel()
		var blocks <-chan chain.BlockEvent
		for {
			select {
			case sp, ok := <-ev.Spend:
				if !ok || c.spent(st, sp, ev.Reorged) {
					return
				}
				// Reorged out before its depth: wait for the
				// next spend (the same transaction again, or
				// a commitment), sending ours each block: the
				// backend may not have kept it.
				if blocks == nil {
					if e, err := c.d.chain.RegisterBlockEpochs(); err == nil {
						defer e.Cancel()
						blocks = e.Events
					}
				}
			case b, ok := <-blocks:
				if !ok {
					blocks = nil
					continue
				}
				if b.Disconnected {
					continue
				}
				if rec, err := c.d.chanDB.FetchCoopClose(op); err == nil && rec.ClosingTx != nil {
					c.broadcast(rec)
				}
			case <-c.quit:
				return
			}
		}
	}()
}

// spent follows the spend of a closing channel's funding output: a
// cooperative close is waited for until it is deep enough, then the
// channel closed; another spend is left to the chain watcher of force
// closes. It reports false if reorged fired first: the spend left the
// chain before it was deep enough.
func (c *closer) spent(st *channeldb.OpenChannel, sp *chain.SpendDetail,
	reorged <-chan struct{}) bool {

	op := st.FundingOutpoint
	if !lnwallet.IsCooperativeClose(sp.SpendingTx) {
		c.log.Warn("Funding output spent by a commitment, not a "+
			"cooperative close", "chan_point", op, "txid", sp.SpenderTxHash)
		c.finish(op, rpc.CloseEvent{Err: fmt.Errorf("channel %v was "+
			"force closed by %v", op, sp.SpenderTxHash)})
		return true
	}
	confs := closeConfs(st.Capacity)
	c.setConfirmed(op, sp.SpendingHeight, confs-1)
	c.log.Info("Closing transaction confirmed; waiting for its depth",
		"chan_point", op, "closing_txid", sp.SpenderTxHash,
		"height", sp.SpendingHeight, "confs", confs)
	var pkScript []byte
	if len(sp.SpendingTx.TxOut) > 0 {
		pkScript = sp.SpendingTx.TxOut[0].PkScript
	}
	ev, err := c.d.chain.RegisterConfirmations(sp.SpenderTxHash, pkScript,
		confs, sp.SpendingHeight)
	if err != nil {
		c.log.Error("Closing transaction not watched", "chan_point", op,
			"err", err)
		return true
	}
	defer ev.Cancel()
	for {
		select {
		case conf, ok := <-ev.Confirmed:
			if !ok {
				return true
			}
			sp.SpendingHeight = conf.BlockHeight
			c.closed(st, sp)
			return true
		case n, ok := <-ev.Updates:
			if ok && n <= confs {
				c.setConfirmed(op, sp.SpendingHeight, confs-n)
			}
		case _, ok := <-reorged:
			if !ok {
				return true
			}
			c.log.Warn("Closing transaction reorged out before its "+
				"depth; waiting for the funding output to be spent "+
				"again", "chan_point", op, "closing_txid", sp.SpenderTxHash)
			c.mu.Lock()
			delete(c.depth, op)
			c.mu.Unlock()
			return false
		case <-c.quit:
			return true
		}
	}
}

// setConfirmed records how far a closing transaction is from final, for
// PendingChannels.
func (c *closer) setConfirmed(op wire.OutPoint, height int32, left uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.depth[op] = closeDepth{height: uint32(max(height, 0)), left: left}
}

// closeDepth is where a confirmed closing transaction stands.
type closeDepth struct {
	height, left uint32
}

// closed moves a channel whose cooperative close is deep enough to
// closed.
func (c *closer) closed(st *channeldb.OpenChannel, sp *chain.SpendDetail) {
	op := st.FundingOutpoint
	rec, err := c.d.chanDB.FetchCoopClose(op)
	if err != nil {
		c.log.Error("Close in progress not read", "chan_point", op, "err", err)
		return
	}
	remote := rec.RemoteScript
	sum := &channeldb.ChannelCloseSummary{
		ChanPoint: op, ShortChanID: st.ShortChannelID,
		RemotePub: st.RemoteNode, Capacity: st.Capacity,
		ClosingTxID: sp.SpenderTxHash, CloseHeight: uint32(sp.SpendingHeight),
		SettledBalance: lnwallet.SettledBalance(sp.SpendingTx, rec.LocalScript),
		CloseType:      channeldb.CooperativeClose,
	}
	if err := c.d.chanDB.CloseCooperatively(op, sum); err != nil {
		c.log.Error("Channel not marked closed", "chan_point", op, "err", err)
		return
	}
	crashpoint.Hit(crashpoint.CloseConfirmed)
	c.d.removeLink(op)
	c.mu.Lock()
	delete(c.depth, op)
	c.mu.Unlock()
	c.log.Info("Channel closed cooperatively", "chan_point", op,
		"closing_txid", sp.SpenderTxHash, "height", sp.SpendingHeight,
		"settled", sum.SettledBalance)
	closed := closedInfo(sum, rec)
	closed.LocalAmt = sum.SettledBalance
	closed.RemoteAmt = lnwallet.SettledBalance(sp.SpendingTx, remote)
	c.events.publish(rpc.ChannelEvent{Type: rpc.EventClosed, ChanPoint: op,
		Closed: &closed})
	c.events.publish(rpc.ChannelEvent{Type: rpc.EventFullyResolved, ChanPoint: op})
	c.finish(op, rpc.CloseEvent{Closed: &closed})
}

func initiator(local bool) int32 {
	if local {
		return 1 // INITIATOR_LOCAL
	}
	return 2 // INITIATOR_REMOTE
}

// finish hands the outcome to the RPC streams waiting for it.
func (c *closer) finish(op wire.OutPoint, ev rpc.CloseEvent) {
	c.mu.Lock()
	ws := c.waiters[op]
	delete(c.waiters, op)
	c.mu.Unlock()
	for _, w := range ws {
		select {
		case w <- ev:
		default:
		}
	}
}

// closedInfo describes a closed channel; rec, the record of its
// cooperative close (nil for another close), says who opened and who
// closed it.
func closedInfo(s *channeldb.ChannelCloseSummary, rec *channeldb.CoopClose) rpc.ClosedChannel {
	c := rpc.ClosedChannel{ChanPoint: s.ChanPoint, ChanID: s.ShortChanID.ToUint64(),
		ClosingTxID: s.ClosingTxID, RemotePubKey: s.RemotePub,
		Capacity: s.Capacity, CloseHeight: s.CloseHeight,
		Settled: s.SettledBalance, TimeLocked: s.TimeLockedBalance,
		CloseType: rpc.CloseType(s.CloseType)}
	if rec != nil {
		c.OpenInitiator = initiator(rec.LocalIsOpener)
		c.CloseInitiator = initiator(rec.LocallyInitiated)
		c.LocalScript, c.RemoteScript = rec.LocalScript, rec.RemoteScript
	}
	return c
}

// Close is rpc.ChannelCloser.
func (c *closer) Close(ctx context.Context, p *rpc.CloseChannelParams) (
	<-chan rpc.CloseEvent, error) {

	d := c.d
	op := p.ChanPoint
	st, err := d.chanDB.FetchOpenChannel(op)
	if err != nil {
		if errors.Is(err, channeldb.ErrChannelNotFound) {
			return nil, fmt.Errorf("%w: no open channel %v (see "+
				"listchannels)", channeldb.ErrChannelNotFound, op)
		}
		return nil, err
	}
	if d.funding.IsPending(op) {
		return nil, fmt.Errorf("%w: channel %v is still being opened",
			htlcswitch.ErrPeerInactive, op)
	}
	if c.waitingClose(op) {
		return nil, fmt.Errorf("%w: channel %v waits for its closing "+
			"transaction to confirm", htlcswitch.ErrAlreadyClosing, op)
	}
	link := d.links.Get(lnwire.NewChanIDFromOutPoint(op))
	if link == nil {
		return nil, fmt.Errorf("%w: channel %v has no link", htlcswitch.ErrPeerInactive, op)
	}
	// lnd's check and text: without no_wait, HTLCs in flight refuse
	// the close (lncli sets no_wait; the close then waits for them).
	htlcs := activeHTLCs(st)
	if !p.NoWait && htlcs != 0 {
		return nil, fmt.Errorf("cannot coop close channel with active "+
			"htlcs (number of active htlcs: %d), bypass this check "+
			"and initiate the coop close by setting no_wait=true", htlcs)
	}
	req := &htlcswitch.CloseRequest{}
	if p.DeliveryAddress != "" {
		addr, err := d.wallet.ParseAddress(p.DeliveryAddress)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", htlcswitch.ErrDeliveryScript,
				p.DeliveryAddress, err)
		}
		if req.DeliveryScript, err = txscript.PayToAddrScript(addr); err != nil {
			return nil, fmt.Errorf("%w %q: %v", htlcswitch.ErrDeliveryScript,
				p.DeliveryAddress, err)
		}
	}
	switch {
	case p.SatPerVByte > 0:
		req.FeeRate = chainfee.SatPerVByte(p.SatPerVByte).FeePerKWeight()
	case p.TargetConf > 0:
		rate, err := d.chain.EstimateFeePerKW(ctx, uint32(p.TargetConf))
		if err != nil {
			return nil, err
		}
		req.FeeRate = rate
	}
	if p.MaxFeePerVByte > 0 {
		req.MaxFeeRate = chainfee.SatPerVByte(p.MaxFeePerVByte).FeePerKWeight()
	}
	updates := make(chan htlcswitch.CloseUpdate, 1)
	req.Updates = updates
	out := make(chan rpc.CloseEvent, 3)
	c.mu.Lock()
	c.waiters[op] = append(c.waiters[op], out)
	c.mu.Unlock()
	if err := link.Close(req); err != nil {
		c.dropWaiter(op, out)
		return nil, err
	}
	if p.NoWait {
		out <- rpc.CloseEvent{Instant: true, PendingHTLCs: int32(htlcs)}
	}
	go func() {
		select {
		case u := <-updates:
			if u.Err != nil {
				c.dropWaiter(op, out)
				out <- rpc.CloseEvent{Err: u.Err}
				return
			}
			out <- rpc.CloseEvent{Pending: u.Tx}
		case <-ctx.Done():
			c.dropWaiter(op, out)
		}
	}()
	return out, nil
}

// activeHTLCs counts the HTLCs on both commitments of st, as lnd's
// ActiveHtlcs does.
func activeHTLCs(st *channeldb.OpenChannel) int {
	type key struct {
		id       uint64
		incoming bool
	}
	remote := map[key]bool{}
	for _, h := range st.RemoteCommit.HTLCs {
		remote[key{h.ID, h.Incoming}] = true
	}
	n := 0
	for _, h := range st.LocalCommit.HTLCs {
		if remote[key{h.ID, h.Incoming}] {
			n++
		}
	}
	return n
}

func (c *closer) dropWaiter(op wire.OutPoint, w chan rpc.CloseEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := c.waiters[op]
	for i := range ws {
		if ws[i] == w {
			c.waiters[op] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(c.waiters[op]) == 0 {
		delete(c.waiters, op)
	}
}

// Closed is rpc.ChannelCloser.
func (c *closer) Closed(context.Context) ([]rpc.ClosedChannel, error) {
	var out []rpc.ClosedChannel
	err := c.d.chanDB.View(func(tx kvdb.RTx) error {
		sums, err := channeldb.ListClosedChannels(tx, false)
		if err != nil {
			return err
		}
		out = make([]rpc.ClosedChannel, 0, len(sums))
		for _, s := range sums {
			// Who opened and closed: from the close record of a
			// cooperative close, the contract of a force close
			// (with what became of each output).
			rec, err := channeldb.FetchClosedCoop(tx, s.ChanPoint)
			if err != nil && !errors.Is(err, channeldb.ErrCoopCloseNotFound) {
				return err
			}
			info := closedInfo(s, rec)
			if s.CloseType != channeldb.CooperativeClose {
				// A force close: the contract court's record
				// says who went to chain.
				ct, err := channeldb.FetchContract(tx, s.ChanPoint)
				if err != nil && !errors.Is(err, channeldb.ErrContractNotFound) {
					return err
				}
				forceDetails(&info, ct)
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// WaitingClose is rpc.ChannelCloser.
func (c *closer) WaitingClose(context.Context) ([]rpc.WaitingCloseChannel, error) {
	recs, err := c.d.chanDB.ListCoopCloses()
	if err != nil {
		return nil, err
	}
	var out []rpc.WaitingCloseChannel
	for _, rec := range recs {
		if rec.ClosingTx == nil {
			continue
		}
		st, err := c.d.chanDB.FetchOpenChannel(rec.ChanPoint)
		if err != nil {
			continue // closed meanwhile
		}
		info, err := c.d.openInfo(rec.ChanPoint)
		if err != nil {
			return nil, err
		}
		w := rpc.WaitingCloseChannel{
			ChannelInfo: channelInfo(st, info, c.d.cfg.network.Params), ClosingTx: rec.ClosingTx,
			Limbo:        lnwallet.SettledBalance(rec.ClosingTx, rec.LocalScript),
			ConfirmsLeft: closeConfs(st.Capacity),
		}
		c.mu.Lock()
		if d, ok := c.depth[rec.ChanPoint]; ok {
			w.CloseHeight, w.ConfirmsLeft = d.height, d.left
		}
		c.mu.Unlock()
		out = append(out, w)
	}
	return out, nil
}

// Balance is rpc.ChannelCloser: the open channels' balances (those
// waiting for a closing transaction excepted), and those being opened.
func (c *closer) Balance(ctx context.Context) (*rpc.ChannelBalance, error) {
	d := c.d
	open, err := d.chanDB.ListOpenChannels()
	if err != nil {
		return nil, err
	}
	pending, err := d.funding.PendingChannels()
	if err != nil {
		return nil, err
	}
	isPending := map[wire.OutPoint]bool{}
	for _, p := range pending {
		isPending[p.ChanPoint] = true
	}
	b := &rpc.ChannelBalance{}
	for _, st := range open {
		if c.waitingClose(st.FundingOutpoint) {
			continue
		}
		local, remote := commitBalances(st)
		if isPending[st.FundingOutpoint] {
			b.PendingOpenLocalMsat += local
			b.PendingOpenRemoteMsat += remote
			continue
		}
		b.LocalMsat += local
		b.RemoteMsat += remote
		for _, h := range st.LocalCommit.HTLCs {
			if h.Incoming {
				b.UnsettledRemoteMsat += h.AmountMsat
			} else {
				b.UnsettledLocalMsat += h.AmountMsat
			}
		}
	}
	return b, nil
}

// commitBalances are the balances of our commitment's outputs in msat:
// the opener's less the commitment fee and the anchors.
func commitBalances(st *channeldb.OpenChannel) (local, remote uint64) {
	t := lnwallet.ChannelType(st.ChanType)
	lc := &st.LocalCommit
	cost := lnwallet.CommitFee(t, chainfee.SatPerKWeight(lc.FeeRate), len(lc.HTLCs))
	if t.HasAnchors() {
		cost += 2 * lnwallet.AnchorValue
	}
	costMsat := uint64(lnwire.NewMSatFromSatoshis(cost))
	local, remote = lc.LocalBalanceMsat, lc.RemoteBalanceMsat
	if st.IsInitiator {
		local -= min(costMsat, local)
	} else {
		remote -= min(costMsat, remote)
	}
	return local, remote
}

// SubscribeEvents is rpc.ChannelCloser.
func (c *closer) SubscribeEvents(ctx context.Context) (<-chan rpc.ChannelEvent, error) {
	return c.events.subscribe(ctx), nil
}

var _ rpc.ChannelCloser = (*closer)(nil)

// publishOpen publishes the open event of a channel the funding manager
// just handed over.
func (d *daemon) publishOpen(st *channeldb.OpenChannel) {
	info, err := d.openInfo(st.FundingOutpoint)
	if err != nil {
		d.log.Warn("Open event without opening info", "err", err)
		info = &channeldb.ChannelOpenInfo{ChanPoint: st.FundingOutpoint}
	}
	d.uptime.channelOpened(st.FundingOutpoint)
	d.events.opened(channelInfo(st, info, d.cfg.network.Params))
}
