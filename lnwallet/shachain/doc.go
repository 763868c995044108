// Package shachain implements the per-commitment secret scheme of BOLT 3
// ("Per-commitment Secret Requirements" and "Efficient Per-commitment Secret
// Storage").
//
// A channel party draws one 32-byte seed and derives from it up to 2^48
// secrets, one per commitment, through a binary tree of SHA256 hashes: the
// secret at index I is the seed with, for every set bit B of I from 47 down
// to 0, bit B flipped and the result hashed. The first commitment uses index
// 2^48-1 and each following one the next lower index, so a secret at an
// index with k trailing zero bits derives every secret of the 2^k indices
// that share its prefix.
//
// A Producer holds the seed and hands out secrets. A Store is the
// receiver's side: it keeps at most 49 secrets, one per count of trailing
// zeros, checks that every new secret derives the ones it replaces (so a
// peer cannot hand out secrets from two different seeds), and can recover
// any secret received so far. A Store serializes to a compact binary form
// for the channel database.
package shachain
