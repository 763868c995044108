// Package lnwire encodes and decodes the Lightning peer messages of BOLT 1
// (setup and control), BOLT 2 (channel establishment, normal operation,
// closing, reestablishment) and BOLT 7 (gossip and gossip queries), and the
// BOLT 9 feature vectors they carry.
//
// A message on the wire is a 2-byte big-endian type followed by its payload;
// the payload's fixed fields may be followed by a TLV stream, the
// "extension" (see package lnwire/tlv). Each message is a struct in its own
// file implementing Message; NewMessage is the single registry from type to
// struct. Reading is one call:
//
//	msg, err := lnwire.ReadMessage(bytes.NewReader(plaintext))
//	switch m := msg.(type) {
//	case *lnwire.Init:
//		...
//	case *lnwire.UnknownMessage:
//		// unknown odd type: ignore (or hand to a custom handler)
//	}
//
// and writing another:
//
//	n, err := lnwire.WriteMessage(conn, &lnwire.Ping{NumPongBytes: 16})
//
// Rules this package enforces for the caller:
//
//   - An unknown message of odd type is returned as *UnknownMessage; an
//     unknown even type is an error wrapping ErrUnknownRequiredMessage.
//   - Extension records a message knows are decoded into its fields and
//     their lengths checked; unknown odd records are kept, in order, in the
//     message's ExtraTLV and re-encoded unchanged; an unknown even record, a
//     malformed stream, or a known record of the wrong length fails the
//     message. Decoding then encoding a message reproduces its bytes exactly,
//     which gossip signatures depend on.
//   - Points in BOLT 2 messages are parsed (*btcec.PublicKey), so a peer
//     cannot hand over an invalid key. Gossip messages keep node and bitcoin
//     keys as raw 33-byte values; the gossip validator parses them when it
//     checks signatures.
//   - query_short_channel_ids and reply_channel_range only accept encoding
//     type 0 (uncompressed): BOLT 7 retired zlib (type 1), and such messages
//     are rejected with ErrUnknownEncoding.
//
// Decoded messages may alias the buffer they were parsed from; ReadMessage
// reads into a fresh buffer, so its results are independent of the caller's.
//
// The package imports nothing from the rest of xlnd and holds no state.
package lnwire
