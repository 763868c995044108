package funding

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/crashpoint"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// handleOpen checks open_channel and answers accept_channel, or an error
// for its temporary channel id at once.
func (m *Manager) handleOpen(a *after, peer *btcec.PublicKey,
	msg *lnwire.OpenChannel) {

	if m.pendingIDUsed(msg.PendingChannelID) {
		m.refuseFlow(a, peer, msg.PendingChannelID,
			refuse("temporary_channel_id already in use"))
		return
	}
	f, err := m.openStep(peer, msg)
	if err != nil {
		if !errors.Is(err, ErrRefused) {
			err = refuse("internal error: %v", err)
		}
		m.refuseFlow(a, peer, msg.PendingChannelID, err)
		return
	}
	m.flows[f.id] = f
	o := f.ours
	a.send(peer, &lnwire.AcceptChannel{
		PendingChannelID:      f.id,
		DustLimit:             o.dust,
		MaxValueInFlight:      o.maxInFlight,
		ChannelReserve:        o.reserve,
		HtlcMinimum:           o.minHtlc,
		MinAcceptDepth:        f.minDepth,
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
	})
}

// pendingIDUsed reports whether id names a negotiation or a persisted
// channel not yet open: the pending record is stored under that id, so a
// second channel under it would overwrite the first's.
func (m *Manager) pendingIDUsed(id [32]byte) bool {
	if _, ok := m.flows[id]; ok {
		return true
	}
	for _, w := range m.pending {
		if w.rec.PendingChanID == id {
			return true
		}
	}
	return false
}

func (m *Manager) openStep(peer *btcec.PublicKey,
	msg *lnwire.OpenChannel) (*flow, error) {

	theirs, ok := m.cfg.PeerFeatures(peer)
	if !ok {
		theirs = lnwire.NewFeatureVector(nil)
	}
	if msg.ChainHash != m.cfg.ChainHash {
		return nil, refuse("chain_hash %v is not our chain %v",
			msg.ChainHash, m.cfg.ChainHash)
	}
	perPeer, total := m.countPending(peer)
	if perPeer >= m.cfg.MaxPendingPerPeer {
		return nil, refuse("too many pending channels with you (%d)", perPeer)
	}
	if total >= m.cfg.MaxPending {
		return nil, refuse("too many pending channels (%d)", total)
	}
	if err := m.checkAmount(msg.FundingAmount, msg.PushAmount, theirs); err != nil {
		return nil, refuse("%v", err)
	}
	f := &flow{
		id: msg.PendingChannelID, peer: peer, role: channeldb.Fundee,
		stage: awaitCreated, capacity: msg.FundingAmount,
		push: msg.PushAmount, feeRate: msg.FeePerKiloWeight,
		private:  msg.ChannelFlags&lnwire.FFAnnounceChannel == 0,
		alias:    bothSupport(m.cfg.LocalFeatures, theirs, lnwire.ScidAliasRequired),
		deadline: m.cfg.Clock.Now().Add(m.cfg.NegotiationTimeout),
	}
	var err error
	if msg.ChannelType != nil {
		if f.chanType, f.aliasOnly, err = typeFromBits(msg.ChannelType); err != nil {
			return nil, err
		}
		if err := checkAliasOnly(f); err != nil {
			return nil, err
		}
		f.typeBits = msg.ChannelType
	} else if f.chanType, err = defaultType(m.cfg.LocalFeatures, theirs); err != nil {
		return nil, err
	}
	if err := checkFeeRate(msg.FeePerKiloWeight); err != nil {
		return nil, err
	}
	if len(msg.UpfrontShutdownScript) > 0 &&
		!validShutdownScript(msg.UpfrontShutdownScript) {

		return nil, refuse("upfront_shutdown_script is not a standard script")
	}
	ourReserve := reserveFor(f.capacity, MinDustLimit, msg.DustLimit)
	if err := m.checkTheirConstraints(msg.DustLimit, msg.ChannelReserve,
		MinDustLimit, ourReserve, msg.CsvDelay, msg.MaxAcceptedHTLCs,
		msg.HtlcMinimum, msg.MaxValueInFlight, f.capacity); err != nil {

		return nil, err
	}
	if err := checkInitialBalances(f.chanType, f.capacity, f.push,
		f.feeRate, ourReserve, msg.ChannelReserve); err != nil {

		return nil, err
	}

	// Keys are handed out only for a channel we accept.
	if f.keys, err = newLocalKeys(m.cfg.Wallet); err != nil {
		return nil, err
	}
	point, err := commitPoint(f.keys.secrets, 0)
	if err != nil {
		return nil, err
	}
	f.ours = ourSide(f.capacity, msg.DustLimit, f.keys, point, nil)
	f.theirs = sideOfOpen(msg)
	f.minDepth = max(m.cfg.NumConfs(f.capacity, f.push), 1)
	return f, nil
}

