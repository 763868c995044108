package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/contractcourt"
	"lnd.xprv/funding"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc"
	"lnd.xprv/wallet"
)

// newCourt builds the contract court over the chain backend, the wallet
// and the channel database.
func (d *daemon) newCourt(registry *invoices.Registry) *contractcourt.Court {
	return contractcourt.New(contractcourt.Config{
		DB:       d.chanDB,
		Notifier: d.chain,
		Fees:     d.chain,
		BestHeight: func() (int32, error) {
			_, h, err := d.chain.BestBlock(context.Background())
			return h, err
		},
		Broadcast: d.chain.Broadcast,
		Unspent: func(ctx context.Context, op wire.OutPoint) (bool, error) {
			out, err := d.chain.UnspentOutput(ctx, op, false)
			return out != nil, err
		},
		Signer: funding.Signer{W: d.wallet},
		Secrets: func(root channeldb.KeyLocator) (lnwallet.SecretSource, error) {
			return funding.ChannelSecrets(d.wallet, root)
		},
		SweepScript: func() ([]byte, error) {
			addr, err := d.wallet.NewAddress(wallet.AddressP2WPKH, false)
			if err != nil {
				return nil, err
			}
			return txscript.PayToAddrScript(addr)
		},
		ChannelClosing:   d.removeLink,
		ChannelClosed:    d.forceClosed,
		ChannelResolved:  d.forceResolved,
		CooperativeClose: d.cooperativeClosed,
		// Preimages we know: our invoices'. (Those of forwarded HTLCs
		// settled downstream the court finds in the switch's store.)
		OnPreimage: d.settleFromChain,
		OnTimeout:  d.failFromChain,
		// The same, by HTLC id when the commitment says which.
		OnTimeoutHTLC: d.failTimedOut,
		// HTLCs with no output on the confirmed commitment.
		OnUnclaimable: d.failUnclaimable,
		Preimage: func(hash [32]byte) ([32]byte, bool) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			inv, err := registry.LookupInvoice(ctx, hash)
			if err != nil || inv.Preimage == nil {
				return [32]byte{}, false
			}
			return *inv.Preimage, true
		},
		GoToChain: func(op wire.OutPoint) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b := &contractsBackend{d: d}
			if _, err := b.ForceClose(ctx, op); err != nil {
				d.log.Error("Force close for an HTLC deadline failed",
					"chan_point", op, "err", err)
			}
		},
		AttachFee: d.attachFee,
		Logger:    d.logs.Logger("CNCT"),
	})
}

// removeLink stops the link of a closing channel, and reports it
// inactive at once (before the close's own events).
func (d *daemon) removeLink(op wire.OutPoint) {
	id := lnwire.NewChanIDFromOutPoint(op)
	l := d.links.Get(id)
	wasActive := l != nil && l.Active()
	d.links.Remove(id)
	d.events.linkGone(op, wasActive)
}

// forceClosed publishes lnd's closed channel event once a commitment of
// the channel op confirmed, with its stored close summary.
func (d *daemon) forceClosed(op wire.OutPoint) {
	var info rpc.ClosedChannel
	err := d.chanDB.View(func(tx kvdb.RTx) error {
		s, err := channeldb.FetchClosedChannel(tx, op)
		if err != nil {
			return err
		}
		rec, err := channeldb.FetchContract(tx, op)
		if err != nil {
			return err
		}
		info = closedInfo(s, nil)
		forceDetails(&info, rec)
		return nil
	})
	if err != nil {
		d.log.Error("Closed channel event not sent", "chan_point", op, "err", err)
		return
	}
	d.events.publish(rpc.ChannelEvent{Type: rpc.EventClosed, ChanPoint: op, Closed: &info})
}

// forceResolved publishes lnd's fully resolved channel event once every
// output of a force-closed channel is resolved.
func (d *daemon) forceResolved(op wire.OutPoint) {
	d.events.publish(rpc.ChannelEvent{Type: rpc.EventFullyResolved, ChanPoint: op})
}

