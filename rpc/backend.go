package rpc

import (
	"context"
	"errors"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
)

// Errors the daemon returns (wrapped or not) so that the RPC layer picks the
// right status code. Their texts are those lnd clients match on.
var (
	// ErrAlreadyConnected: ConnectPeer to a peer we are connected to.
	ErrAlreadyConnected = errors.New("already connected to peer")

	// ErrPeerNotConnected: DisconnectPeer of a peer we are not connected
	// to.
	ErrPeerNotConnected = errors.New("peer is not connected")

	// ErrWalletExists: InitWallet when a wallet exists.
	ErrWalletExists = errors.New("wallet already exists")

	// ErrWalletNotFound: UnlockWallet or ChangePassword with no wallet.
	ErrWalletNotFound = errors.New("wallet not found")

	// ErrWrongPassword: the password does not open the wallet.
	ErrWrongPassword = errors.New("invalid passphrase for master public key")

	// ErrSelfConnect: ConnectPeer to our own node.
	ErrSelfConnect = errors.New("cannot connect to self")

	// ErrUnknownAccount: a wallet account other than "default".
	ErrUnknownAccount = errors.New(`only the "default" account exists`)

	// ErrShuttingDown: the node is stopping.
	ErrShuttingDown = errors.New("node is shutting down")
)

// WalletLoader creates and opens the wallet before the node runs. The
// WalletUnlocker service calls it; each call that succeeds leaves the wallet
// open and unlocked for the daemon to build the node on.
type WalletLoader interface {
	// WalletExists reports whether a wallet was created before.
	WalletExists(ctx context.Context) (bool, error)

	// NewMnemonic returns a new 24-word seed built from entropy (32
	// bytes) or, when entropy is nil, from fresh randomness. It stores
	// nothing.
	NewMnemonic(ctx context.Context, entropy []byte) ([]string, error)

	// CreateWallet creates the wallet from p.Mnemonic (always 24
	// words). p.Restore says whether the chain must be rescanned for the
	// seed's coins.
	CreateWallet(ctx context.Context, p CreateWalletParams) error

	// OpenWallet unlocks the existing wallet; ErrWrongPassword if the
	// password is wrong.
	OpenWallet(ctx context.Context, password []byte, recoveryWindow int32) error

	// ChangePassword re-encrypts the wallet, and linked's secrets (the
	// macaroon root keys; nil without macaroons) in the same atomic
	// change, and leaves the wallet unlocked; ErrWrongPassword if old is
	// wrong.
	ChangePassword(ctx context.Context, old, new []byte, linked LinkedSecrets) error

	// FinishPasswordChange completes a password change that a crash
	// interrupted, with the same linked store, and reports whether there
	// was one. No wallet is not an error.
	FinishPasswordChange(ctx context.Context, linked LinkedSecrets) (bool, error)
}

// LinkedSecrets is a store sealed with the wallet password that changes
// password with the wallet, atomically: the wallet logs Reseal's result
// before Install runs, and replays Install after a crash (wallet's
// LinkedSecrets has the same methods).
type LinkedSecrets interface {
	Reseal(old, new []byte) ([]byte, error)
	Install(resealed []byte) error
}

// CreateWalletParams are the inputs of WalletLoader.CreateWallet.
type CreateWalletParams struct {
	Password   []byte
	Mnemonic   []string
	Passphrase []byte
	// Restore is false only when the words are ones this server's
	// GenSeed just handed out (a brand-new seed with no history); any
	// other words may have coins on chain.
	Restore        bool
	RecoveryWindow int32
}

// Backend is the running node behind the Lightning service. The daemon
// hands it to Server.Activate once the wallet is unlocked.
type Backend struct {
	Info   NodeInfo
	Chain  ChainInfo
	Peers  Peers
	Wallet Wallet
	// Invoices is the invoice registry; nil answers the invoice calls
	// Unavailable.
	Invoices Invoices

	// WalletKit serves the WalletKit service and Notifier the
	// ChainNotifier service; either may be nil, and its calls then answer
	// Unimplemented.
	WalletKit WalletKit
	Notifier  ChainNotifier

	// Graph and Router serve the graph calls and QueryRoutes; nil
	// answers Unavailable.
	Graph  Graph
	Router RouteFinder

	// Channels serves the channel calls; nil answers Unimplemented.
	Channels Channels

	// Closer closes channels and serves ClosedChannels, ChannelBalance,
	// SubscribeChannelEvents and PendingChannels' waiting_close; nil
	// answers Unimplemented (and no waiting_close).
	Closer ChannelCloser

	// Contracts serves force closes, the closing channels of
	// PendingChannels and the sweeper's calls; nil answers
	// Unimplemented (PendingChannels then lists openings only).
	Contracts Contracts

	// Forwarding serves FeeReport, UpdateChannelPolicy and
	// ForwardingHistory; nil answers Unimplemented.
	Forwarding Forwarding

	// MissionControl serves the router sub-server's mission control
	// calls and QueryRoutes' use_mission_control; nil answers
	// Unavailable (QueryRoutes then scores no hop).
	MissionControl MissionControl

	// Payments sends and tracks payments (SendPaymentV2 and the other
	// payment calls); nil answers Unavailable.
	Payments Payments

	// Stop asks the daemon to shut down and returns at once. The RPC
	// server itself is stopped by the daemon as part of its shutdown.
	Stop func()

	// The parts below are optional: a call that needs one the daemon
	// did not give answers Unimplemented.

	// Logs reads and sets the log levels (DebugLevel).
	Logs Logs
	// Recovery reports a restored wallet's rescan (GetRecoveryInfo).
	Recovery Recovery
	// Signer signs with the node's identity key (SignMessage,
	// VerifyMessage).
	Signer NodeSigner
}

