// Package sphinx implements BOLT 4 onion routing for payments: building the
// 1366-byte version-0 onion at the origin, peeling one layer at each hop,
// the per-hop TLV payloads, replay protection, and the failure messages that
// travel back along the route, including attributable failures
// (attribution_data with hold times).
//
// The origin builds an onion with NewOnionPacket from a route of hops, each a
// node public key and an encoded HopPayload, a fresh random session key and
// the payment hash as associated data. It keeps the session key with the
// payment so that it can later decrypt a failure with DecryptFailure.
//
// A forwarding or final node decodes the packet carried in update_add_htlc
// with DecodeOnionPacket and passes it to Router.ProcessOnionPacket, which
// checks the version, the ephemeral key and the HMAC, records the packet in
// the ReplayLog and returns this hop's payload, the shared secret and the
// onion for the next hop (nil at the final hop). Errors map to BADONION
// failure codes with FailureForError; a node that could not parse an onion
// answers with update_fail_malformed_htlc, which the previous hop turns into
// an encrypted failure with MalformedToFailure.
//
// A node that fails an HTLC builds a FailureMessage, encrypts it with
// NewFailure using the HTLC's shared secret; every hop on the way back wraps
// it with WrapFailure; the origin learns which hop failed and why with
// DecryptFailure.
//
// Route blinding is covered too: BuildBlindedPath for a recipient,
// DecryptBlindedData and DecodeBlindedData for a node inside a blinded route,
// and Router.ProcessBlindedOnionPacket for an HTLC that carried a path_key.
//
// A node that signals option_attribution_data uses NewFailureWithAttribution,
// WrapFailureWithAttribution and AddFulfillAttribution instead; the origin
// then also learns each hop's hold time, and which hop corrupted a failure
// it cannot read.
//
// Timing. The origin's curve arithmetic (the ephemeral keys and the ECDH
// with each hop, in hopSecrets) runs on internal/vartime, variable-time
// code otherwise kept for public data. The scalar there is secret, but of
// a narrow kind: a session key drawn from crypto/rand for one onion,
// blinded per hop, never used for another, stored in the clear with the
// payment anyway. Knowing it reveals that one payment's route and
// payloads to whoever also holds the onion; it protects no funds and no
// other payment, so partial leaks from many payments do not add up the
// way nonce leaks of one signing key do, and a timing attacker gets one
// trace per key. btcec multiplies it in variable time too
// (ScalarBaseMultNonConst indexes a table by the scalar's bytes,
// ScalarMultNonConst branches on its NAF digits), as lnd's onion library
// does: the class is unchanged, only the speed. Long-lived keys, the node
// key behind ECDHer first, stay on btcec.
//
// The package does no I/O and keeps no state except in the ReplayLog a
// caller passes in. It imports nothing of this project but lnwire/tlv.
package sphinx
