package bolt11

import (
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// addSpecSeeds adds every spec example, valid and invalid, to the corpus.
func addSpecSeeds(f *testing.F, add func(s string)) {
	var valid examplesFile
	loadJSON(f, "testdata/examples.json", &valid)
	for _, ex := range valid.Examples {
		add(ex.Invoice)
	}
	var invalid invalidFile
	loadJSON(f, "testdata/invalid.json", &invalid)
	for _, ex := range invalid.Examples {
		add(ex.Invoice)
	}
}

// checkRoundTrip asserts that a decoded invoice, encoded again with its own
// signature, gives back the same string and decodes to the same invoice.
func checkRoundTrip(t *testing.T, s string, inv *Invoice) {
	t.Helper()
	re, err := inv.Encode(replaySigner(inv))
	if err != nil {
		t.Fatalf("re-encode %q: %v", s, err)
	}
	if re != strings.ToLower(s) {
		t.Fatalf("re-encoded differently:\n in  %s\n out %s", s, re)
	}
	again, err := Decode(re, nil)
	if err != nil {
		t.Fatalf("decode re-encoded %q: %v", re, err)
	}
	if len(again.Fields) != len(inv.Fields) {
		t.Fatalf("%d fields, then %d", len(inv.Fields),
			len(again.Fields))
	}
	for i := range inv.Fields {
		if !fieldsEqual(inv.Fields[i], again.Fields[i]) {
			t.Fatalf("field %d changed: %#v then %#v", i,
				inv.Fields[i], again.Fields[i])
		}
	}
	if again.Amount != inv.Amount || again.Net != inv.Net ||
		!again.Timestamp.Equal(inv.Timestamp) ||
		!again.Payee().IsEqual(inv.Payee()) {

		t.Fatal("header or payee changed")
	}
}

// FuzzDecode feeds arbitrary strings to Decode: it must never panic, and
// what it accepts must re-encode to itself.
func FuzzDecode(f *testing.F) {
	addSpecSeeds(f, func(s string) { f.Add(s) })
	f.Add("lnbc1")
	f.Add("LNBC1QQQQQQ")
	f.Add("lnbcrt10n1")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := Decode(s, nil)
		if err != nil {
			if inv != nil {
				t.Fatal("invoice returned with an error")
			}
			return
		}
		checkRoundTrip(t, s, inv)
	})
}

// FuzzDecodeSigned reaches past the checksum and the signature, which random
// strings almost never get through: the fuzzer picks the human-readable part
// and the data groups, and the test seals them with a valid signature and
// checksum before decoding.
func FuzzDecodeSigned(f *testing.F) {
	addSpecSeeds(f, func(s string) {
		hrp, data, err := bech32Decode(s)
		if err != nil || len(data) < signatureLen {
			return
		}
		f.Add(hrp, data[:len(data)-signatureLen])
	})
	key := testKey(f, 42)
	f.Fuzz(func(t *testing.T, hrp string, data []byte) {
		hrp = strings.ToLower(hrp)
		if len(hrp) == 0 || len(hrp) > 40 ||
			strings.ContainsAny(hrp, "1") {

			return
		}
		for i := 0; i < len(hrp); i++ {
			if hrp[i] < 33 || hrp[i] > 126 {
				return
			}
		}
		groups := make([]byte, len(data))
		for i, b := range data {
			groups[i] = b & 31
		}
		h := sigHash(hrp, groups)
		compact, err := ecdsa.SignCompact(key, h[:], true)
		if err != nil {
			t.Fatal(err)
		}
		sig := append(append([]byte(nil), compact[1:]...),
			compact[0]-31)
		s := bech32Encode(hrp, appendBits8to5(groups, sig), bech32Const)

		inv, err := Decode(s, nil)
		if err != nil {
			if inv != nil {
				t.Fatal("invoice returned with an error")
			}
			return
		}
		checkRoundTrip(t, s, inv)
	})
}
