package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// payChanCap is the capacity of the payment tests' channels.
const payChanCap = 1_000_000

// chanOpts are the options of a channel a payment test opens.
type chanOpts struct {
	push    int64
	private bool
}

// openPayChannel has a open a channel to b, mines it and waits until both
// list it active; it returns the channel as a sees it.
func openPayChannel(t *testing.T, nw *harness.Network, a, b *harness.Node, o chanOpts) *lnrpc.Channel {
	t.Helper()
	pub, err := hexPub(b.PubKey())
	check(t, err)
	stream, err := a.RPC.OpenChannel(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: payChanCap, PushSat: o.push, Private: o.private})
	check(t, err)
	up, err := stream.Recv()
	check(t, err)
	pending := up.GetChanPending()
	if pending == nil {
		t.Fatalf("first update %v, want chan_pending", up)
	}
	txid, err := chainhash.NewHash(pending.Txid)
	check(t, err)
	_, err = nw.WaitTx(txid.String())
	check(t, err)
	point := fmt.Sprintf("%v:%d", txid, pending.OutputIndex)
	_, err = nw.Mine(6)
	check(t, err)
	waitActive(t, b, point)
	return waitActive(t, a, point)
}

// router is a Router sub-server client of n with its admin macaroon.
func router(t *testing.T, n *harness.Node) routerrpc.RouterClient {
	t.Helper()
	conn, err := n.Conn(n.AdminMacaroonPath())
	check(t, err)
	return routerrpc.NewRouterClient(conn)
}

func invoicesClient(t *testing.T, n *harness.Node) invoicesrpc.InvoicesClient {
	t.Helper()
	conn, err := n.Conn(n.AdminMacaroonPath())
	check(t, err)
	return invoicesrpc.NewInvoicesClient(conn)
}

// pay sends req with SendPaymentV2 and returns the final state.
func pay(t *testing.T, n *harness.Node, req *routerrpc.SendPaymentRequest) (*lnrpc.Payment, error) {
	t.Helper()
	if req.TimeoutSeconds == 0 {
		req.TimeoutSeconds = 60
	}
	if req.FeeLimitSat == 0 && req.FeeLimitMsat == 0 {
		req.FeeLimitSat = 1000
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	stream, err := router(t, n).SendPaymentV2(ctx, req)
	if err != nil {
		return nil, err
	}
	var last *lnrpc.Payment
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if last == nil {
				return nil, errors.New("stream ended without a state")
			}
			return last, nil
		}
		if err != nil {
			return nil, err
		}
		last = p
	}
}

// mustPay pays and fails the test unless the payment succeeds.
func mustPay(t *testing.T, n *harness.Node, req *routerrpc.SendPaymentRequest) *lnrpc.Payment {
	t.Helper()
	p, err := pay(t, n, req)
	check(t, err)
	if p.Status != lnrpc.Payment_SUCCEEDED {
		t.Fatalf("%s: payment %s: %v", n.Name(), p.Status, p)
	}
	return p
}

// failedWith pays and checks that the payment fails with reason, its last
// HTLC with code from the node at source index idx.
func failedWith(t *testing.T, n *harness.Node, req *routerrpc.SendPaymentRequest,
	reason lnrpc.PaymentFailureReason, code lnrpc.Failure_FailureCode, idx uint32) *lnrpc.Payment {

	t.Helper()
	p, err := pay(t, n, req)
	check(t, err)
	if p.Status != lnrpc.Payment_FAILED || p.FailureReason != reason || len(p.Htlcs) == 0 {
		t.Fatalf("payment %v, want FAILED with %v", p, reason)
	}
	f := p.Htlcs[len(p.Htlcs)-1].Failure
	if f == nil || f.Code != code || f.FailureSourceIndex != idx {
		t.Fatalf("last HTLC failed with %v, want %v from index %d", f, code, idx)
	}
	return p
}

// balances is what a node holds in its channels, by channel point.
func localBalance(t *testing.T, n *harness.Node, point string) (local, remote int64) {
	t.Helper()
	resp, err := n.RPC.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{})
	check(t, err)
	for _, c := range resp.Channels {
		if c.ChannelPoint == point {
			return c.LocalBalance, c.RemoteBalance
		}
	}
	t.Fatalf("%s: no channel %s", n.Name(), point)
	return 0, 0
}

