// Package vartime is secp256k1 arithmetic for public data: BaseMul, Mul,
// DoubleBaseMul, DoubleMul and Table.Mul run in variable time, branching
// and indexing tables on the bits of their scalars and points, so they
// must not see a secret (a private
// key, a nonce, an unrevealed per-commitment secret), but for one: an
// onion's session key (sphinx's hopSecrets), a fresh random scalar used
// for one payment, which btcec multiplies in variable time too; sphinx's
// package doc says why that is acceptable. No long-lived key may go
// through them.
//
// Two functions are for secrets: SecretMul, secret scalar times public point, for
// the ECDH with the node key (every incoming onion, every BOLT 8
// handshake), and SecretBaseMul, secret scalar times G, for the nonce of
// the node key's recoverable signatures (invoices, SignMessage): constant
// time in the scalar, on the same field, with complete addition
// formulas, a fixed signed-window recoding and masked table reads
// (secret.go says exactly what is and is not covered). btcec's
// ScalarMultNonConst and ScalarBaseMultNonConst, which they replace there
// and which lnd uses, are variable time: wNAF digits chosen by branches
// and a big.Int GLV split; a table indexed by the nonce's bytes and
// branching additions. Other secrets (the wallet's and the channel's
// signatures, per-commitment secrets) stay on btcec.
//
// sphinx blinds a forwarded onion's ephemeral key with Mul: the factor is
// a hash of that packet's shared secret, used once, from which nothing
// about the secret can be learnt, and the product is sent on in the next
// packet (lnd makes this multiplication in variable time too).
//
// It exists because a channel's commitment round is made of curve
// arithmetic on public values (per-commitment keys derived from public
// basepoints and public hashes, checks of the peer's signatures, the
// check of a revealed per-commitment secret), and btcec's field, ten
// 26-bit limbs, spends most of that time. Here a field element is four
// 64-bit limbs multiplied with math/bits, reduced with p = 2^256 -
// 0x1000003d1; points are Jacobian with mixed additions against affine
// tables. The generator has an 8-bit fixed-window table built once per
// process (32 additions a multiplication, no doublings: about three
// times faster than btcec's), a fixed point a Lim–Lee comb built by its
// owner (Table), any other point a GLV split of the scalar and a width-5
// wNAF of both halves (Mul). A sum of two products, u1·G + u2·P (an
// ECDSA verification, a public key recovery) or k1·P + k2·Q (a
// revocation key), shares one chain of about 129 doublings
// (DoubleBaseMul against width-10 odd multiples of G and λG built once,
// DoubleMul); P's odd multiples are brought to one Z so that the sum
// runs on an isomorphic curve with mixed additions only.
//
// Every result is checked against btcec (and math/big for the field) in
// the tests; the package has no other trust than those.
package vartime
