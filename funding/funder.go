package funding

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/wallet"
)

// OpenRequest asks for a channel to a connected peer.
type OpenRequest struct {
	Peer *btcec.PublicKey

	// LocalAmt is the channel's capacity, all ours but PushMsat.
	LocalAmt btcutil.Amount
	PushMsat lnwire.MilliSatoshi

	// FundingFeeRate is the funding transaction's fee rate; zero
	// estimates one for 6 blocks.
	FundingFeeRate chainfee.SatPerKWeight

	// MinConfs is how deep the coins spent must be (0: 1).
	MinConfs int32

	// Private leaves announce_channel unset.
	Private bool

	// ChannelType forces a channel type; nil negotiates (anchors
	// preferred).
	ChannelType *lnwallet.ChannelType

	// UpfrontShutdown is the script our cooperative close must pay to,
	// empty for none.
	UpfrontShutdown []byte

	// ScidAlias asks for an alias-only channel: option_scid_alias in
	// its channel_type. It needs Private and a peer that negotiated
	// option_scid_alias and channel types.
	ScidAlias bool
}

// Update reports the progress of an opening to its requester.
type Update struct {
	// Pending is set once the funding transaction is broadcast.
	Pending *ChanPending

	// Open is set once the channel is open; the last update.
	Open *ChanOpen

	// Err is set when the opening failed; the last update.
	Err error
}

// ChanPending says the funding transaction is broadcast.
type ChanPending struct {
	PendingID [32]byte
	ChanPoint wire.OutPoint
}

// ChanOpen says the channel is open.
type ChanOpen struct {
	ChanPoint wire.OutPoint
}

func notify(ch chan Update, u Update) {
	if ch == nil {
		return
	}
	select {
	case ch <- u:
	default:
	}
}

// fundingLockPrefix marks the wallet leases of funding transactions, so
// that Start finds those no persisted channel owns.
var fundingLockPrefix = [16]byte{'x', 'l', 'n', 'd', '/', 'f', 'u', 'n', 'd',
	'i', 'n', 'g'}

func fundingLockID(id [32]byte) wallet.LockID {
	var l wallet.LockID
	copy(l[:16], fundingLockPrefix[:])
	copy(l[16:], id[:16])
	return l
}

func isFundingLock(l wallet.LockID) bool {
	return bytes.Equal(l[:16], fundingLockPrefix[:])
}

// placeholderScript stands for the funding output until the peer's
// funding key is known: a P2WSH script, so the transaction's size (and
// the fee the wallet chose) does not change when it is replaced.
func placeholderScript() []byte {
	return append([]byte{0x00, 0x20}, make([]byte, 32)...)
}

// OpenChannel starts opening a channel: coins are chosen and leased, and
// open_channel is sent. Progress arrives on the returned channel (Pending,
// then Open, or Err). Refusals before anything is sent come back as the
// error, with nothing locked.
func (m *Manager) OpenChannel(ctx context.Context, req OpenRequest) (<-chan Update,
	[32]byte, error) {

	f, err := m.prepareOpen(ctx, req)
	if err != nil {
		return nil, [32]byte{}, err
	}
	var a after
	m.mu.Lock()
	if m.stopped {
		m.releaseCoins(f)
		m.mu.Unlock()
		return nil, [32]byte{}, ErrShuttingDown
	}
	if _, total := m.countPending(req.Peer); total >= m.cfg.MaxPending {
		m.releaseCoins(f)
		m.mu.Unlock()
		return nil, [32]byte{}, fmt.Errorf("%w: %d in progress",
			ErrTooManyPending, total)
	}
	f.deadline = m.cfg.Clock.Now().Add(m.cfg.NegotiationTimeout)
	m.flows[f.id] = f
	a.send(f.peer, m.openMsg(f))
	m.mu.Unlock()
	m.run(&a)
	return f.updates, f.id, nil
}

