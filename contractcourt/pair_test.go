package contractcourt

import (
	"context"
	"crypto/sha256"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// Test fixture: two real channel state machines of one channel, each
// persisting to its own channel database, driven against each other.

type node struct {
	signer *lnwallet.PrivKeySigner
	seed   [32]byte
	cfg    channeldb.ChannelConfig
	db     *channeldb.DB
	ch     *lnwallet.Channel
}

func (n *node) secrets(channeldb.KeyLocator) (lnwallet.SecretSource, error) {
	return shachain.NewProducer(n.seed), nil
}

func (n *node) point(i uint64) *btcec.PublicKey {
	s, _ := shachain.NewProducer(n.seed).ForCommitment(i)
	return lnwallet.CommitPoint(s)
}

func newNode(t testing.TB, r *rand.Rand) *node {
	keys := make([]*btcec.PrivateKey, 5)
	for i := range keys {
		var b [32]byte
		r.Read(b[:])
		keys[i], _ = btcec.PrivKeyFromBytes(b[:])
	}
	n := &node{signer: lnwallet.NewPrivKeySigner(keys...)}
	r.Read(n.seed[:])
	n.cfg = channeldb.ChannelConfig{
		ChannelConstraints: channeldb.ChannelConstraints{
			DustLimit: 354, ChanReserve: 10_000, HtlcMinimumMsat: 1,
			MaxHtlcValueInFlightMsat: 1 << 40, MaxAcceptedHtlcs: 483,
			CsvDelay: 144,
		},
		FundingKey: keys[0].PubKey(), RevocationBasePoint: keys[1].PubKey(),
		PaymentBasePoint: keys[2].PubKey(), DelayedPaymentBasePoint: keys[3].PubKey(),
		HtlcBasePoint: keys[4].PubKey(),
	}
	db, err := channeldb.Open(filepath.Join(t.TempDir(), "channel.db"),
		channeldb.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n.db = db
	return n
}

// newPair opens a 1 BTC channel from a to b with 300,000 sat pushed.
func newPair(t testing.TB, typ lnwallet.ChannelType, seed int64) (a, b *node) {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	a, b = newNode(t, r), newNode(t, r)
	var op wire.OutPoint
	r.Read(op.Hash[:])
	const capacity = 1_000_000
	const push = 300_000_000
	mk := func(me, them *node, opener bool, local, remote uint64) *channeldb.OpenChannel {
		commit := channeldb.ChannelCommitment{LocalBalanceMsat: local,
			RemoteBalanceMsat: remote, FeeRate: 2500}
		return &channeldb.OpenChannel{
			FundingOutpoint: op, Capacity: capacity, ChanType: uint8(typ),
			IsInitiator: opener, ShortChannelID: lnwire.NewShortChanIDFromInt(100 << 40),
			RemoteNode: them.cfg.FundingKey, LocalConfig: me.cfg, RemoteConfig: them.cfg,
			LocalCommit: commit, RemoteCommit: commit,
			RemoteCurrentPoint: them.point(0), RemoteNextPoint: them.point(1),
			RevocationStore: shachain.NewStore(),
		}
	}
	sa := mk(a, b, true, capacity*1000-push, push)
	sb := mk(b, a, false, push, capacity*1000-push)
	for _, x := range []struct {
		signer, owner *node
		ss, os        *channeldb.OpenChannel
	}{{a, b, sa, sb}, {b, a, sb, sa}} {
		sig, err := lnwallet.SignFirstCommitment(x.ss, x.signer.signer)
		if err != nil {
			t.Fatal(err)
		}
		err = lnwallet.ReceiveFirstSignature(x.os, shachain.NewProducer(x.owner.seed), sig)
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []struct {
		n  *node
		st *channeldb.OpenChannel
	}{{a, sa}, {b, sb}} {
		err := x.n.db.Update(func(tx kvdb.RwTx) error { return channeldb.PutOpenChannel(tx, x.st) })
		if err != nil {
			t.Fatal(err)
		}
		x.n.ch, err = lnwallet.NewChannel(x.st, lnwallet.Config{Signer: x.n.signer,
			Secrets: shachain.NewProducer(x.n.seed)})
		if err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// persist returns a function that persists a transition of n.
func persist(t testing.TB, n *node) func(*lnwallet.Pending, error) []lnwire.Message {
	return func(p *lnwallet.Pending, err error) []lnwire.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Persist(context.Background(), n.db)
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
}

// round runs a full commitment round started by a.
func round(t testing.TB, a, b *node) {
	t.Helper()
	cs := persist(t, a)(a.ch.SignNextCommitment())
	if err := b.ch.ReceiveNewCommitment(cs[0].(*lnwire.CommitSig)); err != nil {
		t.Fatal(err)
	}
	raa := persist(t, b)(b.ch.RevokeCurrentCommitment())
	persist(t, a)(a.ch.ReceiveRevocation(raa[0].(*lnwire.RevokeAndAck)))
	cs = persist(t, b)(b.ch.SignNextCommitment())
	if err := a.ch.ReceiveNewCommitment(cs[0].(*lnwire.CommitSig)); err != nil {
		t.Fatal(err)
	}
	raa = persist(t, a)(a.ch.RevokeCurrentCommitment())
	persist(t, b)(b.ch.ReceiveRevocation(raa[0].(*lnwire.RevokeAndAck)))
}

// addHTLC has from offer an HTLC of amt sat to to, then a round.
func addHTLC(t testing.TB, from, to *node, amt btcutil.Amount, n byte) {
	t.Helper()
	preimage := [32]byte{n}
	add, err := from.ch.AddHTLC(&lnwire.UpdateAddHTLC{
		Amount: lnwire.NewMSatFromSatoshis(amt), PaymentHash: sha256.Sum256(preimage[:]),
		Expiry: 500 + uint32(n)})
	if err != nil {
		t.Fatal(err)
	}
	if err := to.ch.ReceiveHTLC(add); err != nil {
		t.Fatal(err)
	}
	round(t, from, to)
}

// feeRound has a (the opener) change the fee rate, revoking both sides'
// commitments.
func feeRound(t testing.TB, a, b *node, rate uint32) {
	t.Helper()
	m, err := a.ch.UpdateFee(rate)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ch.ReceiveUpdateFee(m); err != nil {
		t.Fatal(err)
	}
	round(t, a, b)
}

// stored reads n's channel as persisted.
func (n *node) stored(t testing.TB) *channeldb.OpenChannel {
	t.Helper()
	st, err := n.db.FetchOpenChannel(n.ch.State().FundingOutpoint)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkSpends runs the script engine on every input of tx, whose
// previous outputs are found in prevs.
func checkSpends(t testing.TB, tx *wire.MsgTx, prevs ...*wire.MsgTx) {
	t.Helper()
	outs := map[wire.OutPoint]*wire.TxOut{}
	for _, p := range prevs {
		for i, o := range p.TxOut {
			outs[wire.OutPoint{Hash: p.TxHash(), Index: uint32(i)}] = o
		}
	}
	fetcher := txscript.NewMultiPrevOutFetcher(outs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		prev := outs[in.PreviousOutPoint]
		if prev == nil {
			t.Fatalf("input %d spends unknown %v", i, in.PreviousOutPoint)
		}
		vm, err := txscript.NewEngine(prev.PkScript, tx, i,
			txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("input %d (%v): %v", i, in.PreviousOutPoint, err)
		}
	}
}
