package lnwire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"lnd.xprv/lnwire/tlv"
)

// QueryEncoding is the encoding byte of encoded_short_ids and the other
// encoded_ arrays of BOLT 7 gossip queries.
type QueryEncoding uint8

const (
	// EncodingSortedPlain is the only encoding in use: an uncompressed
	// array.
	EncodingSortedPlain QueryEncoding = 0

	// EncodingZlibRetired (1) was zlib compression; BOLT 7 now says it
	// MUST NOT be used, and this package rejects it.
	EncodingZlibRetired QueryEncoding = 1
)

var (
	// ErrUnknownEncoding is returned for an encoded array whose encoding
	// byte is not 0, including the retired zlib encoding.
	ErrUnknownEncoding = errors.New("lnwire: unknown or retired query encoding")

	// ErrBadEncodedArray is returned for an encoded array that is empty
	// (no encoding byte) or not a whole number of elements.
	ErrBadEncodedArray = errors.New("lnwire: malformed encoded array")
)

// checkEncoding validates the encoding byte at the front of b and returns
// the rest.
func checkEncoding(b []byte, what string) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: %s has no encoding byte",
			ErrBadEncodedArray, what)
	}
	switch QueryEncoding(b[0]) {
	case EncodingSortedPlain:
		return b[1:], nil
	case EncodingZlibRetired:
		return nil, fmt.Errorf("%w: %s uses zlib (1), retired by BOLT 7",
			ErrUnknownEncoding, what)
	}
	return nil, fmt.Errorf("%w: %s encoding %d", ErrUnknownEncoding, what, b[0])
}

// decodeShortIDs parses encoded_short_ids.
func decodeShortIDs(b []byte) ([]ShortChannelID, error) {
	b, err := checkEncoding(b, "encoded_short_ids")
	if err != nil {
		return nil, err
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%w: %d bytes of short channel IDs",
			ErrBadEncodedArray, len(b))
	}
	ids := make([]ShortChannelID, len(b)/8)
	for i := range ids {
		ids[i] = NewShortChanIDFromInt(binary.BigEndian.Uint64(b[8*i:]))
	}
	return ids, nil
}

// encodeShortIDs builds encoded_short_ids (encoding 0).
func encodeShortIDs(ids []ShortChannelID) []byte {
	b := make([]byte, 1, 1+8*len(ids))
	for _, id := range ids {
		b = binary.BigEndian.AppendUint64(b, id.ToUint64())
	}
	return b
}

// ChanUpdateTimestamps are the timestamps of a channel's two latest
// channel_updates (0 for none), one entry of timestamps_tlv.
type ChanUpdateTimestamps struct {
	Timestamp1 uint32
	Timestamp2 uint32
}

// ChanUpdateChecksums are the checksums of a channel's two latest
// channel_updates (0 for none), one entry of checksums_tlv.
type ChanUpdateChecksums struct {
	Checksum1 uint32
	Checksum2 uint32
}

// decodeU32Pairs parses an array of (u32, u32).
func decodeU32Pairs(b []byte, what string) ([][2]uint32, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%w: %s of %d bytes", ErrBadEncodedArray,
			what, len(b))
	}
	out := make([][2]uint32, len(b)/8)
	for i := range out {
		out[i] = [2]uint32{binary.BigEndian.Uint32(b[8*i:]),
			binary.BigEndian.Uint32(b[8*i+4:])}
	}
	return out, nil
}

// decodeQueryFlags parses encoded_query_flags: an encoding byte and one
// minimal bigsize per short channel ID.
func decodeQueryFlags(b []byte) ([]uint64, error) {
	b, err := checkEncoding(b, "encoded_query_flags")
	if err != nil {
		return nil, err
	}
	flags := make([]uint64, 0, len(b))
	for len(b) > 0 {
		v, n, err := tlv.ParseBigSize(b)
		if err != nil {
			return nil, fmt.Errorf("query flag: %w", err)
		}
		flags = append(flags, v)
		b = b[n:]
	}
	return flags, nil
}

func encodeQueryFlags(flags []uint64) []byte {
	b := make([]byte, 1, 1+len(flags))
	for _, f := range flags {
		b = tlv.AppendBigSize(b, f)
	}
	return b
}
