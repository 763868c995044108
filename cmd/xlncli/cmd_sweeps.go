package main

import (
	"errors"
	"fmt"
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

type bumpFeeCmd struct {
	a           *app
	ConfTarget  uint32 `long:"conf_target" description:"the number of blocks the sweep should confirm in"`
	SatPerVByte uint64 `long:"sat_per_vbyte" description:"the fee rate of the new sweep, in sat/vbyte"`
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
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.BumpFee(c.a.ctx, &walletrpc.BumpFeeRequest{
			Outpoint:   &lnrpc.OutPoint{TxidStr: txid, OutputIndex: uint32(n)},
			TargetConf: c.ConfTarget, SatPerVbyte: c.SatPerVByte})
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
