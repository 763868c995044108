// Package bolt11 reads and writes BOLT 11 payment requests, the
// "lnbc..." strings a payee hands to a payer.
//
// An invoice is bech32 text without bech32's length limit. Its
// human-readable part names the network (lnbc mainnet, lntb testnet, lntbs
// signet, lnbcrt regtest, lnsb simnet) and, optionally, an amount in bitcoin
// with a multiplier letter (m, u, n, p). Its data part holds a 35-bit
// timestamp, a list of tagged fields, and the payee's signature over all of
// it.
//
// Decode checks what the spec requires of a reader and returns an *Invoice
// whose Fields keep the tagged fields in their wire order: typed values for
// the fields BOLT 11 defines (PaymentHash, PaymentSecret, Description,
// DescriptionHash, Expiry, MinFinalCLTVExpiryDelta, Payee, Fallback,
// RouteHint, Features, Metadata) and RawField for anything kept verbatim:
// unknown types, fallback addresses of unknown versions, and fixed-length
// fields of the wrong length, which the reader skips. Accessors such as
// PaymentHash, Payee, RouteHints and IsExpired answer the questions a payer
// asks; they read the first (most preferred) field of each kind.
//
// The signature is checked against the `n` field when there is one (and must
// then be low-S), otherwise the payee's key is recovered from it, accepting
// either S, as libsecp256k1's recovery does. Unknown even feature bits are
// refused; WithKnownFeatures tells Decode which bits the payer understands.
//
// Encode writes an Invoice back, fields in the order given, and signs it
// through a Signer closure so that the node key can stay in the wallet.
// Given the same key and fields, it reproduces the spec's examples byte for
// byte (RFC 6979 signatures). A decoded invoice re-encoded with its own
// signature gives back the string it came from.
//
// A note on field lengths: the current BOLT 11 text says a reader MUST fail
// on a `p`, `h`, `s` or `n` field of the wrong length (lightning/bolts#1243),
// while the spec's example "Same, but including fields which must be
// ignored" still requires such fields to be skipped, as deployed
// implementations do. Decode skips them by default; WithStrictFieldLengths
// fails instead. Either way an invoice without a valid payment hash or
// payment secret is refused.
//
// Errors are sentinel values (ErrBadChecksum, ErrMixedCase,
// ErrInvalidPicoAmount, ErrInvalidSignature, ErrUnknownRequiredFeature,
// ErrMissingPaymentSecret, ...), wrapped with detail: test them with
// errors.Is. The package does no I/O and holds no state.
package bolt11
