package main

import (
	"errors"

	"google.golang.org/grpc/codes"

	"lnd.xprv/chain"
	"lnd.xprv/funding"
	"lnd.xprv/server"
	"lnd.xprv/wallet"
)

// errorCodes gives the subsystems' sentinel errors their gRPC codes, so
// that a client learns whether to fix its request (InvalidArgument), wait
// or fund the wallet (FailedPrecondition), or retry (Unavailable). The
// message stays the error's own text.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{wallet.ErrInvalidAddress, codes.InvalidArgument},
	{wallet.ErrWrongNetwork, codes.InvalidArgument},
	{wallet.ErrInvalidAmount, codes.InvalidArgument},
	{wallet.ErrDustAmount, codes.InvalidArgument},
	{wallet.ErrInvalidMnemonic, codes.InvalidArgument},
	{wallet.ErrWrongPassword, codes.InvalidArgument},
	{errAccounts, codes.InvalidArgument},
	{wallet.ErrInsufficientFunds, codes.FailedPrecondition},
	{wallet.ErrOutputLeased, codes.FailedPrecondition},
	{chain.ErrTxRejected, codes.FailedPrecondition},
	{wallet.ErrLocked, codes.Unavailable},
	{wallet.ErrShuttingDown, codes.Unavailable},
	{chain.ErrBackendShutdown, codes.Unavailable},
	{server.ErrServerShutdown, codes.Unavailable},
	{server.ErrSelfConnect, codes.InvalidArgument},
	{funding.ErrBadRequest, codes.InvalidArgument},
	{funding.ErrPeerOffline, codes.FailedPrecondition},
	{funding.ErrTooManyPending, codes.FailedPrecondition},
	{funding.ErrPeerError, codes.FailedPrecondition},
	{funding.ErrRefused, codes.FailedPrecondition},
	{funding.ErrAborted, codes.Aborted},
	{funding.ErrShuttingDown, codes.Unavailable},
}

// errorCode is rpc.Config.ErrorCode.
func errorCode(err error) codes.Code {
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return m.code
		}
	}
	return codes.Unknown
}
