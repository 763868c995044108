package main

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"lnd.xprv/chain"
	"lnd.xprv/wallet"
)

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err  error
		want codes.Code
	}{
		{fmt.Errorf("send: %w", wallet.ErrInsufficientFunds), codes.FailedPrecondition},
		{&wallet.InsufficientFundsError{}, codes.FailedPrecondition},
		{fmt.Errorf("x: %w", wallet.ErrDustAmount), codes.InvalidArgument},
		{&chain.RejectError{Reason: "insufficient fee"}, codes.FailedPrecondition},
		{errors.New("something else"), codes.Unknown},
	}
	for _, c := range cases {
		if got := errorCode(c.err); got != c.want {
			t.Errorf("errorCode(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
