package bolt11

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg"
)

const (
	// timestampLen is the number of 5-bit groups of the timestamp.
	timestampLen = 7

	// signatureLen is the number of 5-bit groups of the signature: 520
	// bits, R || S || recovery id.
	signatureLen = 104

	// maxTimestamp is the first timestamp that does not fit 35 bits.
	maxTimestamp = 1 << 35
)

// DecodeOption changes how Decode reads an invoice.
type DecodeOption func(*decodeConfig)

type decodeConfig struct {
	net           *chaincfg.Params
	strictLengths bool
	knownFeature  func(FeatureBit) bool
}

// WithStrictFieldLengths makes Decode fail on a `p`, `h`, `s` or `n` field
// of the wrong length, as the reader requirements of the current BOLT 11 text
// say (lightning/bolts#1243). Without it such a field is skipped, as the
// spec's own example "Same, but including fields which must be ignored"
// requires and as deployed implementations do.
func WithStrictFieldLengths() DecodeOption {
	return func(c *decodeConfig) { c.strictLengths = true }
}

// WithKnownFeatures sets which feature bits the payer understands; an
// invoice requiring (an even bit) anything else is refused. By default the
// invoice features of BOLT 9 are known: var_onion_optin, payment_secret,
// basic_mpp, option_route_blinding, option_attribution_data and
// option_payment_metadata.
func WithKnownFeatures(known func(FeatureBit) bool) DecodeOption {
	return func(c *decodeConfig) {
		if known != nil {
			c.knownFeature = known
		}
	}
}

// Decode parses a BOLT 11 invoice and checks it as the spec requires of a
// reader: the bech32 checksum, the prefix and amount, each tagged field, the
// presence of a payment hash, a payment secret and one description, the
// required feature bits, and the signature (against `n` when present, else by
// recovering the payee's key).
//
// net may be nil, in which case the network is taken from the prefix;
// otherwise the invoice must be for net. Decode does not check expiry: see
// IsExpired. A "lightning:" URI prefix must be removed by the caller.
func Decode(s string, net *chaincfg.Params, opts ...DecodeOption) (*Invoice,
	error) {

	cfg := decodeConfig{knownFeature: knownInvoiceFeature}
	for _, o := range opts {
		o(&cfg)
	}

	inv, hrp, data, err := parse(s, net, &cfg)
	if err != nil {
		return nil, err
	}

	if err := inv.checkRequirements(cfg.knownFeature); err != nil {
		return nil, err
	}

	signed := data[:len(data)-signatureLen]
	sigBytes, err := bits5to8(data[len(signed):])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	copy(inv.sig[:], sigBytes)
	inv.hasSig = true

	hash := sigHash(hrp, signed)
	payee, err := checkSignature(inv.sig, hash[:], inv.payeeField())
	if err != nil {
		return nil, err
	}
	inv.payee = payee

	return inv, nil
}

// parse reads the bech32 string, the human-readable part and the tagged
// fields, without the reader's checks on which fields are present and
// without the signature. It returns the lower-case human-readable part and
// the data groups, signature included.
func parse(s string, net *chaincfg.Params, cfg *decodeConfig) (*Invoice,
	string, []byte, error) {

	hrp, data, err := bech32Decode(s)
	if err != nil {
		return nil, "", nil, err
	}

	inv := &Invoice{}
	prefix, amount := splitHRP(hrp)
	invNet, err := NetworkForPrefix(prefix)
	if err != nil {
		return nil, "", nil, err
	}
	if net != nil {
		want, err := Prefix(net)
		if err != nil {
			return nil, "", nil, err
		}
		if want != prefix {
			return nil, "", nil, fmt.Errorf("%w: invoice is %s, "+
				"want %s", ErrWrongNetwork, prefix, want)
		}
		invNet = net
	}
	inv.Net = invNet
	cfg.net = invNet

	if amount != "" {
		inv.Amount, err = parseAmount(amount)
		if err != nil {
			return nil, "", nil, err
		}
		inv.amountText = amount
	}

	if len(data) < timestampLen+signatureLen {
		return nil, "", nil, fmt.Errorf("%w: %d data groups",
			ErrTooShort, len(data))
	}
	signed := data[:len(data)-signatureLen]

	ts, _ := uintFrom5(data[:timestampLen])
	inv.Timestamp = time.Unix(int64(ts), 0)

	for rest := signed[timestampLen:]; len(rest) > 0; {
		if len(rest) < 3 {
			return nil, "", nil, fmt.Errorf("%w: %d groups left "+
				"for a header", ErrTruncatedField, len(rest))
		}
		t := FieldType(rest[0])
		n := int(rest[1])<<5 | int(rest[2])
		rest = rest[3:]
		if n > len(rest) {
			return nil, "", nil, fmt.Errorf("%w: %v wants %d "+
				"groups, %d left", ErrTruncatedField, t, n,
				len(rest))
		}
		f, err := decodeField(t, rest[:n:n], cfg)
		if err != nil {
			return nil, "", nil, fmt.Errorf("field %v: %w", t,
				err)
		}
		inv.Fields = append(inv.Fields, f)
		rest = rest[n:]
	}

	return inv, hrp, data, nil
}

// sigHash is the digest the payee signs: SHA-256 of the human-readable part
// and the data before the signature, zero-padded to whole bytes.
func sigHash(hrp string, signed []byte) [32]byte {
	// On the stack for an invoice of usual size.
	var buf [1024]byte
	msg := buf[:0]
	msg = append(msg, hrp...)
	msg = bits5to8Padded(msg, signed)
	return sha256.Sum256(msg)
}

// checkSignature verifies sig (R || S || recovery id) over hash. With a
// payee key from an `n` field the signature must verify against it and be
// low-S; without, the key is recovered, and either S is accepted.
func checkSignature(sig [65]byte, hash []byte,
	payee *btcec.PublicKey) (*btcec.PublicKey, error) {

	recID := sig[64]
	if recID > 3 {
		return nil, fmt.Errorf("%w: recovery id %d",
			ErrInvalidSignature, recID)
	}

	if payee != nil {
		var r, s btcec.ModNScalar
		if r.SetByteSlice(sig[:32]) || r.IsZero() ||
			s.SetByteSlice(sig[32:64]) || s.IsZero() {

			return nil, fmt.Errorf("%w: R or S out of range",
				ErrInvalidSignature)
		}
		if s.IsOverHalfOrder() {
			return nil, fmt.Errorf("%w: %w", ErrInvalidSignature,
				ErrHighS)
		}
		if !ecdsa.NewSignature(&r, &s).Verify(hash, payee) {
			return nil, fmt.Errorf("%w: does not verify against "+
				"the payee key", ErrInvalidSignature)
		}
		return payee, nil
	}
	return recoverPayee(sig, hash)
}
