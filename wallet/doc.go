// Package wallet is xlnd's on-chain HD wallet: one BIP 39 seed from which
// every key the node holds is derived, the coins it owns, and the
// transactions that spend them.
//
// Keys. A 24-word BIP 39 mnemonic (plus an optional passphrase) gives the
// BIP 32 master key. Wallet addresses follow BIP 84 (P2WPKH,
// m/84'/coin'/0'/change/i) and, on request, BIP 86 (P2TR key-path,
// m/86'/coin'/0'/change/i) and BIP 49 (P2SH-P2WPKH, lnd's np2wkh,
// m/49'/coin'/0'/change/i), with coin type 0 on mainnet and 1 on every test
// network. Lightning keys live on their own hardened branches as lnd lays
// them out, m/1017'/coin'/family'/0/i, with lnd's family numbers (multisig
// 0, revocation base 1, HTLC base 2, payment base 3, delay base 4,
// revocation root 5, node key 6), so one seed means the same node in both.
// Private keys never leave the package except through DerivePrivKey; the
// node key is used through ECDH and SignDigest, channel keys through
// SignOutputRaw with BOLT 3's single and double tweaks.
//
// Storage. Everything is in one kvdb database: the bbolt file wallet.db
// (fsync on) by default, or an etcd namespace (Config.DB) so that a
// standby node of a cluster holds the wallet too. The seed
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
// a disconnected block become unconfirmed; a coinbase is dropped.
// Unconfirmed transactions arrive through the backend's mempool watcher.
// One that can no longer confirm fails, with its descendants: its inputs
// are released and its outputs leave the balance, and the history keeps it
// flagged. That is when a conflicting transaction spends one of its inputs
// (in a block, or a replacement in the mempool), or when the backend has
// lost it for a grace period and it is refused again with an input spent
// or gone, or, still valid, refused for Core's mempool expiry (two weeks).
//
// Spending. Coin selection tries branch-and-bound for an exact match that
// needs no change, then largest-first with change; a change amount that
// would be dust goes to the fee instead. Fund selects and leases coins for
// a caller that signs and publishes later (a channel funding), so two such
// flows never pick the same coin. Every transaction the wallet makes is
// recorded (inputs spent, change added) before it is broadcast; the
// wallet's own unconfirmed transactions that the backend does not have are
// broadcast again after every sync pass, so a crash between the two loses
// nothing. Sends carry Bitcoin Core's anti-fee-sniping lock time and
// BIP 125 signalling sequences; change is P2TR for sends and P2WPKH (or
// P2TR on request) for Fund, as in lnd.
package wallet
