package htlcswitch

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
)

// closeRecorder records what a link's close hands to the daemon.
type closeRecorder struct {
	mu      sync.Mutex
	started []*channeldb.CoopClose
	agreed  []*channeldb.CoopClose
}

func (r *closeRecorder) agreedTx() *wire.MsgTx {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.agreed) == 0 {
		return nil
	}
	return r.agreed[len(r.agreed)-1].ClosingTx
}

func (s *side) deliveryScript() []byte {
	return lnwallet.WitnessPubKeyHash(s.idKey.PubKey())
}

// startCloseLink runs a link that can close cooperatively.
func (s *side) startCloseLink(rec *closeRecorder, upfront []byte) {
	s.t.Helper()
	if s.sw == nil {
		s.startSwitch()
	}
	s.link = NewLink(LinkConfig{Channel: s.channel(), DB: s.db,
		ReadyMessage: s.readyMessage, QueueSize: 16,
		Close: &CloseConfig{
			Store:          s.db,
			DeliveryScript: func() ([]byte, error) { return s.deliveryScript(), nil },
			UpfrontScripts: func() ([]byte, []byte, error) { return nil, upfront, nil },
			AnySegwit:      func() bool { return false },
			FeeRate:        func() (chainfee.SatPerKWeight, error) { return 2500, nil },
			BestHeight:     func() uint32 { return 100 },
			Started: func(c *channeldb.CoopClose) {
				rec.mu.Lock()
				rec.started = append(rec.started, c)
				rec.mu.Unlock()
			},
			Agreed: func(c *channeldb.CoopClose) {
				rec.mu.Lock()
				rec.agreed = append(rec.agreed, c)
				rec.mu.Unlock()
			},
		}})
	if !s.sw.Links().Add(s.link) {
		s.t.Fatal("link added twice")
	}
}

// restartClose restarts the side's node from its database file with a
// closing link.
func (s *side) restartClose(rec *closeRecorder) {
	s.t.Helper()
	mustOK(s.t, s.sw.Stop())
	mustOK(s.t, s.reg.Stop())
	mustOK(s.t, s.db.Close())
	s.sw, s.reg = nil, nil
	s.open()
	s.startCloseLink(rec, nil)
}

// checkClosingTx checks that tx spends the funding output with valid
// signatures and pays each side its balance, the opener less the fee.
func checkClosingTx(t *testing.T, a, b *side, tx *wire.MsgTx) {
	t.Helper()
	ch := a.channel()
	_, pk, err := ch.Params().FundingScript()
	if err != nil {
		t.Fatal(err)
	}
	fetcher := txscript.NewCannedPrevOutputFetcher(pk, int64(capacity))
	vm, err := txscript.NewEngine(pk, tx, 0, txscript.StandardVerifyFlags,
		nil, txscript.NewTxSigHashes(tx, fetcher), int64(capacity), fetcher)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Execute(); err != nil {
		t.Fatalf("closing tx does not spend the funding output: %v", err)
	}
	if lnwallet.SettledBalance(tx, b.deliveryScript()) != 100_000 {
		t.Fatalf("bob settles %v", lnwallet.SettledBalance(tx, b.deliveryScript()))
	}
	fee := capacity - btcutil.Amount(tx.TxOut[0].Value+tx.TxOut[1].Value)
	if lnwallet.SettledBalance(tx, a.deliveryScript()) != capacity-100_000-fee ||
		fee <= 0 {

		t.Fatalf("alice settles %v with fee %v",
			lnwallet.SettledBalance(tx, a.deliveryScript()), fee)
	}
}

