package chain

import (
	"context"
	"errors"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Errors callers branch on.
var (
	// ErrBackendShutdown is returned by calls made after Stop, and closes
	// event channels' consumers out.
	ErrBackendShutdown = errors.New("chain backend shutting down")

	// ErrTxNotFound: the backend does not know the transaction.
	ErrTxNotFound = errors.New("transaction not found")

	// ErrBlockNotFound: no block at that height or with that hash.
	ErrBlockNotFound = errors.New("block not found")

	// ErrTxRejected wraps every broadcast the backend refused; the wrapping
	// *RejectError carries the backend's reason.
	ErrTxRejected = errors.New("transaction rejected")

	// ErrTxAlreadyKnown: the backend already has this transaction in its
	// mempool or in the chain. Callers re-broadcasting treat it as success.
	ErrTxAlreadyKnown = errors.New("transaction already known")
)

// RejectError is a broadcast refused by the backend, with its reason
// ("insufficient fee", "output already spent", ...). errors.Is(err,
// ErrTxRejected) holds for it.
type RejectError struct {
	Txid   chainhash.Hash
	Reason string
}

func (e *RejectError) Error() string {
	return "transaction " + e.Txid.String() + " rejected: " + e.Reason
}

// Unwrap lets errors.Is match ErrTxRejected.
func (e *RejectError) Unwrap() error { return ErrTxRejected }

// BlockEvent is one change of the best chain. Blocks are reported in order:
// on a reorg, every disconnected block (highest first) before the new ones.
type BlockEvent struct {
	Height       int32
	Hash         chainhash.Hash
	Header       *wire.BlockHeader
	Disconnected bool
}

// BlockEpochs streams BlockEvents to one client.
type BlockEpochs struct {
	// Events delivers every block connected or disconnected after
	// registration; closed when the client cancels or the backend stops.
	Events <-chan BlockEvent

	// Cancel releases the registration. Safe to call more than once.
	Cancel func()
}

// TxConfirmation says a transaction reached the requested depth.
type TxConfirmation struct {
	Txid        chainhash.Hash
	BlockHash   chainhash.Hash
	BlockHeight int32
	TxIndex     uint32
	Tx          *wire.MsgTx
	Block       *wire.MsgBlock
}

// ConfirmationEvent is a registration for a transaction's confirmation.
type ConfirmationEvent struct {
	// Confirmed delivers each time the transaction reaches the requested
	// number of confirmations in the best chain: once normally, again after
	// a reorg withdrew it and it confirmed anew.
	Confirmed <-chan *TxConfirmation

	// Updates delivers the current number of confirmations as it grows, up
	// to the requested number.
	Updates <-chan uint32

	// Reorged delivers the reorg depth (the most confirmations the
	// transaction had) when a block holding the transaction is
	// disconnected after Confirmed fired (or while it is gathering
	// confirmations). Updates then count again from the new block.
	Reorged <-chan int32

	// Cancel releases the registration. Safe to call more than once.
	Cancel func()
}

// SpendDetail describes the transaction that spent a watched outpoint.
type SpendDetail struct {
	SpentOutPoint     wire.OutPoint
	SpenderTxHash     chainhash.Hash
	SpendingTx        *wire.MsgTx
	SpenderInputIndex uint32
	// SpendingHeight is the height of the block holding the spend, or 0
	// when the spend was seen in the mempool only (see
	// Notifier.RegisterSpend).
	SpendingHeight int32
}

// SpendEvent is a registration for an outpoint's spend.
type SpendEvent struct {
	// Spend delivers the spend once it is in a block; again after a reorg
	// withdrew it and a spend confirmed anew (possibly another one).
	Spend <-chan *SpendDetail

	// Reorged fires when the block holding a delivered spend is
	// disconnected.
	Reorged <-chan struct{}

	// Cancel releases the registration. Safe to call more than once.
	Cancel func()
}

// Notifier tells clients of changes of the best chain. A slow client never
// blocks the notifier: each registration has its own unbounded queue.
type Notifier interface {
	// RegisterBlockEpochs streams every block connected or disconnected
	// from now on.
	RegisterBlockEpochs() (*BlockEpochs, error)

	// RegisterConfirmations asks to be told when txid (whose output
	// pkScript identifies it to light clients; may be nil for full-node
	// backends) has numConfs confirmations. heightHint is the lowest
	// height it can have confirmed at; a transaction already confirmed
	// deeply enough is reported at once.
	RegisterConfirmations(txid chainhash.Hash, pkScript []byte,
		numConfs uint32, heightHint int32) (*ConfirmationEvent, error)

	// RegisterSpend asks to be told when outpoint (paying to pkScript) is
	// spent in a block. heightHint is the lowest height the spend can be
	// at; a spend already in the chain is reported at once.
	RegisterSpend(outpoint wire.OutPoint, pkScript []byte,
		heightHint int32) (*SpendEvent, error)
}

// SpendRequest is one outpoint to watch, as RegisterSpend takes it.
type SpendRequest struct {
	OutPoint   wire.OutPoint
	PkScript   []byte
	HeightHint int32
}

// SpendBatcher is a Notifier that registers many spends at once, as a
// node does at start for every channel's funding output and every
// unresolved contract output: one search of the chain for all of them
// rather than one each. Each event behaves as if RegisterSpend had made
// it; they come in the order of reqs. Should some fail, their events
// are nil and err says why; the others are registered.
type SpendBatcher interface {
	RegisterSpends(reqs []SpendRequest) ([]*SpendEvent, error)
}

// Source answers queries about the chain.
type Source interface {
	// BestBlock returns the tip of the best chain.
	BestBlock(ctx context.Context) (chainhash.Hash, int32, error)

	// BlockHash returns the hash of the best-chain block at height.
	BlockHash(ctx context.Context, height int32) (chainhash.Hash, error)

	// Block returns a whole block.
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)

	// BlockHeader returns a header and its height.
	BlockHeader(ctx context.Context, hash chainhash.Hash) (*wire.BlockHeader, int32, error)

	// RawTx returns a transaction from the mempool or the chain (btcd
	// needs --txindex for the latter).
	RawTx(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, error)

	// UnspentOutput returns the output if it is unspent in the best chain
	// (mempool spends count when includeMempool), and nil, nil if it is
	// spent or never existed.
	UnspentOutput(ctx context.Context, op wire.OutPoint,
		includeMempool bool) (*wire.TxOut, error)
}

