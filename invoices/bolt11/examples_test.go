package bolt11

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestSpecExamples checks every example of BOLT 11 "Examples": it decodes
// to exactly the listed fields, and our encoder, given the spec's key and
// the same fields in the same order, writes the very same string.
func TestSpecExamples(t *testing.T) {
	var f examplesFile
	loadJSON(t, "testdata/examples.json", &f)
	if len(f.Examples) != 16 {
		t.Fatalf("expected the 16 examples of the spec, got %d",
			len(f.Examples))
	}
	key := specKey(t)

	for _, ex := range f.Examples {
		t.Run(ex.Name, func(t *testing.T) {
			inv, err := Decode(ex.Invoice, nil)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}

			net, err := NetworkForPrefix(ex.Prefix)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Net != net {
				t.Errorf("network %s, want %s", inv.Net.Name,
					net.Name)
			}
			if uint64(inv.Amount) != ex.AmountMSat {
				t.Errorf("amount %d, want %d", inv.Amount,
					ex.AmountMSat)
			}
			if inv.HasAmount() != (ex.AmountMSat != 0) {
				t.Errorf("HasAmount %v", inv.HasAmount())
			}
			if inv.Timestamp.Unix() != ex.Timestamp {
				t.Errorf("timestamp %d, want %d",
					inv.Timestamp.Unix(), ex.Timestamp)
			}
			payee := hex.EncodeToString(
				inv.Payee().SerializeCompressed(),
			)
			if payee != ex.Payee {
				t.Errorf("payee %s, want %s", payee, ex.Payee)
			}

			want := make([]Field, len(ex.Fields))
			for i, jf := range ex.Fields {
				want[i] = buildField(t, jf, net)
			}
			assertFields(t, inv.Fields, want)

			if ex.Signature != "" {
				sig, ok := inv.Signature()
				if !ok {
					t.Fatal("no signature kept")
				}
				if got := hex.EncodeToString(sig[:64]); got !=
					ex.Signature {

					t.Errorf("signature %s, want %s", got,
						ex.Signature)
				}
				if sig[64] != *ex.RecoveryID {
					t.Errorf("recovery id %d, want %d",
						sig[64], *ex.RecoveryID)
				}
			}
			if ex.SigningData != "" {
				checkSigningData(t, ex)
			}

			// Encode from the expected fields, not the decoded
			// ones.
			enc := &Invoice{
				Net:       net,
				Amount:    MilliSatoshi(ex.AmountMSat),
				Timestamp: inv.Timestamp,
				Fields:    want,
			}
			got, err := enc.Encode(KeySigner(key))
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			wantStr := ex.Invoice
			switch {
			case ex.EncodesTo != "":
				wantStr = ex.EncodesTo
			case ex.HighS:
				// RFC 6979 with low-S normalisation gives the
				// twin example; the high-S string itself comes
				// back only from its own signature.
				wantStr = ex.LowSTwin
				replayed, err := enc.Encode(replaySigner(inv))
				if err != nil {
					t.Fatalf("encode with its signature: %v",
						err)
				}
				if replayed != ex.Invoice {
					t.Errorf("re-encoded with its signature:"+
						"\n got  %s\n want %s", replayed,
						ex.Invoice)
				}
			}
			if got != wantStr {
				t.Errorf("encode:\n got  %s\n want %s", got,
					wantStr)
			}

			// The network can also be given; it must match.
			if _, err := Decode(ex.Invoice, net); err != nil {
				t.Errorf("decode with its network: %v", err)
			}
		})
	}
}

// checkSigningData rebuilds the signed preimage from the string and compares
// it, and its hash, with the breakdown's.
func checkSigningData(t *testing.T, ex jsonExample) {
	t.Helper()
	hrp, data, err := bech32Decode(ex.Invoice)
	if err != nil {
		t.Fatal(err)
	}
	signed := data[:len(data)-signatureLen]
	pre := bits5to8Padded([]byte(hrp), signed)
	if got := hex.EncodeToString(pre); got != ex.SigningData {
		t.Errorf("signing data\n got  %s\n want %s", got,
			ex.SigningData)
	}
	h := sigHash(hrp, signed)
	if got := hex.EncodeToString(h[:]); got != ex.SigningHash {
		t.Errorf("signing hash %s, want %s", got, ex.SigningHash)
	}
}

