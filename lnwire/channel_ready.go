package lnwire

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/lnwire/tlv"
)

// tlvChannelReadyAlias is the short_channel_id record of channel_ready_tlvs.
const tlvChannelReadyAlias = 1

// ChannelReady says the funding transaction is deep enough and gives the
// second per-commitment point (BOLT 2; formerly funding_locked).
type ChannelReady struct {
	ChanID                 ChannelID
	NextPerCommitmentPoint *btcec.PublicKey

	// AliasScid is the short_channel_id alias the peer should use for
	// this channel (option_scid_alias), nil if absent.
	AliasScid *ShortChannelID

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgChannelReady.
func (m *ChannelReady) MsgType() MessageType { return MsgChannelReady }

// Encode writes the payload.
func (m *ChannelReady) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	if err := putPoint(w, m.NextPerCommitmentPoint,
		"second_per_commitment_point"); err != nil {
		return err
	}
	var own tlv.Stream
	if m.AliasScid != nil {
		own = tlv.Stream{{Type: tlvChannelReadyAlias,
			Value: binary.BigEndian.AppendUint64(nil, m.AliasScid.ToUint64())}}
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *ChannelReady) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ChannelReady) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ChannelReady{ChanID: d.chanID("channel_id")}
	out.NextPerCommitmentPoint = d.point("second_per_commitment_point")
	if d.err != nil {
		return d.err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvChannelReadyAlias
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		if err := tlvFixed(r, 8); err != nil {
			return err
		}
		scid := NewShortChanIDFromInt(binary.BigEndian.Uint64(r.Value))
		out.AliasScid = &scid
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
