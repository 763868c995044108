package bolt11

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// Invoice is a BOLT 11 payment request.
//
// Fields holds the tagged fields in wire order; the accessor methods return
// the first (most preferred) valid field of each kind, or its default. To
// write an invoice, fill Net, Amount, Timestamp and Fields and call Encode.
type Invoice struct {
	// Net is the network the invoice pays on; it picks the prefix.
	Net *chaincfg.Params

	// Amount is the amount requested; zero means any amount.
	Amount MilliSatoshi

	// Timestamp is when the invoice was created, in whole seconds.
	Timestamp time.Time

	// Fields are the tagged fields, in order.
	Fields []Field

	// Set by Decode.
	sig        [65]byte // R || S || recovery id, as on the wire
	hasSig     bool
	payee      *btcec.PublicKey // from `n`, or recovered
	amountText string           // the amount as written, e.g. "2500u"
}

// HasAmount reports whether the invoice names an amount.
func (inv *Invoice) HasAmount() bool { return inv.Amount != 0 }

// PaymentHash returns the first `p` field, or zeros if there is none.
// A decoded invoice always has one.
func (inv *Invoice) PaymentHash() [32]byte {
	for _, f := range inv.Fields {
		if v, ok := f.(PaymentHash); ok {
			return v
		}
	}
	return [32]byte{}
}

// PaymentSecret returns the first `s` field, or zeros if there is none.
// A decoded invoice always has one.
func (inv *Invoice) PaymentSecret() [32]byte {
	for _, f := range inv.Fields {
		if v, ok := f.(PaymentSecret); ok {
			return v
		}
	}
	return [32]byte{}
}

// Description returns the first `d` field.
func (inv *Invoice) Description() (string, bool) {
	for _, f := range inv.Fields {
		if v, ok := f.(Description); ok {
			return string(v), true
		}
	}
	return "", false
}

// DescriptionHash returns the first `h` field.
func (inv *Invoice) DescriptionHash() ([32]byte, bool) {
	for _, f := range inv.Fields {
		if v, ok := f.(DescriptionHash); ok {
			return v, true
		}
	}
	return [32]byte{}, false
}

// CheckDescription verifies a description delivered beside the invoice: it
// must hash to the `h` field, or equal the `d` field.
func (inv *Invoice) CheckDescription(desc []byte) error {
	if h, ok := inv.DescriptionHash(); ok {
		if sha256.Sum256(desc) != h {
			return ErrDescriptionHashMismatch
		}
		return nil
	}
	if d, ok := inv.Description(); ok {
		if !bytes.Equal([]byte(d), desc) {
			return ErrDescriptionHashMismatch
		}
		return nil
	}
	return ErrNoDescription
}

// ExpirySeconds returns the `x` field, or the default of 3600.
func (inv *Invoice) ExpirySeconds() uint64 {
	for _, f := range inv.Fields {
		if v, ok := f.(Expiry); ok {
			return uint64(v)
		}
	}
	return DefaultExpiry
}

// Expiry returns how long after its timestamp the invoice may be paid,
// capped at the largest time.Duration (about 292 years).
func (inv *Invoice) Expiry() time.Duration {
	s := inv.ExpirySeconds()
	if s > math.MaxInt64/uint64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s) * time.Second
}

// maxExpiresAt bounds ExpiresAt far beyond any real date yet within what
// time.Time can hold.
const maxExpiresAt = 1 << 62

// ExpiresAt returns the moment after which the invoice should not be paid.
// It is computed in whole seconds, so an expiry too long for a
// time.Duration still lands in the far future.
func (inv *Invoice) ExpiresAt() time.Time {
	ts, secs := inv.Timestamp.Unix(), inv.ExpirySeconds()
	if ts < 0 || ts >= maxExpiresAt {
		return inv.Timestamp.Add(inv.Expiry())
	}
	if secs > uint64(maxExpiresAt-ts) {
		return time.Unix(maxExpiresAt, 0)
	}
	return time.Unix(ts+int64(secs), 0)
}

