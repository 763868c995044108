package main

import (
	"fmt"
	"strconv"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

type queryMCCmd struct{ a *app }

func (c *queryMCCmd) Execute([]string) error {
	return c.a.router(func(client routerrpc.RouterClient) error {
		resp, err := client.QueryMissionControl(c.a.ctx, &routerrpc.QueryMissionControlRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

// resetMCCmd prints nothing on success, as lncli's resetmc.
type resetMCCmd struct{ a *app }

func (c *resetMCCmd) Execute([]string) error {
	return c.a.router(func(client routerrpc.RouterClient) error {
		_, err := client.ResetMissionControl(c.a.ctx, &routerrpc.ResetMissionControlRequest{})
		return err
	})
}

// queryProbCmd takes lncli's arguments: two hex node keys and an amount
// in satoshis.
type queryProbCmd struct{ a *app }

func (c *queryProbCmd) Execute(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("queryprob takes three arguments: from-node to-node amt")
	}
	from, err := routing.NewVertexFromHex(args[0])
	if err != nil {
		return fmt.Errorf("invalid from node key: %w", err)
	}
	to, err := routing.NewVertexFromHex(args[1])
	if err != nil {
		return fmt.Errorf("invalid to node key: %w", err)
	}
	amt, err := strconv.ParseUint(args[2], 10, 64)
	if err != nil || amt > btcutil.MaxSatoshi {
		return fmt.Errorf("invalid amt: %q", args[2])
	}
	req := &routerrpc.QueryProbabilityRequest{
		FromNode: from[:], ToNode: to[:],
		AmtMsat: int64(lnwire.NewMSatFromSatoshis(btcutil.Amount(amt))),
	}
	return c.a.router(func(client routerrpc.RouterClient) error {
		resp, err := client.QueryProbability(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
