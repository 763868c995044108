package itest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestLndScidAliasHint: lnd opens a private scid-alias channel to xlnd
// (lncli openchannel --private --scid_alias). xlnd keeps lnd's
// channel_update of it (lnd 0.21 sends this one under the real scid once
// confirmed; one named by an alias we gave is kept too, see routing's
// TestGossipAliasUpdate), and its private invoices hint the channel by
// the alias lnd gave xlnd, never the real scid, with lnd's policy. A
// second xlnd node, with a channel to lnd only, pays such an invoice
// through lnd, which forwards by its alias.
func TestLndScidAliasHint(t *testing.T) {
	nw := harness.New(t)
	lnd := startLnd(t, nw)
	x := startNode(t, nw, "x", announceArgs...)
	payer := startNode(t, nw, "payer", announceArgs...)
	check(t, nw.Fund(payer, 5_000_000))
	lnd.fund(t, nw, 5_000_000)
	ctx := context.Background()
	for _, n := range []*harness.Node{x, payer} {
		_, err := n.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
			Addr: &lnrpc.LightningAddress{Pubkey: lnd.pub, Host: lnd.p2p}, Perm: true})
		check(t, err)
		check(t, n.WaitPeer(lnd.pub))
	}
	openToLnd(t, nw, payer, lnd, 1_000_000, 0)

	// lnd opens the private alias channel to x.
	const capacity = 600_000
	var open struct {
		Txid string `json:"funding_txid"`
	}
	check(t, harness.WaitFor(func() error {
		return lnd.lncli(&open, "openchannel", "--node_key", x.PubKey(),
			"--local_amt", strconv.Itoa(capacity), "--private", "--scid_alias")
	}, harness.SyncTimeout))
	tx, err := nw.WaitTx(open.Txid)
	check(t, err)
	point := ""
	for i, out := range tx.Tx.TxOut {
		if out.Value == capacity {
			point = fmt.Sprintf("%s:%d", open.Txid, i)
		}
	}
	_, err = nw.Mine(6)
	check(t, err)
	lnd.waitActive(point)
	ch := waitActive(t, x, point)
	if !ch.Private || ch.PeerScidAlias == 0 || len(ch.AliasScids) == 0 {
		t.Fatalf("xlnd's alias channel: private %v, peer alias %d, aliases %v",
			ch.Private, ch.PeerScidAlias, ch.AliasScids)
	}
	// lnd's view: the alias it gave x is x's peer alias, and x's alias
	// is lnd's peer alias.
	var lndChans struct {
		Channels []struct {
			Point     string   `json:"channel_point"`
			Aliases   []string `json:"alias_scids"`
			PeerAlias string   `json:"peer_scid_alias"`
			ChanID    string   `json:"chan_id"`
		} `json:"channels"`
	}
	check(t, lnd.lncli(&lndChans, "listchannels"))
	found := false
	for _, c := range lndChans.Channels {
		if c.Point != point {
			continue
		}
		found = true
		mine := strconv.FormatUint(ch.PeerScidAlias, 10)
		if len(c.Aliases) == 0 || !containsStr(c.Aliases, mine) ||
			c.PeerAlias != strconv.FormatUint(ch.AliasScids[0], 10) {
			t.Fatalf("lnd's aliases %v peer alias %s; xlnd's aliases %v peer alias %d",
				c.Aliases, c.PeerAlias, ch.AliasScids, ch.PeerScidAlias)
		}
	}
	if !found {
		t.Fatalf("lnd lists no %s", point)
	}

	// x's private invoice hints the channel by lnd's alias with lnd's
	// policy (its defaults), once lnd's update has come.
	var inv *lnrpc.AddInvoiceResponse
	var hint *lnrpc.HopHint
	check(t, harness.WaitFor(func() error {
		var err error
		inv, err = x.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 20_000, Private: true})
		if err != nil {
			return err
		}
		dec, err := x.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: inv.PaymentRequest})
		if err != nil {
			return err
		}
		if len(dec.RouteHints) != 1 || len(dec.RouteHints[0].HopHints) != 1 {
			return fmt.Errorf("route hints %v", dec.RouteHints)
		}
		hint = dec.RouteHints[0].HopHints[0]
		return nil
	}, harness.SyncTimeout))
	if hint.NodeId != lnd.pub || hint.ChanId != ch.PeerScidAlias || hint.FeeBaseMsat != wantBaseFee ||
		hint.FeeProportionalMillionths != 1 || hint.CltvExpiryDelta != 80 {
		t.Fatalf("hint %v; want lnd %s over its alias %d with its policy", hint, lnd.pub, ch.PeerScidAlias)
	}

	// The payer, behind lnd, pays it: lnd forwards over its alias.
	p := mustPay(t, payer, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest})
	if len(p.Htlcs) == 0 || len(p.Htlcs[len(p.Htlcs)-1].Route.Hops) != 2 {
		t.Fatalf("payment %v", p)
	}
	last := p.Htlcs[len(p.Htlcs)-1].Route.Hops[1]
	if last.ChanId != ch.PeerScidAlias || last.PubKey != x.PubKey() {
		t.Errorf("last hop %v, want x over alias %d", last, ch.PeerScidAlias)
	}
	waitInvoiceState(t, x, inv.RHash, lnrpc.Invoice_SETTLED)
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
