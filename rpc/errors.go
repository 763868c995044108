package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/contractcourt"
	"lnd.xprv/funding"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/invoices"
	"lnd.xprv/lnwallet"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/macaroons"
	"lnd.xprv/wallet"
)

// invalidf returns an InvalidArgument status; the message says what to fix.
func invalidf(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// errorCodes is the one table from the node's errors to gRPC codes: this
// package's sentinels and those the subsystems export. A client learns
// from the code whether to fix its request (InvalidArgument), wait or fund
// the wallet (FailedPrecondition), retry (Unavailable) or look elsewhere
// (NotFound). The message stays the error's own text, which lnd's clients
// match. The first row an error matches (errors.Is) wins.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	// This package's, which the daemon's adapters wrap or Mark.
	{ErrAlreadyConnected, codes.AlreadyExists},
	{ErrPeerNotConnected, codes.NotFound},
	{ErrSelfConnect, codes.InvalidArgument},
	{ErrUnknownAccount, codes.InvalidArgument},
	{ErrShuttingDown, codes.Unavailable},
	{ErrWalletExists, codes.AlreadyExists},
	{ErrWalletNotFound, codes.FailedPrecondition},
	{ErrWrongPassword, codes.InvalidArgument},

	// The wallet's.
	{wallet.ErrInvalidAddress, codes.InvalidArgument},
	{wallet.ErrWrongNetwork, codes.InvalidArgument},
	{wallet.ErrInvalidAmount, codes.InvalidArgument},
	{wallet.ErrDustAmount, codes.InvalidArgument},
	{wallet.ErrNoOutputs, codes.InvalidArgument},
	{wallet.ErrInvalidMnemonic, codes.InvalidArgument},
	{wallet.ErrWrongPassword, codes.InvalidArgument},
	{wallet.ErrUnknownKey, codes.InvalidArgument},
	{wallet.ErrMissingPrevOut, codes.InvalidArgument},
	{wallet.ErrPrevOutMismatch, codes.InvalidArgument},
	{wallet.ErrLockIDMismatch, codes.InvalidArgument},
	{wallet.ErrUnknownOutput, codes.NotFound},
	{wallet.ErrUnknownTx, codes.NotFound},
	{wallet.ErrLabelExists, codes.AlreadyExists},
	{wallet.ErrWalletExists, codes.AlreadyExists},
	{wallet.ErrInsufficientFunds, codes.FailedPrecondition},
	{wallet.ErrOutputLeased, codes.FailedPrecondition},
	{wallet.ErrNoWallet, codes.FailedPrecondition},
	{wallet.ErrLocked, codes.Unavailable},
	{wallet.ErrShuttingDown, codes.Unavailable},

	// The macaroon service's.
	{macaroons.ErrPermissionDenied, codes.PermissionDenied},
	{macaroons.ErrInvalidMacaroon, codes.Unauthenticated},
	{macaroons.ErrStoreLocked, codes.Unavailable},
	{macaroons.ErrDeletionForbidden, codes.InvalidArgument},

	// The invoice registry's and its store's.
	{channeldb.ErrInvoiceNotFound, codes.NotFound},
	{invoices.ErrInvoiceExists, codes.AlreadyExists},
	{channeldb.ErrDuplicatePayAddr, codes.AlreadyExists},
	{invoices.ErrInvalidInvoice, codes.InvalidArgument},
	{invoices.ErrInvoiceAlreadySettled, codes.FailedPrecondition},
	{invoices.ErrInvoiceAlreadyCanceled, codes.FailedPrecondition},
	{invoices.ErrInvoiceStillOpen, codes.FailedPrecondition},
	{invoices.ErrShuttingDown, codes.Unavailable},

	// The payments store's and the payment router's.
	{channeldb.ErrAlreadyPaid, codes.AlreadyExists},
	{channeldb.ErrPaymentInFlight, codes.AlreadyExists},
	{channeldb.ErrPaymentExists, codes.AlreadyExists},
	{channeldb.ErrPaymentNotInitiated, codes.NotFound},
	{routing.ErrBadQuery, codes.InvalidArgument},
	{routing.ErrRouterStopped, codes.Unavailable},

	// The funding manager's.
	{funding.ErrBadRequest, codes.InvalidArgument},
	{funding.ErrPeerOffline, codes.FailedPrecondition},
	{funding.ErrTooManyPending, codes.FailedPrecondition},
	{funding.ErrPeerError, codes.FailedPrecondition},
	{funding.ErrRefused, codes.FailedPrecondition},
	{funding.ErrAborted, codes.Aborted},
	{funding.ErrShuttingDown, codes.Unavailable},

	// A cooperative close's.
	{channeldb.ErrChannelNotFound, codes.NotFound},
	{htlcswitch.ErrAlreadyClosing, codes.FailedPrecondition},
	{htlcswitch.ErrPeerInactive, codes.FailedPrecondition},
	{htlcswitch.ErrChannelFailed, codes.FailedPrecondition},
	{htlcswitch.ErrDeliveryScript, codes.InvalidArgument},
	{lnwallet.ErrCloseFee, codes.FailedPrecondition},

	// The contract court's.
	{contractcourt.ErrAlreadyClosing, codes.FailedPrecondition},
	{contractcourt.ErrNoSweep, codes.NotFound},
	{contractcourt.ErrNotSweepable, codes.FailedPrecondition},
	{contractcourt.ErrDeadlineNoBudget, codes.InvalidArgument},

	// The chain backend's.
	{chain.ErrTxRejected, codes.FailedPrecondition},
	{chain.ErrTxNotFound, codes.NotFound},
	{chain.ErrBlockNotFound, codes.NotFound},
	{chain.ErrBackendShutdown, codes.Unavailable},

	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// errorCode returns the gRPC code of err: a status error's own code, else the
// first table row err matches, else Unknown (as lnd answers plain errors).
func errorCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return m.code
		}
	}
	return codes.Unknown
}

// toStatus turns a backend error into a gRPC status error with the code of
// the table and the error's own text. A status error passes through.
func (s *Server) toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(errorCode(err), err.Error())
}

// Mark returns an error with err's text that also matches kind under
// errors.Is. The daemon marks a subsystem's error with the sentinel of
// this package that names the condition (rpc may not import the server
// package), rather than rewrite its text.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, kind: kind}
}

type marked struct{ err, kind error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.kind} }