func TestCoopClose(t *testing.T) {
	for _, byOpener := range []bool{true, false} {
		name := map[bool]string{true: "opener closes", false: "accepter closes"}[byOpener]
		t.Run(name, func(t *testing.T) {
			a, b := newChannel(t)
			ra, rb := &closeRecorder{}, &closeRecorder{}
			a.startCloseLink(ra, nil)
			b.startCloseLink(rb, nil)
			c := connect(t, a, b, true)
			eventually(t, "both active", bothActive(a, b))

			closer := a
			if !byOpener {
				closer = b
			}
			updates := make(chan CloseUpdate, 1)
			mustOK(t, closer.link.Close(&CloseRequest{Updates: updates}))
			u := <-updates
			if u.Err != nil {
				t.Fatal(u.Err)
			}
			eventually(t, "both agreed", func() bool {
				return ra.agreedTx() != nil && rb.agreedTx() != nil
			})
			if ra.agreedTx().TxHash() != rb.agreedTx().TxHash() ||
				u.Tx.TxHash() != ra.agreedTx().TxHash() {

				t.Fatal("the sides agreed on different transactions")
			}
			checkClosingTx(t, a, b, ra.agreedTx())
			for _, s := range []*side{a, b} {
				stored, err := s.db.FetchCoopClose(s.op)
				if err != nil || stored.ClosingTx == nil {
					t.Fatalf("%s: closing tx not stored: %v", s.name, err)
				}
				if !s.link.ShuttingDown() || !s.link.WaitingClose() {
					t.Fatalf("%s: not shown as closing", s.name)
				}
			}
			// The opener proposes; here both agree at once.
			waitQuiet(t, a, b)
			wantTypes(t, "alice", c.ab.messages()[2:], lnwire.MsgShutdown,
				lnwire.MsgClosingSigned)
			wantTypes(t, "bob", c.ba.messages()[2:], lnwire.MsgShutdown,
				lnwire.MsgClosingSigned)

			if err := closer.link.Close(&CloseRequest{}); !errors.Is(err,
				ErrAlreadyClosing) {

				t.Fatalf("second close: %v", err)
			}
		})
	}
}

// dropEnd is a connection end that drops what drop says, otherwise
// delivers to its remote link as end does.
type dropEnd struct {
	mu     sync.Mutex
	closed bool
	remote *Link
	back   Peer
	drop   lnwire.MessageType
}

func (d *dropEnd) SendMessage(msgs ...lnwire.Message) error {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return errClosed
	}
	for _, m := range msgs {
		switch m.MsgType() {
		case d.drop, lnwire.MsgChannelReady, lnwire.MsgWarning, lnwire.MsgError:
			continue
		}
		if err := d.remote.HandleMessage(d.back, m); err != nil {
			return err
		}
	}
	return nil
}

func (d *dropEnd) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

func TestCoopCloseRestart(t *testing.T) {
	a, b := newChannel(t)
	ra, rb := &closeRecorder{}, &closeRecorder{}
	a.startCloseLink(ra, nil)
	b.startCloseLink(rb, nil)

	// Alice's closing_signed is lost: both stop after the shutdowns.
	ab := &dropEnd{remote: b.link, drop: lnwire.MsgClosingSigned}
	ba := &dropEnd{remote: a.link, back: ab, drop: 0xffff}
	ab.back = ba
	mustOK(t, a.link.PeerConnected(ab))
	mustOK(t, b.link.PeerConnected(ba))
	eventually(t, "both active", bothActive(a, b))
	mustOK(t, a.link.Close(&CloseRequest{FeeRate: 3000}))
	eventually(t, "bob's shutdown", func() bool {
		rec, err := a.db.FetchCoopClose(a.op)
		return err == nil && rec.RemoteScript != nil
	})
	waitQuiet(t, a, b)
	if ra.agreedTx() != nil || rb.agreedTx() != nil {
		t.Fatal("agreed without alice's closing_signed")
	}
	if !b.link.ShuttingDown() {
		t.Fatal("bob not shutting down")
	}
	// Neither side takes a new HTLC now.
	_, err := b.link.ch.AddHTLC(&lnwire.UpdateAddHTLC{Amount: 1000, Expiry: 500})
	if !errors.Is(err, lnwallet.ErrChannelClosing) {
		t.Fatalf("bob adds an HTLC after shutdown: %v", err)
	}

	// Both restart from their files; the reconnection retransmits both
	// shutdowns and the negotiation starts afresh with alice's limits.
	ab.close()
	ba.close()
	a.restartClose(ra)
	b.restartClose(rb)

	// The operator's stream ended with the restart: a new request, even
	// with the peer offline, follows the close in progress on each side
	// (bob's began with alice's shutdown), as long as it changes neither
	// the delivery script nor the fee limits.
	err = a.link.Close(&CloseRequest{FeeRate: 5000})
	if !errors.Is(err, ErrAlreadyClosing) {
		t.Fatalf("new fee limits for a close in progress: %v", err)
	}
	err = a.link.Close(&CloseRequest{DeliveryScript: b.deliveryScript()})
	if !errors.Is(err, ErrDeliveryScript) {
		t.Fatalf("new delivery script for a close in progress: %v", err)
	}
	ua, ub := make(chan CloseUpdate, 1), make(chan CloseUpdate, 1)
	mustOK(t, a.link.Close(&CloseRequest{Updates: ua,
		DeliveryScript: a.deliveryScript()}))
	mustOK(t, b.link.Close(&CloseRequest{Updates: ub}))

	c := connect(t, a, b, false)
	eventually(t, "both agreed", func() bool {
		return ra.agreedTx() != nil && rb.agreedTx() != nil
	})
	checkClosingTx(t, a, b, ra.agreedTx())
	for name, u := range map[string]chan CloseUpdate{"alice": ua, "bob": ub} {
		if got := <-u; got.Err != nil || got.Tx.TxHash() != ra.agreedTx().TxHash() {
			t.Fatalf("%s's request told %+v", name, got)
		}
	}
	// Once agreed, a close request is refused.
	if err := b.link.Close(&CloseRequest{}); !errors.Is(err, ErrAlreadyClosing) {
		t.Fatalf("close after agreement: %v", err)
	}
	waitQuiet(t, a, b)
	wantTypes(t, "alice", c.ab.messages()[2:], lnwire.MsgShutdown,
		lnwire.MsgClosingSigned)
	fee := capacity - btcutil.Amount(ra.agreedTx().TxOut[0].Value+
		ra.agreedTx().TxOut[1].Value)
	w := lnwallet.ClosingTxWeight(a.deliveryScript(), b.deliveryScript())
	if fee != chainfee.SatPerKWeight(3000).FeeForWeight(w) {
		t.Fatalf("fee %v, not alice's 3000 sat/kw", fee)
	}
}