// waitSettled waits until n's invoice for hash is SETTLED.
func waitSettled(t *testing.T, n *harness.Node, hash []byte) *lnrpc.Invoice {
	t.Helper()
	var inv *lnrpc.Invoice
	err := harness.WaitFor(func() error {
		var err error
		inv, err = n.RPC.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: hash})
		if err != nil {
			return err
		}
		if inv.State != lnrpc.Invoice_SETTLED {
			return fmt.Errorf("invoice %x %v", hash, inv.State)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
	return inv
}

// TestPayInvoiceOneChannel: alice pays bob's invoice over their channel;
// the invoice settles, the balances move by the amount, the hash cannot be
// paid twice, and ListPayments and TrackPaymentV2 show the payment.
func TestPayInvoiceOneChannel(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, true))
	ch := openPayChannel(t, nw, alice, bob, chanOpts{push: 100_000})
	ctx := t.Context()

	inv, err := bob.RPC.AddInvoice(ctx, &lnrpc.Invoice{Memo: "coffee", Value: 10_000})
	check(t, err)
	aBefore, _ := localBalance(t, alice, ch.ChannelPoint)
	p := mustPay(t, alice, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest})
	if p.ValueSat != 10_000 || p.FeeMsat != 0 || p.PaymentHash != hex.EncodeToString(inv.RHash) {
		t.Fatalf("payment %v", p)
	}
	settled := waitSettled(t, bob, inv.RHash)
	if settled.AmtPaidSat != 10_000 || hex.EncodeToString(settled.RPreimage) != p.PaymentPreimage {
		t.Fatalf("invoice %v", settled)
	}
	err = harness.WaitFor(func() error {
		aNow, _ := localBalance(t, alice, ch.ChannelPoint)
		bNow, _ := localBalance(t, bob, ch.ChannelPoint)
		if aNow != aBefore-10_000 || bNow != 110_000 {
			return fmt.Errorf("balances alice %d (was %d), bob %d", aNow, aBefore, bNow)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)

	_, err = pay(t, alice, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PaymentRequest})
	if status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), "invoice is already paid") {
		t.Fatalf("paying twice: %v", err)
	}
	list, err := alice.RPC.ListPayments(ctx, &lnrpc.ListPaymentsRequest{IncludeIncomplete: true})
	check(t, err)
	if len(list.Payments) != 1 || list.Payments[0].Status != lnrpc.Payment_SUCCEEDED ||
		list.Payments[0].PaymentRequest != inv.PaymentRequest {
		t.Fatalf("listpayments %v", list)
	}
	track, err := router(t, alice).TrackPaymentV2(ctx, &routerrpc.TrackPaymentRequest{PaymentHash: inv.RHash})
	check(t, err)
	got, err := track.Recv()
	check(t, err)
	if got.Status != lnrpc.Payment_SUCCEEDED {
		t.Fatalf("track %v", got)
	}
	if _, err := track.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("track stream not closed after the final state: %v", err)
	}

	xlncliPayments(t, alice, bob, inv.RHash)

	// Keysend the other way: alice did not ask for keysend
	// (--accept-keysend), so she refuses it as a payment for an unknown
	// hash, and bob sees the code from her (index 1).
	pre := sha256.Sum256([]byte("keysend"))
	hash := sha256.Sum256(pre[:])
	apub, err := hexPub(alice.PubKey())
	check(t, err)
	failedWith(t, bob, &routerrpc.SendPaymentRequest{Dest: apub, Amt: 1000, PaymentHash: hash[:],
		DestCustomRecords: map[uint64][]byte{5482373484: pre[:]}},
		lnrpc.PaymentFailureReason_FAILURE_REASON_INCORRECT_PAYMENT_DETAILS,
		lnrpc.Failure_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS, 1)
}

// xlncliPayments drives alice's payment commands through bin/xlncli:
// listpayments, trackpayment, payinvoice, buildroute piped into
// sendtoroute, estimateroutefee and deletepayments.
func xlncliPayments(t *testing.T, alice, bob *harness.Node, paid []byte) {
	t.Helper()
	cli := func(v any, args ...string) {
		t.Helper()
		cliJSON(t, alice, v, append(alice.CLIArgs(), args...)...)
	}
	var list struct {
		Payments []struct {
			PaymentHash string `json:"payment_hash"`
			Status      string `json:"status"`
		} `json:"payments"`
	}
	cli(&list, "listpayments")
	if len(list.Payments) != 1 || list.Payments[0].PaymentHash != hex.EncodeToString(paid) ||
		list.Payments[0].Status != "SUCCEEDED" {
		t.Fatalf("xlncli listpayments: %+v", list)
	}
	var tracked struct {
		Status string `json:"status"`
	}
	cli(&tracked, "trackpayment", "--json", hex.EncodeToString(paid)) // final already: one update
	if tracked.Status != "SUCCEEDED" {
		t.Fatalf("xlncli trackpayment: %+v", tracked)
	}

	inv, err := bob.RPC.AddInvoice(t.Context(), &lnrpc.Invoice{Value: 500})
	check(t, err)
	var paidNow struct {
		Status string `json:"status"`
		Value  string `json:"value_sat"`
	}
	// --json prints every update, as lncli's: the last is the outcome.
	out, err := alice.CLI(append(alice.CLIArgs(), "payinvoice", "-f", "--json", inv.PaymentRequest)...)
	check(t, err)
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		check(t, dec.Decode(&paidNow))
	}
	if paidNow.Status != "SUCCEEDED" || paidNow.Value != "500" {
		t.Fatalf("xlncli payinvoice: %+v", paidNow)
	}

	out, err = alice.CLI(append(alice.CLIArgs(), "buildroute", "--amt", "100", "--hops", bob.PubKey())...)
	check(t, err)
	unknown := sha256.Sum256([]byte("no invoice"))
	var attempt struct {
		Status  string `json:"status"`
		Failure struct {
			Code  string `json:"code"`
			Index int    `json:"failure_source_index"`
		} `json:"failure"`
	}
	got, err := alice.CLIInput(out, append(alice.CLIArgs(), "sendtoroute", "--payment_hash",
		hex.EncodeToString(unknown[:]), "--routes", "-")...)
	check(t, err)
	if err := json.Unmarshal(got, &attempt); err != nil {
		t.Fatalf("sendtoroute: %v\n%s", err, got)
	}
	if attempt.Status != "FAILED" || attempt.Failure.Code != "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS" ||
		attempt.Failure.Index != 1 {
		t.Fatalf("xlncli sendtoroute: %s", got)
	}

	bpub := bob.PubKey()
	var fee struct {
		Fee   string `json:"routing_fee_msat"`
		Delay string `json:"time_lock_delay"`
	}
	cli(&fee, "estimateroutefee", "--dest", bpub, "--amt", "100")
	if fee.Fee != "0" || fee.Delay != "83" {
		t.Fatalf("xlncli estimateroutefee: %+v", fee)
	}
	var del struct {
		Status string `json:"status"`
	}
	cli(&del, "deletepayments", "--all")
	if del.Status != "1 payments deleted, failed_htlcs_only=false" {
		t.Fatalf("xlncli deletepayments --all: %+v", del)
	}
}