// IsExpired reports whether the invoice's timestamp plus expiry lies before
// now. The caller passes the clock so that tests and replays are
// deterministic.
func (inv *Invoice) IsExpired(now time.Time) bool {
	return now.After(inv.ExpiresAt())
}

// MinFinalCLTVExpiryDelta returns the `c` field, or the default of 18.
func (inv *Invoice) MinFinalCLTVExpiryDelta() uint64 {
	for _, f := range inv.Fields {
		if v, ok := f.(MinFinalCLTVExpiryDelta); ok {
			return uint64(v)
		}
	}
	return DefaultMinFinalCLTVExpiryDelta
}

// Payee returns the payee's node key: the `n` field when there is one,
// otherwise, for a decoded invoice, the key recovered from the signature.
func (inv *Invoice) Payee() *btcec.PublicKey {
	if key := inv.payeeField(); key != nil {
		return key
	}
	return inv.payee
}

// payeeField returns the key of the first `n` field, or nil.
func (inv *Invoice) payeeField() *btcec.PublicKey {
	for _, f := range inv.Fields {
		if v, ok := f.(Payee); ok {
			return v.Key
		}
	}
	return nil
}

// Fallbacks returns the fallback addresses this package understands, most
// preferred first.
func (inv *Invoice) Fallbacks() []btcutil.Address {
	var out []btcutil.Address
	for _, f := range inv.Fields {
		if v, ok := f.(Fallback); ok {
			out = append(out, v.Address)
		}
	}
	return out
}

// RouteHints returns every `r` field, most preferred first.
func (inv *Invoice) RouteHints() []RouteHint {
	var out []RouteHint
	for _, f := range inv.Fields {
		if v, ok := f.(RouteHint); ok {
			out = append(out, v)
		}
	}
	return out
}

// Features returns a copy of the `9` field, or the empty set.
func (inv *Invoice) Features() Features {
	for _, f := range inv.Fields {
		if v, ok := f.(Features); ok {
			return Features{bits: slices.Clone(v.bits)}
		}
	}
	return Features{}
}

// Metadata returns a copy of the `m` field, or nil.
func (inv *Invoice) Metadata() []byte {
	for _, f := range inv.Fields {
		if v, ok := f.(Metadata); ok {
			return slices.Clone([]byte(v))
		}
	}
	return nil
}

// Signature returns the signature of a decoded invoice as it appears on the
// wire: R and S (32 bytes each, big-endian) and the recovery id.
func (inv *Invoice) Signature() ([65]byte, bool) {
	return inv.sig, inv.hasSig
}

// checkRequirements applies the BOLT 11 reader rules that concern which
// fields are present: a payment hash, a payment secret, exactly one kind of
// description, and a feature vector whose required bits we know and whose
// dependencies are set.
func (inv *Invoice) checkRequirements(known func(FeatureBit) bool) error {
	var hasHash, hasSecret, hasDesc, hasDescHash bool
	for _, f := range inv.Fields {
		switch f.(type) {
		case PaymentHash:
			hasHash = true
		case PaymentSecret:
			hasSecret = true
		case Description:
			hasDesc = true
		case DescriptionHash:
			hasDescHash = true
		}
	}
	switch {
	case !hasHash:
		return ErrNoPaymentHash
	case !hasSecret:
		return ErrMissingPaymentSecret
	case !hasDesc && !hasDescHash:
		return ErrNoDescription
	case hasDesc && hasDescHash:
		return ErrBothDescriptions
	}

	features := inv.Features()
	if unknown := features.UnknownRequired(known); len(unknown) > 0 {
		return fmt.Errorf("%w: bits %v", ErrUnknownRequiredFeature,
			unknown)
	}
	for _, b := range features.Bits() {
		if !known(b) {
			continue
		}
		for _, dep := range featureDeps(b) {
			if !features.HasFeature(dep) {
				return fmt.Errorf("%w: bit %d needs bit %d",
					ErrMissingFeatureDependency, b, dep)
			}
		}
	}
	return nil
}
