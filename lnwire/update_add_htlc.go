package lnwire

import (
	"bytes"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/lnwire/tlv"
)

// OnionPacketSize is the size of a BOLT 4 onion routing packet.
const OnionPacketSize = 1366

// tlvBlindedPath is the blinded_path record of update_add_htlc_tlvs.
const tlvBlindedPath = 0

// UpdateAddHTLC offers an HTLC to the peer (BOLT 2).
type UpdateAddHTLC struct {
	ChanID      ChannelID
	ID          uint64
	Amount      MilliSatoshi
	PaymentHash [32]byte
	Expiry      uint32
	OnionBlob   [OnionPacketSize]byte

	// BlindingPoint is the path_key of the blinded_path record, set when
	// the HTLC travels inside a blinded route; nil if absent.
	BlindingPoint *btcec.PublicKey

	// ExtraTLV holds unknown odd records (custom records, for instance),
	// re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgUpdateAddHTLC.
func (m *UpdateAddHTLC) MsgType() MessageType { return MsgUpdateAddHTLC }

// Encode writes the payload.
func (m *UpdateAddHTLC) Encode(w *bytes.Buffer) error {
	w.Grow(32 + 8 + 8 + 32 + 4 + OnionPacketSize)
	w.Write(m.ChanID[:])
	putU64(w, m.ID)
	putU64(w, uint64(m.Amount))
	w.Write(m.PaymentHash[:])
	putU32(w, m.Expiry)
	w.Write(m.OnionBlob[:])
	var own tlv.Stream
	if m.BlindingPoint != nil {
		own = tlv.Stream{{Type: tlvBlindedPath,
			Value: m.BlindingPoint.SerializeCompressed()}}
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *UpdateAddHTLC) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

// decodeBody fills m in place (sparing a copy of the onion); on error m is
// left partly written and must be discarded.
func (m *UpdateAddHTLC) decodeBody(b []byte) error {
	d := decoder{b: b}
	m.ChanID = d.chanID("channel_id")
	m.ID = d.u64("id")
	m.Amount = MilliSatoshi(d.u64("amount_msat"))
	m.PaymentHash = d.bytes32("payment_hash")
	m.Expiry = d.u32("cltv_expiry")
	if onion := d.next(OnionPacketSize, "onion_routing_packet"); onion != nil {
		copy(m.OnionBlob[:], onion)
	}
	if d.err != nil {
		return d.err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvBlindedPath
	})
	if err != nil {
		return err
	}
	m.BlindingPoint = nil
	for _, r := range known {
		if err := tlvFixed(r, 33); err != nil {
			return err
		}
		if m.BlindingPoint, err = parsePoint(r.Value); err != nil {
			return err
		}
	}
	m.ExtraTLV = extra
	return nil
}