// Logs reads and sets the daemon's per-subsystem log levels.
type Logs interface {
	// Subsystems lists the subsystem names, sorted.
	Subsystems() []string
	// Levels returns "SUB=level" pairs, sorted, level in lower case
	// (trace, debug, info, warn, error, critical, off).
	Levels() []string
	// SetRunningLevels applies a spec: a level for every subsystem,
	// SUB=level pairs, or both, comma-separated. A wrong level or an
	// unknown subsystem changes nothing and is an error.
	SetRunningLevels(spec string) error
}

// Recovery reports a restored wallet's rescan.
type Recovery interface {
	RecoveryInfo(ctx context.Context) (*RecoveryInfo, error)
}

// RecoveryInfo is the state of the wallet's rescan for a restored seed.
type RecoveryInfo struct {
	// Recovering: the wallet was restored from a seed at this start and
	// rescans the chain for its coins.
	Recovering bool
	// Progress is the share of the rescan done, 0 to 1 (1 once the
	// wallet has reached the tip).
	Progress float64
}

// NodeSigner signs with the node's identity key, which stays in the
// wallet.
type NodeSigner interface {
	// SignCompact returns the 65-byte recoverable signature of digest
	// by the node key (header byte 31+recid, then r and s).
	SignCompact(ctx context.Context, digest [32]byte) ([]byte, error)

	// KnownNode reports whether pub is a node this node knows: itself,
	// or a node in its channel graph.
	KnownNode(ctx context.Context, pub *btcec.PublicKey) (bool, error)
}

// NodeInfo describes the node for GetInfo.
type NodeInfo interface {
	NodeInfo(ctx context.Context) (*Info, error)

	// IdentityKey is the node's public key alone: what a payment checks
	// itself against, without NodeInfo's channel counts.
	IdentityKey(ctx context.Context) (*btcec.PublicKey, error)
}

// Info is the daemon's part of GetInfo.
type Info struct {
	IdentityKey *btcec.PublicKey
	Alias       string
	// Color as "#rrggbb".
	Color string
	// URIs as pubkey@host:port, one per advertised address.
	URIs []string
	// Features we set in our init and node_announcement messages.
	Features []Feature

	NumPendingChannels  uint32
	NumActiveChannels   uint32
	NumInactiveChannels uint32
	SyncedToGraph       bool
}

// Feature is one feature bit. Whether it is required follows from the bit
// (even bits are required).
type Feature struct {
	Bit   uint32
	Name  string
	Known bool
}

// ChainInfo reports the chain as the node sees it.
type ChainInfo interface {
	// BestBlock is the tip the wallet has processed.
	BestBlock(ctx context.Context) (*BlockStamp, error)
	// Synced reports whether the node has caught up with the backend's
	// tip.
	Synced(ctx context.Context) (bool, error)
}

// BlockStamp identifies a block.
type BlockStamp struct {
	Height    uint32
	Hash      chainhash.Hash
	Timestamp time.Time
}

// Peers manages transport connections to Lightning peers.
type Peers interface {
	// Connect dials pub at addr (host:port or onion:port) and returns
	// once the connection and init exchange complete or fail, or ctx
	// ends. With perm the daemon keeps reconnecting after disconnects
	// and may return before the first connection is up. Return
	// ErrAlreadyConnected if connected.
	Connect(ctx context.Context, pub *btcec.PublicKey, addr string, perm bool) error

	// Disconnect closes the connection to pub and forgets it as a
	// persistent peer. Return ErrPeerNotConnected if not connected.
	Disconnect(ctx context.Context, pub *btcec.PublicKey) error

	// List returns the connected peers.
	List(ctx context.Context) ([]PeerInfo, error)

	// Subscribe streams peer online/offline events until ctx ends, then
	// closes the channel. Events are dropped for a subscriber that does
	// not keep up rather than blocking the node.
	Subscribe(ctx context.Context) (<-chan PeerEvent, error)
}

// SyncType is the gossip sync mode with a peer; values are lnd's.
type SyncType int32

// Gossip sync modes.
const (
	SyncUnknown SyncType = 0
	SyncActive  SyncType = 1
	SyncPassive SyncType = 2
	SyncPinned  SyncType = 3
)

