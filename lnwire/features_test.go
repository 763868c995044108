package lnwire

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

type specFeature struct {
	even     FeatureBit
	name     string
	assumed  bool
	contexts string
	deps     []string
}

// loadSpecFeatures parses the BOLT 9 table copied into testdata.
func loadSpecFeatures(t *testing.T) []specFeature {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "bolt09_features.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nameRE := regexp.MustCompile("`([a-z_0-9]+)`")
	var out []specFeature
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			if !strings.Contains(line, "BOLT 9") {
				t.Fatal("testdata/bolt09_features.txt does not name its source")
			}
			first = false
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 7 {
			t.Fatalf("bad row %q", line)
		}
		pair := strings.Split(strings.TrimSpace(cols[1]), "/")
		even, err := strconv.Atoi(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		sf := specFeature{
			even:     FeatureBit(even),
			name:     nameRE.FindStringSubmatch(cols[2])[1],
			assumed:  strings.TrimSpace(cols[3]) == "ASSUMED",
			contexts: strings.TrimSpace(cols[4]),
		}
		for _, m := range nameRE.FindAllStringSubmatch(cols[5], -1) {
			sf.deps = append(sf.deps, m[1])
		}
		out = append(out, sf)
	}
	if len(out) < 23 {
		t.Fatalf("only %d features parsed", len(out))
	}
	return out
}

// TestFeatureTableMatchesBOLT9 checks names, bits, ASSUMED marks, contexts
// and dependencies against the BOLT 9 table.
func TestFeatureTableMatchesBOLT9(t *testing.T) {
	byName := map[string]FeatureBit{}
	spec := loadSpecFeatures(t)
	for _, sf := range spec {
		byName[sf.name] = sf.even
	}
	letters := map[rune]FeatureContext{
		'I': ContextInit, 'N': ContextNodeAnn, 'C': ContextChanAnn,
		'9': ContextInvoice, 'B': ContextBlindedPath, 'T': ContextChannelType,
	}
	for _, sf := range spec {
		for _, b := range []FeatureBit{sf.even, sf.even + 1} {
			if b.Name() != sf.name {
				t.Errorf("bit %d: name %q, BOLT 9 says %q", b, b.Name(), sf.name)
			}
		}
		d, _ := lookupFeature(sf.even)
		if d.assumed != sf.assumed {
			t.Errorf("%s: assumed=%v, BOLT 9 says %v", sf.name, d.assumed,
				sf.assumed)
		}
		if sf.contexts == "" {
			if !d.priorContext {
				t.Errorf("%s: BOLT 9 gives no context; mark it", sf.name)
			}
		} else {
			var want FeatureContext
			for _, c := range sf.contexts {
				want |= letters[c]
			}
			if d.contexts != want || d.priorContext {
				t.Errorf("%s: contexts %b, BOLT 9 says %s", sf.name,
					d.contexts, sf.contexts)
			}
		}
		deps := FeatureDeps(sf.even)
		for _, dn := range sf.deps {
			dep, ok := byName[dn]
			if !ok {
				t.Fatalf("%s: unknown dependency %s", sf.name, dn)
			}
			found := false
			for _, x := range deps {
				found = found || x == dep
			}
			if !found {
				t.Errorf("%s: dependency %s missing", sf.name, dn)
			}
		}
	}
	// Every row of ours that is not in BOLT 9 is a legacy one.
	for _, d := range featureTable {
		if _, ok := byName[d.name]; !ok && !d.priorContext {
			t.Errorf("%s is not in BOLT 9 and not marked legacy", d.name)
		}
	}
}

