package lnwire

import (
	"bytes"
	"strings"
	"testing"
)

func TestMiscHelpers(t *testing.T) {
	if NewMSatFromSatoshis(21) != 21_000 || MilliSatoshi(1999).ToSatoshis() != 1 ||
		MilliSatoshi(5).String() != "5 mSAT" {
		t.Fatal("amount conversions")
	}
	if !MessageType(40000).IsCustom() || MsgInit.IsCustom() || !MsgWarning.IsOdd() {
		t.Fatal("message type predicates")
	}
	if !strings.HasPrefix(MessageType(100).String(), "unknown(") {
		t.Fatal("unknown type name")
	}

	var u UnknownMessage
	if err := u.Decode(bytes.NewReader([]byte{1, 2})); err != nil || !bytes.Equal(u.Payload, []byte{1, 2}) {
		t.Fatalf("UnknownMessage.Decode: %v", err)
	}

	raw := NewRawFeatureVector(ScidAliasOptional)
	cl := raw.Clone()
	cl.Set(ZeroConfOptional)
	if raw.IsSet(ZeroConfOptional) || !cl.IsSet(ScidAliasOptional) {
		t.Fatal("RawFeatureVector.Clone shares state")
	}
	fv := NewFeatureVector(raw).Clone()
	fv.Unset(ScidAliasOptional)
	if !raw.IsSet(ScidAliasOptional) {
		t.Fatal("FeatureVector.Clone shares state")
	}
	var nilRaw *RawFeatureVector
	if !nilRaw.Clone().IsEmpty() || !NewFeatureVector(nil).IsEmpty() {
		t.Fatal("nil vectors")
	}
	if !IsKnownFeature(SpliceOptional) || IsKnownFeature(100) || FeatureDeps(100) != nil {
		t.Fatal("known features")
	}
	if ContextChannelType.String() != "channel_type(T)" || FeatureContext(200).String() != "context(200)" {
		t.Fatal("context names")
	}
	if !(Sig{}).IsZero() || (Sig{1}).IsZero() {
		t.Fatal("Sig.IsZero")
	}
	for _, a := range []interface {
		Network() string
		String() string
	}{
		&OnionAddr{OnionService: "x.onion", Port: 1},
		&DNSAddr{Hostname: "h", Port: 2},
		&OpaqueAddrs{Payload: []byte{0xab}},
	} {
		if a.Network() == "" || a.String() == "" {
			t.Fatalf("%T has empty names", a)
		}
	}
	if (&OpaqueAddrs{Payload: []byte{0xab}}).String() != "opaque:ab" {
		t.Fatal("opaque string")
	}
}
