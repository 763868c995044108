package bolt11

import (
	"errors"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want MilliSatoshi
		err  error
	}{
		{"1", 100_000_000_000, nil},
		{"25m", 2_500_000_000, nil},
		{"2500u", 250_000_000, nil},
		{"1n", 100, nil},
		{"10p", 1, nil},
		{"9678785340p", 967_878_534, nil},
		// Non-largest multipliers are seen in the wild.
		{"1000u", 100_000_000, nil},
		{"1000000000p", 100_000_000, nil},
		{"11p", 0, ErrInvalidPicoAmount},
		{"2500000001p", 0, ErrInvalidPicoAmount},
		{"2500x", 0, ErrInvalidMultiplier},
		{"25mm", 0, ErrInvalidAmount},
		{"2a5m", 0, ErrInvalidAmount},
		{"025m", 0, ErrInvalidAmount},
		{"0", 0, ErrInvalidAmount},
		{"0p", 0, ErrInvalidAmount},
		{"184467440737095516160p", 0, ErrAmountOverflow},
		{"184467440737095516150p", 18446744073709551615, nil},
		{"184467440737", 0, ErrAmountOverflow},
		{"184467440737095517m", 0, ErrAmountOverflow},
		{"184467440737095510p", 18446744073709551, nil},
	}
	for _, tc := range tests {
		got, err := parseAmount(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: error %v, want %v", tc.in, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q: %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		msat MilliSatoshi
		want string
	}{
		{100_000_000_000, "1"},
		{2_000_000_000_000, "20"},
		{2_500_000_000, "25m"},
		{250_000_000, "2500u"},
		{100_000, "1u"},
		{100, "1n"},
		{101, "1010p"},
		{1, "10p"},
		{967_878_534, "9678785340p"},
		{18446744073709551615, "184467440737095516150p"},
	}
	for _, tc := range tests {
		got := formatAmount(tc.msat)
		if got != tc.want {
			t.Errorf("%d: %q, want %q", tc.msat, got, tc.want)
		}
		back, err := parseAmount(got)
		if err != nil || back != tc.msat {
			t.Errorf("%q parses to %d, %v", got, back, err)
		}
	}
}
