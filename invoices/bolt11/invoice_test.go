package bolt11

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

var testTime = time.Unix(1496314658, 0)

func testKey(t testing.TB, b byte) *btcec.PrivateKey {
	t.Helper()
	k, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
	return k
}

// baseFields are the fields every valid invoice needs.
func baseFields() []Field {
	return []Field{
		PaymentHash{1, 2, 3},
		PaymentSecret{0x11},
		Description("test"),
	}
}

// craft signs an invoice without the encoder's checks, so that tests can
// build invoices a writer must not produce. fields are written as given.
func craft(t testing.TB, hrp string, fields []Field,
	key *btcec.PrivateKey) string {

	t.Helper()
	ts := uint64(testTime.Unix())
	var data []byte
	for i := timestampLen - 1; i >= 0; i-- {
		data = append(data, byte(ts>>(5*uint(i)))&31)
	}
	for _, f := range fields {
		start := len(data)
		data = append(data, byte(f.Type()), 0, 0)
		var err error
		data, err = f.appendData(data)
		if err != nil {
			t.Fatalf("field %v: %v", f.Type(), err)
		}
		n := len(data) - start - 3
		data[start+1], data[start+2] = byte(n>>5), byte(n&31)
	}
	h := sigHash(hrp, data)
	compact, err := ecdsa.SignCompact(key, h[:], true)
	if err != nil {
		t.Fatal(err)
	}
	sig := append(append([]byte(nil), compact[1:]...), compact[0]-31)
	data = appendBits8to5(data, sig)
	return bech32Encode(hrp, data, bech32Const)
}

func TestNetworks(t *testing.T) {
	tests := []struct {
		net    *chaincfg.Params
		prefix string
	}{
		{&chaincfg.MainNetParams, "lnbc"},
		{&chaincfg.TestNet3Params, "lntb"},
		{&chaincfg.SigNetParams, "lntbs"},
		{&chaincfg.RegressionNetParams, "lnbcrt"},
		{&chaincfg.SimNetParams, "lnsb"},
	}
	key := testKey(t, 1)
	for _, tc := range tests {
		p, err := Prefix(tc.net)
		if err != nil || p != tc.prefix {
			t.Errorf("%s: prefix %q %v", tc.net.Name, p, err)
		}
		net, err := NetworkForPrefix(strings.ToUpper(tc.prefix))
		if err != nil || net != tc.net {
			t.Errorf("%s: network for prefix: %v", tc.prefix, err)
		}

		for _, amt := range []MilliSatoshi{0, 1, 2_500_000_000} {
			inv := &Invoice{
				Net: tc.net, Amount: amt, Timestamp: testTime,
				Fields: baseFields(),
			}
			s, err := inv.Encode(KeySigner(key))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s, tc.prefix) {
				t.Errorf("%s does not start with %s", s,
					tc.prefix)
			}
			// A prefix is not mistaken for a shorter one
			// followed by an amount.
			got, err := Decode(s, nil)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			if got.Net != tc.net || got.Amount != amt {
				t.Errorf("%s: network %s amount %d", s,
					got.Net.Name, got.Amount)
			}
			if !got.Payee().IsEqual(key.PubKey()) {
				t.Errorf("%s: wrong payee", s)
			}
		}
	}

	s, _ := (&Invoice{
		Net: &chaincfg.SigNetParams, Timestamp: testTime,
		Fields: baseFields(),
	}).Encode(KeySigner(key))
	if _, err := Decode(s, &chaincfg.TestNet3Params); !errors.Is(err,
		ErrWrongNetwork) {

		t.Errorf("signet invoice on testnet: %v", err)
	}
	for _, p := range []string{"lnxy", "bc", "ln", "lnbcm"} {
		if _, err := NetworkForPrefix(p); !errors.Is(err,
			ErrUnknownPrefix) {

			t.Errorf("%q: %v", p, err)
		}
	}
	bad := craft(t, "lnxy", baseFields(), key)
	if _, err := Decode(bad, nil); !errors.Is(err, ErrUnknownPrefix) {
		t.Errorf("unknown prefix: %v", err)
	}
	bad = craft(t, "bc", baseFields(), key)
	if _, err := Decode(bad, nil); !errors.Is(err, ErrUnknownPrefix) {
		t.Errorf("no ln: %v", err)
	}
}

