package bolt11

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// Signer signs the 32-byte digest of an invoice with the payee's node key
// and returns a 65-byte compact signature in btcec's layout: a header byte
// (27 + 4 + recovery id, for a compressed key) then R and S. It is a closure
// so that the key can stay in the wallet.
type Signer func(hash []byte) ([]byte, error)

// KeySigner returns a Signer that signs with key (RFC 6979 deterministic
// nonces, low S).
func KeySigner(key *btcec.PrivateKey) Signer {
	return func(hash []byte) ([]byte, error) {
		return ecdsa.SignCompact(key, hash, true)
	}
}

// Encode writes the invoice as a lower-case BOLT 11 string, signed by sign.
// Fields are written in the order of inv.Fields, except that an empty
// Features is left out as BOLT 11 requires. The invoice must meet the
// same requirements Decode checks (a payment hash, a payment secret, one kind
// of description, the dependencies of known feature bits); the signature
// must verify against the `n` field if there is one (without one, sign must
// return a compact signature whose recovery id is right: it is not checked). Like Decode, Encode lets
// a field appear more than once (the first is the preferred one): a writer
// creating a new invoice should list one `p`, one `s` and one `d` or `h`.
//
// An invoice that came from Decode keeps the amount exactly as it was
// written, so that re-encoding it reproduces the signed data.
func (inv *Invoice) Encode(sign Signer) (string, error) {
	if sign == nil {
		return "", ErrNoSigner
	}
	prefix, err := Prefix(inv.Net)
	if err != nil {
		return "", err
	}
	hrp := prefix
	if inv.Amount != 0 {
		amount := formatAmount(inv.Amount)
		if inv.amountText != "" {
			if v, err := parseAmount(inv.amountText); err == nil &&
				v == inv.Amount {

				amount = inv.amountText
			}
		}
		hrp += amount
	}

	ts := inv.Timestamp.Unix()
	if ts < 0 || ts >= maxTimestamp {
		return "", ErrTimestampOutOfRange
	}

	if err := inv.checkRequirements(func(FeatureBit) bool {
		return true
	}); err != nil {
		return "", err
	}

	// Room for the fields of a usual invoice and its signature (104
	// groups); a long one grows it.
	data := make([]byte, 0, 512)
	for i := timestampLen - 1; i >= 0; i-- {
		data = append(data, byte(ts>>(5*uint(i)))&31)
	}
	for _, f := range inv.Fields {
		if f == nil {
			return "", fmt.Errorf("%w: nil field", ErrInvalidField)
		}
		// BOLT 11: with no bit set, the `9` field is omitted.
		if fs, ok := f.(Features); ok && fs.IsEmpty() {
			continue
		}
		if fb, ok := f.(Fallback); ok && fb.Address != nil &&
			!fb.Address.IsForNet(inv.Net) {

			return "", fmt.Errorf("%w: %v is not for %s",
				ErrInvalidFallback, fb.Address, inv.Net.Name)
		}
		start := len(data)
		data = append(data, byte(f.Type()), 0, 0)
		data, err = f.appendData(data)
		if err != nil {
			return "", fmt.Errorf("field %v: %w", f.Type(), err)
		}
		n := len(data) - start - 3
		if n > maxFieldLen {
			return "", fmt.Errorf("%w: %v has %d groups",
				ErrFieldTooLong, f.Type(), n)
		}
		data[start+1] = byte(n >> 5)
		data[start+2] = byte(n & 31)
	}

	hash := sigHash(hrp, data)
	compact, err := sign(hash[:])
	if err != nil {
		return "", fmt.Errorf("bolt11: sign: %w", err)
	}
	if len(compact) != 65 || compact[0] < 27 || compact[0] > 34 {
		return "", fmt.Errorf("%w: signer returned a malformed "+
			"compact signature", ErrInvalidSignature)
	}
	var sig [65]byte
	copy(sig[:64], compact[1:])
	sig[64] = (compact[0] - 27) & 3

	// With an `n` field the payer checks the signature against it, so the
	// encoder does too: a signer holding another key is caught here. Without
	// one the payer recovers the key from the signature, and a compact
	// signature made by KeySigner (or the wallet) recovers its own key by
	// construction: recovering it again here (a double scalar
	// multiplication, most of the cost of making an invoice) would check
	// only the signer's arithmetic.
	if n := inv.payeeField(); n != nil {
		if _, err := checkSignature(sig, hash[:], n); err != nil {
			return "", err
		}
	}

	data = appendBits8to5(data, sig[:])
	return bech32Encode(hrp, data, bech32Const), nil
}