func TestShutdownRefused(t *testing.T) {
	a, b := newChannel(t)
	upfront := append([]byte{0, 20}, make([]byte, 20)...)
	ra, rb := &closeRecorder{}, &closeRecorder{}
	a.startCloseLink(ra, nil)
	b.startCloseLink(rb, upfront)
	c := connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	id := lnwire.NewChanIDFromOutPoint(a.op)

	for _, script := range [][]byte{
		{0x6a, 1, 1}, // OP_RETURN
		append([]byte{0x51, 32}, make([]byte, 32)...), // no anysegwit
		a.deliveryScript(),                            // not the upfront script
	} {
		mustOK(t, b.link.HandleMessage(c.ba, &lnwire.Shutdown{ChanID: id,
			Address: script}))
		waitQuiet(t, b)
		msgs := c.ba.messages()
		if last := msgs[len(msgs)-1]; last.MsgType() != lnwire.MsgWarning {
			t.Fatalf("shutdown %x answered with %v", script, last.MsgType())
		}
		if b.link.ShuttingDown() || !b.link.Active() {
			t.Fatal("channel not left usable")
		}
		if _, err := b.db.FetchCoopClose(b.op); !errors.Is(err,
			channeldb.ErrCoopCloseNotFound) {

			t.Fatalf("refused shutdown stored: %v", err)
		}
	}
	// A closing_signed without shutdown is refused too.
	mustOK(t, b.link.HandleMessage(c.ba, &lnwire.ClosingSigned{ChanID: id}))
	waitQuiet(t, b)
	if msgs := c.ba.messages(); msgs[len(msgs)-1].MsgType() != lnwire.MsgWarning {
		t.Fatal("closing_signed before shutdown not warned")
	}

	// The upfront script is accepted, and a close of an inactive
	// channel refused.
	c.close(t, a, b)
	eventually(t, "inactive", func() bool { return !a.link.Active() })
	if err := a.link.Close(&CloseRequest{}); !errors.Is(err, ErrPeerInactive) {
		t.Fatalf("close while inactive: %v", err)
	}
	if err := a.link.Close(&CloseRequest{}); !errors.Is(err, ErrPeerInactive) {
		t.Fatalf("close while inactive: %v", err)
	}
}

// startStatusLink runs a link that stores and reads the data-loss mark
// in the side's database, as the daemon does.
func (s *side) startStatusLink() {
	s.t.Helper()
	status, err := s.db.FetchChanStatus(s.op)
	mustOK(s.t, err)
	if s.sw == nil {
		s.startSwitch()
	}
	s.link = NewLink(LinkConfig{Channel: s.channel(), DB: s.db,
		ReadyMessage: s.readyMessage, QueueSize: 16,
		DataLoss: status&channeldb.ChanStatusLocalDataLoss != 0,
		MarkDataLoss: func() error {
			return s.db.AddChanStatus(s.op, channeldb.ChanStatusLocalDataLoss)
		}})
	if !s.sw.Links().Add(s.link) {
		s.t.Fatal("link added twice")
	}
}

