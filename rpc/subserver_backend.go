package rpc

import (
	"context"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
	"lnd.xprv/wallet"
)

// WalletKit is the on-chain wallet's lower-level side, for the WalletKit
// service. *wallet.Wallet has every method but RelayFeePerKW, which the
// chain backend has.
type WalletKit interface {
	// Accounts lists the wallet's accounts (needs the wallet unlocked).
	Accounts() ([]wallet.Account, error)

	// FeeRate resolves a fee preference (a confirmation target or a
	// rate) to a rate no lower than the relay floor.
	FeeRate(ctx context.Context, pref wallet.FeePreference) (chain.SatPerKWeight, error)

	// RelayFeePerKW is the backend's minimum relay fee.
	RelayFeePerKW() chain.SatPerKWeight

	DeriveKey(loc wallet.KeyLocator) (wallet.KeyDescriptor, error)
	DeriveNextKey(f wallet.KeyFamily) (wallet.KeyDescriptor, error)

	// NewAddress hands out the next address of a type, on the change
	// branch if change.
	NewAddress(t wallet.AddressType, change bool) (btcutil.Address, error)

	LeaseOutput(id wallet.LockID, op wire.OutPoint, d time.Duration) (time.Time, error)
	ReleaseOutput(id wallet.LockID, op wire.OutPoint) error
	ListLeases() ([]wallet.Lease, error)

	// PublishTx records a signed transaction and broadcasts it.
	PublishTx(ctx context.Context, msg *wire.MsgTx, label string) error

	// SendOutputs pays outputs with change back to the wallet, signs,
	// records and broadcasts.
	SendOutputs(ctx context.Context, outputs []*wire.TxOut, fee wallet.FeePreference,
		minConfs int32, label string) (*wire.MsgTx, error)

	LabelTransaction(txid chainhash.Hash, label string, overwrite bool) error

	// Fund selects and leases coins for outputs and adds change.
	Fund(ctx context.Context, req wallet.FundRequest) (*wallet.FundedTx, error)

	// SignOwnInputs signs the inputs that spend wallet outputs.
	SignOwnInputs(msg *wire.MsgTx, prevOuts map[wire.OutPoint]*wire.TxOut) ([]wallet.SignedInput, error)
}

// ChainNotifier is the chain backend as the ChainNotifier service uses
// it: registrations, plus the queries that answer a backlog and
// include_block.
type ChainNotifier interface {
	chain.Notifier

	BestBlock(ctx context.Context) (chainhash.Hash, int32, error)
	BlockHash(ctx context.Context, height int32) (chainhash.Hash, error)
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)
}
