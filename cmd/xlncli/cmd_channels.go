package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/rpc/lnrpc"
)

type openChannelCmd struct {
	a           *app
	NodeKey     string `long:"node_key" description:"the identity public key of the target node (hex)"`
	LocalAmt    int64  `long:"local_amt" description:"the number of satoshis the wallet commits to the channel"`
	PushAmt     int64  `long:"push_amt" description:"the number of satoshis to give the remote side as part of the initial commitment state"`
	SatPerVByte uint64 `long:"sat_per_vbyte" description:"the fee rate of the funding transaction, in sat/vbyte"`
	ConfTarget  int32  `long:"conf_target" description:"the number of blocks the funding transaction should confirm in"`
	Private     bool   `long:"private" description:"make the channel private: not announced to the network"`
	MinConfs    int32  `long:"min_confs" default:"1" description:"the minimum number of confirmations of each coin spent"`
	CloseAddr   string `long:"close_address" description:"an address the cooperative close must pay our funds to (upfront shutdown)"`
	ChannelType string `long:"channel_type" description:"the channel type: anchors or tweakless (static remote key); default: negotiated, anchors preferred"`
	Block       bool   `long:"block" description:"wait until the channel is open"`
}

func (c *openChannelCmd) Execute(args []string) error {
	key := c.NodeKey
	switch {
	case key == "" && len(args) >= 1:
		key, args = args[0], args[1:]
	case key == "":
		return fmt.Errorf("--node_key is required")
	}
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	pub, err := hex.DecodeString(key)
	if err != nil {
		return fmt.Errorf("--node_key is not hex: %w", err)
	}
	req := &lnrpc.OpenChannelRequest{NodePubkey: pub, LocalFundingAmount: c.LocalAmt,
		PushSat: c.PushAmt, SatPerVbyte: c.SatPerVByte, TargetConf: c.ConfTarget,
		Private: c.Private, MinConfs: c.MinConfs, CloseAddress: c.CloseAddr}
	switch c.ChannelType {
	case "":
	case "anchors":
		req.CommitmentType = lnrpc.CommitmentType_ANCHORS
	case "tweakless", "static_remote_key":
		req.CommitmentType = lnrpc.CommitmentType_STATIC_REMOTE_KEY
	default:
		return fmt.Errorf("--channel_type %q unknown: use anchors or tweakless", c.ChannelType)
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		stream, err := client.OpenChannel(c.a.ctx, req)
		if err != nil {
			return err
		}
		for {
			up, err := stream.Recv()
			if err != nil {
				return err
			}
			switch u := up.Update.(type) {
			case *lnrpc.OpenStatusUpdate_ChanPending:
				h, err := chainhash.NewHash(u.ChanPending.Txid)
				if err != nil {
					return err
				}
				if err := c.a.printJSON(map[string]string{"funding_txid": h.String()}); err != nil {
					return err
				}
				if !c.Block {
					return nil
				}
			case *lnrpc.OpenStatusUpdate_ChanOpen:
				cp := u.ChanOpen.ChannelPoint
				h, err := chainhash.NewHash(cp.GetFundingTxidBytes())
				if err != nil {
					return err
				}
				return c.a.printJSON(map[string]string{
					"channel_point": fmt.Sprintf("%v:%d", h, cp.OutputIndex)})
			}
		}
	})
}

type listChannelsCmd struct {
	a            *app
	ActiveOnly   bool   `long:"active_only" description:"only list channels which are currently active"`
	InactiveOnly bool   `long:"inactive_only" description:"only list channels which are currently inactive"`
	PublicOnly   bool   `long:"public_only" description:"only list channels which are currently public"`
	PrivateOnly  bool   `long:"private_only" description:"only list channels which are currently private"`
	Peer         string `long:"peer" description:"only list channels with this peer (hex public key)"`
}