// forceDetails sets who opened and who closed a channel that went to
// chain (we closed it if our commitment confirmed), and what became of
// each output of ours settled on chain.
func forceDetails(c *rpc.ClosedChannel, rec *channeldb.ContractRecord) {
	if rec == nil || rec.Channel == nil {
		return
	}
	c.OpenInitiator = initiator(rec.Channel.IsInitiator)
	c.CloseInitiator = initiator(rec.Kind == channeldb.ContractLocalCommit)
	c.Resolutions = resolutions(rec)
	closeBalances(c, rec)
}

// lnd's ResolutionType and ResolutionOutcome numbers.
const (
	resAnchor, resIncoming, resOutgoing, resCommit = 1, 2, 3, 4

	outClaimed, outUnclaimed, outAbandoned, outFirstStage, outTimeout = 1, 2, 3, 4, 5
)

// resolutions describes the settled outputs of rec as lnd does: our
// sweep claimed it (timed it out, for an HTLC we offered), our HTLC
// transaction took it to its second stage, someone else spent it, or we
// left it on chain (an anchor not worth its fee).
func resolutions(rec *channeldb.ContractRecord) []rpc.Resolution {
	ours := map[chainhash.Hash]bool{}
	for _, h := range rec.Sweeps {
		ours[h] = true
	}
	// Our HTLC transactions (those whose output we follow), and
	// whether each claimed an incoming HTLC (the stored second-level
	// output does not say).
	htlcTxs := map[chainhash.Hash]bool{}
	incoming := map[chainhash.Hash]bool{}
	for _, o := range rec.Outputs {
		if o.Kind == channeldb.OutputSecondLevel {
			htlcTxs[o.OutPoint.Hash] = true
		}
		if o.Kind == channeldb.OutputLocalHTLCSuccess && o.Resolved() {
			incoming[o.SpentBy] = true
		}
	}
	var out []rpc.Resolution
	for i := range rec.Outputs {
		o := &rec.Outputs[i]
		if !o.Resolved() {
			continue
		}
		r := rpc.Resolution{Type: resCommit, OutPoint: o.OutPoint, Amount: o.Amount}
		switch o.Kind {
		case channeldb.OutputAnchor:
			r.Type = resAnchor
		case channeldb.OutputToLocal, channeldb.OutputToRemote, channeldb.OutputRevokedToLocal:
		default:
			r.Type = resOutgoing
			if o.Incoming || (o.Kind == channeldb.OutputSecondLevel && incoming[o.OutPoint.Hash]) {
				r.Type = resIncoming
			}
		}
		switch {
		case o.Abandoned:
			r.Outcome = outAbandoned
		case ours[o.SpentBy] && r.Type == resOutgoing && rec.Kind != channeldb.ContractBreach:
			r.Outcome, r.SweepTxID = outTimeout, o.SpentBy
		case ours[o.SpentBy]:
			r.Outcome, r.SweepTxID = outClaimed, o.SpentBy
		case htlcTxs[o.SpentBy]:
			r.Outcome, r.SweepTxID = outFirstStage, o.SpentBy
		default:
			r.Outcome = outUnclaimed
		}
		out = append(out, r)
	}
	return out
}

