package main

import (
	"bytes"
	"strings"
	"testing"

	"lnd.xprv/rpc/lnrpc"
)

// TestPrintRespJSONHexBytes: bytes print as hex, in field order, nested
// and repeated messages included, and HTML characters unescaped, as
// lncli prints them.
func TestPrintRespJSONHexBytes(t *testing.T) {
	var out bytes.Buffer
	a := &app{out: &out}
	inv := &lnrpc.ListInvoiceResponse{Invoices: []*lnrpc.Invoice{{
		Memo: "a<b", RHash: []byte{0xab, 0xcd}, PaymentAddr: []byte{1},
		Htlcs: []*lnrpc.InvoiceHTLC{{CustomRecords: map[uint64][]byte{65537: {0xff}}}},
	}}}
	if err := a.printRespJSON(inv); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{`"memo": "a<b"`, `"r_hash": "abcd"`, `"payment_addr": "01"`, `"65537": "ff"`,
		`"r_preimage": ""`} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s:\n%s", want, s)
		}
	}
	if strings.Index(s, `"memo"`) > strings.Index(s, `"r_preimage"`) ||
		strings.Index(s, `"r_preimage"`) > strings.Index(s, `"r_hash"`) {
		t.Errorf("fields out of order:\n%s", s)
	}
}
