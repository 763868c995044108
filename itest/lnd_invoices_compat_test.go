//go:build lnclicompat

// Opt-in interop check of invoices with an lnd built from its source, on
// the harness's regtest btcd:
//
//	go build -o /tmp/lnd ./cmd/lnd; go build -o /tmp/lncli ./cmd/lncli   # in an lnd checkout
//	LND=/tmp/lnd LNCLI=/tmp/lncli go test -tags lnclicompat -run TestLndInvoices ./itest/
//
// lnd decodes xlnd's payment requests as xlnd does, xlnd decodes lnd's as
// lnd does, and lnd's lncli drives xlnd's invoice calls.
package itest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// payReq is DecodePayReq's answer as lncli prints it, without features
// (compared apart).
type payReq struct {
	Destination     string `json:"destination"`
	PaymentHash     string `json:"payment_hash"`
	NumSatoshis     string `json:"num_satoshis"`
	Timestamp       string `json:"timestamp"`
	Expiry          string `json:"expiry"`
	Description     string `json:"description"`
	DescriptionHash string `json:"description_hash"`
	FallbackAddr    string `json:"fallback_addr"`
	CltvExpiry      string `json:"cltv_expiry"`
	RouteHints      []any  `json:"route_hints"`
	PaymentAddr     string `json:"payment_addr"`
	NumMsat         string `json:"num_msat"`
	Features        map[string]struct {
		Name       string `json:"name"`
		IsRequired bool   `json:"is_required"`
		IsKnown    bool   `json:"is_known"`
	} `json:"features"`
}

func TestLndInvoices(t *testing.T) {
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	lndCLI, xlndCLI := startLndBeside(t, nw, alice)
	run := func(name string, f func(...string) ([]byte, error), v any, args ...string) {
		t.Helper()
		out, err := f(args...)
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
		if v != nil {
			if err := json.Unmarshal(out, v); err != nil {
				t.Fatalf("%s %v: not JSON (%v): %s", name, args, err, out)
			}
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info struct {
			Synced bool `json:"synced_to_chain"`
		}
		out, err := lndCLI("getinfo")
		if err == nil && json.Unmarshal(out, &info) == nil && info.Synced {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(nw.Dir(), "lnd.out"))
			t.Fatalf("lnd not ready: %v %s\n%s", err, out, log)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// lnd decodes xlnd's request as xlnd does.
	var add struct {
		PaymentRequest string `json:"payment_request"`
	}
	run("lncli→xlnd", xlndCLI, &add, "addinvoice", "--memo=from xlnd", "--expiry=900", "--cltv_expiry_delta=40", "12345")
	var byLnd, byXlnd payReq
	run("lncli→lnd", lndCLI, &byLnd, "decodepayreq", add.PaymentRequest)
	run("lncli→xlnd", xlndCLI, &byXlnd, "decodepayreq", add.PaymentRequest)
	if !reflect.DeepEqual(byLnd, byXlnd) {
		t.Errorf("xlnd's request decoded differently:\nlnd  %+v\nxlnd %+v", byLnd, byXlnd)
	}
	if byLnd.Destination != alice.PubKey() || byLnd.NumSatoshis != "12345" || byLnd.CltvExpiry != "40" {
		t.Errorf("lnd decodes xlnd's request as %+v", byLnd)
	}

	// xlnd decodes lnd's request as lnd does.
	run("lncli→lnd", lndCLI, &add, "addinvoice", "--memo=from lnd", "--amt_msat=7777", "--expiry=300")
	byLnd, byXlnd = payReq{}, payReq{}
	run("lncli→lnd", lndCLI, &byLnd, "decodepayreq", add.PaymentRequest)
	run("lncli→xlnd", xlndCLI, &byXlnd, "decodepayreq", add.PaymentRequest)
	if !reflect.DeepEqual(byLnd, byXlnd) {
		t.Errorf("lnd's request decoded differently:\nlnd  %+v\nxlnd %+v", byLnd, byXlnd)
	}
	ri, err := alice.RPC.DecodePayReq(t.Context(), &lnrpc.PayReqString{PayReq: add.PaymentRequest})
	check(t, err)
	if ri.NumMsat != 7777 || ri.Description != "from lnd" {
		t.Errorf("xlnd decodes lnd's request as %v", ri)
	}

	// lncli drives xlnd's invoice calls.
	var list struct {
		Invoices []struct {
			Memo string `json:"memo"`
		} `json:"invoices"`
	}
	run("lncli→xlnd", xlndCLI, &list, "listinvoices")
	if len(list.Invoices) != 1 || list.Invoices[0].Memo != "from xlnd" {
		t.Errorf("lncli listinvoices on xlnd: %+v", list)
	}
	hash := strings.Repeat("ab", 32)
	run("lncli→xlnd", xlndCLI, nil, "addholdinvoice", "--memo=hold", hash, "1000")
	run("lncli→xlnd", xlndCLI, nil, "cancelinvoice", hash)
	var look struct {
		State string `json:"state"`
	}
	run("lncli→xlnd", xlndCLI, &look, "lookupinvoice", hash)
	if look.State != "CANCELED" {
		t.Errorf("hold invoice after lncli cancelinvoice: %s", fmt.Sprint(look))
	}
}
