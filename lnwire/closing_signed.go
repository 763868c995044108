package lnwire

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire/tlv"
)

// tlvFeeRange is the fee_range record of closing_signed_tlvs.
const tlvFeeRange = 1

// FeeRange is the range of closing fees the sender accepts.
type FeeRange struct {
	MinFeeSats btcutil.Amount
	MaxFeeSats btcutil.Amount
}

// ClosingSigned proposes a closing fee with the sender's signature for the
// closing transaction (BOLT 2, legacy closing negotiation).
type ClosingSigned struct {
	ChanID      ChannelID
	FeeSatoshis btcutil.Amount
	Signature   Sig

	// FeeRange is the fee_range record, nil if absent.
	FeeRange *FeeRange

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgClosingSigned.
func (m *ClosingSigned) MsgType() MessageType { return MsgClosingSigned }

// Encode writes the payload.
func (m *ClosingSigned) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	putU64(w, uint64(m.FeeSatoshis))
	w.Write(m.Signature[:])
	var own tlv.Stream
	if m.FeeRange != nil {
		v := binary.BigEndian.AppendUint64(nil, uint64(m.FeeRange.MinFeeSats))
		v = binary.BigEndian.AppendUint64(v, uint64(m.FeeRange.MaxFeeSats))
		own = tlv.Stream{{Type: tlvFeeRange, Value: v}}
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *ClosingSigned) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ClosingSigned) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ClosingSigned{
		ChanID:      d.chanID("channel_id"),
		FeeSatoshis: btcutil.Amount(d.u64("fee_satoshis")),
		Signature:   d.sig("signature"),
	}
	if d.err != nil {
		return d.err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvFeeRange
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		if err := tlvFixed(r, 16); err != nil {
			return err
		}
		out.FeeRange = &FeeRange{
			MinFeeSats: btcutil.Amount(binary.BigEndian.Uint64(r.Value)),
			MaxFeeSats: btcutil.Amount(binary.BigEndian.Uint64(r.Value[8:])),
		}
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
