package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/wallet"
)

// invalidf returns an InvalidArgument status; the message says what to fix.
func invalidf(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// errorCodes maps the daemon's and the wallet's sentinel errors to status
// codes. The message stays the error's own text, which lnd clients match.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{ErrAlreadyConnected, codes.AlreadyExists},
	{ErrPeerNotConnected, codes.NotFound},
	{ErrWalletExists, codes.AlreadyExists},
	{ErrWalletNotFound, codes.FailedPrecondition},
	{ErrWrongPassword, codes.InvalidArgument},
	{wallet.ErrWrongPassword, codes.InvalidArgument},
	{wallet.ErrWalletExists, codes.AlreadyExists},
	{wallet.ErrNoWallet, codes.FailedPrecondition},
	{wallet.ErrLocked, codes.Unavailable},
	{wallet.ErrNotStarted, codes.Unavailable},
	{wallet.ErrShuttingDown, codes.Unavailable},
	{wallet.ErrInvalidMnemonic, codes.InvalidArgument},
	{wallet.ErrWrongNetwork, codes.InvalidArgument},
	{wallet.ErrInvalidAddress, codes.InvalidArgument},
	{wallet.ErrInvalidAmount, codes.InvalidArgument},
	{wallet.ErrDustAmount, codes.InvalidArgument},
	{wallet.ErrFeeRateTooLow, codes.InvalidArgument},
	{wallet.ErrNoOutputs, codes.InvalidArgument},
	{wallet.ErrUnknownOutput, codes.InvalidArgument},
	{wallet.ErrInsufficientFunds, codes.FailedPrecondition},
	{wallet.ErrOutputLeased, codes.FailedPrecondition},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// toStatus turns a backend error into a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return status.Error(m.code, err.Error())
		}
	}
	return status.Error(codes.Unknown, err.Error())
}
