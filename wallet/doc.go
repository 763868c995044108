// Package wallet is xlnd's on-chain HD wallet: one BIP 39 seed from which
// every key the node holds is derived, the coins it owns, and the
// transactions that spend them.
//
// Keys. A 24-word BIP 39 mnemonic (plus an optional passphrase) gives the
// BIP 32 master key. Wallet addresses follow BIP 84 (P2WPKH,
// m/84'/coin'/0'/change/i) and, on request, BIP 86 (P2TR key-path,
// m/86'/coin'/0'/change/i), with coin type 0 on mainnet and 1 on every test
// network. Lightning keys live on their own hardened branches as lnd lays
// them out, m/1017'/coin'/family'/0/i, with lnd's family numbers (multisig
// 0, revocation base 1, HTLC base 2, payment base 3, delay base 4,
// revocation root 5, node key 6), so one seed means the same node in both.
// Private keys never leave the package except through DerivePrivKey; the
// node key is used through ECDH and SignDigest, channel keys through
// SignOutputRaw with BOLT 3's single and double tweaks.
//
// Storage. Everything is in one bbolt file (wallet.db, fsync on). The seed
// is sealed with XChaCha20-Poly1305 under a key stretched from the
// operator's password with scrypt, whose parameters are stored with the
// ciphertext. A development wallet may be created without a password; it
// is flagged as insecure. ChangePassword re-seals the seed together with a
// linked store sealed under the same password (the daemon's macaroon root
// keys) through a redo record, so that a crash never leaves the two under
// different passwords (password.go).
//
// Chain. Start scans from the last block seen to the backend's best block,
// first rolling back any blocks that left the best chain while the wallet
// was away, and then follows every block event the same way, so reorgs and
// backend restarts need no special path. Each block is scanned for the
// wallet's scripts (a gap-limit window of unused addresses past the last
// used one on every branch) and for spends of its outputs. Transactions of
// a disconnected block become unconfirmed; a coinbase is dropped; a
// transaction displaced by a double spend is removed with its descendants.
// Unconfirmed transactions arrive through the backend's mempool watcher.
//
// Spending. Coin selection tries branch-and-bound for an exact match that
// needs no change, then largest-first with change; a change amount that
// would be dust goes to the fee instead. Fund selects and leases coins for
// a caller that signs and publishes later (a channel funding), so two such
// flows never pick the same coin. Every transaction the wallet makes is
// recorded (inputs spent, change added) before it is broadcast; the
// wallet's own unconfirmed transactions are rebroadcast at every start, so
// a crash between the two loses nothing.
package wallet