// prepareOpen checks the request, derives keys and leases coins.
func (m *Manager) prepareOpen(ctx context.Context, req OpenRequest) (*flow, error) {
	if req.Peer == nil {
		return nil, fmt.Errorf("%w: no peer", ErrBadRequest)
	}
	theirs, ok := m.cfg.PeerFeatures(req.Peer)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrPeerOffline, peerStr(req.Peer))
	}
	if err := m.checkAmount(req.LocalAmt, req.PushMsat, theirs); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if len(req.UpfrontShutdown) > 0 && !validShutdownScript(req.UpfrontShutdown) {
		return nil, fmt.Errorf("%w: upfront shutdown script is not a "+
			"standard script", ErrBadRequest)
	}
	f := &flow{
		peer: req.Peer, role: channeldb.Funder, stage: awaitAccept,
		capacity: req.LocalAmt, push: req.PushMsat, private: req.Private,
		alias:   bothSupport(m.cfg.LocalFeatures, theirs, lnwire.ScidAliasRequired),
		updates: make(chan Update, 3),
	}
	var err error
	if req.ChannelType != nil {
		f.chanType = *req.ChannelType
		if f.chanType != lnwallet.ChannelTypeAnchors &&
			f.chanType != lnwallet.ChannelTypeStaticRemoteKey {

			return nil, fmt.Errorf("%w: channel type %v not supported",
				ErrBadRequest, f.chanType)
		}
	} else if f.chanType, err = defaultType(m.cfg.LocalFeatures, theirs); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if theirs.HasFeature(lnwire.ChannelTypeRequired) {
		f.typeBits = TypeBits(f.chanType)
	}
	if req.ScidAlias {
		f.aliasOnly = true
		if f.typeBits == nil {
			return nil, fmt.Errorf("%w: scid alias channel: peer does "+
				"not support option_channel_type", ErrBadRequest)
		}
		if err := checkAliasOnly(f); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		f.typeBits.Set(lnwire.ScidAliasRequired)
	}
	rate, err := m.commitFeeRate(ctx, f.chanType)
	if err != nil {
		return nil, err
	}
	f.feeRate = uint32(rate)
	if err := checkInitialBalances(f.chanType, f.capacity, f.push, f.feeRate,
		0, 0); err != nil {

		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if f.id, err = newPendingID(); err != nil {
		return nil, err
	}
	if f.keys, err = newLocalKeys(m.cfg.Wallet); err != nil {
		return nil, err
	}
	point, err := commitPoint(f.keys.secrets, 0)
	if err != nil {
		return nil, err
	}
	f.ours = ourSide(f.capacity, 0, f.keys, point, req.UpfrontShutdown)

	fundRate := req.FundingFeeRate
	if fundRate == 0 {
		if fundRate, err = m.cfg.Chain.EstimateFeePerKW(ctx, 6); err != nil {
			return nil, fmt.Errorf("fee estimate: %w", err)
		}
	}
	minConfs := req.MinConfs
	if minConfs <= 0 {
		minConfs = 1
	}
	f.funded, err = m.cfg.Wallet.Fund(ctx, wallet.FundRequest{
		Outputs:  []*wire.TxOut{wire.NewTxOut(int64(f.capacity), placeholderScript())},
		FeeRate:  fundRate,
		MinConfs: minConfs,
		LockID:   fundingLockID(f.id),
	})
	if err != nil {
		return nil, fmt.Errorf("fund channel: %w", err)
	}
	return f, nil
}

// commitFeeRate is the first commitment's feerate_per_kw: the estimate
// for 6 blocks, capped for anchor channels (their fee is bumped with the
// anchors instead).
func (m *Manager) commitFeeRate(ctx context.Context,
	t lnwallet.ChannelType) (chainfee.SatPerKWeight, error) {

	rate, err := m.cfg.Chain.EstimateFeePerKW(ctx, 6)
	if err != nil {
		return 0, fmt.Errorf("fee estimate: %w", err)
	}
	if t.HasAnchors() {
		rate = min(rate, defaultAnchorFeeCap)
	}
	return max(rate, chainfee.FeePerKwFloor), nil
}

func (m *Manager) openMsg(f *flow) *lnwire.OpenChannel {
	o := f.ours
	msg := &lnwire.OpenChannel{
		ChainHash:             m.cfg.ChainHash,
		PendingChannelID:      f.id,
		FundingAmount:         f.capacity,
		PushAmount:            f.push,
		DustLimit:             o.dust,
		MaxValueInFlight:      o.maxInFlight,
		ChannelReserve:        o.reserve,
		HtlcMinimum:           o.minHtlc,
		FeePerKiloWeight:      f.feeRate,
		CsvDelay:              o.csv,
		MaxAcceptedHTLCs:      o.maxHtlcs,
		FundingKey:            o.keys.FundingKey,
		RevocationPoint:       o.keys.RevocationBasePoint,
		PaymentPoint:          o.keys.PaymentBasePoint,
		DelayedPaymentPoint:   o.keys.DelayedPaymentBasePoint,
		HtlcPoint:             o.keys.HtlcBasePoint,
		FirstCommitmentPoint:  o.firstPoint,
		UpfrontShutdownScript: o.shutdown,
		ChannelType:           f.typeBits,
	}
	if !f.private {
		msg.ChannelFlags = lnwire.FFAnnounceChannel
	}
	return msg
}