// TestAllFieldsRoundTrip writes an invoice with every kind of field and
// reads it back.
func TestAllFieldsRoundTrip(t *testing.T) {
	key := testKey(t, 7)
	net := &chaincfg.MainNetParams
	hop1 := testKey(t, 8).PubKey()
	hop2 := testKey(t, 9).PubKey()

	pkh, _ := btcutil.NewAddressPubKeyHash(make([]byte, 20), net)
	sh, _ := btcutil.NewAddressScriptHashFromHash(
		bytes.Repeat([]byte{1}, 20), net,
	)
	wpkh, _ := btcutil.NewAddressWitnessPubKeyHash(
		bytes.Repeat([]byte{2}, 20), net,
	)
	wsh, _ := btcutil.NewAddressWitnessScriptHash(
		bytes.Repeat([]byte{3}, 32), net,
	)
	tr, _ := btcutil.NewAddressTaproot(bytes.Repeat([]byte{4}, 32), net)
	v2, _ := NewWitnessAddress(2, bytes.Repeat([]byte{5}, 16), net)
	v1short, _ := NewWitnessAddress(1, []byte{6, 7}, net)

	fields := []Field{
		PaymentSecret{0x22},
		PaymentHash{0xaa},
		Payee{Key: key.PubKey()},
		DescriptionHash(sha256.Sum256([]byte("long text"))),
		Expiry(86400),
		MinFinalCLTVExpiryDelta(144),
		Fallback{Address: pkh}, Fallback{Address: sh},
		Fallback{Address: wpkh}, Fallback{Address: wsh},
		Fallback{Address: tr}, Fallback{Address: v2},
		Fallback{Address: v1short},
		RouteHint{
			{NodeID: hop1, ChannelID: NewShortChannelID(700000,
				1234, 1), FeeBaseMSat: 1000,
				FeeProportionalMillionths: 1, CLTVExpiryDelta: 40},
			{NodeID: hop2, ChannelID: NewShortChannelID(1, 2, 3),
				FeeBaseMSat:               0xffffffff,
				FeeProportionalMillionths: 0xffffffff,
				CLTVExpiryDelta:           0xffff},
		},
		RouteHint{{NodeID: hop2, ChannelID: 42}},
		NewFeatures(8, 14, 17, 49, 255, 1001),
		Metadata{0x01, 0xfa, 0xfa, 0xf0},
		RawField{Tag: 0, Data: []byte{1, 2, 3}},
		RawField{Tag: FieldFallback, Data: []byte{20, 1, 2}},
		PaymentHash{0xbb}, // less preferred duplicate, kept
	}
	inv := &Invoice{
		Net: net, Amount: 123_456_789, Timestamp: testTime,
		Fields: fields,
	}
	s, err := inv.Encode(KeySigner(key))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(s, net)
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	assertFields(t, got.Fields, fields)

	if got.PaymentHash() != (PaymentHash{0xaa}) {
		t.Error("PaymentHash is not the first p")
	}
	if got.PaymentSecret() != (PaymentSecret{0x22}) {
		t.Error("PaymentSecret")
	}
	if _, ok := got.Description(); ok {
		t.Error("Description present")
	}
	if err := got.CheckDescription([]byte("long text")); err != nil {
		t.Errorf("CheckDescription: %v", err)
	}
	if err := got.CheckDescription([]byte("other")); !errors.Is(err,
		ErrDescriptionHashMismatch) {

		t.Errorf("CheckDescription of other text: %v", err)
	}
	if got.Expiry() != 24*time.Hour || got.MinFinalCLTVExpiryDelta() != 144 {
		t.Error("expiry or cltv")
	}
	if !got.Payee().IsEqual(key.PubKey()) {
		t.Error("payee")
	}
	if n := len(got.Fallbacks()); n != 7 {
		t.Errorf("%d fallbacks", n)
	}
	wantAddrs := []string{
		"1111111111111111111114oLvT2", sh.EncodeAddress(),
		wpkh.EncodeAddress(), wsh.EncodeAddress(), tr.EncodeAddress(),
		v2.EncodeAddress(), v1short.EncodeAddress(),
	}
	for i, a := range got.Fallbacks() {
		if a.EncodeAddress() != wantAddrs[i] {
			t.Errorf("fallback %d: %s, want %s", i,
				a.EncodeAddress(), wantAddrs[i])
		}
	}
	hints := got.RouteHints()
	if len(hints) != 2 || len(hints[0]) != 2 ||
		hints[0][0].ChannelID.String() != "700000x1234x1" {

		t.Errorf("route hints %v", hints)
	}
	if !bytes.Equal(got.Metadata(), []byte{0x01, 0xfa, 0xfa, 0xf0}) {
		t.Error("metadata")
	}
	if !got.Features().IsSet(1001) {
		t.Error("unknown odd feature lost")
	}

	// The decoded invoice re-encodes to the same string with its own
	// signature and with the key.
	for name, signer := range map[string]Signer{
		"replay": replaySigner(got), "key": KeySigner(key),
	} {
		again, err := got.Encode(signer)
		if err != nil || again != s {
			t.Errorf("%s re-encode: %v\n got  %s\n want %s", name,
				err, again, s)
		}
	}
}

