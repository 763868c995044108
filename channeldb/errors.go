package channeldb

import (
	"errors"
	"fmt"
)

// Errors callers branch on.
var (
	// ErrCorruptRecord is matched (errors.Is) by every error about a
	// stored record that cannot be decoded; the error is a *RecordError
	// naming the record.
	ErrCorruptRecord = errors.New("corrupt record")

	// ErrUnknownVersion is matched by a record written in an encoding
	// version this code does not know.
	ErrUnknownVersion = errors.New("unknown record version")

	// ErrDBNewer is returned by Open for a database whose schema is
	// newer than this code.
	ErrDBNewer = errors.New("database schema is newer than this code")

	ErrLinkNodeNotFound       = errors.New("link node not found")
	ErrClosedChannelNotFound  = errors.New("closed channel not found")
	ErrPendingChannelNotFound = errors.New("pending channel not found")
	ErrRevocationLogNotFound  = errors.New("revocation log entry not found")
	ErrCircuitNotFound        = errors.New("circuit not found")
	ErrFwdPkgNotFound         = errors.New("forwarding package not found")
	ErrGraphNodeNotFound      = errors.New("graph node not found")
	ErrGraphChannelNotFound   = errors.New("graph channel not found")

	// ErrIndexConflict is returned for a record whose secondary key (a
	// pending channel's channel point, a circuit's outgoing HTLC)
	// already belongs to another record.
	ErrIndexConflict = errors.New("secondary key already taken by another record")
)

// RecordError says which stored record failed to decode: its kind
// ("link node", "closed channel", ...) and its key in readable form (a
// channel point, a pubkey, a commitment number).
type RecordError struct {
	Kind string
	Key  string
	Err  error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Kind, e.Key, e.Err)
}

// Unwrap gives both ErrCorruptRecord and the cause.
func (e *RecordError) Unwrap() []error {
	return []error{ErrCorruptRecord, e.Err}
}

// NewRecordError is how a store of any package reports a record it cannot
// decode.
func NewRecordError(kind, key string, err error) error {
	return &RecordError{Kind: kind, Key: key, Err: err}
}

// Invoice store errors.
var (
	ErrInvoiceNotFound  = errors.New("unable to locate invoice")
	ErrDuplicateInvoice = errors.New("invoice with payment hash already exists")
	ErrDuplicatePayAddr = errors.New("invoice with payment addr already exists")
	// ErrInvoiceFinal is returned for a change of state of a settled or
	// canceled invoice.
	ErrInvoiceFinal  = errors.New("invoice already settled or canceled")
	ErrMemoTooLong   = errors.New("memo too long")
	ErrPayReqTooLong = errors.New("payment request too long")
)
