package funding

import (
	"context"
	"log/slog"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
	"lnd.xprv/wallet"
)

// Limits and defaults. Those that come from BOLT 2 say so; the others
// are lnd's values, so that both accept the same channels.
const (
	// MinChanSize is the smallest channel we open or accept (lnd's).
	MinChanSize btcutil.Amount = 20_000

	// MaxChanSizeNoWumbo is the largest funding_satoshis without
	// option_support_large_channel: 2^24 - 1 (BOLT 2).
	MaxChanSizeNoWumbo btcutil.Amount = 1<<24 - 1

	// DefaultMaxChanSizeWumbo bounds large channels (lnd's 10 BTC).
	DefaultMaxChanSizeWumbo btcutil.Amount = 10 * btcutil.SatoshiPerBitcoin

	// MinDustLimit is BOLT 2's floor on dust_limit_satoshis (the dust
	// threshold of any standard output); MaxDustLimit is lnd's ceiling,
	// three times that.
	MinDustLimit btcutil.Amount = 354
	MaxDustLimit btcutil.Amount = 3 * MinDustLimit

	// DefaultMaxLocalCsv bounds the to_self_delay the peer may impose on
	// our funds (lnd's 2016 blocks).
	DefaultMaxLocalCsv uint16 = 2016

	// minRemoteCsv and maxRemoteCsv bound the to_self_delay we impose,
	// scaled with the channel's size (lnd's 144..2016).
	minRemoteCsv uint16 = 144
	maxRemoteCsv uint16 = 2016

	// minAcceptedHtlcs is the fewest HTLCs a peer may let us offer.
	minAcceptedHtlcs = 5

	// maxMinDepth is the largest minimum_depth we wait for as opener.
	maxMinDepth = 20

	// MaxWaitBlocks is how long the accepter waits for a funding
	// transaction to confirm before forgetting the channel (BOLT 2's
	// 2016 blocks).
	MaxWaitBlocks = 2016

	// DefaultMaxPendingPerPeer and DefaultMaxPending bound the channels
	// being opened (lnd allows 1 per peer by default).
	DefaultMaxPendingPerPeer = 1
	DefaultMaxPending        = 50

	// DefaultNegotiationTimeout is how long an opening may wait for the
	// peer's next message before it is abandoned.
	DefaultNegotiationTimeout = 10 * time.Minute

	// defaultAnchorFeeCap caps the commitment fee rate of anchor
	// channels (lnd's 10 sat/vB).
	defaultAnchorFeeCap chainfee.SatPerKWeight = 2500

	// aliasStart and aliasEnd bound the block heights of the scid
	// aliases we make (lnd's range, far above any real height).
	aliasStart = 16_000_000
	aliasEnd   = 16_250_000
)

// Wallet is what the manager needs of the on-chain wallet; *wallet.Wallet
// implements it.
type Wallet interface {
	// Fund selects and leases coins for a transaction paying outputs.
	Fund(ctx context.Context, req wallet.FundRequest) (*wallet.FundedTx, error)

	// ReleaseOutput ends a lease; ListLeases lists the live ones.
	ReleaseOutput(id wallet.LockID, op wire.OutPoint) error
	ListLeases() ([]wallet.Lease, error)

	// SignTx signs every wallet input of tx.
	SignTx(tx *wire.MsgTx) error

	// PublishTx records tx as the wallet's and broadcasts it.
	PublishTx(ctx context.Context, tx *wire.MsgTx, label string) error

	// DeriveNextKey hands out the next key of a family; DerivePrivKey
	// re-derives a key handed out before.
	DeriveNextKey(f wallet.KeyFamily) (wallet.KeyDescriptor, error)
	DerivePrivKey(d wallet.KeyDescriptor) (*btcec.PrivateKey, error)

	// SignOutputRaw signs one input with a channel key.
	SignOutputRaw(tx *wire.MsgTx, d *wallet.SignDescriptor) (*ecdsa.Signature, error)
}

// Chain is what the manager needs of the chain backend; chain.Backend
// implements it.
type Chain interface {
	RegisterConfirmations(txid chainhash.Hash, pkScript []byte,
		numConfs uint32, heightHint int32) (*chain.ConfirmationEvent, error)
	RegisterBlockEpochs() (*chain.BlockEpochs, error)
	BestBlock(ctx context.Context) (chainhash.Hash, int32, error)
	EstimateFeePerKW(ctx context.Context, confTarget uint32) (chain.SatPerKWeight, error)
}

