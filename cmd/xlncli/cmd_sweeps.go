package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

type pendingSweepsCmd struct{ a *app }

func (c *pendingSweepsCmd) Execute(args []string) error {
	if err := noArgs("pendingsweeps", args); err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.PendingSweeps(c.a.ctx, &walletrpc.PendingSweepsRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

// bumpFeeCmd has lncli's flags: conf_target or sat_per_vbyte set the
// starting fee rate, budget the most the input may pay, deadline_delta
// the blocks by which the whole budget is spent, immediate replaces the
// sweep at once (force is its deprecated name).
type bumpFeeCmd struct {
	a             *app
	ConfTarget    uint64 `long:"conf_target" description:"the starting fee rate: the estimate for this many blocks"`
	SatPerVByte   uint64 `long:"sat_per_vbyte" description:"the starting fee rate, in sat/vbyte"`
	SatPerByte    uint64 `long:"sat_per_byte" description:"deprecated, use sat_per_vbyte" hidden:"true"`
	Immediate     bool   `long:"immediate" description:"replace the sweep at once rather than at the next block"`
	Force         bool   `long:"force" description:"deprecated, use immediate" hidden:"true"`
	Budget        uint64 `long:"budget" description:"the most, in sat, the input may pay in fees"`
	DeadlineDelta uint64 `long:"deadline_delta" description:"the blocks within which the sweep should confirm, spending the whole budget by then (needs budget)"`
}

func (c *bumpFeeCmd) Execute(args []string) error {
	if len(args) != 1 {
		return errors.New("bumpfee takes one argument: <outpoint> (txid:index)")
	}
	txid, idx, ok := strings.Cut(args[0], ":")
	if !ok {
		return fmt.Errorf("outpoint %q: want txid:index", args[0])
	}
	n, err := strconv.ParseUint(idx, 10, 32)
	if err != nil {
		return fmt.Errorf("outpoint %q: %w", args[0], err)
	}
	if c.Immediate && c.Force {
		return errors.New("cannot set immediate and force flag at the same time")
	}
	if c.ConfTarget > math.MaxUint32 || c.DeadlineDelta > math.MaxUint32 || c.SatPerByte > math.MaxUint32 {
		return errors.New("conf_target, deadline_delta and sat_per_byte take at most 4294967295")
	}
	rate := c.SatPerVByte
	if c.SatPerByte != 0 {
		if rate != 0 {
			return errors.New("either sat_per_byte or sat_per_vbyte, not both")
		}
		rate = c.SatPerByte
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.BumpFee(c.a.ctx, &walletrpc.BumpFeeRequest{
			Outpoint:   &lnrpc.OutPoint{TxidStr: txid, OutputIndex: uint32(n)},
			TargetConf: uint32(c.ConfTarget), SatPerVbyte: rate,
			Immediate: c.Immediate || c.Force,
			Budget:    c.Budget, DeadlineDelta: uint32(c.DeadlineDelta)})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type listSweepsCmd struct {
	a           *app
	Verbose     bool  `long:"verbose" description:"show the full sweep transactions, not only their ids"`
	StartHeight int32 `long:"startheight" description:"the first height to list sweeps from; -1: unconfirmed ones only"`
}

func (c *listSweepsCmd) Execute(args []string) error {
	if err := noArgs("listsweeps", args); err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.ListSweeps(c.a.ctx, &walletrpc.ListSweepsRequest{
			Verbose: c.Verbose, StartHeight: c.StartHeight})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
