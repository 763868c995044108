package itest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// restInvoice is the part of lnd's REST Invoice JSON the test reads.
type restInvoice struct {
	Memo           string `json:"memo"`
	RHash          string `json:"r_hash"`
	ValueMsat      string `json:"value_msat"`
	State          string `json:"state"`
	AddIndex       string `json:"add_index"`
	PaymentRequest string `json:"payment_request"`
	IsKeysend      bool   `json:"is_keysend"`
}

// TestInvoices drives the invoice calls on a real node over gRPC, REST
// and xlncli: invoices of each kind (amount in sat and msat, none,
// description hash, fallback address, private, hold), look-ups, lists
// paged both ways, a subscription replaying from an add index, decoding,
// a hold invoice canceled, --accept-keysend in the features, and a
// restart that keeps every invoice.
func TestInvoices(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice", "--accept-keysend")
	bob := startNode(t, nw, "bob")
	ctx := t.Context()
	conn, err := alice.Conn(alice.AdminMacaroonPath())
	check(t, err)
	inv := invoicesrpc.NewInvoicesClient(conn)

	// Keysend: alice offers bit 55 (lnd's keysend bit), bob does not.
	info, err := alice.Info()
	check(t, err)
	if f := info.Features[55]; f == nil || f.Name != "keysend" || f.IsRequired {
		t.Errorf("alice with --accept-keysend: feature 55 = %v", f)
	}
	binfo, err := bob.Info()
	check(t, err)
	if binfo.Features[55] != nil {
		t.Errorf("bob without --accept-keysend offers keysend")
	}

	// Invoices of each kind.
	fallback, err := alice.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	check(t, err)
	descHash := sha256.Sum256([]byte("a description delivered apart"))
	reqs := []*lnrpc.Invoice{
		{Memo: "sat", Value: 1000},
		{Memo: "msat", ValueMsat: 1234567},
		{Memo: "any amount"},
		{DescriptionHash: descHash[:], Value: 50},
		{Memo: "fallback", Value: 10, FallbackAddr: fallback.String(), Expiry: 600, CltvExpiry: 144},
		{Memo: "private", Value: 20, Private: true},
	}
	var added []*lnrpc.AddInvoiceResponse
	for i, r := range reqs {
		resp, err := alice.RPC.AddInvoice(ctx, r)
		check(t, err)
		if resp.AddIndex != uint64(i+1) || len(resp.RHash) != 32 || len(resp.PaymentAddr) != 32 {
			t.Fatalf("invoice %d: %v", i, resp)
		}
		added = append(added, resp)
	}
	holdPre := [32]byte{0x42}
	holdHash := sha256.Sum256(holdPre[:])
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Memo: "hold", Hash: holdHash[:], Value: 77})
	check(t, err)
	if hold.AddIndex != 7 {
		t.Fatalf("hold invoice %v", hold)
	}

	// Decode our own: every field as asked.
	dec, err := alice.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: added[4].PaymentRequest})
	check(t, err)
	if dec.Destination != alice.PubKey() || dec.NumSatoshis != 10 || dec.Description != "fallback" ||
		dec.FallbackAddr != fallback.String() || dec.Expiry != 600 || dec.CltvExpiry != 144 ||
		dec.PaymentHash != hex.EncodeToString(added[4].RHash) || !dec.Features[14].GetIsRequired() {
		t.Errorf("decoded %v", dec)
	}
	dec, err = alice.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: added[3].PaymentRequest})
	check(t, err)
	if dec.DescriptionHash != hex.EncodeToString(descHash[:]) || dec.Description != "" {
		t.Errorf("decoded description hash %v", dec)
	}
	dec, err = alice.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: added[1].PaymentRequest})
	check(t, err)
	if dec.NumMsat != 1234567 || dec.NumSatoshis != 1234 || dec.Expiry != 86400 || dec.CltvExpiry != 80 {
		t.Errorf("decoded msat invoice %v", dec)
	}

	// A BOLT 11 vector is for mainnet: this regtest node refuses it, as
	// lnd does.
	const vector = "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh"
	if _, err := alice.RPC.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: vector}); err == nil {
		t.Error("a mainnet invoice decoded on regtest")
	}

	// Subscribe, replaying after add index 5, then a live add.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := alice.RPC.SubscribeInvoices(sctx, &lnrpc.InvoiceSubscription{AddIndex: 5})
	check(t, err)
	for _, want := range []uint64{6, 7} {
		got, err := sub.Recv()
		check(t, err)
		if got.AddIndex != want {
			t.Fatalf("replayed add index %d, want %d", got.AddIndex, want)
		}
	}
	live, err := alice.RPC.AddInvoice(ctx, &lnrpc.Invoice{Memo: "live", Value: 5})
	check(t, err)
	got, err := sub.Recv()
	check(t, err)
	if got.AddIndex != 8 || got.Memo != "live" || live.AddIndex != 8 {
		t.Fatalf("live update %v", got)
	}

	// A single-invoice stream sees the hold invoice canceled.
	single, err := inv.SubscribeSingleInvoice(sctx, &invoicesrpc.SubscribeSingleInvoiceRequest{RHash: holdHash[:]})
	check(t, err)
	first, err := single.Recv()
	check(t, err)
	if first.State != lnrpc.Invoice_OPEN || len(first.RPreimage) != 0 {
		t.Fatalf("hold invoice first state %v", first)
	}
	_, err = inv.SettleInvoice(ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: holdPre[:]})
	if err == nil {
		t.Fatal("settled a hold invoice no HTLC paid")
	}
	_, err = inv.CancelInvoice(ctx, &invoicesrpc.CancelInvoiceMsg{PaymentHash: holdHash[:]})
	check(t, err)
	canceled, err := single.Recv()
	check(t, err)
	if canceled.State != lnrpc.Invoice_CANCELED {
		t.Fatalf("hold invoice then %v", canceled.State)
	}

	// Pages, backwards (lncli's default) and forwards.
	page, err := alice.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 3, Reversed: true})
	check(t, err)
	wantIndices(t, "newest three", page, 6, 8)
	page, err = alice.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 3, Reversed: true,
		IndexOffset: page.FirstIndexOffset})
	check(t, err)
	wantIndices(t, "three before", page, 3, 5)
	page, err = alice.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 3, IndexOffset: 2})
	check(t, err)
	wantIndices(t, "three after 2", page, 3, 5)
	page, err = alice.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{PendingOnly: true, IndexOffset: 6})
	check(t, err)
	wantIndices(t, "pending after 6 (7 canceled)", page, 8, 8)

	// REST at lnd's paths.
	admin := alice.AdminMacaroonPath()
	var ri restInvoice
	restJSON(t, alice, http.MethodGet, "/v1/invoice/"+hex.EncodeToString(added[1].RHash), nil, admin, &ri)
	if ri.Memo != "msat" || ri.ValueMsat != "1234567" || ri.State != "OPEN" || ri.AddIndex != "2" ||
		ri.RHash != base64.StdEncoding.EncodeToString(added[1].RHash) {
		t.Errorf("REST lookup %+v", ri)
	}
	var rl struct {
		Invoices         []restInvoice `json:"invoices"`
		FirstIndexOffset string        `json:"first_index_offset"`
		LastIndexOffset  string        `json:"last_index_offset"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/invoices?num_max_invoices=2&index_offset=1", nil, admin, &rl)
	if len(rl.Invoices) != 2 || rl.FirstIndexOffset != "2" || rl.LastIndexOffset != "3" {
		t.Errorf("REST list %+v", rl)
	}
	var radd struct {
		RHash          string `json:"r_hash"`
		PaymentRequest string `json:"payment_request"`
		AddIndex       string `json:"add_index"`
	}
	restJSON(t, alice, http.MethodPost, "/v1/invoices", map[string]any{"memo": "rest", "value_msat": "2000"},
		admin, &radd)
	if radd.AddIndex != "9" {
		t.Errorf("REST add %+v", radd)
	}
	var rdec struct {
		NumMsat     string `json:"num_msat"`
		Description string `json:"description"`
		Destination string `json:"destination"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/payreq/"+radd.PaymentRequest, nil, admin, &rdec)
	if rdec.NumMsat != "2000" || rdec.Description != "rest" || rdec.Destination != alice.PubKey() {
		t.Errorf("REST decode %+v", rdec)
	}
	holdHash2 := sha256.Sum256([]byte("rest hold"))
	var rhold struct {
		AddIndex string `json:"add_index"`
	}
	restJSON(t, alice, http.MethodPost, "/v2/invoices/hodl",
		map[string]any{"hash": base64.StdEncoding.EncodeToString(holdHash2[:]), "value": "3"}, admin, &rhold)
	restJSON(t, alice, http.MethodPost, "/v2/invoices/cancel",
		map[string]any{"payment_hash": base64.StdEncoding.EncodeToString(holdHash2[:])}, admin, nil)
	restJSON(t, alice, http.MethodGet, "/v2/invoices/lookup?payment_hash="+
		url.QueryEscape(base64.URLEncoding.EncodeToString(holdHash2[:])), nil, admin, &ri)
	if ri.State != "CANCELED" || ri.AddIndex != rhold.AddIndex {
		t.Errorf("REST hold invoice after cancel %+v (added at %s)", ri, rhold.AddIndex)
	}
	// The readonly macaroon may look but not add.
	code, _, err := alice.REST(http.MethodPost, "/v1/invoices", map[string]any{"memo": "x"}, alice.ReadOnlyMacaroonPath())
	check(t, err)
	if code != http.StatusForbidden {
		t.Errorf("readonly add over REST: HTTP %d", code)
	}

	// xlncli, as lncli.
	var cadd struct {
		RHash          string `json:"r_hash"`
		PaymentRequest string `json:"payment_request"`
		AddIndex       string `json:"add_index"`
		PaymentAddr    string `json:"payment_addr"`
	}
	cli := alice.CLIArgs()
	cliJSON(t, alice, &cadd, append(cli, "addinvoice", "--memo=cli", "--expiry=120", "4200")...)
	if cadd.AddIndex != "11" || len(cadd.RHash) != 64 || len(cadd.PaymentAddr) != 64 {
		t.Fatalf("xlncli addinvoice %+v", cadd)
	}
	var clook struct {
		Memo      string `json:"memo"`
		Value     string `json:"value"`
		RHash     string `json:"r_hash"`
		State     string `json:"state"`
		Expiry    string `json:"expiry"`
		RPreimage string `json:"r_preimage"`
	}
	cliJSON(t, alice, &clook, append(cli, "lookupinvoice", cadd.RHash)...)
	pre, _ := hex.DecodeString(clook.RPreimage)
	if sum := sha256.Sum256(pre); clook.Memo != "cli" || clook.Value != "4200" || clook.RHash != cadd.RHash ||
		clook.Expiry != "120" || hex.EncodeToString(sum[:]) != cadd.RHash {
		t.Errorf("xlncli lookupinvoice %+v", clook)
	}
	var cdec struct {
		NumSatoshis string `json:"num_satoshis"`
		PaymentHash string `json:"payment_hash"`
		PaymentAddr string `json:"payment_addr"`
	}
	cliJSON(t, alice, &cdec, append(cli, "decodepayreq", cadd.PaymentRequest)...)
	if cdec.NumSatoshis != "4200" || cdec.PaymentHash != cadd.RHash || cdec.PaymentAddr != cadd.PaymentAddr {
		t.Errorf("xlncli decodepayreq %+v", cdec)
	}
	var clist struct {
		Invoices []struct {
			AddIndex string `json:"add_index"`
		} `json:"invoices"`
	}
	cliJSON(t, alice, &clist, append(cli, "listinvoices", "--max_invoices=2")...)
	if len(clist.Invoices) != 2 || clist.Invoices[1].AddIndex != "11" {
		t.Errorf("xlncli listinvoices (newest two) %+v", clist)
	}
	cliJSON(t, alice, &clist, append(cli, "listinvoices", "--paginate-forwards", "--max_invoices=2", "--index_offset=1")...)
	if len(clist.Invoices) != 2 || clist.Invoices[0].AddIndex != "2" {
		t.Errorf("xlncli listinvoices forwards %+v", clist)
	}
	holdHash3 := sha256.Sum256([]byte("cli hold"))
	var chold struct {
		PaymentRequest string `json:"payment_request"`
		AddIndex       string `json:"add_index"`
	}
	cliJSON(t, alice, &chold, append(cli, "addholdinvoice", "--memo=cli hold", hex.EncodeToString(holdHash3[:]), "99")...)
	if chold.AddIndex != "12" {
		t.Errorf("xlncli addholdinvoice %+v", chold)
	}
	var empty map[string]any
	cliJSON(t, alice, &empty, append(cli, "cancelinvoice", hex.EncodeToString(holdHash3[:]))...)
	if _, err := alice.CLI(append(cli, "settleinvoice", hex.EncodeToString(holdPre[:]))...); err == nil {
		t.Error("xlncli settleinvoice of a canceled invoice succeeded")
	}

	// A restart keeps every invoice, its state and its indices.
	before, err := alice.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 100})
	check(t, err)
	check(t, alice.Restart())
	after, err := alice.RPC.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 100})
	check(t, err)
	if len(before.Invoices) != 12 || len(after.Invoices) != len(before.Invoices) {
		t.Fatalf("%d invoices before the restart, %d after", len(before.Invoices), len(after.Invoices))
	}
	for i := range before.Invoices {
		b, a := before.Invoices[i], after.Invoices[i]
		if a.PaymentRequest != b.PaymentRequest || a.State != b.State || a.AddIndex != b.AddIndex ||
			hex.EncodeToString(a.RPreimage) != hex.EncodeToString(b.RPreimage) || a.Memo != b.Memo {
			t.Errorf("invoice %d changed over the restart:\n%v\n%v", i, b, a)
		}
	}
	next, err := alice.RPC.AddInvoice(ctx, &lnrpc.Invoice{Memo: "after restart"})
	check(t, err)
	if next.AddIndex != 13 {
		t.Errorf("add index after the restart %d, want 13", next.AddIndex)
	}
}

func wantIndices(t *testing.T, what string, p *lnrpc.ListInvoiceResponse, first, last uint64) {
	t.Helper()
	n := int(last - first + 1)
	if len(p.Invoices) != n || p.FirstIndexOffset != first || p.LastIndexOffset != last {
		t.Fatalf("%s: %d invoices [%d,%d], want [%d,%d]", what, len(p.Invoices), p.FirstIndexOffset,
			p.LastIndexOffset, first, last)
	}
	for i, inv := range p.Invoices {
		if inv.AddIndex != first+uint64(i) {
			t.Fatalf("%s: invoice %d has add index %d", what, i, inv.AddIndex)
		}
	}
}
