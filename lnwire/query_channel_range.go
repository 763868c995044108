package lnwire

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// tlvQueryOption is the query_option record of query_channel_range_tlvs.
const tlvQueryOption = 1

// query_option_flags bits.
const (
	QueryOptionTimestamps uint64 = 1 << 0
	QueryOptionChecksums  uint64 = 1 << 1
)

// QueryChannelRange asks for the short channel IDs of channels opened in a
// range of blocks (BOLT 7).
type QueryChannelRange struct {
	ChainHash        chainhash.Hash
	FirstBlockHeight uint32
	NumBlocks        uint32

	// QueryOptions is the query_option record, nil if absent.
	QueryOptions *uint64

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgQueryChannelRange.
func (m *QueryChannelRange) MsgType() MessageType { return MsgQueryChannelRange }

// LastBlockHeight returns the last block of the range, saturating at the
// largest u32 rather than wrapping.
func (m *QueryChannelRange) LastBlockHeight() uint32 {
	if m.NumBlocks == 0 {
		return m.FirstBlockHeight
	}
	last := uint64(m.FirstBlockHeight) + uint64(m.NumBlocks) - 1
	return uint32(min(last, math.MaxUint32))
}

// WantsTimestamps reports whether the query asks for timestamps.
func (m *QueryChannelRange) WantsTimestamps() bool {
	return m.QueryOptions != nil && *m.QueryOptions&QueryOptionTimestamps != 0
}

// WantsChecksums reports whether the query asks for checksums.
func (m *QueryChannelRange) WantsChecksums() bool {
	return m.QueryOptions != nil && *m.QueryOptions&QueryOptionChecksums != 0
}

// Encode writes the payload.
func (m *QueryChannelRange) Encode(w *bytes.Buffer) error {
	w.Write(m.ChainHash[:])
	putU32(w, m.FirstBlockHeight)
	putU32(w, m.NumBlocks)
	var own tlv.Stream
	if m.QueryOptions != nil {
		own = tlv.Stream{{Type: tlvQueryOption,
			Value: tlv.AppendBigSize(nil, *m.QueryOptions)}}
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *QueryChannelRange) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *QueryChannelRange) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := QueryChannelRange{
		ChainHash:        d.hash("chain_hash"),
		FirstBlockHeight: d.u32("first_blocknum"),
		NumBlocks:        d.u32("number_of_blocks"),
	}
	if d.err != nil {
		return d.err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvQueryOption
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		if len(r.Value) == 0 {
			return fmt.Errorf("%w: empty query_option", ErrTLVLength)
		}
		v, n, err := tlv.ParseBigSize(r.Value)
		if err != nil {
			return fmt.Errorf("query_option: %w", err)
		}
		if n != len(r.Value) {
			return fmt.Errorf("%w: query_option has %d trailing bytes",
				ErrTLVLength, len(r.Value)-n)
		}
		out.QueryOptions = &v
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