// handleAccept checks accept_channel, completes the funding transaction
// and sends funding_created with our signature of the peer's first
// commitment. Nothing is persisted yet: until funding_signed the funding
// transaction is unsigned and the peer's commitment unspendable.
func (m *Manager) handleAccept(a *after, peer *btcec.PublicKey,
	msg *lnwire.AcceptChannel) {

	f := m.flows[msg.PendingChannelID]
	if f == nil || !f.peer.IsEqual(peer) || f.stage != awaitAccept {
		a.send(peer, &lnwire.Warning{ChanID: msg.PendingChannelID,
			Data: []byte("accept_channel for no channel we opened")})
		return
	}
	if err := m.acceptStep(f, msg); err != nil {
		if !errors.Is(err, ErrRefused) {
			err = refuse("internal error: %v", err)
		}
		m.refuseFlow(a, peer, f.id, err)
		m.dropFlow(f.id, f, err)
		return
	}
	crashpoint.Hit(crashpoint.FundingCreated)
	a.send(peer, m.fundingCreated(f))
}

func (m *Manager) acceptStep(f *flow, msg *lnwire.AcceptChannel) error {
	switch {
	case f.typeBits != nil && msg.ChannelType == nil:
		return refuse("accept_channel without the channel_type we sent")
	case f.typeBits != nil && !msg.ChannelType.Equals(f.typeBits):
		return refuse("accept_channel's channel_type %v differs from ours %v",
			msg.ChannelType.Bits(), f.typeBits.Bits())
	case f.typeBits == nil && msg.ChannelType != nil:
		return refuse("accept_channel has a channel_type we did not send")
	case msg.MinAcceptDepth > maxMinDepth:
		return refuse("minimum_depth %d above %d", msg.MinAcceptDepth, maxMinDepth)
	case len(msg.UpfrontShutdownScript) > 0 &&
		!validShutdownScript(msg.UpfrontShutdownScript):
		return refuse("upfront_shutdown_script is not a standard script")
	}
	if err := m.checkTheirConstraints(msg.DustLimit, msg.ChannelReserve,
		f.ours.dust, f.ours.reserve, msg.CsvDelay, msg.MaxAcceptedHTLCs,
		msg.HtlcMinimum, msg.MaxValueInFlight, f.capacity); err != nil {

		return err
	}
	if err := checkInitialBalances(f.chanType, f.capacity, f.push,
		f.feeRate, msg.ChannelReserve, f.ours.reserve); err != nil {

		return err
	}
	f.theirs = sideOfAccept(msg)
	f.minDepth = max(msg.MinAcceptDepth, 1)

	// The funding output, now that both funding keys are known.
	_, pkScript, err := lnwallet.FundingScript(f.ours.keys.FundingKey,
		f.theirs.keys.FundingKey)
	if err != nil {
		return refuse("funding script: %v", err)
	}
	tx := f.funded.Tx
	found := false
	for i, out := range tx.TxOut {
		if bytes.Equal(out.PkScript, placeholderScript()) {
			out.PkScript = pkScript
			f.outIdx = uint32(i)
			found = true
			break
		}
	}
	if !found {
		return errors.New("funding output missing from the funded transaction")
	}
	op := wire.OutPoint{Hash: tx.TxHash(), Index: f.outIdx}
	f.st = newState(f, op)
	p := paramsOf(f.st)
	c, sig, err := lnwallet.SignRemoteCommitment(Signer{W: m.cfg.Wallet}, &p,
		f.theirs.firstPoint, initialSpec(f.st))
	if err != nil {
		return refuse("their first commitment: %v", err)
	}
	lnwallet.RecordLayout(&f.st.RemoteCommit, c)
	ws, err := lnwire.NewSigFromSignature(sig.Sig)
	if err != nil {
		return err
	}
	f.st.RemoteCommit.CommitSig = ws // kept until funding_created is sent
	f.stage = awaitSigned
	f.deadline = m.cfg.Clock.Now().Add(m.cfg.NegotiationTimeout)
	return nil
}

func (m *Manager) fundingCreated(f *flow) *lnwire.FundingCreated {
	sig := f.st.RemoteCommit.CommitSig
	f.st.RemoteCommit.CommitSig = lnwire.Sig{}
	return &lnwire.FundingCreated{
		PendingChannelID: f.id,
		FundingPoint:     f.st.FundingOutpoint,
		CommitSig:        sig,
	}
}

// handleSigned checks funding_signed; then the channel and the signed
// funding transaction are persisted, and only then broadcast.
func (m *Manager) handleSigned(a *after, peer *btcec.PublicKey,
	msg *lnwire.FundingSigned) {

	var f *flow
	for _, cand := range m.flows {
		if cand.stage == awaitSigned && cand.peer.IsEqual(peer) &&
			cand.st.ChannelID() == msg.ChanID {

			f = cand
			break
		}
	}
	if f == nil {
		a.send(peer, &lnwire.Warning{ChanID: msg.ChanID,
			Data: []byte("funding_signed for no channel we are opening")})
		return
	}
	rec, err := m.signedStep(f, msg)
	if err != nil {
		if !errors.Is(err, ErrRefused) {
			err = refuse("internal error: %v", err)
		}
		m.refuseFlow(a, peer, msg.ChanID, err)
		m.dropFlow(f.id, f, err)
		return
	}
	// The coins are the funding transaction's now, not to be released.
	delete(m.flows, f.id)
	w := &watched{rec: rec, updates: f.updates}
	m.pending[*rec.ChanPoint] = w
	a.pending = append(a.pending, f.st)
	crashpoint.Hit(crashpoint.FundingBeforeBroadcast)
	m.broadcast(w)
	m.watch(*rec.ChanPoint, w)
}

