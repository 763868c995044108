package bolt11

import (
	"slices"
	"testing"
)

func TestFeatures(t *testing.T) {
	f := NewFeatures(8, 14, 99)
	for _, b := range []FeatureBit{8, 14, 99} {
		if !f.IsSet(b) {
			t.Errorf("bit %d not set", b)
		}
	}
	if f.IsSet(9) || f.IsSet(100) || f.IsSet(5000) {
		t.Error("unexpected bit set")
	}
	if !f.HasFeature(FeaturePaymentSecret) ||
		!f.HasFeature(FeaturePaymentSecret+1) {

		t.Error("HasFeature misses the required bit")
	}
	if got := f.Bits(); !slices.Equal(got, []FeatureBit{8, 14, 99}) {
		t.Errorf("Bits %v", got)
	}
	f.Unset(99)
	if !f.Equal(NewFeatures(8, 14)) {
		t.Errorf("after Unset: %v", f.Bits())
	}
	f.Unset(8)
	f.Unset(14)
	if !f.IsEmpty() {
		t.Error("not empty")
	}
	f.Set(maxFeatureBit + 1)
	if !f.IsEmpty() {
		t.Error("bit beyond the field's capacity was set")
	}
}

// TestFeatures5 checks the `9` field layout against the spec's breakdowns.
func TestFeatures5(t *testing.T) {
	tests := []struct {
		chars string
		bits  []FeatureBit
	}{
		{"sgq", []FeatureBit{8, 14}},
		{"sqqqqqqqqqqqqqqqqsgq", []FeatureBit{8, 14, 99}},
		{"gqqqqqqsgq", []FeatureBit{8, 14, 48}},
		{"psqqqqqqqqqqqqqqqqsgq", []FeatureBit{8, 14, 99, 100}},
		{"", nil},
	}
	for _, tc := range tests {
		data := fromBech32Chars(t, tc.chars)
		f := featuresFrom5(data)
		if got := f.Bits(); !slices.Equal(got, tc.bits) {
			t.Errorf("%q: bits %v, want %v", tc.chars, got, tc.bits)
		}
		back := appendFeatures5(nil, f)
		if !slices.Equal(back, data) && !(len(back) == 0 &&
			len(data) == 0) {

			t.Errorf("%q: re-encoded %v", tc.chars, back)
		}
	}
}

func TestUnknownRequired(t *testing.T) {
	f := NewFeatures(8, 14, 17, 99, 100, 103, 200)
	got := f.UnknownRequired(knownInvoiceFeature)
	if !slices.Equal(got, []FeatureBit{100, 200}) {
		t.Errorf("unknown required %v", got)
	}
}
