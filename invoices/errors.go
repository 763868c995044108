package invoices

import "errors"

// Errors callers branch on (the RPC layer maps them to gRPC codes).
var (
	ErrInvoiceAlreadySettled  = errors.New("invoice already settled")
	ErrInvoiceAlreadyCanceled = errors.New("invoice already canceled")
	ErrInvoiceStillOpen       = errors.New("invoice still open")
	ErrInvoiceExists          = errors.New("invoice with payment hash already exists")
	ErrBadPreimage            = errors.New("preimage does not match the payment hash")
	ErrInvalidInvoice         = errors.New("invalid invoice")
	ErrShuttingDown           = errors.New("invoice registry shutting down")

	// ErrRegistryBusy is ExitDecisions.Decide declining to wait.
	ErrRegistryBusy = errors.New("invoice registry busy")
)