// TestDataLossMarked: a link that learns from the peer that our state is
// old stores the mark; after a restart the channel stays failed even
// before the peer says so again, and a close is refused.
func TestDataLossMarked(t *testing.T) {
	a, b := newChannel(t)
	feeRound(t, a, b, 3000)
	mustOK(t, a.db.Close())
	backup := a.path + ".old"
	copyFile(t, a.path, backup)
	a.open()
	feeRound(t, a, b, 4000)
	mustOK(t, a.db.Close())
	copyFile(t, backup, a.path)
	a.open()

	a.startStatusLink()
	b.startLink()
	c := connect(t, a, b, true)
	settle(t, c.ab, 2)
	waitQuiet(t, a, b)
	status, err := a.db.FetchChanStatus(a.op)
	mustOK(t, err)
	if status&channeldb.ChanStatusLocalDataLoss == 0 {
		t.Fatal("data loss not stored")
	}
	c.close(t, a, b)

	// Restarted with the mark: the link is failed from the start.
	mustOK(t, a.sw.Stop())
	mustOK(t, a.reg.Stop())
	mustOK(t, a.db.Close())
	a.sw, a.reg = nil, nil
	a.open()
	a.startStatusLink()
	if err := a.link.Close(&CloseRequest{}); !errors.Is(err, ErrChannelFailed) {

		t.Fatalf("close of a failed channel: %v", err)
	}
	c = connect(t, a, b, true)
	settle(t, c.ab, 2)
	waitQuiet(t, a, b)
	if a.link.Active() {
		t.Fatal("channel with lost state active after restart")
	}
	if got := c.ab.messages(); got[len(got)-1].MsgType() != lnwire.MsgError {
		t.Fatalf("alice sent %v, want an error last", types(got))
	}
}

// TestCoopCloseWaitsForHTLCs: a close requested while an HTLC is held
// exchanges shutdown at once, refuses new HTLCs, and negotiates only
// once the HTLC is settled; the closing transaction pays the settled
// balances.
func TestCoopCloseWaitsForHTLCs(t *testing.T) {
	a, b := newChannel(t)
	ra, rb := &closeRecorder{}, &closeRecorder{}
	a.startCloseLink(ra, nil)
	b.startCloseLink(rb, nil)
	connect(t, a, b, true)
	eventually(t, "both active", bothActive(a, b))
	ctx := context.Background()

	const amt = lnwire.MilliSatoshi(10_000_000)
	preimage := [32]byte{9}
	hash := sha256.Sum256(preimage[:])
	inv, err := b.reg.AddInvoice(ctx, invoices.NewInvoice{Memo: "hold",
		Value: amt, Hash: &hash})
	mustOK(t, err)
	expiry := uint32(testHeight + 100)
	pay := func(id uint64) {
		blob, _ := routeOnion(t, inv.PaymentHash, []hopSpec{
			{b.idKey.PubKey(), finalHop(inv, amt, expiry)}})
		mustOK(t, a.sw.SendHTLC(a.scid, id, &lnwire.UpdateAddHTLC{Amount: amt,
			PaymentHash: inv.PaymentHash, Expiry: expiry, OnionBlob: blob}))
	}
	pay(1)
	eventually(t, "HTLC held by bob", func() bool {
		got, err := b.reg.LookupInvoice(ctx, hash)
		return err == nil && got.State == channeldb.InvoiceAccepted
	})

	updates := make(chan CloseUpdate, 1)
	mustOK(t, a.link.Close(&CloseRequest{Updates: updates}))
	eventually(t, "both shutting down", func() bool {
		return a.link.ShuttingDown() && b.link.ShuttingDown()
	})
	waitQuiet(t, a, b)
	if ra.agreedTx() != nil || rb.agreedTx() != nil {
		t.Fatal("negotiated with an HTLC pending")
	}
	// No new HTLC on a closing channel.
	pay(2)
	if res := waitResult(t, a, 2); res.Settled || res.LocalFailure == nil {
		t.Fatalf("HTLC offered after shutdown: %+v", res)
	}

	mustOK(t, b.reg.SettleInvoice(ctx, preimage))
	if res := waitResult(t, a, 1); !res.Settled {
		t.Fatalf("held HTLC %+v, want settled", res)
	}
	eventually(t, "both agreed", func() bool {
		return ra.agreedTx() != nil && rb.agreedTx() != nil
	})
	if u := <-updates; u.Err != nil || u.Tx.TxHash() != ra.agreedTx().TxHash() {
		t.Fatalf("update %+v", u)
	}
	tx := ra.agreedTx()
	if got := lnwallet.SettledBalance(tx, b.deliveryScript()); got != 100_000+amt.ToSatoshis() {
		t.Fatalf("bob settles %v, want his balance plus the payment", got)
	}
}