// PeerInfo describes one connected peer.
type PeerInfo struct {
	PubKey    *btcec.PublicKey
	Address   string
	BytesSent uint64
	BytesRecv uint64
	SatSent   btcutil.Amount
	SatRecv   btcutil.Amount
	Inbound   bool
	// PingTime is the last ping's round trip, zero until the first pong.
	PingTime time.Duration
	SyncType SyncType
	// Features the peer sent in its init message.
	Features []Feature
	// Errors and warnings the peer sent us, oldest first.
	Errors          []TimestampedError
	FlapCount       int32
	LastFlap        time.Time
	LastPingPayload []byte
}

// TimestampedError is an error or warning message and when it came.
type TimestampedError struct {
	Time  time.Time
	Error string
}

// PeerEvent says a peer came online or went offline.
type PeerEvent struct {
	PubKey *btcec.PublicKey
	Online bool
}

// AddressType is the kind of address NewAddress hands out.
type AddressType int

// Address types.
const (
	AddressP2WKH  AddressType = iota // native segwit v0, bc1q...
	AddressNP2WKH                    // p2wkh nested in p2sh
	AddressP2TR                      // taproot, bc1p...
)

// Wallet is the on-chain wallet.
type Wallet interface {
	// NewAddress returns an address of typ for account ("" is the
	// default account). With unused, the last address handed out that
	// has received nothing may be returned instead of a fresh one.
	NewAddress(ctx context.Context, typ AddressType, unused bool, account string) (btcutil.Address, error)

	// Balance sums the wallet's outputs. Outputs with fewer than
	// minConfs confirmations count as unconfirmed.
	Balance(ctx context.Context, account string, minConfs int32) (*Balance, error)

	// ListUnspent lists outputs with minConfs..maxConfs confirmations.
	ListUnspent(ctx context.Context, account string, minConfs, maxConfs int32) ([]Utxo, error)

	// Transactions lists transactions touching the wallet confirmed in
	// startHeight..endHeight; endHeight -1 includes unconfirmed ones.
	Transactions(ctx context.Context, account string, startHeight, endHeight int32) ([]Transaction, error)

	// SendCoins builds, signs, records and broadcasts a transaction.
	SendCoins(ctx context.Context, req *SendRequest) (*chainhash.Hash, error)

	// EstimateFee returns what a transaction paying outputs would cost,
	// without building it for real.
	EstimateFee(ctx context.Context, req *FeeRequest) (*FeeEstimate, error)
}

// Balance is the wallet balance.
type Balance struct {
	Confirmed   btcutil.Amount
	Unconfirmed btcutil.Amount
	// Locked is leased to a pending operation (funding, sweeps).
	Locked btcutil.Amount
	// ReservedAnchor is kept back to bump anchor channel closes.
	ReservedAnchor btcutil.Amount
	// Accounts breaks the balance down per wallet account.
	Accounts map[string]AccountBalance
}

// AccountBalance is one account's balance.
type AccountBalance struct {
	Confirmed   btcutil.Amount
	Unconfirmed btcutil.Amount
}

// Utxo is one unspent wallet output.
type Utxo struct {
	Type          AddressType
	Address       btcutil.Address
	Amount        btcutil.Amount
	PkScript      []byte
	OutPoint      wire.OutPoint
	Confirmations int64
}

// Transaction is one wallet transaction.
type Transaction struct {
	Hash chainhash.Hash
	// Amount is the net change of the wallet balance (negative for a
	// spend, fee included).
	Amount        btcutil.Amount
	Confirmations int32
	// BlockHash is nil while unconfirmed.
	BlockHash   *chainhash.Hash
	BlockHeight int32
	Timestamp   time.Time
	Fee         btcutil.Amount
	Label       string
	// Tx is the full transaction.
	Tx *wire.MsgTx
	// IsOurOutput[i] says output i pays the wallet.
	IsOurOutput []bool
	// IsOurInput[i] says input i spends a wallet output.
	IsOurInput []bool
}

// CoinSelection is the coin selection strategy of a send; values are lnd's.
type CoinSelection int32

// Coin selection strategies.
const (
	CoinSelectDefault CoinSelection = 0
	CoinSelectLargest CoinSelection = 1
	CoinSelectRandom  CoinSelection = 2
)

// SendRequest is a validated SendCoins call.
type SendRequest struct {
	Address btcutil.Address
	// Amount to pay; zero with SendAll.
	Amount btcutil.Amount
	// SendAll sweeps every eligible output to Address.
	SendAll bool
	// Exactly one of FeeRate and TargetConf is non-zero.
	FeeRate    chain.SatPerKWeight
	TargetConf uint32
	// MinConfs of the outputs to spend (0: unconfirmed allowed).
	MinConfs int32
	Strategy CoinSelection
	// Inputs, if any, are the only outputs to spend.
	Inputs []wire.OutPoint
	Label  string
}

// FeeRequest is a validated EstimateFee call.
type FeeRequest struct {
	Outputs    []*wire.TxOut
	TargetConf uint32
	MinConfs   int32
	Strategy   CoinSelection
}

// FeeEstimate is the answer to EstimateFee.
type FeeEstimate struct {
	Fee     btcutil.Amount
	FeeRate chain.SatPerKWeight
}
