package main

import (
	"encoding/hex"
	"fmt"

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
