package rpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/wallet"
)

// TestErrorTable checks every row of the table, wrapped as the subsystems
// wrap their errors, keeps its message and gets its code.
func TestErrorTable(t *testing.T) {
	s := &Server{}
	for _, row := range errorCodes {
		err := fmt.Errorf("doing something: %w", row.err)
		if got := errorCode(err); got != row.code {
			t.Errorf("errorCode(%v) = %v, want %v", err, got, row.code)
		}
		st, _ := status.FromError(s.toStatus(err))
		if st.Code() != row.code || st.Message() != err.Error() {
			t.Errorf("toStatus(%v) = %v %q", err, st.Code(), st.Message())
		}
	}
}

// TestErrorCodes covers the errors that are more than a sentinel: error
// types that unwrap to one, errors wrapping two, marked errors, status
// errors and plain ones.
func TestErrorCodes(t *testing.T) {
	serverErr := errors.New("already connected to peer: 02aa@127.0.0.1:9735")
	cases := []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{&wallet.InsufficientFundsError{Needed: 2, Available: 1}, codes.FailedPrecondition},
		{&chain.RejectError{Reason: "insufficient fee"}, codes.FailedPrecondition},
		{fmt.Errorf("x: %w", wallet.ErrAezeedMnemonic), codes.InvalidArgument},
		{Mark(serverErr, ErrAlreadyConnected), codes.AlreadyExists},
		{status.Error(codes.ResourceExhausted, "slow down"), codes.ResourceExhausted},
		{context.Canceled, codes.Canceled},
		{errors.New("something else"), codes.Unknown},
	}
	for _, c := range cases {
		if got := errorCode(c.err); got != c.want {
			t.Errorf("errorCode(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	// Marking keeps the text: lnd's clients match "already connected".
	if m := Mark(serverErr, ErrAlreadyConnected); m.Error() != serverErr.Error() ||
		!errors.Is(m, serverErr) {
		t.Fatalf("marked error %q", m)
	}
	if Mark(nil, ErrAlreadyConnected) != nil {
		t.Fatal("Mark(nil) is not nil")
	}
}