// cooperativeClosed records a mutual close seen on chain that the close
// path does not follow (it follows every close it agreed, until deep
// enough); marking closed is idempotent on both sides.
func (d *daemon) cooperativeClosed(op wire.OutPoint, spend *chain.SpendDetail) {
	if d.closer != nil {
		if _, err := d.chanDB.FetchCoopClose(op); err == nil {
			return
		}
	}
	err := d.chanDB.Update(func(tx kvdb.RwTx) error {
		st, err := channeldb.FetchOpenChannel(tx, op)
		if errors.Is(err, channeldb.ErrChannelNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var settled btcutil.Amount
		for _, out := range spend.SpendingTx.TxOut {
			if d.wallet.IsOurScript(out.PkScript) {
				settled += btcutil.Amount(out.Value)
			}
		}
		return channeldb.CloseChannel(tx, op, &channeldb.ChannelCloseSummary{
			ChanPoint: op, ShortChanID: st.ShortChannelID,
			RemotePub: st.RemoteNode, Capacity: st.Capacity,
			ClosingTxID: spend.SpenderTxHash, CloseHeight: uint32(spend.SpendingHeight),
			SettledBalance: settled, CloseType: channeldb.CooperativeClose,
		})
	})
	if err != nil {
		d.log.Error("Cooperative close not recorded", "chan_point", op, "err", err)
	}
}

// contractsBackend is rpc.Contracts over the contract court.
type contractsBackend struct {
	d *daemon
}

// ForceClose stops the channel's link, so its state no longer moves,
// and hands our commitment to the court. The link comes back if the
// close is refused.
func (c *contractsBackend) ForceClose(ctx context.Context, op wire.OutPoint) (chainhash.Hash, error) {
	d := c.d
	if d.pendingFunding(op) {
		return chainhash.Hash{}, fmt.Errorf("channel %v is still being opened", op)
	}
	if _, err := d.chanDB.FetchOpenChannel(op); err != nil {
		return chainhash.Hash{}, err
	}
	id := lnwire.NewChanIDFromOutPoint(op)
	hadLink := d.links.Get(id) != nil
	d.removeLink(op)
	txid, err := d.forceClose(ctx, op)
	if err != nil && hadLink {
		if st, e := d.chanDB.FetchOpenChannel(op); e == nil {
			if e := d.resumeLink(st); e != nil {
				d.log.Error("Link not resumed", "chan_point", op, "err", e)
			}
		}
	}
	return txid, err
}

func (d *daemon) forceClose(ctx context.Context, op wire.OutPoint) (chainhash.Hash, error) {
	st, err := d.chanDB.FetchOpenChannel(op)
	if err != nil {
		return chainhash.Hash{}, err
	}
	// The state machine takes its copy; the court keeps this one.
	stCopy, err := d.chanDB.FetchOpenChannel(op)
	if err != nil {
		return chainhash.Hash{}, err
	}
	ch, err := funding.NewChannel(d.wallet, stCopy)
	if err != nil {
		return chainhash.Hash{}, err
	}
	tx, err := ch.LocalCommitTx()
	if err != nil {
		return chainhash.Hash{}, err
	}
	return d.court.ForceClose(ctx, st, tx)
}

// pendingFunding reports whether op is a channel the funding manager has
// not handed over yet.
func (d *daemon) pendingFunding(op wire.OutPoint) bool {
	pending, err := d.funding.PendingChannels()
	if err != nil {
		return false
	}
	for _, p := range pending {
		if p.ChanPoint == op {
			return true
		}
	}
	return false
}

// closedPoll is how often WaitClosed looks at the record.
const closedPoll = 200 * time.Millisecond

// WaitClosed returns once op's closing transaction confirmed.
func (c *contractsBackend) WaitClosed(ctx context.Context, op wire.OutPoint) (chainhash.Hash, error) {
	t := time.NewTicker(closedPoll)
	defer t.Stop()
	for {
		var rec *channeldb.ContractRecord
		err := c.d.chanDB.View(func(tx kvdb.RTx) error {
			var err error
			rec, err = channeldb.FetchContract(tx, op)
			return err
		})
		if err != nil {
			return chainhash.Hash{}, err
		}
		if rec.CloseHeight != 0 {
			return rec.CloseTx.TxHash(), nil
		}
		select {
		case <-ctx.Done():
			return chainhash.Hash{}, ctx.Err()
		case <-t.C:
		}
	}
}

// Closing lists the unresolved contracts.
func (c *contractsBackend) Closing(ctx context.Context) ([]rpc.ClosingChannel, int32, error) {
	d := c.d
	recs, err := d.court.Contracts()
	if err != nil {
		return nil, 0, err
	}
	_, height, err := d.chain.BestBlock(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []rpc.ClosingChannel
	for _, rec := range recs {
		// Listed while anything is in limbo (as lnd does). The court
		// keeps watching a contract whose outputs are all spent until
		// its final depth, and lists it again should a reorg take a
		// spend out.
		if rec.Resolved || (rec.CloseHeight != 0 && len(rec.Unresolved()) == 0) {
			continue
		}
		info, err := d.openInfo(rec.ChanPoint)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, closingChannel(rec, info, d.cfg.network.Params))
	}
	return out, height, nil
}

// closingChannel describes a contract for PendingChannels.
func closingChannel(rec *channeldb.ContractRecord, info *channeldb.ChannelOpenInfo,
	net *chaincfg.Params) rpc.ClosingChannel {

	st := rec.Channel
	ci := channelInfo(st, info, net)
	cc := rpc.ClosingChannel{
		RemotePubKey: st.RemoteNode, ChanPoint: rec.ChanPoint,
		Capacity: st.Capacity, LocalBalance: ci.LocalBalance,
		RemoteBalance: ci.RemoteBalance, LocalReserve: ci.Local.ChanReserve,
		RemoteReserve: ci.Remote.ChanReserve, Initiator: st.IsInitiator,
		CommitmentType: ci.CommitmentType, Private: info.Private,
		ClosingTxID: rec.CloseTx.TxHash(), CloseHeight: rec.CloseHeight,
		Waiting: rec.CloseHeight == 0,
	}
	if cc.Waiting {
		cc.LocalTxID, cc.RemoteTxID = st.LocalCommit.TxID, st.RemoteCommit.TxID
		if st.PendingRemote != nil {
			cc.RemotePendingTxID = st.PendingRemote.Commitment.TxID
		}
		if st.LocalCommit.ToLocalIndex >= 0 {
			cc.LimboBalance = st.LocalCommit.ToLocalAmount
		}
		return cc
	}
	swept := map[chainhash.Hash]bool{}
	for _, h := range rec.Sweeps {
		swept[h] = true
	}
	for i := range rec.Outputs {
		o := &rec.Outputs[i]
		switch {
		case !o.Resolved():
			cc.LimboBalance += o.Amount
			cc.MaturityHeight = max(cc.MaturityHeight, contractcourt.Maturity(rec, o))
			if h, ok := pendingHTLC(rec, o); ok {
				cc.PendingHTLCs = append(cc.PendingHTLCs, h)
			}
		case swept[o.SpentBy]:
			cc.RecoveredBalance += o.Amount
		}
	}
	return cc
}

// witnessType is lnd's walletrpc.WitnessType number of an output.
func witnessType(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) int32 {
	switch o.Kind {
	case channeldb.OutputToLocal:
		return 1 // COMMITMENT_TIME_LOCK
	case channeldb.OutputToRemote:
		if lnwallet.ChannelType(rec.Channel.ChanType).HasAnchors() {
			return 15 // COMMITMENT_TO_REMOTE_CONFIRMED
		}
		return 14 // COMMITMENT_NO_DELAY_TWEAKLESS
	case channeldb.OutputAnchor:
		return 13 // COMMITMENT_ANCHOR
	case channeldb.OutputRevokedToLocal:
		return 3 // COMMITMENT_REVOKE
	case channeldb.OutputRevokedHTLC:
		if o.Incoming {
			return 5 // HTLC_ACCEPTED_REVOKE
		}
		return 4 // HTLC_OFFERED_REVOKE
	case channeldb.OutputRevokedSecondLevel:
		return 10 // HTLC_SECOND_LEVEL_REVOKE
	case channeldb.OutputHTLCTimeout:
		return 8 // HTLC_OFFERED_REMOTE_TIMEOUT
	case channeldb.OutputHTLCSuccess:
		return 9 // HTLC_ACCEPTED_REMOTE_SUCCESS
	case channeldb.OutputSecondLevel:
		if o.Incoming {
			return 7 // HTLC_ACCEPTED_SUCCESS_SECOND_LEVEL
		}
		return 6 // HTLC_OFFERED_TIMEOUT_SECOND_LEVEL
	}
	return 0
}

// PendingSweeps lists the unresolved outputs the sweeper spends (our
// pre-signed HTLC transactions are not sweeps).
func (c *contractsBackend) PendingSweeps(context.Context) ([]rpc.PendingSweep, error) {
	recs, err := c.d.court.Contracts()
	if err != nil {
		return nil, err
	}
	var out []rpc.PendingSweep
	for _, rec := range recs {
		if rec.Resolved || rec.CloseHeight == 0 {
			continue
		}
		for _, o := range rec.Unresolved() {
			if o.Kind == channeldb.OutputLocalHTLCTimeout || o.Kind == channeldb.OutputLocalHTLCSuccess {
				continue
			}
			p := rpc.PendingSweep{OutPoint: o.OutPoint, Amount: o.Amount,
				WitnessType: witnessType(rec, o), MaturityHeight: contractcourt.Maturity(rec, o),
				Budget: contractcourt.Budget(o), DeadlineHeight: o.Sweep.DeadlineHeight,
				RequestedRate: chain.SatPerKWeight(o.Sweep.StartRate),
				Immediate:     o.Sweep.Immediate}
			if rec.SweepTx != nil && spendsOutPoint(rec.SweepTx, o.OutPoint) {
				p.FeeRate = chain.SatPerKWeight(rec.SweepFeeRate)
				// Every sweep of the contract, replaced ones too.
				p.Attempts = uint32(len(rec.Sweeps))
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func spendsOutPoint(tx *wire.MsgTx, op wire.OutPoint) bool {
	for _, in := range tx.TxIn {
		if in.PreviousOutPoint == op {
			return true
		}
	}
	return false
}

// BumpFee sets the fee parameters of the sweep of op: a target
// conf is turned into its estimate, the starting rate.
func (c *contractsBackend) BumpFee(ctx context.Context, op wire.OutPoint,
	req rpc.SweepBump) error {

	rate := req.StartRate
	if req.TargetConf != 0 {
		var err error
		if rate, err = c.d.chain.EstimateFeePerKW(ctx, req.TargetConf); err != nil {
			return err
		}
	}
	return c.d.court.BumpFee(op, contractcourt.SweepRequest{StartRate: rate,
		Budget: req.Budget, DeadlineDelta: req.DeadlineDelta,
		Immediate: req.Immediate})
}

// ListSweeps lists every sweep broadcast, by contract then age.
func (c *contractsBackend) ListSweeps(context.Context) ([]chainhash.Hash, error) {
	recs, err := c.d.court.Contracts()
	if err != nil {
		return nil, err
	}
	var out []chainhash.Hash
	for _, rec := range recs {
		out = append(out, rec.Sweeps...)
	}
	return out, nil
}

// pendingHTLC describes an unresolved HTLC output for PendingChannels:
// stage 1 on the commitment (maturing at its expiry when we time it out),
// stage 2 on our HTLC transaction's output (maturing after the delay).
func pendingHTLC(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) (rpc.PendingHTLC, bool) {
	h := rpc.PendingHTLC{Incoming: o.Incoming, Amount: o.Amount, OutPoint: o.OutPoint,
		MaturityHeight: contractcourt.Maturity(rec, o), Stage: 1}
	switch o.Kind {
	case channeldb.OutputHTLCTimeout, channeldb.OutputLocalHTLCTimeout:
		h.MaturityHeight = max(h.MaturityHeight, o.CltvExpiry)
	case channeldb.OutputHTLCSuccess, channeldb.OutputLocalHTLCSuccess,
		channeldb.OutputRevokedHTLC:
	case channeldb.OutputSecondLevel:
		h.Stage = 2
	default:
		return h, false
	}
	return h, true
}

// attachFee adds wallet coins and change to a zero-fee HTLC transaction
// (option_anchors): the wallet funds a stand-in output worth fee at rate,
// whose inputs and change are moved to tx; finish signs them and
// publishes tx through the wallet, which records its coins spent.
func (d *daemon) attachFee(ctx context.Context, tx *wire.MsgTx, prevOut *wire.TxOut,
	fee btcutil.Amount, rate chain.SatPerKWeight) (func(*wire.MsgTx) error, error) {

	addr, err := d.wallet.NewAddress(wallet.AddressP2WPKH, true)
	if err != nil {
		return nil, err
	}
	standIn, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, err
	}
	funded, err := d.wallet.Fund(ctx, wallet.FundRequest{
		Outputs: []*wire.TxOut{wire.NewTxOut(int64(max(fee, 330)), standIn)},
		FeeRate: rate, MinConfs: 1, ChangeType: wallet.AddressP2WPKH})
	if err != nil {
		return nil, fmt.Errorf("fund HTLC transaction fee: %w", err)
	}
	for _, in := range funded.Tx.TxIn {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: in.PreviousOutPoint,
			Sequence: wire.MaxTxInSequenceNum})
	}
	if funded.ChangeIndex >= 0 {
		tx.AddTxOut(funded.Tx.TxOut[funded.ChangeIndex])
	}
	first := tx.TxIn[0].PreviousOutPoint
	return func(final *wire.MsgTx) error {
		signed, err := d.wallet.SignOwnInputs(final,
			map[wire.OutPoint]*wire.TxOut{first: prevOut})
		if err != nil {
			return err
		}
		for _, s := range signed {
			final.TxIn[s.Index].Witness = s.Witness
			if s.RedeemScript != nil {
				push, err := txscript.NewScriptBuilder().AddData(s.RedeemScript).Script()
				if err != nil {
					return err
				}
				final.TxIn[s.Index].SignatureScript = push
			}
		}
		// The caller's context ends with its call; publishing is ours.
		pctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return d.wallet.PublishTx(pctx, final, "")
	}, nil
}

// contractSCID is the short channel id of the channel whose contract is
// keyed by chanPoint: the switch knows its HTLCs by it.
func (d *daemon) contractSCID(chanPoint wire.OutPoint) (lnwire.ShortChannelID, error) {
	var rec *channeldb.ContractRecord
	err := d.chanDB.View(func(tx kvdb.RTx) error {
		var err error
		rec, err = channeldb.FetchContract(tx, chanPoint)
		return err
	})
	if err != nil {
		return lnwire.ShortChannelID{}, err
	}
	if rec.Channel == nil {
		return lnwire.ShortChannelID{}, fmt.Errorf("contract of %v has no channel state", chanPoint)
	}
	return rec.Channel.ShortChannelID, nil
}

// settleFromChain hands the switch a preimage the peer revealed on chain
// claiming an HTLC we offered on chanPoint: the incoming HTLC settles
// upstream (or our payment attempt succeeds).
func (d *daemon) settleFromChain(chanPoint wire.OutPoint, hash, preimage [32]byte) error {
	scid, err := d.contractSCID(chanPoint)
	if err != nil {
		return err
	}
	n, err := d.sw.SettleFromChain(scid, preimage)
	if err != nil {
		return err
	}
	d.log.Info("Preimage from the chain handed to the switch",
		"chan_point", chanPoint, "payment_hash", fmt.Sprintf("%x", hash),
		"htlcs", n)
	return nil
}

// failFromChain hands the switch the on-chain timeout of an HTLC we
// offered on chanPoint: the incoming HTLC fails upstream (or our payment
// attempt fails).
func (d *daemon) failFromChain(chanPoint wire.OutPoint, hash [32]byte, amt btcutil.Amount) error {
	scid, err := d.contractSCID(chanPoint)
	if err != nil {
		return err
	}
	n, err := d.sw.FailFromChain(scid, hash, amt)
	if err != nil {
		return err
	}
	d.log.Info("HTLC timeout on chain handed to the switch",
		"chan_point", chanPoint, "payment_hash", fmt.Sprintf("%x", hash),
		"htlcs", n)
	return nil
}

// failUnclaimable hands the switch the HTLCs we offered on chanPoint, by
// id, that its confirmed commitment can never pay on chain: the incoming
// HTLCs fail upstream (or our payment attempts fail) now.
func (d *daemon) failUnclaimable(chanPoint wire.OutPoint, ids []uint64) error {
	scid, err := d.contractSCID(chanPoint)
	if err != nil {
		return err
	}
	n, err := d.sw.FailUnclaimable(scid, ids)
	if err != nil {
		return err
	}
	d.log.Info("HTLCs without an output on chain handed to the switch",
		"chan_point", chanPoint, "ids", ids, "htlcs", n)
	return nil
}

// failTimedOut hands the switch the on-chain timeout of the HTLC we
// offered on chanPoint with id id: its incoming HTLC fails upstream (or
// our payment attempt fails), and no other HTLC of the same hash.
func (d *daemon) failTimedOut(chanPoint wire.OutPoint, id uint64) error {
	scid, err := d.contractSCID(chanPoint)
	if err != nil {
		return err
	}
	n, err := d.sw.FailTimedOut(scid, id)
	if err != nil {
		return err
	}
	d.log.Info("HTLC timeout on chain handed to the switch",
		"chan_point", chanPoint, "id", id, "htlcs", n)
	return nil
}
