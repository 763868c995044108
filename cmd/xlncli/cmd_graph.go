package main

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"lnd.xprv/rpc/lnrpc"
)

// The graph commands, with lncli's names and flags.
func (a *app) graphCommands() []command {
	return []command{
		{"describegraph", "Describe the network graph.", "", &describeGraphCmd{a: a}},
		{"getnodeinfo", "Get information on a specific node.", "", &getNodeInfoCmd{a: a}},
		{"getchaninfo", "Get the state of a channel: getchaninfo <chan_id> or --chan_point.", "", &getChanInfoCmd{a: a}},
		{"getnetworkinfo", "Get statistical information about the current state of the network.", "", &getNetworkInfoCmd{a: a}},
		{"queryroutes", "Query a route to a destination: queryroutes <dest> <amt>.", "", &queryRoutesCmd{a: a}},
	}
}

type describeGraphCmd struct {
	a                  *app
	IncludeUnannounced bool `long:"include_unannounced" description:"also list unannounced channels"`
}

func (c *describeGraphCmd) Execute(args []string) error {
	if err := noArgs("describegraph", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.DescribeGraph(c.a.ctx, &lnrpc.ChannelGraphRequest{IncludeUnannounced: c.IncludeUnannounced})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type getNodeInfoCmd struct {
	a               *app
	PubKey          string `long:"pub_key" description:"the 33-byte hex public key of the node"`
	IncludeChannels bool   `long:"include_channels" description:"also list the node's channels"`
}

func (c *getNodeInfoCmd) Execute(args []string) error {
	key := c.PubKey
	switch {
	case key == "" && len(args) == 1:
		key = args[0]
	case key != "" && len(args) == 0:
	default:
		return fmt.Errorf("getnodeinfo takes the node's public key (argument or --pub_key)")
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.GetNodeInfo(c.a.ctx, &lnrpc.NodeInfoRequest{PubKey: key, IncludeChannels: c.IncludeChannels})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type getChanInfoCmd struct {
	a         *app
	ChanID    uint64 `long:"chan_id" description:"the 8-byte compact channel ID"`
	ChanPoint string `long:"chan_point" description:"the channel point: txid:index"`
}

func (c *getChanInfoCmd) Execute(args []string) error {
	req := &lnrpc.ChanInfoRequest{ChanId: c.ChanID, ChanPoint: c.ChanPoint}
	switch {
	case len(args) == 1 && c.ChanID == 0 && c.ChanPoint == "":
		id, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return fmt.Errorf("chan_id %q: %w", args[0], err)
		}
		req.ChanId = id
	case len(args) == 0 && (c.ChanID != 0) != (c.ChanPoint != ""):
	default:
		return fmt.Errorf("getchaninfo takes one of: a chan_id argument, --chan_id, --chan_point")
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.GetChanInfo(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type getNetworkInfoCmd struct{ a *app }

func (c *getNetworkInfoCmd) Execute(args []string) error {
	if err := noArgs("getnetworkinfo", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.GetNetworkInfo(c.a.ctx, &lnrpc.NetworkInfoRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type queryRoutesCmd struct {
	a               *app
	Dest            string   `long:"dest" description:"the 33-byte hex public key of the destination"`
	Amt             int64    `long:"amt" description:"the amount to send in satoshis"`
	Source          string   `long:"source_pub_key" description:"find the route from this node rather than ours"`
	FeeLimit        int64    `long:"fee_limit" description:"most fees to pay, in satoshis"`
	FeeLimitPercent int64    `long:"fee_limit_percent" description:"most fees to pay, as a percentage of the amount"`
	FinalCLTVDelta  int32    `long:"final_cltv_delta" description:"the final hop's CLTV delta"`
	CLTVLimit       uint32   `long:"cltv_limit" description:"most blocks the route may lock funds for"`
	OutgoingChanIDs []uint64 `long:"outgoing_chan_id" description:"a channel the first hop may use (repeatable)"`
	LastHop         string   `long:"last_hop" description:"the hex public key of the node before the destination"`
	IgnoreNodes     []string `long:"ignore_node" description:"a hex public key to route around (repeatable)"`
	TimePref        float64  `long:"time_pref" description:"-1 (cheapest) to 1 (most reliable)"`
}

func (c *queryRoutesCmd) Execute(args []string) error {
	dest, amt := c.Dest, c.Amt
	switch {
	case len(args) == 2 && dest == "" && amt == 0:
		dest = args[0]
		v, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return fmt.Errorf("amt %q: %w", args[1], err)
		}
		amt = v
	case len(args) == 0 && dest != "" && amt != 0:
	default:
		return fmt.Errorf("queryroutes takes <dest> <amt> (or --dest and --amt)")
	}
	req := &lnrpc.QueryRoutesRequest{
		PubKey: dest, Amt: amt, SourcePubKey: c.Source, FinalCltvDelta: c.FinalCLTVDelta,
		CltvLimit: c.CLTVLimit, OutgoingChanIds: c.OutgoingChanIDs, TimePref: c.TimePref,
	}
	switch {
	case c.FeeLimit != 0 && c.FeeLimitPercent != 0:
		return fmt.Errorf("--fee_limit and --fee_limit_percent are mutually exclusive")
	case c.FeeLimit != 0:
		req.FeeLimit = &lnrpc.FeeLimit{Limit: &lnrpc.FeeLimit_Fixed{Fixed: c.FeeLimit}}
	case c.FeeLimitPercent != 0:
		req.FeeLimit = &lnrpc.FeeLimit{Limit: &lnrpc.FeeLimit_Percent{Percent: c.FeeLimitPercent}}
	}
	if c.LastHop != "" {
		b, err := hex.DecodeString(c.LastHop)
		if err != nil {
			return fmt.Errorf("--last_hop: %w", err)
		}
		req.LastHopPubkey = b
	}
	for _, n := range c.IgnoreNodes {
		b, err := hex.DecodeString(n)
		if err != nil {
			return fmt.Errorf("--ignore_node %q: %w", n, err)
		}
		req.IgnoredNodes = append(req.IgnoredNodes, b)
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.QueryRoutes(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
