package funding

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/wallet"
)

// AnnounceConfs is the depth a funding transaction needs before its
// channel is announced (BOLT 7: 6 confirmations).
const AnnounceConfs = 6

// maxHeldAnnounceSigs bounds the announcement_signatures kept for
// channels not handed over yet.
const maxHeldAnnounceSigs = 64

// ErrBadAnnounceSigs: an announcement_signatures whose signatures do not
// sign the channel's announcement with the peer's keys.
var ErrBadAnnounceSigs = errors.New("announcement_signatures do not verify")

// AnnounceConfig is what the announcement exchange is built from.
type AnnounceConfig struct {
	ChainHash chainhash.Hash

	// NodeKey is our node's public key; Wallet signs with it and with
	// our funding keys, which stay in the wallet.
	NodeKey [33]byte
	Wallet  interface {
		SignDigest(loc wallet.KeyLocator, digest [32]byte) (*ecdsa.Signature, error)
	}

	// Chain tells when a funding transaction is AnnounceConfs deep.
	Chain interface {
		RegisterConfirmations(txid chainhash.Hash, pkScript []byte,
			numConfs uint32, heightHint int32) (*chain.ConfirmationEvent, error)
	}

	DB *channeldb.DB

	// SendMessage sends to a peer; it fails when the peer is offline.
	SendMessage func(peer *btcec.PublicKey, msg lnwire.Message) error

	// Announced is handed a channel's complete channel_announcement
	// once both halves are in and the funding transaction is deep
	// enough, and again at every start after that.
	Announced func(st *channeldb.OpenChannel, ann *lnwire.ChannelAnnouncement)

	Logger *slog.Logger
}

// Announcements exchanges announcement_signatures with the peers of our
// public channels (BOLT 7): ours once the funding transaction is
// AnnounceConfs deep, again on each reconnection until the peer's are in,
// and in answer to the peer's, once a connection. The peer's are checked
// and persisted; with both halves the channel_announcement is built and
// handed to Announced. It does no network I/O of its own.
type Announcements struct {
	cfg AnnounceConfig
	log *slog.Logger

	mu    sync.Mutex
	chans map[wire.OutPoint]*annChan
	held  map[lnwire.ChannelID]heldSigs

	stopped bool
	quit    chan struct{}
	wg      sync.WaitGroup
}

type annChan struct {
	st       *channeldb.OpenChannel
	deep     bool
	remote   *channeldb.AnnounceSigs
	done     bool // handed to Announced
	answered bool // ours went to the peer on this connection
	cancel   func()
}

type heldSigs struct {
	peer *btcec.PublicKey
	msg  *lnwire.AnnounceSignatures
}

// NewAnnouncements returns an exchange with no channels; Track adds them.
func NewAnnouncements(cfg AnnounceConfig) *Announcements {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Announcements{cfg: cfg, log: cfg.Logger,
		chans: make(map[wire.OutPoint]*annChan),
		held:  make(map[lnwire.ChannelID]heldSigs), quit: make(chan struct{})}
}

