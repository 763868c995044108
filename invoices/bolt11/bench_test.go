package bolt11

import (
	"strings"
	"testing"

	"lnd.xprv/internal/cpumeter"
)

// benchInvoice returns the spec's pico-amount example: a real shop invoice
// with description, expiry, CLTV delta, a route hint and features.
func benchInvoice(b *testing.B) string {
	b.Helper()
	var f examplesFile
	loadJSON(b, "testdata/examples.json", &f)
	for _, ex := range f.Examples {
		if strings.Contains(ex.Name, "pico") {
			return ex.Invoice
		}
	}
	b.Fatal("no pico example")
	return ""
}

func BenchmarkDecode(b *testing.B) {
	s := benchInvoice(b)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		if _, err := Decode(s, nil); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}

// BenchmarkEncode signs with the key (RFC 6979), as a node creating an
// invoice does (the example has no `n` field, so nothing is verified).
func BenchmarkEncode(b *testing.B) {
	s := benchInvoice(b)
	inv, err := Decode(s, nil)
	if err != nil {
		b.Fatal(err)
	}
	signer := KeySigner(specKey(b))
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		if _, err := inv.Encode(signer); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}

// BenchmarkEncodeReplay re-encodes with the invoice's own signature, to
// show the cost without signing.
func BenchmarkEncodeReplay(b *testing.B) {
	s := benchInvoice(b)
	inv, err := Decode(s, nil)
	if err != nil {
		b.Fatal(err)
	}
	signer := replaySigner(inv)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		if _, err := inv.Encode(signer); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}

// BenchmarkParse measures the codec alone: bech32, the human-readable part
// and the tagged fields, without the reader's checks and the signature.
func BenchmarkParse(b *testing.B) {
	s := benchInvoice(b)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		cfg := decodeConfig{knownFeature: knownInvoiceFeature}
		if _, _, _, err := parse(s, nil, &cfg); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}