// TestReaderRequirements builds invoices that break one reader rule each.
func TestReaderRequirements(t *testing.T) {
	key := testKey(t, 3)
	other := testKey(t, 4)
	ph, ps, d := PaymentHash{1}, PaymentSecret{2}, Description("x")
	dh := DescriptionHash{3}

	// A p field whose padding bits are not zero.
	badPad := appendBits8to5(nil, ph[:])
	badPad[51] = 1

	// An n field that is 33 bytes but not a point.
	notPoint := appendBits8to5(nil, append([]byte{5}, make([]byte, 32)...))

	tests := []struct {
		name   string
		fields []Field
		opts   []DecodeOption
		err    error
	}{
		{"no payment hash", []Field{ps, d}, nil, ErrNoPaymentHash},
		{"p of wrong length only", []Field{
			RawField{Tag: FieldPaymentHash, Data: make([]byte, 51)},
			ps, d,
		}, nil, ErrNoPaymentHash},
		{"no payment secret", []Field{ph, d}, nil,
			ErrMissingPaymentSecret},
		{"s of wrong length only", []Field{
			ph, RawField{Tag: FieldPaymentSecret,
				Data: make([]byte, 53)}, d,
		}, nil, ErrMissingPaymentSecret},
		{"no description", []Field{ph, ps}, nil, ErrNoDescription},
		{"both descriptions", []Field{ph, ps, d, dh}, nil,
			ErrBothDescriptions},
		{"strict length", []Field{
			ph, ps, d, RawField{Tag: FieldPayee,
				Data: make([]byte, 52)},
		}, []DecodeOption{WithStrictFieldLengths()},
			ErrInvalidFieldLength},
		{"non-minimal expiry", []Field{
			ph, ps, d, RawField{Tag: FieldExpiry, Data: []byte{0, 1}},
		}, nil, ErrNonMinimalField},
		{"non-minimal cltv", []Field{
			ph, ps, d, RawField{Tag: FieldMinFinalCLTV,
				Data: []byte{0, 9}},
		}, nil, ErrNonMinimalField},
		{"non-minimal features", []Field{
			ph, ps, d, RawField{Tag: FieldFeatures,
				Data: []byte{0, 1}},
		}, nil, ErrNonMinimalField},
		{"expiry overflow", []Field{
			ph, ps, d, RawField{Tag: FieldExpiry,
				Data: append([]byte{1}, make([]byte, 13)...)},
		}, nil, ErrOverflow},
		{"unknown required feature", []Field{
			ph, ps, d, NewFeatures(8, 14, 22),
		}, nil, ErrUnknownRequiredFeature},
		{"basic_mpp without payment_secret", []Field{
			ph, ps, d, RawField{Tag: FieldFeatures,
				Data: appendFeatures5(nil, NewFeatures(8, 17))},
		}, nil, ErrMissingFeatureDependency},
		{"description not UTF-8", []Field{
			ph, ps, RawField{Tag: FieldDescription,
				Data: appendBits8to5(nil, []byte{0xff, 0xfe})},
		}, nil, ErrInvalidDescription},
		{"non-zero padding", []Field{
			RawField{Tag: FieldPaymentHash, Data: badPad}, ps, d,
		}, nil, ErrInvalidPadding},
		{"payee not a point", []Field{
			ph, ps, d, RawField{Tag: FieldPayee, Data: notPoint},
		}, nil, ErrInvalidPayee},
		{"payee is someone else", []Field{
			ph, ps, d, Payee{Key: other.PubKey()},
		}, nil, ErrInvalidSignature},
		{"empty fallback", []Field{
			ph, ps, d, RawField{Tag: FieldFallback},
		}, nil, ErrInvalidFallback},
		{"v0 fallback of 25 bytes", []Field{
			ph, ps, d, RawField{Tag: FieldFallback, Data: append(
				[]byte{0}, appendBits8to5(nil,
					make([]byte, 25))...)},
		}, nil, ErrInvalidFallback},
		{"p2pkh fallback of 21 bytes", []Field{
			ph, ps, d, RawField{Tag: FieldFallback, Data: append(
				[]byte{17}, appendBits8to5(nil,
					make([]byte, 21))...)},
		}, nil, ErrInvalidFallback},
		{"route hint of 50 bytes", []Field{
			ph, ps, d, RawField{Tag: FieldRouteHint,
				Data: appendBits8to5(nil, make([]byte, 50))},
		}, nil, ErrInvalidRouteHint},
		{"empty route hint", []Field{
			ph, ps, d, RawField{Tag: FieldRouteHint},
		}, nil, ErrInvalidRouteHint},
		{"route hint with bad node id", []Field{
			ph, ps, d, RawField{Tag: FieldRouteHint,
				Data: appendBits8to5(nil, make([]byte, 51))},
		}, nil, ErrInvalidRouteHint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := craft(t, "lnbc", tc.fields, key)
			_, err := Decode(s, nil, tc.opts...)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
		})
	}
}

