package lnwire

import (
	"encoding/binary"

	"lnd.xprv/lnwire/tlv"
)

// Sizes of the attribution_data record (BOLT 4 attributable failures).
const (
	AttributionHoldTimes = 20
	AttributionHMACs     = 210
	attributionDataLen   = AttributionHoldTimes*4 + AttributionHMACs*4
)

// tlvAttributionData is the attribution_data record of
// update_fulfill_htlc_tlvs and update_fail_htlc_tlvs.
const tlvAttributionData = 1

// AttributionData lets the payer find which hop delayed or failed an HTLC
// (option_attribution_data): per-hop hold times and truncated HMACs.
type AttributionData struct {
	HoldTimes [AttributionHoldTimes]uint32
	HMACs     [AttributionHMACs][4]byte
}

func (a *AttributionData) record() tlv.Record {
	v := make([]byte, 0, attributionDataLen)
	for _, h := range a.HoldTimes {
		v = binary.BigEndian.AppendUint32(v, h)
	}
	for _, h := range a.HMACs {
		v = append(v, h[:]...)
	}
	return tlv.Record{Type: tlvAttributionData, Value: v}
}

func decodeAttributionData(r tlv.Record) (*AttributionData, error) {
	if err := tlvFixed(r, attributionDataLen); err != nil {
		return nil, err
	}
	a := &AttributionData{}
	v := r.Value
	for i := range a.HoldTimes {
		a.HoldTimes[i] = binary.BigEndian.Uint32(v[4*i:])
	}
	v = v[4*AttributionHoldTimes:]
	for i := range a.HMACs {
		copy(a.HMACs[i][:], v[4*i:])
	}
	return a, nil
}

// attributionTLVs returns the message's own records for a.
func attributionTLVs(a *AttributionData) tlv.Stream {
	if a == nil {
		return nil
	}
	return tlv.Stream{a.record()}
}

// decodeAttributionExtension parses an extension whose only known record
// is attribution_data.
func decodeAttributionExtension(b []byte) (*AttributionData, tlv.Stream,
	error) {

	known, extra, err := decodeExtension(b, func(t uint64) bool {
		return t == tlvAttributionData
	})
	if err != nil {
		return nil, nil, err
	}
	var a *AttributionData
	for _, r := range known {
		if a, err = decodeAttributionData(r); err != nil {
			return nil, nil, err
		}
	}
	return a, extra, nil
}