// handleCreated checks the opener's signature of our first commitment,
// signs theirs, persists the channel and only then sends funding_signed.
func (m *Manager) handleCreated(a *after, peer *btcec.PublicKey,
	msg *lnwire.FundingCreated) {

	f := m.flows[msg.PendingChannelID]
	if f == nil || !f.peer.IsEqual(peer) || f.stage != awaitCreated {
		a.send(peer, &lnwire.Warning{ChanID: msg.PendingChannelID,
			Data: []byte("funding_created for no channel we accepted")})
		return
	}
	reply, rec, err := m.createdStep(f, msg)
	if err != nil {
		if !errors.Is(err, ErrRefused) {
			err = refuse("internal error: %v", err)
		}
		m.refuseFlow(a, peer, f.id, err)
		m.dropFlow(f.id, f, err)
		return
	}
	crashpoint.Hit(crashpoint.FundingSignedPersisted)
	delete(m.flows, f.id)
	w := &watched{rec: rec}
	m.pending[*rec.ChanPoint] = w
	a.pending = append(a.pending, f.st)
	a.send(peer, reply)
	m.watch(*rec.ChanPoint, w)
}

func (m *Manager) createdStep(f *flow, msg *lnwire.FundingCreated) (
	*lnwire.FundingSigned, *channeldb.PendingChannel, error) {

	if _, known := m.pending[msg.FundingPoint]; known {
		return nil, nil, refuse("funding outpoint %v already used",
			msg.FundingPoint)
	}
	sig, err := msg.CommitSig.ToSignature()
	if err != nil {
		return nil, nil, refuse("funding_created: %v", err)
	}
	f.st = newState(f, msg.FundingPoint)
	p := paramsOf(f.st)
	point, err := commitPoint(f.keys.secrets, 0)
	if err != nil {
		return nil, nil, err
	}
	c, err := lnwallet.VerifyLocalCommitment(&p, point, initialSpec(f.st),
		&lnwallet.CommitSig{Sig: sig})
	if err != nil {
		return nil, nil, refuse("funding_created: %v", err)
	}
	lnwallet.RecordLayout(&f.st.LocalCommit, c)
	f.st.LocalCommit.CommitSig = msg.CommitSig
	rc, ours, err := lnwallet.SignRemoteCommitment(Signer{W: m.cfg.Wallet}, &p,
		f.theirs.firstPoint, initialSpec(f.st))
	if err != nil {
		return nil, nil, err
	}
	lnwallet.RecordLayout(&f.st.RemoteCommit, rc)
	wsig, err := lnwire.NewSigFromSignature(ours.Sig)
	if err != nil {
		return nil, nil, err
	}
	if err := m.checkState(f.st); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	_, height, err := m.cfg.Chain.BestBlock(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("best block: %w", err)
	}
	op := msg.FundingPoint
	rec := &channeldb.PendingChannel{
		PendingChanID: f.id, Role: channeldb.Fundee, PeerPub: f.peer,
		ChanPoint: &op, Capacity: f.capacity, PushAmt: f.push,
		BroadcastHeight: uint32(height), State: channeldb.FundingSigned,
	}
	if err := m.persistNew(f, rec); err != nil {
		return nil, nil, err
	}
	return &lnwire.FundingSigned{ChanID: f.st.ChannelID(), CommitSig: wsig},
		rec, nil
}
