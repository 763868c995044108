// Package macaroons bakes and verifies the bearer credentials of xlnd's RPC
// API, compatible with lnd's.
//
// A macaroon is a gopkg.in/macaroon.v2 macaroon in the standard binary
// format. Its identifier is lnd's (the macaroon bakery's version 3): one
// version byte 3 followed by a protobuf MacaroonId{nonce, storageId, ops}
// listing the entity/action permissions it grants, so lncli printmacaroon
// reads ours. The root key that signs every macaroon is 32 random bytes kept
// in a bbolt file (macaroons.db), encrypted with a key derived from the wallet
// password (scrypt, then NaCl secretbox), so a stolen data dir yields no
// usable root key.
//
// Verification checks the signature with the root key, every first-party
// caveat (time-before and ipaddr, the two lncli adds; any other caveat is
// refused), and then that the identifier's permissions cover those the
// called method needs.
package macaroons