// Clock is the time source of negotiation timeouts; tests inject one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config holds the manager's dependencies and policy.
type Config struct {
	// ChainHash is the genesis hash of our chain (open_channel's
	// chain_hash).
	ChainHash chainhash.Hash

	Wallet Wallet
	Chain  Chain
	DB     *channeldb.DB

	// SendMessage sends msg to the peer with that node key. It must not
	// block for long (the peer's write queue).
	SendMessage func(peer *btcec.PublicKey, msg lnwire.Message) error

	// PeerFeatures returns the features a connected peer sent in init,
	// false if it is not connected.
	PeerFeatures func(peer *btcec.PublicKey) (*lnwire.FeatureVector, bool)

	// LocalFeatures are the features we advertise in init.
	LocalFeatures *lnwire.FeatureVector

	// ChannelReady is called once a channel is open: its funding
	// transaction deep enough and channel_ready exchanged both ways.
	// The Channel is the caller's from then on.
	ChannelReady func(ch *lnwallet.Channel)

	// ChannelPending, if set, is called once a new channel is persisted
	// (funding_signed sent or received): the node now has a channel
	// with the peer and keeps connecting to it.
	ChannelPending func(st *channeldb.OpenChannel)

	// NumConfs gives the minimum_depth we require as accepter, for a
	// channel of that size and push; nil scales 1..6 with the size as
	// lnd does.
	NumConfs func(capacity btcutil.Amount, push lnwire.MilliSatoshi) uint32

	// MaxLocalCsv bounds the to_self_delay the peer imposes on us
	// (0: DefaultMaxLocalCsv).
	MaxLocalCsv uint16

	// MaxChanSize bounds channels with option_support_large_channel
	// (0: DefaultMaxChanSizeWumbo).
	MaxChanSize btcutil.Amount

	// MaxPendingPerPeer and MaxPending limit channels being opened
	// (0: the defaults).
	MaxPendingPerPeer int
	MaxPending        int

	// NegotiationTimeout abandons a negotiation the peer stopped
	// answering (0: DefaultNegotiationTimeout).
	NegotiationTimeout time.Duration

	// Clock defaults to the system clock.
	Clock Clock

	// Logger receives the manager's logs; nil discards them.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxLocalCsv == 0 {
		c.MaxLocalCsv = DefaultMaxLocalCsv
	}
	if c.MaxChanSize == 0 {
		c.MaxChanSize = DefaultMaxChanSizeWumbo
	}
	if c.MaxPendingPerPeer == 0 {
		c.MaxPendingPerPeer = DefaultMaxPendingPerPeer
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.NegotiationTimeout == 0 {
		c.NegotiationTimeout = DefaultNegotiationTimeout
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.NumConfs == nil {
		c.NumConfs = ScaleNumConfs
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LocalFeatures == nil {
		c.LocalFeatures = lnwire.NewFeatureVector(nil)
	}
}

// ScaleNumConfs is lnd's default minimum_depth: 1 to 6 confirmations,
// linear in the channel's size plus the push (the accepter's stake), and
// 6 for channels above 2^24 sat.
func ScaleNumConfs(capacity btcutil.Amount, push lnwire.MilliSatoshi) uint32 {
	if capacity > MaxChanSizeNoWumbo {
		return 6
	}
	stake := uint64(lnwire.NewMSatFromSatoshis(capacity) + push)
	n := 6 * stake / uint64(lnwire.NewMSatFromSatoshis(MaxChanSizeNoWumbo))
	return uint32(min(max(n, 1), 6))
}

// remoteCsvFor is the to_self_delay we impose: 144 to 2016 blocks scaled
// with the channel's size, as lnd does.
func remoteCsvFor(capacity btcutil.Amount) uint16 {
	if capacity >= MaxChanSizeNoWumbo {
		return maxRemoteCsv
	}
	d := uint16(uint64(maxRemoteCsv) * uint64(capacity) / uint64(MaxChanSizeNoWumbo))
	return min(max(d, minRemoteCsv), maxRemoteCsv)
}

// reserveFor is the channel reserve we ask of the peer: 1% of the
// capacity, never below either side's dust limit (BOLT 2).
func reserveFor(capacity, dustA, dustB btcutil.Amount) btcutil.Amount {
	return max(capacity/100, dustA, dustB)
}
