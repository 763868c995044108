package wallet

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
)

// Errors callers branch on.
var (
	// ErrWrongPassword: the password does not open the seed.
	ErrWrongPassword = errors.New("wrong wallet password")

	// ErrWalletExists: Create found a wallet already in the database.
	ErrWalletExists = errors.New("wallet already exists")

	// ErrNoWallet: Open found no wallet in the database.
	ErrNoWallet = errors.New("no wallet in database")

	// ErrLocked: the call needs keys and the wallet is not unlocked.
	ErrLocked = errors.New("wallet is locked")

	// ErrShuttingDown: the wallet is stopping or stopped.
	ErrShuttingDown = errors.New("wallet shutting down")

	// ErrInvalidMnemonic: the words are not a valid BIP 39 mnemonic.
	ErrInvalidMnemonic = errors.New("invalid mnemonic")

	// ErrAezeedMnemonic: the words are an lnd aezeed seed, which this
	// BIP 39 wallet cannot restore. It wraps ErrInvalidMnemonic.
	ErrAezeedMnemonic = fmt.Errorf("%w: these words are an lnd aezeed seed, not BIP 39; "+
		"xlnd cannot restore it (sweep its funds from lnd instead)", ErrInvalidMnemonic)

	// ErrWrongNetwork: the database or an address belongs to another
	// network.
	ErrWrongNetwork = errors.New("wrong network")

	// ErrInvalidAddress: the string is not a valid address.
	ErrInvalidAddress = errors.New("invalid address")

	// ErrInvalidAmount: an amount is zero or negative.
	ErrInvalidAmount = errors.New("amount must be positive")

	// ErrDustAmount: an output is below the dust limit for its script.
	ErrDustAmount = errors.New("output amount is dust")

	// ErrInsufficientFunds is matched by *InsufficientFundsError.
	ErrInsufficientFunds = errors.New("insufficient funds")

	// ErrNoOutputs: a send with nothing to pay.
	ErrNoOutputs = errors.New("no outputs")

	// ErrUnknownOutput: the outpoint is not an unspent output of this
	// wallet.
	ErrUnknownOutput = errors.New("unknown output")

	// ErrOutputLeased: the outpoint is leased under another lock id.
	ErrOutputLeased = errors.New("output already leased")

	// ErrLockIDMismatch: release with a different lock id than the lease.
	ErrLockIDMismatch = errors.New("lock id does not match lease")

	// ErrUnknownKey: a key descriptor this wallet cannot derive.
	ErrUnknownKey = errors.New("key not derivable by this wallet")

	// ErrCorruptDB: a record in the database does not parse.
	ErrCorruptDB = errors.New("wallet database corrupt")

	// ErrPasswordChangePending: a password change was interrupted (a
	// crash, or a linked store that failed) and must be completed with
	// FinishPasswordChange before the wallet unlocks or changes password
	// again.
	ErrPasswordChangePending = errors.New("a wallet password change is unfinished")

	// ErrUnknownTx: the transaction is not in the wallet.
	ErrUnknownTx = errors.New("unknown transaction")

	// ErrLabelExists: LabelTransaction without overwrite of a labelled
	// transaction (lnd's text).
	ErrLabelExists = errors.New("transaction already labelled")

	// ErrMissingPrevOut: an input to sign alongside others whose previous
	// output the caller did not give.
	ErrMissingPrevOut = errors.New("previous output of input unknown")

	// ErrPrevOutMismatch: the caller's previous output of a wallet input
	// differs from the wallet's record of it.
	ErrPrevOutMismatch = errors.New("previous output does not match the wallet's")

	// ErrTxConfirmed: the transaction is in a block, so it cannot be
	// abandoned.
	ErrTxConfirmed = errors.New("transaction is confirmed")
)

// InsufficientFundsError says how much was needed and how much could be
// spent (confirmed enough, not leased). errors.Is(err, ErrInsufficientFunds)
// holds.
type InsufficientFundsError struct {
	Needed    btcutil.Amount
	Available btcutil.Amount
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("insufficient funds: need %v (outputs plus fee), "+
		"have %v spendable", e.Needed, e.Available)
}

// Unwrap lets errors.Is match ErrInsufficientFunds.
func (e *InsufficientFundsError) Unwrap() error { return ErrInsufficientFunds }