// Stop ends every wait for confirmations. Safe to call more than once.
func (a *Announcements) Stop() {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	a.stopped = true
	close(a.quit)
	for _, c := range a.chans {
		if c.cancel != nil {
			c.cancel()
		}
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// Track follows an open public channel until it is announced: its
// funding depth, the peer's signatures (those stored before are loaded).
func (a *Announcements) Track(st *channeldb.OpenChannel) error {
	var remote *channeldb.AnnounceSigs
	err := a.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		remote, err = channeldb.FetchAnnounceSigs(tx, st.FundingOutpoint)
		if errors.Is(err, channeldb.ErrAnnounceSigsNotFound) {
			remote, err = nil, nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if remote != nil && remote.ShortChannelID != st.ShortChannelID {
		remote = nil // signatures of a position the channel left
	}
	p := paramsOf(st)
	_, pkScript, err := p.FundingScript()
	if err != nil {
		return err
	}
	conf, err := a.cfg.Chain.RegisterConfirmations(st.FundingOutpoint.Hash, pkScript,
		AnnounceConfs, int32(st.ShortChannelID.BlockHeight))
	if err != nil {
		return fmt.Errorf("announce %v: %w", st.FundingOutpoint, err)
	}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		conf.Cancel()
		return nil
	}
	if old := a.chans[st.FundingOutpoint]; old != nil && old.cancel != nil {
		old.cancel()
	}
	// Signatures stored in an earlier run were answered then, or will
	// be when the peer, lacking ours, sends them again on reconnection.
	c := &annChan{st: st, remote: remote, answered: remote != nil, cancel: conf.Cancel}
	a.chans[st.FundingOutpoint] = c
	h, ok := a.held[st.ChannelID()]
	delete(a.held, st.ChannelID())
	a.mu.Unlock()

	a.wg.Add(1)
	go a.waitDeep(st.FundingOutpoint, conf)
	if ok {
		a.HandleMessage(h.peer, h.msg)
	}
	return nil
}

// Forget stops following a channel (closed).
func (a *Announcements) Forget(op wire.OutPoint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.chans[op]; c != nil {
		if c.cancel != nil {
			c.cancel()
		}
		delete(a.chans, op)
	}
}

func (a *Announcements) waitDeep(op wire.OutPoint, conf *chain.ConfirmationEvent) {
	defer a.wg.Done()
	select {
	case _, ok := <-conf.Confirmed:
		if ok {
			a.deepEnough(op)
		}
	case <-a.quit:
	}
}

// deepEnough sends our signatures and completes the announcement if the
// peer's are in.
func (a *Announcements) deepEnough(op wire.OutPoint) {
	a.mu.Lock()
	c := a.chans[op]
	if c == nil {
		a.mu.Unlock()
		return
	}
	c.deep = true
	// Ours go out unless the peer's are in and were answered: the peer
	// may have sent its own before we were deep (then this is the
	// answer it is owed).
	send := c.remote == nil || !c.answered
	a.mu.Unlock()
	a.log.Info("Funding deep enough to announce the channel", "chan_point", op,
		"scid", c.st.ShortChannelID)
	if send {
		a.sendOurs(c)
	}
	a.maybeComplete(c)
}

// sendOurs sends our announcement_signatures to the channel's peer; once
// they are out on a connection, the peer's need no answer on it.
func (a *Announcements) sendOurs(c *annChan) {
	msg, err := a.ourSigs(c.st)
	if err != nil {
		a.log.Error("Announcement signatures", "chan_point", c.st.FundingOutpoint, "err", err)
		return
	}
	if err := a.cfg.SendMessage(c.st.RemoteNode, msg); err != nil {
		a.log.Debug("Announcement signatures not sent; will be on reconnection",
			"chan_point", c.st.FundingOutpoint, "err", err)
		return
	}
	a.mu.Lock()
	c.answered = true
	a.mu.Unlock()
}

// PeerConnected sends our signatures of every deep channel with the peer
// whose peer's signatures are not in (BOLT 7: upon reconnection). The
// peer's channel_reestablish goes first: call this after the links have
// sent theirs.
func (a *Announcements) PeerConnected(peer *btcec.PublicKey) {
	var send []*annChan
	a.mu.Lock()
	for _, c := range a.chans {
		if !c.st.RemoteNode.IsEqual(peer) {
			continue
		}
		c.answered = false
		if c.deep && c.remote == nil {
			send = append(send, c)
		}
	}
	a.mu.Unlock()
	for _, c := range send {
		a.sendOurs(c)
	}
}

// HandleMessage takes a peer's announcement_signatures: checked against
// the channel's announcement, persisted, answered with ours, and the
// announcement completed when the funding is deep enough.
func (a *Announcements) HandleMessage(peer *btcec.PublicKey, m *lnwire.AnnounceSignatures) {
	a.mu.Lock()
	var c *annChan
	for _, cand := range a.chans {
		if cand.st.ChannelID() == m.ChannelID {
			c = cand
			break
		}
	}
	if c == nil {
		// Possibly a channel the funding manager has not handed over
		// yet (the peer saw the blocks first): held until Track.
		if len(a.held) < maxHeldAnnounceSigs {
			a.held[m.ChannelID] = heldSigs{peer, m}
		}
		a.mu.Unlock()
		a.log.Debug("announcement_signatures for a channel not tracked; held",
			"chan_id", m.ChannelID)
		return
	}
	st := c.st
	a.mu.Unlock()

	warn := func(text string) {
		a.log.Info("announcement_signatures refused", "chan_point", st.FundingOutpoint, "reason", text)
		_ = a.cfg.SendMessage(peer, &lnwire.Warning{ChanID: m.ChannelID, Data: []byte(text)})
	}
	if !st.RemoteNode.IsEqual(peer) {
		warn("announcement_signatures for another peer's channel")
		return
	}
	if m.ShortChannelID != st.ShortChannelID {
		warn(fmt.Sprintf("announcement_signatures for %v: our funding transaction is at %v",
			m.ShortChannelID, st.ShortChannelID))
		return
	}
	if err := a.verifyRemote(st, m); err != nil {
		warn(err.Error())
		return
	}
	sigs := &channeldb.AnnounceSigs{ChanPoint: st.FundingOutpoint, ShortChannelID: m.ShortChannelID,
		NodeSig: m.NodeSignature, BitcoinSig: m.BitcoinSignature}
	err := a.cfg.DB.Update(func(tx kvdb.RwTx) error { return channeldb.PutAnnounceSigs(tx, sigs) })
	if err != nil {
		a.log.Error("Announcement signatures not stored", "chan_point", st.FundingOutpoint, "err", err)
		return
	}
	a.mu.Lock()
	c.remote = sigs
	answer := c.deep && !c.answered
	a.mu.Unlock()
	if answer {
		a.sendOurs(c)
	}
	a.maybeComplete(c)
}

func (a *Announcements) maybeComplete(c *annChan) {
	a.mu.Lock()
	ready := c.deep && c.remote != nil && !c.done
	remote := c.remote
	a.mu.Unlock()
	if !ready {
		return
	}
	ann, err := a.unsigned(c.st)
	if err != nil {
		a.log.Error("Channel announcement", "chan_point", c.st.FundingOutpoint, "err", err)
		return
	}
	nodeSig, btcSig, err := a.sign(c.st, ann)
	if err != nil {
		a.log.Error("Channel announcement", "chan_point", c.st.FundingOutpoint, "err", err)
		return
	}
	if a.weAreNode1(ann) {
		ann.NodeSig1, ann.BitcoinSig1 = nodeSig, btcSig
		ann.NodeSig2, ann.BitcoinSig2 = remote.NodeSig, remote.BitcoinSig
	} else {
		ann.NodeSig1, ann.BitcoinSig1 = remote.NodeSig, remote.BitcoinSig
		ann.NodeSig2, ann.BitcoinSig2 = nodeSig, btcSig
	}
	a.mu.Lock()
	if c.done {
		a.mu.Unlock()
		return
	}
	c.done = true
	a.mu.Unlock()
	a.log.Info("Channel announcement complete", "chan_point", c.st.FundingOutpoint,
		"scid", c.st.ShortChannelID)
	if a.cfg.Announced != nil {
		a.cfg.Announced(c.st, ann)
	}
}

func (a *Announcements) weAreNode1(ann *lnwire.ChannelAnnouncement) bool {
	return a.cfg.NodeKey == ann.NodeID1
}

// unsigned builds the channel's channel_announcement without signatures:
// node_id_1 the lesser node key, each bitcoin key its node's funding key,
// no features (none of BOLT 9's apply to channels).
func (a *Announcements) unsigned(st *channeldb.OpenChannel) (*lnwire.ChannelAnnouncement, error) {
	return UnsignedAnnouncement(a.cfg.ChainHash, st, a.cfg.NodeKey), nil
}

// UnsignedAnnouncement is a channel's channel_announcement without its
// signatures, from the point of view of node self.
func UnsignedAnnouncement(chainHash chainhash.Hash, st *channeldb.OpenChannel,
	self [33]byte) *lnwire.ChannelAnnouncement {

	remote := [33]byte(st.RemoteNode.SerializeCompressed())
	ourKey := [33]byte(st.LocalConfig.FundingKey.SerializeCompressed())
	theirKey := [33]byte(st.RemoteConfig.FundingKey.SerializeCompressed())
	ann := &lnwire.ChannelAnnouncement{
		Features:       lnwire.NewRawFeatureVector(),
		ChainHash:      chainHash,
		ShortChannelID: st.ShortChannelID,
	}
	if bytes.Compare(self[:], remote[:]) < 0 {
		ann.NodeID1, ann.NodeID2 = self, remote
		ann.BitcoinKey1, ann.BitcoinKey2 = ourKey, theirKey
	} else {
		ann.NodeID1, ann.NodeID2 = remote, self
		ann.BitcoinKey1, ann.BitcoinKey2 = theirKey, ourKey
	}
	return ann
}

// sign signs ann with our node key and our funding key, each checked
// against the key it must verify with.
func (a *Announcements) sign(st *channeldb.OpenChannel,
	ann *lnwire.ChannelAnnouncement) (nodeSig, btcSig lnwire.Sig, err error) {

	data, err := ann.DataToSign()
	if err != nil {
		return nodeSig, btcSig, err
	}
	digest := chainhash.DoubleHashH(data)
	nodeKey, err := btcec.ParsePubKey(a.cfg.NodeKey[:])
	if err != nil {
		return nodeSig, btcSig, fmt.Errorf("node key: %w", err)
	}
	loc := st.LocalConfig.FundingKeyLoc
	keys := []struct {
		loc wallet.KeyLocator
		pub *btcec.PublicKey
		out *lnwire.Sig
	}{
		{wallet.KeyLocator{Family: wallet.KeyFamilyNodeKey}, nodeKey, &nodeSig},
		{wallet.KeyLocator{Family: wallet.KeyFamily(loc.Family), Index: loc.Index},
			st.LocalConfig.FundingKey, &btcSig},
	}
	for _, k := range keys {
		sig, err := a.cfg.Wallet.SignDigest(k.loc, digest)
		if err != nil {
			return nodeSig, btcSig, fmt.Errorf("sign with key %d/%d: %w", k.loc.Family, k.loc.Index, err)
		}
		if !sig.Verify(digest[:], k.pub) {
			return nodeSig, btcSig, fmt.Errorf("key %d/%d is not the channel's", k.loc.Family, k.loc.Index)
		}
		if *k.out, err = lnwire.NewSigFromSignature(sig); err != nil {
			return nodeSig, btcSig, err
		}
	}
	return nodeSig, btcSig, nil
}

// ourSigs is our announcement_signatures of a channel.
func (a *Announcements) ourSigs(st *channeldb.OpenChannel) (*lnwire.AnnounceSignatures, error) {
	ann, err := a.unsigned(st)
	if err != nil {
		return nil, err
	}
	nodeSig, btcSig, err := a.sign(st, ann)
	if err != nil {
		return nil, err
	}
	return &lnwire.AnnounceSignatures{ChannelID: st.ChannelID(), ShortChannelID: st.ShortChannelID,
		NodeSignature: nodeSig, BitcoinSignature: btcSig}, nil
}

// verifyRemote checks the peer's signatures over the channel's
// announcement with its node key and its funding key.
func (a *Announcements) verifyRemote(st *channeldb.OpenChannel, m *lnwire.AnnounceSignatures) error {
	ann, err := a.unsigned(st)
	if err != nil {
		return err
	}
	data, err := ann.DataToSign()
	if err != nil {
		return err
	}
	digest := chainhash.DoubleHashB(data)
	for _, c := range []struct {
		sig lnwire.Sig
		key *btcec.PublicKey
		who string
	}{{m.NodeSignature, st.RemoteNode, "node"}, {m.BitcoinSignature, st.RemoteConfig.FundingKey, "bitcoin"}} {
		s, err := c.sig.ToSignature()
		if err != nil || !s.Verify(digest, c.key) {
			return fmt.Errorf("%w: %s_signature", ErrBadAnnounceSigs, c.who)
		}
	}
	return nil
}
