package rpc

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"google.golang.org/grpc/codes"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/netparams"
	"lnd.xprv/invoices"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/macaroons"
)

// withRegistry activates the harness's backend with a real invoice
// registry over a bbolt file, for network.
func (h *harness) withRegistry(network string) (*invoices.Registry, *btcec.PrivateKey) {
	h.t.Helper()
	db, err := channeldb.Open(filepath.Join(h.dir, "channel.db"), channeldb.WithNoSync())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	key, _ := btcec.NewPrivateKey()
	net, err := netparams.ByName(network)
	if err != nil {
		h.t.Fatal(err)
	}
	reg := invoices.New(invoices.Config{DB: db, Net: net.Params, Sign: bolt11.KeySigner(key)})
	if err := reg.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { reg.Stop() })
	_, err = lnrpc.NewWalletUnlockerClient(h.conn(nil)).UnlockWallet(h.t.Context(),
		&lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	if err != nil {
		h.t.Fatalf("unlock: %v", err)
	}
	b := h.node.backend()
	b.Invoices = reg
	if err := h.srv.Activate(b); err != nil {
		h.t.Fatal(err)
	}
	return reg, key
}

func TestInvoiceRPCs(t *testing.T) {
	h := newHarness(t, true)
	_, key := h.withRegistry("regtest")
	ctx := t.Context()
	ln := h.lightning(macaroons.InvoiceFile)
	inv := invoicesrpc.NewInvoicesClient(h.conn(h.macaroon(macaroons.InvoiceFile)))

	_, err := ln.AddInvoice(ctx, &lnrpc.Invoice{Value: 1, ValueMsat: 1000})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ln.AddInvoice(ctx, &lnrpc.Invoice{DescriptionHash: []byte{1}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ln.AddInvoice(ctx, &lnrpc.Invoice{FallbackAddr: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"})
	wantCode(t, err, codes.InvalidArgument)

	pre := [32]byte{7}
	added, err := ln.AddInvoice(ctx, &lnrpc.Invoice{Memo: "tea", Value: 1500, RPreimage: pre[:], Expiry: 300,
		CltvExpiry: 40})
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256(pre[:])
	if hex.EncodeToString(added.RHash) != hex.EncodeToString(hash[:]) || added.AddIndex != 1 || len(added.PaymentAddr) != 32 {
		t.Fatalf("added %v", added)
	}
	_, err = ln.AddInvoice(ctx, &lnrpc.Invoice{RPreimage: pre[:]})
	wantCode(t, err, codes.AlreadyExists)

	got, err := ln.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: hash[:]})
	if err != nil {
		t.Fatal(err)
	}
	if got.Memo != "tea" || got.ValueMsat != 1_500_000 || got.Value != 1500 || got.Expiry != 300 ||
		got.CltvExpiry != 40 || got.State != lnrpc.Invoice_OPEN || got.PaymentRequest != added.PaymentRequest ||
		got.Features[14] == nil || !got.Features[14].IsRequired || got.Features[17].GetName() != "multi-path-payments" {
		t.Fatalf("looked up %v", got)
	}
	_, err = ln.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: make([]byte, 32)})
	wantCode(t, err, codes.NotFound)

	// DecodePayReq needs offchain:read, which invoice.macaroon lacks
	// (as lnd's).
	_, err = ln.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: added.PaymentRequest})
	wantCode(t, err, codes.PermissionDenied)
	dec, err := h.lightning(macaroons.AdminFile).DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: added.PaymentRequest})
	if err != nil {
		t.Fatal(err)
	}
	if dec.Destination != hexKey(key.PubKey()) || dec.PaymentHash != hex.EncodeToString(hash[:]) ||
		dec.NumSatoshis != 1500 || dec.NumMsat != 1_500_000 || dec.Description != "tea" || dec.Expiry != 300 ||
		dec.CltvExpiry != 40 || dec.Timestamp != got.CreationDate {
		t.Fatalf("decoded %v", dec)
	}

	// A hold invoice, looked up by payment address, canceled.
	holdHash := sha256.Sum256([]byte("hold"))
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: holdHash[:], ValueMsat: 5000})
	if err != nil {
		t.Fatal(err)
	}
	byAddr, err := inv.LookupInvoiceV2(ctx, &invoicesrpc.LookupInvoiceMsg{
		InvoiceRef: &invoicesrpc.LookupInvoiceMsg_PaymentAddr{PaymentAddr: hold.PaymentAddr}})
	if err != nil || len(byAddr.RPreimage) != 0 || byAddr.AddIndex != 2 {
		t.Fatalf("hold invoice by address: %v %v", byAddr, err)
	}
	_, err = inv.SettleInvoice(ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: []byte("hold")})
	wantCode(t, err, codes.InvalidArgument)
	if _, err := inv.CancelInvoice(ctx, &invoicesrpc.CancelInvoiceMsg{PaymentHash: holdHash[:]}); err != nil {
		t.Fatal(err)
	}
	byHash, err := inv.LookupInvoiceV2(ctx, &invoicesrpc.LookupInvoiceMsg{
		InvoiceRef: &invoicesrpc.LookupInvoiceMsg_PaymentHash{PaymentHash: holdHash[:]}})
	if err != nil || byHash.State != lnrpc.Invoice_CANCELED {
		t.Fatalf("canceled hold invoice: %v %v", byHash, err)
	}

	// Subscribe with replay from add index 1, then a live add.
	sub, err := ln.SubscribeInvoices(ctx, &lnrpc.InvoiceSubscription{AddIndex: 1})
	if err != nil {
		t.Fatal(err)
	}
	first, err := sub.Recv()
	if err != nil || first.AddIndex != 2 {
		t.Fatalf("replayed %v %v", first, err)
	}
	if _, err := ln.AddInvoice(ctx, &lnrpc.Invoice{Memo: "live"}); err != nil {
		t.Fatal(err)
	}
	live, err := sub.Recv()
	if err != nil || live.AddIndex != 3 || live.Memo != "live" {
		t.Fatalf("live %v %v", live, err)
	}

	list, err := ln.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{NumMaxInvoices: 2, Reversed: true})
	if err != nil || len(list.Invoices) != 2 || list.FirstIndexOffset != 2 || list.LastIndexOffset != 3 {
		t.Fatalf("list %v %v", list, err)
	}
	list, err = ln.ListInvoices(ctx, &lnrpc.ListInvoiceRequest{PendingOnly: true})
	if err != nil || len(list.Invoices) != 2 || list.Invoices[0].AddIndex != 1 || list.Invoices[1].AddIndex != 3 {
		t.Fatalf("pending list %v %v", list, err)
	}

	// The readonly macaroon may not add invoices.
	_, err = h.lightning(macaroons.ReadOnlyFile).AddInvoice(ctx, &lnrpc.Invoice{})
	wantCode(t, err, codes.PermissionDenied)

	// REST: lnd's paths and JSON.
	mac := h.macaroon(macaroons.AdminFile)
	resp := readJSON(t, h.rest("GET", "/v1/invoice/"+hex.EncodeToString(hash[:]), "", mac))
	if resp["memo"] != "tea" || resp["value_msat"] != "1500000" || resp["state"] != "OPEN" ||
		resp["r_hash"] != base64.StdEncoding.EncodeToString(hash[:]) {
		t.Fatalf("REST lookup %v", resp)
	}
	resp = readJSON(t, h.rest("POST", "/v2/invoices/hodl", `{"hash":"`+
		base64.StdEncoding.EncodeToString(make([]byte, 32))+`","value":"10"}`, mac))
	if pr, _ := resp["payment_request"].(string); !strings.HasPrefix(pr, "lnbcrt100n1") || resp["add_index"] != "4" {
		t.Fatalf("REST hold invoice %v", resp)
	}
	resp = readJSON(t, h.rest("GET", "/v1/payreq/"+added.PaymentRequest, "", mac))
	if resp["num_msat"] != "1500000" || resp["description"] != "tea" {
		t.Fatalf("REST decode %v", resp)
	}
}

