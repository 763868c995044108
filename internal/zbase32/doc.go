// Package zbase32 is the human-oriented base-32 encoding of
// https://philzimmermann.com/docs/human-oriented-base-32-encoding.txt, the
// form in which Lightning nodes exchange message signatures (lnd's
// signmessage and verifymessage, Core Lightning's signmessage).
//
// Bits are taken five at a time, most significant first; a final group
// shorter than five bits is padded with zero bits. There is no padding
// character. Decode accepts only canonical strings: every character from
// the alphabet, no character that carries only padding, and zero padding
// bits, so that each byte string has exactly one encoding.
package zbase32
