package lnwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// TLV types of reply_channel_range_tlvs.
const (
	tlvTimestamps = 1
	tlvChecksums  = 3
)

// ReplyChannelRange answers a query_channel_range with the short channel
// IDs of a block range, optionally with update timestamps and checksums
// (BOLT 7).
type ReplyChannelRange struct {
	ChainHash        chainhash.Hash
	FirstBlockHeight uint32
	NumBlocks        uint32

	// SyncComplete is the sync_complete byte, kept raw; BOLT 7 uses 1 for
	// the final reply.
	SyncComplete uint8

	ShortChanIDs []ShortChannelID

	// Timestamps is the timestamps_tlv record, one entry per short channel
	// ID; nil leaves it out.
	Timestamps []ChanUpdateTimestamps

	// Checksums is the checksums_tlv record, one entry per short channel
	// ID; nil leaves it out.
	Checksums []ChanUpdateChecksums

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgReplyChannelRange.
func (m *ReplyChannelRange) MsgType() MessageType { return MsgReplyChannelRange }

// LastBlockHeight returns the last block covered, saturating at the
// largest u32.
func (m *ReplyChannelRange) LastBlockHeight() uint32 {
	if m.NumBlocks == 0 {
		return m.FirstBlockHeight
	}
	last := uint64(m.FirstBlockHeight) + uint64(m.NumBlocks) - 1
	return uint32(min(last, math.MaxUint32))
}

// Encode writes the payload.
func (m *ReplyChannelRange) Encode(w *bytes.Buffer) error {
	w.Write(m.ChainHash[:])
	putU32(w, m.FirstBlockHeight)
	putU32(w, m.NumBlocks)
	putU8(w, m.SyncComplete)
	if err := putVarBytes(w, encodeShortIDs(m.ShortChanIDs),
		"encoded_short_ids"); err != nil {
		return err
	}
	var own tlv.Stream
	if m.Timestamps != nil {
		v := make([]byte, 1, 1+8*len(m.Timestamps))
		for _, ts := range m.Timestamps {
			v = binary.BigEndian.AppendUint32(v, ts.Timestamp1)
			v = binary.BigEndian.AppendUint32(v, ts.Timestamp2)
		}
		own = append(own, tlv.Record{Type: tlvTimestamps, Value: v})
	}
	if m.Checksums != nil {
		v := make([]byte, 0, 8*len(m.Checksums))
		for _, c := range m.Checksums {
			v = binary.BigEndian.AppendUint32(v, c.Checksum1)
			v = binary.BigEndian.AppendUint32(v, c.Checksum2)
		}
		own = append(own, tlv.Record{Type: tlvChecksums, Value: v})
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *ReplyChannelRange) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ReplyChannelRange) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ReplyChannelRange{
		ChainHash:        d.hash("chain_hash"),
		FirstBlockHeight: d.u32("first_blocknum"),
		NumBlocks:        d.u32("number_of_blocks"),
		SyncComplete:     d.u8("sync_complete"),
	}
	ids := d.varBytes("encoded_short_ids")
	if d.err != nil {
		return d.err
	}
	var err error
	if out.ShortChanIDs, err = decodeShortIDs(ids); err != nil {
		return err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvTimestamps || t == tlvChecksums
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		switch r.Type {
		case tlvTimestamps:
			v, err := checkEncoding(r.Value, "encoded_timestamps")
			if err != nil {
				return err
			}
			pairs, err := decodeU32Pairs(v, "timestamps")
			if err != nil {
				return err
			}
			out.Timestamps = make([]ChanUpdateTimestamps, len(pairs))
			for i, p := range pairs {
				out.Timestamps[i] = ChanUpdateTimestamps{p[0], p[1]}
			}
		case tlvChecksums:
			pairs, err := decodeU32Pairs(r.Value, "checksums")
			if err != nil {
				return fmt.Errorf("checksums_tlv: %w", err)
			}
			out.Checksums = make([]ChanUpdateChecksums, len(pairs))
			for i, p := range pairs {
				out.Checksums[i] = ChanUpdateChecksums{p[0], p[1]}
			}
		}
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
