package itest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// openTo has lnd open a channel to x (local amt, push) and returns its
// point once active on both sides.
func (l *lndNode) openTo(t *testing.T, x *harness.Node, amt, push int64) *lnrpc.Channel {
	t.Helper()
	var open struct {
		Txid string `json:"funding_txid"`
	}
	err := harness.WaitFor(func() error {
		return l.lncli(&open, "openchannel", "--node_key", x.PubKey(),
			"--local_amt", strconv.FormatInt(amt, 10), "--push_amt", strconv.FormatInt(push, 10))
	}, harness.SyncTimeout)
	check(t, err)
	tx, err := l.nw.WaitTx(open.Txid)
	check(t, err)
	point := ""
	for i, out := range tx.Tx.TxOut {
		if out.Value == amt {
			point = fmt.Sprintf("%s:%d", open.Txid, i)
		}
	}
	_, err = l.nw.Mine(6)
	check(t, err)
	l.waitActive(point)
	ch := waitActive(t, x, point)
	l.waitOwnPolicy(t, ch.ChanId)
	return ch
}

// waitOwnPolicy waits until lnd's graph holds its own policy for the
// channel. lnd reports a channel active as soon as its link runs, but its
// path finder skips a local channel whose outgoing policy is not yet in
// its graph ("insufficient local balance"), and lnd writes that policy
// only after its own channel_ready loop checks again, up to a second or
// more later on a loaded machine; a payment lnd makes over the channel
// before then fails in lnd alone.
func (l *lndNode) waitOwnPolicy(t *testing.T, chanID uint64) {
	t.Helper()
	err := harness.WaitFor(func() error {
		var edge struct {
			Node1Pub    string          `json:"node1_pub"`
			Node1Policy json.RawMessage `json:"node1_policy"`
			Node2Policy json.RawMessage `json:"node2_policy"`
		}
		if err := l.lncli(&edge, "getchaninfo", "--chan_id", strconv.FormatUint(chanID, 10)); err != nil {
			return err
		}
		own := edge.Node2Policy
		if edge.Node1Pub == l.pub {
			own = edge.Node1Policy
		}
		if len(own) == 0 || string(own) == "null" {
			return fmt.Errorf("lnd: no policy of its own yet for channel %d", chanID)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
}

// lndPayment is what lncli prints of a payment with --json.
type lndPayment struct {
	Status   string `json:"status"`
	Preimage string `json:"payment_preimage"`
	FeeMsat  string `json:"fee_msat"`
}

// TestLndPaymentsInterop pays between xlnd and lnd both ways: invoices,
// keysend, and payments forwarded by lnd between two xlnd nodes and by
// xlnd for lnd.
func TestLndPaymentsInterop(t *testing.T) {
	nw := harness.New(t)
	lnd := startLnd(t, nw)
	x1 := startNode(t, nw, "x1", append([]string{"--accept-keysend"}, announceArgs...)...)
	x2 := startNode(t, nw, "x2", announceArgs...)
	check(t, nw.Fund(x1, 5_000_000))
	lnd.fund(t, nw, 5_000_000)
	t.Cleanup(func() {
		b, _ := os.ReadFile(filepath.Join(nw.Dir(), "lnd.out"))
		for _, line := range strings.Split(string(b), "\n") {
			if (strings.Contains(line, "[ERR]") || strings.Contains(line, "[WRN]")) &&
				(strings.Contains(line, "HSWC") || strings.Contains(line, "CRTR") ||
					strings.Contains(line, "INVC") || strings.Contains(line, "PEER")) {
				t.Logf("lnd: %s", line)
			}
		}
	})

	ctx := context.Background()
	for _, x := range []*harness.Node{x1, x2} {
		_, err := x.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
			Addr: &lnrpc.LightningAddress{Pubkey: lnd.pub, Host: lnd.p2p}, Perm: true})
		check(t, err)
		check(t, x.WaitPeer(lnd.pub))
	}
	check(t, nw.ConnectNodes(x1, x2, true))
	lndPub, err := hexPub(lnd.pub)
	check(t, err)
	// x1 -> lnd, lnd -> x1, lnd -> x2; x1 -> x2 private.
	x1lnd := openToLnd(t, nw, x1, lnd, 600_000, 60_000)
	lndx1 := lnd.openTo(t, x1, 500_000, 50_000)
	lndx2 := lnd.openTo(t, x2, 500_000, 50_000)
	x1x2 := openPayChannel(t, nw, x1, x2, chanOpts{push: 50_000, private: true})

	// Each way over each channel: the one xlnd opened and the one lnd
	// opened.
	for _, ch := range []*lnrpc.Channel{x1lnd, lndx1} {
		t.Run("xlnd pays lnd's invoice over "+ch.ChannelPoint, func(t *testing.T) {
			var inv struct {
				PayReq string `json:"payment_request"`
				RHash  string `json:"r_hash"`
			}
			check(t, lnd.lncli(&inv, "addinvoice", "--amt", "1000", "--memo", "from xlnd"))
			p := mustPay(t, x1, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PayReq,
				OutgoingChanIds: []uint64{ch.ChanId}})
			var looked struct {
				State   string `json:"state"`
				AmtPaid string `json:"amt_paid_sat"`
			}
			check(t, lnd.lncli(&looked, "lookupinvoice", inv.RHash))
			if looked.State != "SETTLED" || looked.AmtPaid != "1000" || p.FeeMsat != 0 ||
				p.Htlcs[0].Route.Hops[0].ChanId != ch.ChanId {
				t.Fatalf("lnd's invoice %+v, payment %v", looked, p)
			}
		})

		t.Run("lnd pays xlnd's invoice over "+ch.ChannelPoint, func(t *testing.T) {
			inv, err := x1.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 2000, Memo: "from lnd"})
			check(t, err)
			var p lndPayment
			check(t, lnd.lncli(&p, "payinvoice", "--force", "--json",
				"--outgoing_chan_id", strconv.FormatUint(ch.ChanId, 10), inv.PaymentRequest))
			if p.Status != "SUCCEEDED" {
				t.Fatalf("lnd's payment %+v", p)
			}
			settled := waitSettled(t, x1, inv.RHash)
			if settled.AmtPaidSat != 2000 || fmt.Sprintf("%x", settled.RPreimage) != p.Preimage ||
				len(settled.Htlcs) != 1 || settled.Htlcs[0].ChanId != ch.ChanId {
				t.Fatalf("xlnd's invoice %v", settled)
			}
		})
	}

	t.Run("keysend xlnd to lnd", func(t *testing.T) {
		pre := sha256.Sum256([]byte("keysend to lnd"))
		hash := sha256.Sum256(pre[:])
		mustPay(t, x1, &routerrpc.SendPaymentRequest{Dest: lndPub, Amt: 300, PaymentHash: hash[:],
			DestCustomRecords: map[uint64][]byte{5482373484: pre[:]}})
		var looked struct {
			State     string `json:"state"`
			IsKeysend bool   `json:"is_keysend"`
		}
		check(t, lnd.lncli(&looked, "lookupinvoice", fmt.Sprintf("%x", hash)))
		if looked.State != "SETTLED" || !looked.IsKeysend {
			t.Fatalf("lnd's keysend invoice %+v", looked)
		}
	})

	t.Run("keysend lnd to xlnd", func(t *testing.T) {
		var p lndPayment
		check(t, lnd.lncli(&p, "sendpayment", "--dest", x1.PubKey(), "--amt", "400", "--keysend", "--json"))
		if p.Status != "SUCCEEDED" {
			t.Fatalf("lnd's keysend %+v", p)
		}
		resp, err := x1.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 100})
		check(t, err)
		found := false
		for _, inv := range resp.Invoices {
			if inv.IsKeysend && inv.State == lnrpc.Invoice_SETTLED && inv.AmtPaidSat == 400 {
				found = true
			}
		}
		if !found {
			t.Fatalf("no settled keysend invoice of 400 sat at xlnd: %v", resp.Invoices)
		}
	})

	t.Run("lnd forwards xlnd to xlnd", func(t *testing.T) {
		inv, err := x2.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 3000})
		check(t, err)
		// lnd's channel to x2 by its default policy, as a hint; x1's
		// direct channel to x2 left out by the outgoing channel.
		hint := []*lnrpc.RouteHint{{HopHints: []*lnrpc.HopHint{{NodeId: lnd.pub, ChanId: lndx2.ChanId,
			FeeBaseMsat: 1000, FeeProportionalMillionths: 1, CltvExpiryDelta: 80}}}}
		p := mustPay(t, x1, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest,
			RouteHints: hint, OutgoingChanIds: []uint64{x1lnd.ChanId}})
		if len(p.Htlcs) != 1 || len(p.Htlcs[0].Route.Hops) != 2 || p.FeeMsat != 1003 {
			t.Fatalf("payment through lnd %v", p)
		}
		waitSettled(t, x2, inv.RHash)
	})

	t.Run("xlnd forwards for lnd", func(t *testing.T) {
		// x2's invoice names x1's private channel to it, with x1's
		// policy; lnd pays it through x1.
		inv, err := x2.RPC.AddInvoice(ctx, &lnrpc.Invoice{Value: 4000, RouteHints: []*lnrpc.RouteHint{{
			HopHints: []*lnrpc.HopHint{{NodeId: x1.PubKey(), ChanId: x1x2.ChanId,
				FeeBaseMsat: 1000, FeeProportionalMillionths: 1, CltvExpiryDelta: 80}}}}})
		check(t, err)
		var p lndPayment
		check(t, lnd.lncli(&p, "payinvoice", "--force", "--json",
			"--outgoing_chan_id", strconv.FormatUint(lndx1.ChanId, 10), inv.PaymentRequest))
		if p.Status != "SUCCEEDED" || p.FeeMsat != "1004" {
			t.Fatalf("lnd's payment through xlnd %+v", p)
		}
		waitSettled(t, x2, inv.RHash)
	})

	testPayAcrossLndGraph(t, nw, x1, x2, lnd, x1lnd, lndx1, lndx2)
}