// invalidReasons maps the reason named in testdata/invalid.json to its
// sentinel.
var invalidReasons = map[string]error{
	"ErrUnknownRequiredFeature": ErrUnknownRequiredFeature,
	"ErrBadChecksum":            ErrBadChecksum,
	"ErrMissingSeparator":       ErrMissingSeparator,
	"ErrMixedCase":              ErrMixedCase,
	"ErrInvalidSignature":       ErrInvalidSignature,
	"ErrTooShort":               ErrTooShort,
	"ErrInvalidMultiplier":      ErrInvalidMultiplier,
	"ErrInvalidPicoAmount":      ErrInvalidPicoAmount,
	"ErrMissingPaymentSecret":   ErrMissingPaymentSecret,
	"ErrHighS":                  ErrHighS,
}

// TestSpecInvalidExamples checks that every example of BOLT 11 "Examples of
// Invalid Invoices" is refused for its own reason.
func TestSpecInvalidExamples(t *testing.T) {
	var f invalidFile
	loadJSON(t, "testdata/invalid.json", &f)
	if len(f.Examples) != 10 {
		t.Fatalf("expected the 10 invalid examples of the spec, got %d",
			len(f.Examples))
	}
	for _, ex := range f.Examples {
		t.Run(ex.Name, func(t *testing.T) {
			want, ok := invalidReasons[ex.Error]
			if !ok {
				t.Fatalf("unknown reason %q", ex.Error)
			}
			inv, err := Decode(ex.Invoice, nil)
			if err == nil {
				t.Fatalf("decoded: %+v", inv)
			}
			if !errors.Is(err, want) {
				t.Fatalf("error %q is not %v", err, want)
			}
			if inv != nil {
				t.Errorf("invoice returned with error")
			}
		})
	}
}

// TestHighSWithPayeeIsInvalidSignature: the high-S refusal is also an
// invalid signature, for callers that only test that.
func TestHighSWithPayeeIsInvalidSignature(t *testing.T) {
	var f invalidFile
	loadJSON(t, "testdata/invalid.json", &f)
	for _, ex := range f.Examples {
		if ex.Error != "ErrHighS" {
			continue
		}
		_, err := Decode(ex.Invoice, nil)
		if !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("error %v is not ErrInvalidSignature", err)
		}
		return
	}
	t.Fatal("no high-S example in testdata")
}

// TestStrictFieldLengths: under the strict reading of BOLT 11 (bolts#1243)
// the example with wrong-length fields is refused; by default it decodes.
func TestStrictFieldLengths(t *testing.T) {
	var f examplesFile
	loadJSON(t, "testdata/examples.json", &f)
	var found bool
	for _, ex := range f.Examples {
		hasRaw := false
		for _, jf := range ex.Fields {
			if jf.Raw != nil && strings.ContainsAny(jf.Type, "phsn") {
				hasRaw = true
			}
		}
		_, err := Decode(ex.Invoice, nil, WithStrictFieldLengths())
		switch {
		case hasRaw:
			found = true
			if !errors.Is(err, ErrInvalidFieldLength) {
				t.Errorf("%s: strict decode error %v", ex.Name,
					err)
			}
		case err != nil:
			t.Errorf("%s: strict decode: %v", ex.Name, err)
		}
	}
	if !found {
		t.Fatal("no example with wrong-length fields")
	}
}

// TestKnownFeaturesOption: a payer that knows feature 100 accepts the
// invoice the spec rejects for it.
func TestKnownFeaturesOption(t *testing.T) {
	var f invalidFile
	loadJSON(t, "testdata/invalid.json", &f)
	for _, ex := range f.Examples {
		if ex.Error != "ErrUnknownRequiredFeature" {
			continue
		}
		inv, err := Decode(ex.Invoice, nil, WithKnownFeatures(
			func(b FeatureBit) bool {
				return b == 100 || knownInvoiceFeature(b)
			},
		))
		if err != nil {
			t.Fatalf("decode knowing bit 100: %v", err)
		}
		if !inv.Features().IsSet(100) {
			t.Fatal("bit 100 not set")
		}
		return
	}
	t.Fatal("no unknown-feature example in testdata")
}

// TestUpperCaseDecodesLikeLowerCase compares the two spellings field by
// field.
func TestUpperCaseDecodesLikeLowerCase(t *testing.T) {
	var f examplesFile
	loadJSON(t, "testdata/examples.json", &f)
	n := 0
	for _, ex := range f.Examples {
		if ex.Invoice != strings.ToUpper(ex.Invoice) {
			continue
		}
		n++
		up, err := Decode(ex.Invoice, nil)
		if err != nil {
			t.Fatal(err)
		}
		low, err := Decode(strings.ToLower(ex.Invoice), nil)
		if err != nil {
			t.Fatal(err)
		}
		assertFields(t, up.Fields, low.Fields)
		s1, _ := up.Signature()
		s2, _ := low.Signature()
		if !bytes.Equal(s1[:], s2[:]) {
			t.Error("signatures differ")
		}
	}
	if n == 0 {
		t.Fatal("no upper-case example")
	}
}
