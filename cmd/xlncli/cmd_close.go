package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/rpc/lnrpc"
)

type closeChannelCmd struct {
	a            *app
	FundingTxid  string  `long:"funding_txid" description:"the txid of the channel's funding transaction"`
	OutputIndex  *uint32 `long:"output_index" description:"the output index of the funding output"`
	ChanPoint    string  `long:"chan_point" description:"the channel point: funding_txid:output_index"`
	Force        bool    `long:"force" description:"broadcast our commitment transaction: a unilateral close"`
	Block        bool    `long:"block" description:"wait until the closing transaction confirms"`
	ConfTarget   int32   `long:"conf_target" description:"the number of blocks a cooperative close should confirm in"`
	SatPerVByte  uint64  `long:"sat_per_vbyte" description:"the fee rate of a cooperative close, in sat/vbyte"`
	DeliveryAddr string  `long:"delivery_addr" description:"where a cooperative close pays our funds"`
}

// chanPoint reads the channel point from the flags or the arguments, as
// lncli does: funding_txid [output_index], or --chan_point.
func (c *closeChannelCmd) chanPoint(args []string) (*lnrpc.ChannelPoint, error) {
	txid, idx := c.FundingTxid, c.OutputIndex
	if c.ChanPoint != "" {
		t, i, ok := strings.Cut(c.ChanPoint, ":")
		if !ok {
			return nil, fmt.Errorf("--chan_point %q: want txid:index", c.ChanPoint)
		}
		n, err := strconv.ParseUint(i, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--chan_point %q: %w", c.ChanPoint, err)
		}
		v := uint32(n)
		txid, idx = t, &v
	}
	if txid == "" && len(args) > 0 {
		txid, args = args[0], args[1:]
	}
	if idx == nil && len(args) > 0 {
		n, err := strconv.ParseUint(args[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("output_index %q: %w", args[0], err)
		}
		v := uint32(n)
		idx, args = &v, args[1:]
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", args)
	}
	if txid == "" {
		return nil, fmt.Errorf("the funding txid is required (--funding_txid or --chan_point)")
	}
	if _, err := chainhash.NewHashFromStr(txid); err != nil {
		return nil, fmt.Errorf("funding txid %q: %w", txid, err)
	}
	cp := &lnrpc.ChannelPoint{FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{FundingTxidStr: txid}}
	if idx != nil {
		cp.OutputIndex = *idx
	}
	return cp, nil
}

func (c *closeChannelCmd) Execute(args []string) error {
	cp, err := c.chanPoint(args)
	if err != nil {
		return err
	}
	req := &lnrpc.CloseChannelRequest{ChannelPoint: cp, Force: c.Force,
		TargetConf: c.ConfTarget, SatPerVbyte: c.SatPerVByte,
		DeliveryAddress: c.DeliveryAddr}
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
