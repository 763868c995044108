package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// TestLndAliasOnlyChannel: lnd opens an alias-only channel to xlnd
// (lncli openchannel --private --scid_alias --channel_type anchors: the
// channel_type carries option_scid_alias). xlnd accepts it; its private
// invoices hint the channel by lnd's alias only, and lnd pays one; xlnd
// pays lnd over it. A third node forwarding through xlnd into the channel
// fails with unknown_next_peer when its route names the real scid (BOLT
// 2) and succeeds by the alias xlnd gave lnd.
func TestLndAliasOnlyChannel(t *testing.T) {
	nw := harness.New(t)
	lnd := startLnd(t, nw)
	logLndWarnings(t, nw)
	x := startNode(t, nw, "x", announceArgs...)
	payer := startNode(t, nw, "payer", announceArgs...)
	check(t, nw.Fund(payer, 5_000_000))
	lnd.fund(t, nw, 5_000_000)
	ctx := context.Background()
	_, err := x.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
		Addr: &lnrpc.LightningAddress{Pubkey: lnd.pub, Host: lnd.p2p}, Perm: true})
	check(t, err)
	check(t, x.WaitPeer(lnd.pub))

	const capacity, push = 600_000, 200_000
	var open struct {
		Txid string `json:"funding_txid"`
	}
	check(t, harness.WaitFor(func() error {
		return lnd.lncli(&open, "openchannel", "--node_key", x.PubKey(),
			"--local_amt", strconv.Itoa(capacity), "--push_amt", strconv.Itoa(push),
			"--private", "--scid_alias", "--channel_type", "anchors")
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
	if !ch.Private || ch.PeerScidAlias == 0 || len(ch.AliasScids) == 0 ||
		ch.CommitmentType != lnrpc.CommitmentType_ANCHORS {

		t.Fatalf("xlnd's alias-only channel: private %v, peer alias %d, "+
			"aliases %v, type %v", ch.Private, ch.PeerScidAlias,
			ch.AliasScids, ch.CommitmentType)
	}

	// lnd keeps xlnd's channel_update, sent under the real scid: lnd
	// 0.21 files an alias-only channel's edge under it and holds an
	// update named by its alias as of an unknown channel.
	check(t, harness.WaitFor(func() error {
		var raw map[string]json.RawMessage
		if err := lnd.lncli(&raw, "getchaninfo", "--chan_id",
			strconv.FormatUint(ch.ChanId, 10)); err != nil {

			return err
		}
		for _, n := range []string{"1", "2"} {
			var pub string
			_ = json.Unmarshal(raw["node"+n+"_pub"], &pub)
			if pub == x.PubKey() && len(raw["node"+n+"_policy"]) > 0 &&
				string(raw["node"+n+"_policy"]) != "null" {

				return nil
			}
		}
		return fmt.Errorf("lnd holds no policy of xlnd for %d: %v", ch.ChanId, raw)
	}, harness.SyncTimeout))

	// xlnd's private invoice names the channel by lnd's alias, never by
	// its real scid; lnd pays it.
	var inv *lnrpc.AddInvoiceResponse
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
		if h := dec.RouteHints[0].HopHints[0]; h.ChanId != ch.PeerScidAlias ||
			h.NodeId != lnd.pub {

			t.Fatalf("hint %v, want lnd %s over its alias %d (real scid %d)",
				h, lnd.pub, ch.PeerScidAlias, ch.ChanId)
		}
		return nil
	}, harness.SyncTimeout))
	check(t, harness.WaitFor(func() error {
		return lnd.lncli(nil, "payinvoice", "--force", "--json", inv.PaymentRequest)
	}, harness.SyncTimeout))
	waitInvoiceState(t, x, inv.RHash, lnrpc.Invoice_SETTLED)

	// xlnd pays lnd over it; its first hop names the real scid, which
	// is our own channel, not an incoming HTLC.
	lndInvoice := func(amt int) string {
		t.Helper()
		var add struct {
			PayReq string `json:"payment_request"`
		}
		check(t, lnd.lncli(&add, "addinvoice", "--amt", strconv.Itoa(amt)))
		return add.PayReq
	}
	mustPay(t, x, &routerrpc.SendPaymentRequest{PaymentRequest: lndInvoice(15_000)})

	// payer → x → lnd: x forwards by its alias, not by the real scid.
	_, err = payer.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
		Addr: &lnrpc.LightningAddress{Pubkey: x.PubKey(), Host: x.P2PAddr()}, Perm: true})
	check(t, err)
	check(t, payer.WaitPeer(x.PubKey()))
	xpub, err := hexPub(x.PubKey())
	check(t, err)
	cp, err := payer.RPC.OpenChannelSync(ctx, &lnrpc.OpenChannelRequest{NodePubkey: xpub,
		LocalFundingAmount: 1_000_000, Private: true})
	check(t, err)
	txid, err := chainHash(cp.GetFundingTxidBytes())
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	_, err = nw.Mine(6)
	check(t, err)
	payerPoint := fmt.Sprintf("%s:%d", txid, cp.OutputIndex)
	waitActive(t, x, payerPoint)
	waitActive(t, payer, payerPoint)
	hint := func(scid uint64) []*lnrpc.RouteHint {
		return []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{
			NodeId: x.PubKey(), ChanId: scid, FeeBaseMsat: wantBaseFee,
			FeeProportionalMillionths: 1, CltvExpiryDelta: 80}}}}
	}
	// By the alias x gave lnd first (a failure of the real scid would
	// make the payer's mission control avoid x→lnd), then by the real
	// scid.
	p := mustPay(t, payer, &routerrpc.SendPaymentRequest{
		PaymentRequest: lndInvoice(5_000), RouteHints: hint(ch.AliasScids[0])})
	last := p.Htlcs[len(p.Htlcs)-1].Route.Hops
	if len(last) != 2 || last[1].ChanId != ch.AliasScids[0] {
		t.Fatalf("route %v, want x then lnd over x's alias %d", last, ch.AliasScids[0])
	}
	p, err = pay(t, payer, &routerrpc.SendPaymentRequest{
		PaymentRequest: lndInvoice(5_000), RouteHints: hint(ch.ChanId)})
	check(t, err)
	if p.Status != lnrpc.Payment_FAILED || len(p.Htlcs) == 0 {
		t.Fatalf("payment by the real scid: %v", p)
	}
	f := p.Htlcs[len(p.Htlcs)-1].Failure
	if f == nil || f.Code != lnrpc.Failure_UNKNOWN_NEXT_PEER || f.FailureSourceIndex != 1 {
		t.Fatalf("payment by the real scid failed with %v, want "+
			"unknown_next_peer from x", f)
	}
}