func (m *Manager) signedStep(f *flow, msg *lnwire.FundingSigned) (
	*channeldb.PendingChannel, error) {

	sig, err := msg.CommitSig.ToSignature()
	if err != nil {
		return nil, refuse("funding_signed: %v", err)
	}
	point, err := commitPoint(f.keys.secrets, 0)
	if err != nil {
		return nil, err
	}
	p := paramsOf(f.st)
	c, err := lnwallet.VerifyLocalCommitment(&p, point, initialSpec(f.st),
		&lnwallet.CommitSig{Sig: sig})
	if err != nil {
		return nil, refuse("funding_signed: %v", err)
	}
	lnwallet.RecordLayout(&f.st.LocalCommit, c)
	f.st.LocalCommit.CommitSig = msg.CommitSig
	if err := m.checkState(f.st); err != nil {
		return nil, err
	}
	tx := f.funded.Tx
	if err := m.cfg.Wallet.SignTx(tx); err != nil {
		return nil, fmt.Errorf("sign funding transaction: %w", err)
	}
	if tx.TxHash() != f.st.FundingOutpoint.Hash {
		return nil, errors.New("signing changed the funding txid")
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	_, height, err := m.cfg.Chain.BestBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("best block: %w", err)
	}
	op := f.st.FundingOutpoint
	rec := &channeldb.PendingChannel{
		PendingChanID: f.id, Role: channeldb.Funder, PeerPub: f.peer,
		ChanPoint: &op, Capacity: f.capacity, PushAmt: f.push,
		BroadcastHeight: uint32(height), FundingTx: tx,
		State: channeldb.FundingSigned,
	}
	if err := m.persistNew(f, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// persistNew writes a channel that both sides have signed: its state,
// its pending record and its opening info, in one transaction.
func (m *Manager) persistNew(f *flow, rec *channeldb.PendingChannel) error {
	info := &channeldb.ChannelOpenInfo{
		ChanPoint: f.st.FundingOutpoint, Private: f.private,
		PushMsat: f.push, MinDepth: f.minDepth,
		LocalShutdown: f.ours.shutdown, RemoteShutdown: f.theirs.shutdown,
		ScidAlias: f.alias, AliasOnly: f.aliasOnly,
	}
	err := m.cfg.DB.Update(func(tx kvdb.RwTx) error {
		if _, err := channeldb.FetchOpenChannel(tx, f.st.FundingOutpoint); err == nil {
			return refuse("channel %v already exists", f.st.FundingOutpoint)
		}
		if err := channeldb.PutOpenChannel(tx, f.st); err != nil {
			return err
		}
		if err := channeldb.PutPendingChannel(tx, rec); err != nil {
			return err
		}
		return channeldb.PutChannelOpenInfo(tx, info)
	})
	if err != nil {
		return fmt.Errorf("persist channel %v: %w", f.st.FundingOutpoint, err)
	}
	return nil
}

// broadcast publishes the opener's persisted funding transaction and
// records that it did; a failure is logged and retried at the next start
// (the wallet also rebroadcasts what it recorded).
func (m *Manager) broadcast(w *watched) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	op := *w.rec.ChanPoint
	if err := m.cfg.Wallet.PublishTx(ctx, w.rec.FundingTx,
		"channel funding "+op.String()); err != nil {

		m.log.Error("broadcast funding transaction", "chan_point", op,
			"err", err)
		notify(w.updates, Update{Err: fmt.Errorf("broadcast funding "+
			"transaction %v: %w", op.Hash, err)})
		w.updates = nil
		return
	}
	crashpoint.Hit(crashpoint.FundingAfterBroadcast)
	w.rec.State = channeldb.FundingBroadcast
	if err := m.putPending(w.rec); err != nil {
		m.log.Error("persist pending channel", "chan_point", op, "err", err)
	}
	m.log.Info("funding transaction broadcast", "chan_point", op)
	notify(w.updates, Update{Pending: &ChanPending{PendingID: w.rec.PendingChanID,
		ChanPoint: op}})
}

func (m *Manager) putPending(rec *channeldb.PendingChannel) error {
	return m.cfg.DB.Update(func(tx kvdb.RwTx) error {
		return channeldb.PutPendingChannel(tx, rec)
	})
}
