package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// tlvQueryFlags is the query_flags record of query_short_channel_ids_tlvs.
const tlvQueryFlags = 1

// Query flag bits (BOLT 7 encoded_query_flags).
const (
	QueryFlagChannelAnnouncement uint64 = 1 << 0
	QueryFlagChannelUpdate1      uint64 = 1 << 1
	QueryFlagChannelUpdate2      uint64 = 1 << 2
	QueryFlagNodeAnnouncement1   uint64 = 1 << 3
	QueryFlagNodeAnnouncement2   uint64 = 1 << 4
)

// QueryShortChanIDs asks for the announcements and updates of specific
// channels (BOLT 7).
type QueryShortChanIDs struct {
	ChainHash    chainhash.Hash
	ShortChanIDs []ShortChannelID

	// QueryFlags is the query_flags record, one flag per short channel
	// ID; nil leaves it out. The decoder does not check the count: BOLT 7
	// lets the receiver decide what to do on a mismatch.
	QueryFlags []uint64

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgQueryShortChanIDs.
func (m *QueryShortChanIDs) MsgType() MessageType { return MsgQueryShortChanIDs }

// Encode writes the payload.
func (m *QueryShortChanIDs) Encode(w *bytes.Buffer) error {
	w.Write(m.ChainHash[:])
	if err := putVarBytes(w, encodeShortIDs(m.ShortChanIDs),
		"encoded_short_ids"); err != nil {
		return err
	}
	var own tlv.Stream
	if m.QueryFlags != nil {
		own = tlv.Stream{{Type: tlvQueryFlags,
			Value: encodeQueryFlags(m.QueryFlags)}}
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *QueryShortChanIDs) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *QueryShortChanIDs) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := QueryShortChanIDs{ChainHash: d.hash("chain_hash")}
	ids := d.varBytes("encoded_short_ids")
	if d.err != nil {
		return d.err
	}
	var err error
	if out.ShortChanIDs, err = decodeShortIDs(ids); err != nil {
		return err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvQueryFlags
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		if out.QueryFlags, err = decodeQueryFlags(r.Value); err != nil {
			return fmt.Errorf("query_flags: %w", err)
		}
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