// TestRESTInvoiceStreams: SubscribeInvoices and SubscribeSingleInvoice
// over REST stream one {"result": invoice} line per update.
func TestRESTInvoiceStreams(t *testing.T) {
	h := newHarness(t, true)
	reg, _ := h.withRegistry("regtest")
	ctx := t.Context()
	first, err := reg.AddInvoice(ctx, invoices.NewInvoice{Memo: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddInvoice(ctx, invoices.NewInvoice{Memo: "two"}); err != nil {
		t.Fatal(err)
	}
	// The gateway answers a stream's headers with its first message, so
	// each stream opens on one: a replay, or the current state.
	mac := h.macaroon(macaroons.InvoiceFile)
	all := bufio.NewReader(h.rest("GET", "/v1/invoices/subscribe?add_index=1", "", mac).Body)
	one := bufio.NewReader(h.rest("GET", "/v2/invoices/subscribe/"+
		base64.URLEncoding.EncodeToString(first.PaymentHash[:]), "", mac).Body)
	next := func(rd *bufio.Reader) map[string]any {
		t.Helper()
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		var m struct {
			Result map[string]any `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Result == nil {
			t.Fatalf("stream line %q: %v", line, err)
		}
		return m.Result
	}
	if got := next(all); got["memo"] != "two" || got["add_index"] != "2" {
		t.Fatalf("subscription's replay %v", got)
	}
	if got := next(one); got["memo"] != "one" || got["state"] != "OPEN" {
		t.Fatalf("single invoice first %v", got)
	}
	if _, err := reg.AddInvoice(ctx, invoices.NewInvoice{Memo: "three"}); err != nil {
		t.Fatal(err)
	}
	if got := next(all); got["memo"] != "three" || got["add_index"] != "3" {
		t.Fatalf("subscription's live add %v", got)
	}
	if err := reg.CancelInvoice(ctx, first.PaymentHash); err != nil {
		t.Fatal(err)
	}
	if got := next(one); got["state"] != "CANCELED" {
		t.Fatalf("single invoice then %v", got)
	}
}

// TestDecodePayReqVector decodes BOLT 11's "$3 for a cup of coffee"
// example on a mainnet node.
func TestDecodePayReqVector(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "invoices", "bolt11", "testdata", "examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct {
		Examples []struct {
			Name, Invoice string
			Payee         string
			Timestamp     int64
			AmountMsat    int64 `json:"amount_msat"`
		}
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	v := vectors.Examples[1]
	if !strings.Contains(v.Name, "cup of coffee") {
		t.Fatalf("vector %q", v.Name)
	}
	h := newHarness(t, true, func(c *Config) { c.Network, _ = netparams.ByName("mainnet") })
	h.withRegistry("mainnet")
	dec, err := h.lightning(macaroons.AdminFile).DecodePayReq(t.Context(), &lnrpc.PayReqString{PayReq: v.Invoice})
	if err != nil {
		t.Fatal(err)
	}
	if dec.Destination != v.Payee || dec.NumMsat != v.AmountMsat || dec.Timestamp != v.Timestamp ||
		dec.Description != "1 cup coffee" || dec.Expiry != 60 || dec.CltvExpiry != 18 ||
		dec.PaymentHash != "0001020304050607080900010203040506070809000102030405060708090102" ||
		dec.Features[8].GetName() != "tlv-onion" || !dec.Features[14].GetIsRequired() {
		t.Fatalf("decoded %v", dec)
	}
}