// testPayAcrossLndGraph pays across each implementation with routes from
// gossip alone: x1 pays x2 through lnd (lnd's channel to x2 learnt from
// lnd's announcements), x1 forwards lnd's payment to itself (lnd → x1 →
// lnd), and lnd pays x2 through x1 over a public channel x1 opens to x2
// (learnt from xlnd's). No invoice carries a hint; the
// outgoing channel keeps each payer off its direct channel.
func testPayAcrossLndGraph(t *testing.T, nw *harness.Network, x1, x2 *harness.Node, lnd *lndNode, x1lnd, lndx1, lndx2 *lnrpc.Channel) {
	t.Run("xlnd pays across lnd from the graph", func(t *testing.T) {
		err := harness.WaitFor(func() error {
			e, err := x1.RPC.GetChanInfo(t.Context(), &lnrpc.ChanInfoRequest{ChanId: lndx2.ChanId})
			if err != nil {
				return err
			}
			p := e.Node1Policy
			if e.Node2Pub == lnd.pub {
				p = e.Node2Policy
			}
			if p == nil {
				return fmt.Errorf("x1 lacks lnd's policy of %d", lndx2.ChanId)
			}
			return nil
		}, harness.SyncTimeout)
		check(t, err)
		inv, err := x2.RPC.AddInvoice(t.Context(), &lnrpc.Invoice{Value: 5000})
		check(t, err)
		p := mustPay(t, x1, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest,
			OutgoingChanIds: []uint64{x1lnd.ChanId}})
		last := p.Htlcs[len(p.Htlcs)-1].Route
		if len(last.Hops) != 2 || last.Hops[0].PubKey != lnd.pub || last.Hops[1].ChanId != lndx2.ChanId {
			t.Fatalf("payment across lnd went %v", last)
		}
		waitSettled(t, x2, inv.RHash)
	})

	t.Run("xlnd forwards lnd to lnd", func(t *testing.T) {
		// lnd pays its own invoice out over its channel to x1 and back
		// over x1's channel to it: x1 forwards between two channels
		// with lnd.
		lndHasOurPolicy(t, lnd, x1, x1lnd.ChanId)
		var inv struct {
			PayReq string `json:"payment_request"`
			RHash  string `json:"r_hash"`
		}
		check(t, lnd.lncli(&inv, "addinvoice", "--amt", "7000"))
		var p lndPayment
		err := harness.WaitFor(func() error {
			return lnd.lncli(&p, "payinvoice", "--force", "--json", "--allow_self_payment",
				"--outgoing_chan_id", strconv.FormatUint(lndx1.ChanId, 10),
				"--last_hop", x1.PubKey(), inv.PayReq)
		}, harness.SyncTimeout)
		check(t, err)
		if p.Status != "SUCCEEDED" || p.FeeMsat != "1007" {
			t.Fatalf("lnd's circular payment through xlnd %+v", p)
		}
		var looked struct {
			State string `json:"state"`
		}
		check(t, lnd.lncli(&looked, "lookupinvoice", inv.RHash))
		if looked.State != "SETTLED" {
			t.Fatalf("lnd's own invoice %+v", looked)
		}
	})

	t.Run("lnd pays across xlnd from the graph", func(t *testing.T) {
		x1x2 := openPayChannel(t, nw, x1, x2, chanOpts{push: 50_000})
		lndHasOurPolicy(t, lnd, x1, x1x2.ChanId)
		inv, err := x2.RPC.AddInvoice(t.Context(), &lnrpc.Invoice{Value: 6000})
		check(t, err)
		if len(inv.PaymentRequest) == 0 {
			t.Fatal("no payment request")
		}
		var p lndPayment
		err = harness.WaitFor(func() error {
			return lnd.lncli(&p, "payinvoice", "--force", "--json",
				"--outgoing_chan_id", strconv.FormatUint(lndx1.ChanId, 10), inv.PaymentRequest)
		}, harness.SyncTimeout)
		check(t, err)
		if p.Status != "SUCCEEDED" || p.FeeMsat != "1006" {
			t.Fatalf("lnd's payment across xlnd %+v", p)
		}
		settled := waitSettled(t, x2, inv.RHash)
		if len(settled.Htlcs) != 1 || settled.Htlcs[0].ChanId != x1x2.ChanId {
			t.Fatalf("x2's invoice paid over %v, want the public channel %d", settled.Htlcs, x1x2.ChanId)
		}
	})
}

// openToLnd has x open a channel to lnd and returns it once active on
// both sides.
func openToLnd(t *testing.T, nw *harness.Network, x *harness.Node, lnd *lndNode, amt, push int64) *lnrpc.Channel {
	t.Helper()
	pub, err := hexPub(lnd.pub)
	check(t, err)
	resp, err := x.RPC.OpenChannelSync(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: amt, PushSat: push})
	check(t, err)
	txid, err := chainHash(resp.GetFundingTxidBytes())
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	point := fmt.Sprintf("%s:%d", txid, resp.OutputIndex)
	_, err = nw.Mine(6)
	check(t, err)
	lnd.waitActive(point)
	ch := waitActive(t, x, point)
	lnd.waitOwnPolicy(t, ch.ChanId)
	return ch
}