func TestRawFeatureVector(t *testing.T) {
	fv := NewRawFeatureVector()
	if len(fv.Bytes()) != 0 || !fv.IsEmpty() {
		t.Fatal("empty vector not empty")
	}
	fv.Set(0)
	fv.Set(9)
	fv.Set(23)
	// Big-endian, minimal: bits 23, 9, 0 -> 0x80 0x02 0x01.
	if got := fv.Bytes(); !bytes.Equal(got, []byte{0x80, 0x02, 0x01}) {
		t.Fatalf("bytes %x", got)
	}
	var buf bytes.Buffer
	if err := fv.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), []byte{0, 3, 0x80, 0x02, 0x01}) {
		t.Fatalf("encode %x", buf.Bytes())
	}
	var dec RawFeatureVector
	if err := dec.Decode(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !dec.Equals(fv) || !dec.IsSet(23) || dec.IsSet(22) {
		t.Fatal("decoded vector differs")
	}
	fv.Unset(23)
	if got := fv.Bytes(); !bytes.Equal(got, []byte{0x02, 0x01}) {
		t.Fatalf("after unset: %x (not minimal)", got)
	}
	got := fv.Bits()
	if len(got) != 2 || got[0] != 0 || got[1] != 9 {
		t.Fatalf("Bits %v", got)
	}

	// Leading zero bytes of a decoded vector are kept for re-encoding.
	padded, err := NewRawFeatureVectorFromBytes([]byte{0, 0, 0x01})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(padded.Bytes(), []byte{0, 0, 1}) || !padded.Equals(NewRawFeatureVector(0)) {
		t.Fatalf("padded vector %x", padded.Bytes())
	}
	// Bits beyond 65535 cannot be represented.
	huge := make([]byte, 8193)
	huge[0] = 1
	if _, err := NewRawFeatureVectorFromBytes(huge); !errors.Is(err, ErrFeatureBitTooHigh) {
		t.Fatalf("huge vector: %v", err)
	}
	huge[0] = 0
	huge[1] = 0x80
	v, err := NewRawFeatureVectorFromBytes(huge)
	if err != nil || !v.IsSet(MaxFeatureBit) {
		t.Fatalf("bit 65535: %v", err)
	}
	if err := dec.Decode(bytes.NewReader([]byte{0, 2, 1})); err == nil {
		t.Fatal("truncated vector decoded")
	}
	var nilVec *RawFeatureVector
	if nilVec.IsSet(1) || len(nilVec.Bytes()) != 0 {
		t.Fatal("nil vector")
	}
}

func TestFeatureVector(t *testing.T) {
	fv := NewFeatureVector(NewRawFeatureVector(PaymentAddrRequired,
		TLVOnionPayloadOptional, 101, 200))
	if !fv.HasFeature(PaymentAddrOptional) || !fv.HasFeature(PaymentAddrRequired) ||
		!fv.RequiresFeature(PaymentAddrOptional) {
		t.Fatal("payment_secret")
	}
	if !fv.HasFeature(TLVOnionPayloadRequired) || fv.RequiresFeature(TLVOnionPayloadOptional) {
		t.Fatal("var_onion_optin")
	}
	if fv.HasFeature(MPPOptional) {
		t.Fatal("basic_mpp")
	}
	unk := fv.UnknownRequiredFeatures()
	if len(unk) != 1 || unk[0] != 200 {
		t.Fatalf("unknown required %v", unk)
	}
	if u := fv.UnknownFeatures(); len(u) != 2 {
		t.Fatalf("unknown %v", u)
	}
	if fv.Name(AnchorsZeroFeeHtlcTxOptional) != "option_anchors" ||
		fv.Name(200) != "unknown" || InitialRoutingSync.Name() != "initial_routing_sync" ||
		FeatureBit(2).Name() != "unknown" {
		t.Fatal("names")
	}
	if MPPOptional.String() != "basic_mpp(17)" {
		t.Fatal(MPPOptional.String())
	}
	if !IsAssumedFeature(StaticRemoteKeyOptional) || IsAssumedFeature(MPPOptional) {
		t.Fatal("IsAssumedFeature")
	}
}

