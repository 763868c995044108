package lnwallet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// Test helpers: two channels of one channel, built from deterministic
// keys, and a memory store.

// party holds one side's keys: what the wallet would re-derive.
type party struct {
	signer Signer
	seed   [32]byte
	cfg    channeldb.ChannelConfig
}

func keyFrom(r *rand.Rand) *btcec.PrivateKey {
	var b [32]byte
	r.Read(b[:])
	k, _ := btcec.PrivKeyFromBytes(b[:])
	return k
}

func newParty(r *rand.Rand, c channeldb.ChannelConstraints) *party {
	keys := make([]*btcec.PrivateKey, 5)
	for i := range keys {
		keys[i] = keyFrom(r)
	}
	p := &party{signer: NewPrivKeySigner(keys...)}
	r.Read(p.seed[:])
	p.cfg = channeldb.ChannelConfig{
		ChannelConstraints:      c,
		FundingKey:              keys[0].PubKey(),
		RevocationBasePoint:     keys[1].PubKey(),
		PaymentBasePoint:        keys[2].PubKey(),
		DelayedPaymentBasePoint: keys[3].PubKey(),
		HtlcBasePoint:           keys[4].PubKey(),
	}
	return p
}

func (p *party) config() Config {
	return Config{Signer: p.signer, Secrets: shachain.NewProducer(p.seed)}
}

func (p *party) point(n uint64) *btcec.PublicKey {
	s, err := shachain.NewProducer(p.seed).ForCommitment(n)
	if err != nil {
		panic(err)
	}
	return CommitPoint(s)
}

// pairSpec describes a test channel.
type pairSpec struct {
	chanType  ChannelType
	capacity  btcutil.Amount
	pushMsat  uint64 // to the accepter
	feeRate   uint32
	seed      int64
	constrain func(*channeldb.ChannelConstraints)

	// wallet gives both parties keys from a real wallet, which signs
	// (the production signer) instead of a PrivKeySigner.
	wallet bool
}

func defaultConstraints(capacity btcutil.Amount) channeldb.ChannelConstraints {
	return channeldb.ChannelConstraints{
		DustLimit:                354,
		ChanReserve:              capacity / 100,
		HtlcMinimumMsat:          1,
		MaxHtlcValueInFlightMsat: uint64(capacity) * 1000,
		MaxAcceptedHtlcs:         MaxAcceptedHTLCsLimit,
		CsvDelay:                 144,
	}
}

// newStates builds both sides' initial records, with each one's
// commitment 0 signed by the other.
func newStates(t testing.TB, ps pairSpec) (a, b *party, sa,
	sb *channeldb.OpenChannel) {

	t.Helper()
	r := rand.New(rand.NewSource(ps.seed))
	cons := defaultConstraints(ps.capacity)
	if ps.constrain != nil {
		ps.constrain(&cons)
	}
	if ps.wallet {
		a, b = newWalletParty(t, r, cons), newWalletParty(t, r, cons)
	} else {
		a, b = newParty(r, cons), newParty(r, cons)
	}
	var op wire.OutPoint
	r.Read(op.Hash[:])
	op.Index = uint32(r.Intn(4))

	mk := func(me, them *party, opener bool, local,
		remote uint64) *channeldb.OpenChannel {

		commit := channeldb.ChannelCommitment{
			LocalBalanceMsat: local, RemoteBalanceMsat: remote,
			FeeRate: ps.feeRate,
		}
		return &channeldb.OpenChannel{
			FundingOutpoint:    op,
			Capacity:           ps.capacity,
			ChanType:           uint8(ps.chanType),
			IsInitiator:        opener,
			ShortChannelID:     lnwire.NewShortChanIDFromInt(r.Uint64()),
			LocalConfig:        me.cfg,
			RemoteConfig:       them.cfg,
			LocalCommit:        commit,
			RemoteCommit:       commit,
			RemoteCurrentPoint: them.point(0),
			RemoteNextPoint:    them.point(1),
			RevocationStore:    shachain.NewStore(),
		}
	}
	total := uint64(ps.capacity) * 1000
	sa = mk(a, b, true, total-ps.pushMsat, ps.pushMsat)
	sb = mk(b, a, false, ps.pushMsat, total-ps.pushMsat)
	signInitial(t, a, b, sa, sb)
	signInitial(t, b, a, sb, sa)
	return a, b, sa, sb
}

// signInitial has signer sign the owner's commitment 0 (the funding
// flow's funding_created/funding_signed) and the owner check it.
func signInitial(t testing.TB, signer, owner *party, signerSt,
	ownerSt *channeldb.OpenChannel) {

	t.Helper()
	sig, err := SignFirstCommitment(signerSt, signer.signer)
	if err != nil {
		t.Fatal(err)
	}
	err = ReceiveFirstSignature(ownerSt, shachain.NewProducer(owner.seed),
		sig)
	if err != nil {
		t.Fatal(err)
	}
}

// memStore keeps the encoded state, as a database would.
type memStore struct {
	data   []byte
	writes int
}

func (m *memStore) PersistChannel(_ context.Context,
	u *channeldb.ChannelUpdate) error {

	b, err := channeldb.EncodeOpenChannel(u.State)
	if err != nil {
		return err
	}
	m.data = b
	m.writes++
	return nil
}

func (m *memStore) load(t testing.TB) *channeldb.OpenChannel {
	t.Helper()
	st, err := channeldb.DecodeOpenChannel(m.data)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// htlcPreimage returns a preimage and its hash for test HTLC n.
func htlcPreimage(n uint64) (preimage, hash [32]byte) {
	binary.BigEndian.PutUint64(preimage[:], n)
	preimage[31] = 0x77
	return preimage, sha256.Sum256(preimage[:])
}

// persist persists p in s and returns the messages.
func persist(t testing.TB, p *Pending, err error, s Store) *Outcome {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Persist(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
