package bolt11

import "errors"

// Errors returned by Decode and Encode. Each names one reason an invoice is
// refused, so that callers (and the RPC layer) can tell a user what is wrong;
// test with errors.Is, as several may be wrapped together with context.
var (
	// Bech32 layer.
	ErrMixedCase        = errors.New("bolt11: mixed upper and lower case")
	ErrInvalidCharacter = errors.New("bolt11: invalid bech32 character")
	ErrMissingSeparator = errors.New("bolt11: no bech32 separator '1'")
	ErrMissingPrefix    = errors.New("bolt11: empty human-readable part")
	ErrBadChecksum      = errors.New("bolt11: bech32 checksum is invalid")
	ErrTooShort         = errors.New("bolt11: invoice too short")
	ErrInvalidPadding   = errors.New("bolt11: non-zero or excess padding bits")

	// Human-readable part.
	ErrUnknownPrefix       = errors.New("bolt11: unknown invoice prefix")
	ErrWrongNetwork        = errors.New("bolt11: invoice is for another network")
	ErrInvalidAmount       = errors.New("bolt11: invalid amount")
	ErrInvalidMultiplier   = errors.New("bolt11: invalid amount multiplier")
	ErrInvalidPicoAmount   = errors.New("bolt11: pico amount is not a whole number of millisatoshi")
	ErrAmountOverflow      = errors.New("bolt11: amount overflows")
	ErrTimestampOutOfRange = errors.New("bolt11: timestamp does not fit 35 bits")

	// Tagged fields.
	ErrTruncatedField     = errors.New("bolt11: tagged field runs past the data")
	ErrFieldTooLong       = errors.New("bolt11: tagged field longer than 1023 groups")
	ErrInvalidFieldLength = errors.New("bolt11: fixed-length field has the wrong length")
	ErrNonMinimalField    = errors.New("bolt11: field has leading zero groups")
	ErrOverflow           = errors.New("bolt11: field value overflows 64 bits")
	ErrInvalidDescription = errors.New("bolt11: description is not valid UTF-8")
	ErrInvalidPayee       = errors.New("bolt11: payee field is not a valid public key")
	ErrInvalidFallback    = errors.New("bolt11: invalid fallback address")
	ErrInvalidRouteHint   = errors.New("bolt11: invalid route hint")
	ErrInvalidField       = errors.New("bolt11: invalid field")

	// Reader requirements.
	ErrNoPaymentHash            = errors.New("bolt11: no payment hash")
	ErrMissingPaymentSecret     = errors.New("bolt11: no payment secret")
	ErrNoDescription            = errors.New("bolt11: neither description nor description hash")
	ErrBothDescriptions         = errors.New("bolt11: both description and description hash")
	ErrUnknownRequiredFeature   = errors.New("bolt11: unknown required feature")
	ErrMissingFeatureDependency = errors.New("bolt11: feature set without its dependency")
	ErrDescriptionHashMismatch  = errors.New("bolt11: description does not match")

	// Signature.
	ErrInvalidSignature = errors.New("bolt11: invalid signature")
	ErrHighS            = errors.New("bolt11: signature is not low-S")

	// Encoding.
	ErrNoNetwork = errors.New("bolt11: no network")
	ErrNoSigner  = errors.New("bolt11: no signer")
)