func (c *listChannelsCmd) Execute(args []string) error {
	if err := noArgs("listchannels", args); err != nil {
		return err
	}
	var peer []byte
	if c.Peer != "" {
		var err error
		if peer, err = hex.DecodeString(c.Peer); err != nil {
			return fmt.Errorf("--peer is not hex: %w", err)
		}
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ListChannels(c.a.ctx, &lnrpc.ListChannelsRequest{
			ActiveOnly: c.ActiveOnly, InactiveOnly: c.InactiveOnly,
			PublicOnly: c.PublicOnly, PrivateOnly: c.PrivateOnly, Peer: peer})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type pendingChannelsCmd struct{ a *app }

func (c *pendingChannelsCmd) Execute(args []string) error {
	if err := noArgs("pendingchannels", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.PendingChannels(c.a.ctx, &lnrpc.PendingChannelsRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type closeChannelCmd struct {
	a            *app
	FundingTxid  string  `long:"funding_txid" description:"the txid of the channel's funding transaction"`
	OutputIndex  *uint32 `long:"output_index" description:"the output index for the funding output of the funding transaction"`
	ChanPoint    string  `long:"chan_point" description:"the channel point of the channel to close (txid:index)"`
	Force        bool    `long:"force" description:"broadcast our commitment: a unilateral close"`
	Block        bool    `long:"block" description:"wait until the channel is closed"`
	ConfTarget   int32   `long:"conf_target" description:"the number of blocks the closing transaction should confirm in"`
	SatPerVByte  uint64  `long:"sat_per_vbyte" description:"the fee rate of the closing transaction, in sat/vbyte"`
	DeliveryAddr string  `long:"delivery_addr" description:"an address to deliver our funds to (must be the upfront shutdown address if the channel has one)"`
	MaxFeeRate   uint64  `long:"max_fee_rate" description:"the most we pay as the channel's opener, in sat/vbyte"`
}

// chanPoint reads the channel to close from the flags or the positional
// arguments (funding_txid [output_index]), as lncli does.
func (c *closeChannelCmd) chanPoint(args []string) (*lnrpc.ChannelPoint, error) {
	txid, index := c.FundingTxid, c.OutputIndex
	if c.ChanPoint != "" {
		if txid != "" || index != nil || len(args) > 0 {
			return nil, fmt.Errorf("--chan_point excludes --funding_txid, --output_index and arguments")
		}
		i := strings.LastIndexByte(c.ChanPoint, ':')
		if i < 0 {
			return nil, fmt.Errorf("--chan_point %q must be txid:index", c.ChanPoint)
		}
		n, err := strconv.ParseUint(c.ChanPoint[i+1:], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--chan_point %q: bad output index: %w", c.ChanPoint, err)
		}
		txid = c.ChanPoint[:i]
		idx := uint32(n)
		index = &idx
	}
	if txid == "" && len(args) > 0 {
		txid, args = args[0], args[1:]
	}
	if index == nil && len(args) > 0 {
		n, err := strconv.ParseUint(args[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("output_index %q: %w", args[0], err)
		}
		idx := uint32(n)
		index, args = &idx, args[1:]
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", args)
	}
	if txid == "" {
		return nil, fmt.Errorf("--chan_point or --funding_txid is required")
	}
	if _, err := chainhash.NewHashFromStr(txid); err != nil || len(txid) != 64 {
		return nil, fmt.Errorf("funding txid %q is not a transaction id", txid)
	}
	if index == nil {
		idx := uint32(0)
		index = &idx
	}
	return &lnrpc.ChannelPoint{FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{
		FundingTxidStr: txid}, OutputIndex: *index}, nil
}

func (c *closeChannelCmd) Execute(args []string) error {
	cp, err := c.chanPoint(args)
	if err != nil {
		return err
	}
	req := &lnrpc.CloseChannelRequest{ChannelPoint: cp, Force: c.Force,
		TargetConf: c.ConfTarget, SatPerVbyte: c.SatPerVByte,
		DeliveryAddress: c.DeliveryAddr, MaxFeePerVbyte: c.MaxFeeRate,
		// As lncli: a cooperative close with HTLCs in flight is
		// taken, and waits for them.
		NoWait: true}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		stream, err := client.CloseChannel(c.a.ctx, req)
		if err != nil {
			return err
		}
		for {
			up, err := stream.Recv()
			if err != nil {
				return err
			}
			var txid []byte
			switch u := up.Update.(type) {
			case *lnrpc.CloseStatusUpdate_CloseInstant:
				if n := u.CloseInstant.NumPendingHtlcs; n > 0 {
					fmt.Fprintf(c.a.err, "Close started; it waits for "+
						"%d HTLCs in flight to resolve\n", n)
				}
				continue
			case *lnrpc.CloseStatusUpdate_ClosePending:
				txid = u.ClosePending.Txid
			case *lnrpc.CloseStatusUpdate_ChanClose:
				txid = u.ChanClose.ClosingTxid
			default:
				continue
			}
			h, err := chainhash.NewHash(txid)
			if err != nil {
				return err
			}
			if err := c.a.printJSON(map[string]string{"closing_txid": h.String()}); err != nil {
				return err
			}
			if _, done := up.Update.(*lnrpc.CloseStatusUpdate_ChanClose); done || !c.Block {
				return nil
			}
		}
	})
}

type closedChannelsCmd struct {
	a               *app
	Cooperative     bool `long:"cooperative" description:"list channels that were closed cooperatively"`
	LocalForce      bool `long:"local_force" description:"list channels that were force-closed by the local node"`
	RemoteForce     bool `long:"remote_force" description:"list channels that were force-closed by the remote node"`
	Breach          bool `long:"breach" description:"list channels for which the remote node attempted to broadcast a prior revoked channel state"`
	FundingCanceled bool `long:"funding_canceled" description:"list channels that were never fully opened"`
	Abandoned       bool `long:"abandoned" description:"list channels that were abandoned by the local node"`
}

func (c *closedChannelsCmd) Execute(args []string) error {
	if err := noArgs("closedchannels", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ClosedChannels(c.a.ctx, &lnrpc.ClosedChannelsRequest{
			Cooperative: c.Cooperative, LocalForce: c.LocalForce,
			RemoteForce: c.RemoteForce, Breach: c.Breach,
			FundingCanceled: c.FundingCanceled, Abandoned: c.Abandoned})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type channelBalanceCmd struct{ a *app }

func (c *channelBalanceCmd) Execute(args []string) error {
	if err := noArgs("channelbalance", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ChannelBalance(c.a.ctx, &lnrpc.ChannelBalanceRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
