package lnwire

import (
	"bytes"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire/tlv"
)

// AcceptChannel accepts an open_channel and gives the fundee's parameters
// and keys (BOLT 2).
type AcceptChannel struct {
	PendingChannelID [32]byte
	DustLimit        btcutil.Amount
	MaxValueInFlight MilliSatoshi
	ChannelReserve   btcutil.Amount
	HtlcMinimum      MilliSatoshi
	MinAcceptDepth   uint32
	CsvDelay         uint16
	MaxAcceptedHTLCs uint16

	FundingKey           *btcec.PublicKey
	RevocationPoint      *btcec.PublicKey
	PaymentPoint         *btcec.PublicKey
	DelayedPaymentPoint  *btcec.PublicKey
	HtlcPoint            *btcec.PublicKey
	FirstCommitmentPoint *btcec.PublicKey

	// UpfrontShutdownScript: nil leaves the record out, non-nil empty
	// sends it empty.
	UpfrontShutdownScript []byte

	// ChannelType is the channel_type record, nil if absent. It must equal
	// the one in open_channel.
	ChannelType *RawFeatureVector

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgAcceptChannel.
func (m *AcceptChannel) MsgType() MessageType { return MsgAcceptChannel }

// Encode writes the payload.
func (m *AcceptChannel) Encode(w *bytes.Buffer) error {
	w.Write(m.PendingChannelID[:])
	putU64(w, uint64(m.DustLimit))
	putU64(w, uint64(m.MaxValueInFlight))
	putU64(w, uint64(m.ChannelReserve))
	putU64(w, uint64(m.HtlcMinimum))
	putU32(w, m.MinAcceptDepth)
	putU16(w, m.CsvDelay)
	putU16(w, m.MaxAcceptedHTLCs)
	if err := putChannelKeys(w, m.FundingKey, m.RevocationPoint,
		m.PaymentPoint, m.DelayedPaymentPoint, m.HtlcPoint,
		m.FirstCommitmentPoint); err != nil {
		return err
	}
	return encodeExtension(w, openingTLVs(m.UpfrontShutdownScript,
		m.ChannelType), m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *AcceptChannel) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *AcceptChannel) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := AcceptChannel{
		PendingChannelID: d.bytes32("temporary_channel_id"),
		DustLimit:        btcutil.Amount(d.u64("dust_limit_satoshis")),
		MaxValueInFlight: MilliSatoshi(d.u64("max_htlc_value_in_flight_msat")),
		ChannelReserve:   btcutil.Amount(d.u64("channel_reserve_satoshis")),
		HtlcMinimum:      MilliSatoshi(d.u64("htlc_minimum_msat")),
		MinAcceptDepth:   d.u32("minimum_depth"),
		CsvDelay:         d.u16("to_self_delay"),
		MaxAcceptedHTLCs: d.u16("max_accepted_htlcs"),
	}
	out.FundingKey = d.point("funding_pubkey")
	out.RevocationPoint = d.point("revocation_basepoint")
	out.PaymentPoint = d.point("payment_basepoint")
	out.DelayedPaymentPoint = d.point("delayed_payment_basepoint")
	out.HtlcPoint = d.point("htlc_basepoint")
	out.FirstCommitmentPoint = d.point("first_per_commitment_point")
	if d.err != nil {
		return d.err
	}
	var err error
	out.UpfrontShutdownScript, out.ChannelType, out.ExtraTLV, err =
		decodeOpeningTLVs(d.rest())
	if err != nil {
		return err
	}
	*m = out
	return nil
}