// Broadcaster hands transactions to the network. A refusal is a
// *RejectError; a transaction the backend already has is ErrTxAlreadyKnown.
type Broadcaster interface {
	Broadcast(ctx context.Context, tx *wire.MsgTx) error
}

// FeeEstimator gives fee rates. Implementations never return less than
// RelayFeePerKW, and fall back to a configured rate when the backend has no
// estimate (a fresh regtest never has one).
type FeeEstimator interface {
	// EstimateFeePerKW returns the rate for confirmation within
	// confTarget blocks.
	EstimateFeePerKW(ctx context.Context, confTarget uint32) (SatPerKWeight, error)

	// RelayFeePerKW is the lowest rate the backend relays.
	RelayFeePerKW() SatPerKWeight
}

// MempoolWatcher tells a client of unconfirmed transactions that pay to
// scripts or spend outpoints it watches (the wallet uses it to see incoming
// payments before they confirm). Confirmed transactions are found by
// scanning blocks through Source.
type MempoolWatcher interface {
	// WatchMempool adds scripts and outpoints to the filter. Watching is
	// cumulative.
	WatchMempool(pkScripts [][]byte, outpoints []wire.OutPoint) error

	// RelevantTxs streams every mempool transaction matching the filter,
	// from the moment it is accepted. The channel is closed at Stop.
	RelevantTxs() <-chan *wire.MsgTx
}

// Backend is everything a full node backend provides.
type Backend interface {
	Notifier
	Source
	Broadcaster
	FeeEstimator
	MempoolWatcher

	Start() error
	Stop() error
}