// TestTruncatedFields cuts the tagged-field area short.
func TestTruncatedFields(t *testing.T) {
	key := testKey(t, 3)
	// A header whose length runs past the data, and a lone group.
	for _, raw := range [][]byte{{1, 2, 0}, {1}} {
		ts := uint64(testTime.Unix())
		var data []byte
		for i := timestampLen - 1; i >= 0; i-- {
			data = append(data, byte(ts>>(5*uint(i)))&31)
		}
		data = append(data, raw...)
		h := sigHash("lnbc", data)
		compact, _ := ecdsa.SignCompact(key, h[:], true)
		sig := append(append([]byte(nil), compact[1:]...),
			compact[0]-31)
		s := bech32Encode("lnbc", appendBits8to5(data, sig),
			bech32Const)
		if _, err := Decode(s, nil); !errors.Is(err,
			ErrTruncatedField) {

			t.Errorf("%v: %v", raw, err)
		}
	}
}

func TestSignatureChecks(t *testing.T) {
	key := testKey(t, 5)
	inv := &Invoice{
		Net: &chaincfg.MainNetParams, Timestamp: testTime,
		Fields: append(baseFields(), Payee{Key: key.PubKey()}),
	}
	s, err := inv.Encode(KeySigner(key))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(s, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Negate S: still a valid ECDSA signature, but high-S with `n`.
	sig, _ := got.Signature()
	var sc btcec.ModNScalar
	sc.SetByteSlice(sig[32:64])
	sc.Negate()
	high := sc.Bytes()
	copy(sig[32:64], high[:])
	sig[64] ^= 1
	highSigner := func([]byte) ([]byte, error) {
		return append([]byte{31 + sig[64]}, sig[:64]...), nil
	}
	if _, err := got.Encode(highSigner); !errors.Is(err, ErrHighS) {
		t.Errorf("encoding a high-S signature with n: %v", err)
	}

	// Without n the same high-S signature recovers the same key.
	noN := &Invoice{
		Net: inv.Net, Timestamp: testTime, Fields: baseFields(),
	}
	h := sigHash("lnbc", mustData(t, noN))
	compact, _ := ecdsa.SignCompact(key, h[:], true)
	sc.SetByteSlice(compact[33:])
	sc.Negate()
	hb := sc.Bytes()
	copy(compact[33:], hb[:])
	compact[0] = 31 + ((compact[0] - 31) ^ 1)
	hs, err := noN.Encode(func([]byte) ([]byte, error) {
		return compact, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Decode(hs, nil)
	if err != nil {
		t.Fatalf("high-S without n: %v", err)
	}
	if !dec.Payee().IsEqual(key.PubKey()) {
		t.Error("high-S recovery with the matching id gave another key")
	}

	// A recovery id above 3 is refused.
	data := mustData(t, noN)
	h = sigHash("lnbc", data)
	compact, _ = ecdsa.SignCompact(key, h[:], true)
	bad := append(append([]byte(nil), compact[1:]...), 4)
	str := bech32Encode("lnbc", appendBits8to5(data, bad), bech32Const)
	if _, err := Decode(str, nil); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("recovery id 4: %v", err)
	}

	// Signing with another key than `n` is caught by the encoder.
	if _, err := inv.Encode(KeySigner(testKey(t, 6))); !errors.Is(err,
		ErrInvalidSignature) {

		t.Errorf("wrong signer: %v", err)
	}
	if _, err := inv.Encode(func([]byte) ([]byte, error) {
		return make([]byte, 64), nil
	}); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("short signature: %v", err)
	}
	signErr := errors.New("hsm offline")
	if _, err := inv.Encode(func([]byte) ([]byte, error) {
		return nil, signErr
	}); !errors.Is(err, signErr) {
		t.Errorf("signer error: %v", err)
	}
}

// mustData returns the unsigned data part of inv as 5-bit groups.
func mustData(t testing.TB, inv *Invoice) []byte {
	t.Helper()
	var captured []byte
	_, _ = inv.Encode(func(hash []byte) ([]byte, error) {
		captured = hash
		return nil, errors.New("stop")
	})
	if captured == nil {
		t.Fatal("encoder did not reach signing")
	}
	// Rebuild the data the same way craft does.
	ts := uint64(inv.Timestamp.Unix())
	var data []byte
	for i := timestampLen - 1; i >= 0; i-- {
		data = append(data, byte(ts>>(5*uint(i)))&31)
	}
	for _, f := range inv.Fields {
		start := len(data)
		data = append(data, byte(f.Type()), 0, 0)
		data, _ = f.appendData(data)
		n := len(data) - start - 3
		data[start+1], data[start+2] = byte(n>>5), byte(n&31)
	}
	if h := sigHash("lnbc", data); !bytes.Equal(h[:], captured) {
		t.Fatal("rebuilt data does not match the encoder's")
	}
	return data
}

func TestExpiry(t *testing.T) {
	inv := &Invoice{Timestamp: testTime, Fields: baseFields()}
	if inv.ExpirySeconds() != DefaultExpiry ||
		inv.Expiry() != time.Hour {

		t.Errorf("default expiry %v", inv.Expiry())
	}
	if inv.MinFinalCLTVExpiryDelta() != DefaultMinFinalCLTVExpiryDelta {
		t.Error("default cltv")
	}
	if inv.IsExpired(testTime.Add(time.Hour)) {
		t.Error("expired at the last second")
	}
	if !inv.IsExpired(testTime.Add(time.Hour + time.Second)) {
		t.Error("not expired after")
	}
	inv.Fields = append(inv.Fields, Expiry(60))
	if !inv.ExpiresAt().Equal(testTime.Add(time.Minute)) {
		t.Errorf("expires at %v", inv.ExpiresAt())
	}
	inv.Fields = append(inv.Fields[:3], Expiry(^uint64(0)))
	if inv.Expiry() <= 0 || inv.IsExpired(testTime.AddDate(100000, 0, 0)) {
		t.Errorf("huge expiry: %v", inv.Expiry())
	}
}

func TestEncodeErrors(t *testing.T) {
	key := KeySigner(testKey(t, 1))
	ok := func() *Invoice {
		return &Invoice{
			Net: &chaincfg.MainNetParams, Timestamp: testTime,
			Fields: baseFields(),
		}
	}
	tests := []struct {
		name string
		mod  func(*Invoice)
		err  error
	}{
		{"no network", func(i *Invoice) { i.Net = nil }, ErrNoNetwork},
		{"negative time", func(i *Invoice) {
			i.Timestamp = time.Unix(-1, 0)
		}, ErrTimestampOutOfRange},
		{"time past 35 bits", func(i *Invoice) {
			i.Timestamp = time.Unix(1<<35, 0)
		}, ErrTimestampOutOfRange},
		{"description too long", func(i *Invoice) {
			i.Fields[2] = Description(strings.Repeat("a", 640))
		}, ErrFieldTooLong},
		{"description not UTF-8", func(i *Invoice) {
			i.Fields[2] = Description("\xff")
		}, ErrInvalidDescription},
		{"no secret", func(i *Invoice) {
			i.Fields = i.Fields[:1:1]
			i.Fields = append(i.Fields, Description("x"))
		}, ErrMissingPaymentSecret},
		{"nil field", func(i *Invoice) {
			i.Fields = append(i.Fields, nil)
		}, ErrInvalidField},
		{"raw data not 5-bit", func(i *Invoice) {
			i.Fields = append(i.Fields, RawField{Tag: 0,
				Data: []byte{32}})
		}, ErrInvalidField},
		{"fallback for testnet", func(i *Invoice) {
			a, _ := btcutil.NewAddressWitnessPubKeyHash(
				make([]byte, 20), &chaincfg.TestNet3Params,
			)
			i.Fields = append(i.Fields, Fallback{Address: a})
		}, ErrInvalidFallback},
		{"fallback of a bare pubkey", func(i *Invoice) {
			a, _ := btcutil.NewAddressPubKey(
				testKey(t, 2).PubKey().SerializeCompressed(),
				&chaincfg.MainNetParams,
			)
			i.Fields = append(i.Fields, Fallback{Address: a})
		}, ErrInvalidFallback},
		{"empty route hint", func(i *Invoice) {
			i.Fields = append(i.Fields, RouteHint{})
		}, ErrInvalidRouteHint},
		{"nil payee", func(i *Invoice) {
			i.Fields = append(i.Fields, Payee{})
		}, ErrInvalidPayee},
	}
	for _, tc := range tests {
		inv := ok()
		tc.mod(inv)
		if _, err := inv.Encode(key); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if _, err := ok().Encode(nil); !errors.Is(err, ErrNoSigner) {
		t.Errorf("nil signer: %v", err)
	}
	// The largest description fits.
	inv := ok()
	inv.Fields[2] = Description(strings.Repeat("a", 639))
	if _, err := inv.Encode(key); err != nil {
		t.Errorf("639-byte description: %v", err)
	}
}

func TestShortChannelID(t *testing.T) {
	s := NewShortChannelID(589390, 3312, 1)
	if s.String() != "589390x3312x1" || s.BlockHeight() != 589390 ||
		s.TxIndex() != 3312 || s.OutputIndex() != 1 {

		t.Errorf("%v", s)
	}
	if hex.EncodeToString([]byte{byte(s >> 56)}) != "08" {
		t.Errorf("layout %x", uint64(s))
	}
}

func TestFieldTypeString(t *testing.T) {
	if FieldPaymentHash.String() != "p" || FieldFeatures.String() != "9" ||
		FieldType(40).String() != "FieldType(40)" {

		t.Error("FieldType.String")
	}
}

// TestEmptyFeatures: an empty `9` is omitted by the writer; one read from
// the wire is kept verbatim.
func TestEmptyFeatures(t *testing.T) {
	key := testKey(t, 1)
	inv := &Invoice{
		Net: &chaincfg.MainNetParams, Timestamp: testTime,
		Fields: append(baseFields(), Features{}),
	}
	s, err := inv.Encode(KeySigner(key))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fields) != 3 {
		t.Errorf("empty features written: %v", got.Fields)
	}

	s = craft(t, "lnbc", append(baseFields(), RawField{
		Tag: FieldFeatures,
	}), key)
	got, err = Decode(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fields) != 4 || !got.Features().IsEmpty() {
		t.Errorf("zero-length 9: %v", got.Fields)
	}
	again, err := got.Encode(replaySigner(got))
	if err != nil || again != s {
		t.Errorf("zero-length 9 re-encoded: %v", err)
	}
}

// TestAccessorsCopy: changing what an accessor returns leaves the invoice
// alone.
func TestAccessorsCopy(t *testing.T) {
	inv := &Invoice{Fields: append(baseFields(), NewFeatures(8, 14),
		Metadata{1, 2})}
	f := inv.Features()
	f.Set(9)
	f.Unset(8)
	m := inv.Metadata()
	m[0] = 9
	if !inv.Features().Equal(NewFeatures(8, 14)) ||
		inv.Metadata()[0] != 1 {

		t.Error("accessor result aliases the invoice")
	}
	if _, err := Decode("", nil, WithKnownFeatures(nil)); err == nil {
		t.Error("empty string decoded")
	}
}

func TestCheckDescription(t *testing.T) {
	inv := &Invoice{Fields: baseFields()}
	if err := inv.CheckDescription([]byte("test")); err != nil {
		t.Errorf("matching d: %v", err)
	}
	if err := inv.CheckDescription([]byte("tests")); !errors.Is(err,
		ErrDescriptionHashMismatch) {

		t.Errorf("other d: %v", err)
	}
	empty := &Invoice{}
	if err := empty.CheckDescription(nil); !errors.Is(err,
		ErrNoDescription) {

		t.Errorf("no description: %v", err)
	}
	if empty.PaymentHash() != ([32]byte{}) || empty.Metadata() != nil ||
		empty.Payee() != nil {

		t.Error("empty invoice accessors")
	}
	if _, ok := empty.DescriptionHash(); ok {
		t.Error("description hash on empty invoice")
	}
}