func TestValidateDeps(t *testing.T) {
	tests := []struct {
		name string
		bits []FeatureBit
		ok   bool
	}{
		{"empty", nil, true},
		{"payment_secret alone", []FeatureBit{PaymentAddrOptional}, false},
		{"payment_secret with var_onion", []FeatureBit{PaymentAddrRequired, TLVOnionPayloadOptional}, true},
		{"mpp without payment_secret", []FeatureBit{MPPOptional, TLVOnionPayloadOptional}, false},
		{"mpp chain", []FeatureBit{MPPOptional, PaymentAddrOptional, TLVOnionPayloadRequired}, true},
		{"mpp, secret, no onion", []FeatureBit{MPPOptional, PaymentAddrOptional}, false},
		{"zeroconf alone", []FeatureBit{ZeroConfOptional}, false},
		{"zeroconf with alias", []FeatureBit{ZeroConfOptional, ScidAliasOptional}, true},
		{"simple_close alone", []FeatureBit{SimpleCloseOptional}, false},
		{"simple_close ok", []FeatureBit{SimpleCloseOptional, ShutdownAnySegwitRequired}, true},
		{"unknown bits", []FeatureBit{1001, 2000}, true},
	}
	for _, tc := range tests {
		err := ValidateDeps(NewRawFeatureVector(tc.bits...))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrMissingFeatureDep)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestValidateContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  FeatureContext
		bits []FeatureBit
		ok   bool
	}{
		{"init typical", ContextInit, []FeatureBit{DataLossProtectOptional,
			GossipQueriesOptional, TLVOnionPayloadRequired, StaticRemoteKeyRequired,
			PaymentAddrRequired, MPPOptional, AnchorsZeroFeeHtlcTxOptional,
			ChannelTypeOptional, ScidAliasOptional, ZeroConfOptional}, true},
		{"payment_metadata not in init", ContextInit, []FeatureBit{PaymentMetadataOptional}, false},
		{"payment_metadata in invoice", ContextInvoice, []FeatureBit{PaymentMetadataOptional}, true},
		{"invoice typical", ContextInvoice, []FeatureBit{TLVOnionPayloadRequired,
			PaymentAddrRequired, MPPOptional}, true},
		{"anchors not in invoice", ContextInvoice, []FeatureBit{AnchorsZeroFeeHtlcTxOptional}, false},
		{"node ann", ContextNodeAnn, []FeatureBit{UpfrontShutdownScriptOptional, WumboChannelsOptional}, true},
		{"unknown bits pass in node ann", ContextNodeAnn, []FeatureBit{301}, true},
		{"channel type anchors", ContextChannelType, []FeatureBit{StaticRemoteKeyRequired, AnchorsZeroFeeHtlcTxRequired}, true},
		{"wumbo not a channel type", ContextChannelType, []FeatureBit{WumboChannelsRequired}, false},
		{"unknown bit in channel type", ContextChannelType, []FeatureBit{300}, false},
		{"chan ann has none", ContextChanAnn, []FeatureBit{GossipQueriesOptional}, false},
	}
	for _, tc := range tests {
		err := ValidateContext(tc.ctx, NewRawFeatureVector(tc.bits...))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrFeatureContext)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestValidateChannelType(t *testing.T) {
	tests := []struct {
		bits []FeatureBit
		ok   bool
	}{
		{nil, true},
		{[]FeatureBit{StaticRemoteKeyRequired}, true},
		{[]FeatureBit{StaticRemoteKeyRequired, AnchorsZeroFeeHtlcTxRequired}, true},
		{[]FeatureBit{StaticRemoteKeyRequired, AnchorsZeroFeeHtlcTxRequired, ScidAliasRequired, ZeroConfRequired}, true},
		{[]FeatureBit{AnchorsZeroFeeHtlcTxRequired}, false},
		{[]FeatureBit{StaticRemoteKeyOptional}, false},
		{[]FeatureBit{StaticRemoteKeyRequired, 100}, false},
	}
	for _, tc := range tests {
		err := ValidateChannelType(NewRawFeatureVector(tc.bits...))
		if (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.bits, err)
		}
	}
}
