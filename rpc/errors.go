package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// invalidf returns an InvalidArgument status; the message says what to fix.
func invalidf(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// errorCodes maps this package's sentinel errors to status codes. The
// message stays the error's own text, which lnd clients match.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{ErrAlreadyConnected, codes.AlreadyExists},
	{ErrPeerNotConnected, codes.NotFound},
	{ErrWalletExists, codes.AlreadyExists},
	{ErrWalletNotFound, codes.FailedPrecondition},
	{ErrWrongPassword, codes.InvalidArgument},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// toStatus turns a backend error into a gRPC status error: a status error
// passes through, this package's sentinels get their codes, then the
// daemon's Config.ErrorCode decides, and the rest are Unknown (as lnd's
// plain errors are).
func (s *Server) toStatus(err error) error {
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
	code := codes.Unknown
	if s.cfg.ErrorCode != nil {
		code = s.cfg.ErrorCode(err)
	}
	return status.Error(code, err.Error())
}
