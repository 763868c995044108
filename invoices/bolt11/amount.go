package bolt11

import (
	"fmt"
	"math/bits"
	"strconv"
)

// MilliSatoshi is an amount in thousandths of a satoshi, the unit HTLCs and
// invoices are denominated in.
type MilliSatoshi uint64

// msatPerBTC is the number of millisatoshi in one bitcoin, the unit of an
// amount without a multiplier.
const msatPerBTC = 100_000_000_000

// multiplier returns how many millisatoshi one unit of the amount is worth
// for the multiplier letters m, u and n. Pico (p) is a tenth of a
// millisatoshi and handled apart.
func multiplier(c byte) (uint64, bool) {
	switch c {
	case 'm':
		return 100_000_000, true
	case 'u':
		return 100_000, true
	case 'n':
		return 100, true
	}
	return 0, false
}

// parseAmount reads the amount part of the human-readable part: a positive
// decimal integer without leading zeros, then at most one multiplier letter.
func parseAmount(s string) (MilliSatoshi, error) {
	digits, mult := s, byte(0)
	if last := s[len(s)-1]; last < '0' || last > '9' {
		digits, mult = s[:len(s)-1], last
		if _, ok := multiplier(mult); !ok && mult != 'p' {
			return 0, fmt.Errorf("%w: %q", ErrInvalidMultiplier, s)
		}
	}
	if digits == "" {
		return 0, fmt.Errorf("%w: no digits in %q", ErrInvalidAmount, s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("%w: %q", ErrInvalidAmount, s)
		}
	}
	if digits[0] == '0' {
		return 0, fmt.Errorf("%w: leading zero or zero amount in %q",
			ErrInvalidAmount, s)
	}
	if mult == 'p' {
		// Ten pico-bitcoin make a millisatoshi: the last digit must
		// be 0, and the rest is the amount in millisatoshi.
		if digits[len(digits)-1] != '0' {
			return 0, fmt.Errorf("%w: %q", ErrInvalidPicoAmount, s)
		}
		digits = digits[:len(digits)-1]
		if digits == "" {
			return 0, fmt.Errorf("%w: zero amount %q",
				ErrInvalidAmount, s)
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrAmountOverflow, s)
	}

	var per uint64
	switch mult {
	case 0:
		per = msatPerBTC
	case 'p':
		return MilliSatoshi(v), nil
	default:
		per, _ = multiplier(mult)
	}
	hi, lo := bits.Mul64(v, per)
	if hi != 0 {
		return 0, fmt.Errorf("%w: %q", ErrAmountOverflow, s)
	}
	return MilliSatoshi(lo), nil
}

// formatAmount writes msat in the shortest form: the largest multiplier (or
// none) that keeps the number whole, falling back to pico for amounts that
// are not a multiple of 100 msat.
func formatAmount(msat MilliSatoshi) string {
	v := uint64(msat)
	switch {
	case v%msatPerBTC == 0:
		return strconv.FormatUint(v/msatPerBTC, 10)
	case v%100_000_000 == 0:
		return strconv.FormatUint(v/100_000_000, 10) + "m"
	case v%100_000 == 0:
		return strconv.FormatUint(v/100_000, 10) + "u"
	case v%100 == 0:
		return strconv.FormatUint(v/100, 10) + "n"
	}
	// Ten pico-bitcoin per millisatoshi: append the zero as text so that
	// no amount can overflow.
	return strconv.FormatUint(v, 10) + "0p"
}
