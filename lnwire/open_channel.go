package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// TLV types shared by open_channel and accept_channel.
const (
	tlvUpfrontShutdownScript = 0
	tlvChannelType           = 1
)

// FundingFlag is the channel_flags byte of open_channel.
type FundingFlag uint8

// FFAnnounceChannel asks for the channel to be announced (BOLT 7).
const FFAnnounceChannel FundingFlag = 1

// OpenChannel proposes a new channel (BOLT 2, channel establishment v1).
type OpenChannel struct {
	ChainHash        chainhash.Hash
	PendingChannelID [32]byte
	FundingAmount    btcutil.Amount
	PushAmount       MilliSatoshi
	DustLimit        btcutil.Amount
	MaxValueInFlight MilliSatoshi
	ChannelReserve   btcutil.Amount
	HtlcMinimum      MilliSatoshi
	FeePerKiloWeight uint32
	CsvDelay         uint16
	MaxAcceptedHTLCs uint16

	FundingKey           *btcec.PublicKey
	RevocationPoint      *btcec.PublicKey
	PaymentPoint         *btcec.PublicKey
	DelayedPaymentPoint  *btcec.PublicKey
	HtlcPoint            *btcec.PublicKey
	FirstCommitmentPoint *btcec.PublicKey

	ChannelFlags FundingFlag

	// UpfrontShutdownScript is the upfront_shutdown_script record: nil
	// leaves it out, a non-nil empty slice sends it empty (the way to say
	// "no upfront script" when the feature is negotiated).
	UpfrontShutdownScript []byte

	// ChannelType is the channel_type record, nil if absent.
	ChannelType *RawFeatureVector

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgOpenChannel.
func (m *OpenChannel) MsgType() MessageType { return MsgOpenChannel }

// Encode writes the payload.
func (m *OpenChannel) Encode(w *bytes.Buffer) error {
	w.Write(m.ChainHash[:])
	w.Write(m.PendingChannelID[:])
	putU64(w, uint64(m.FundingAmount))
	putU64(w, uint64(m.PushAmount))
	putU64(w, uint64(m.DustLimit))
	putU64(w, uint64(m.MaxValueInFlight))
	putU64(w, uint64(m.ChannelReserve))
	putU64(w, uint64(m.HtlcMinimum))
	putU32(w, m.FeePerKiloWeight)
	putU16(w, m.CsvDelay)
	putU16(w, m.MaxAcceptedHTLCs)
	if err := putChannelKeys(w, m.FundingKey, m.RevocationPoint,
		m.PaymentPoint, m.DelayedPaymentPoint, m.HtlcPoint,
		m.FirstCommitmentPoint); err != nil {
		return err
	}
	putU8(w, uint8(m.ChannelFlags))
	return encodeExtension(w, openingTLVs(m.UpfrontShutdownScript,
		m.ChannelType), m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *OpenChannel) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *OpenChannel) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := OpenChannel{
		ChainHash:        d.hash("chain_hash"),
		PendingChannelID: d.bytes32("temporary_channel_id"),
		FundingAmount:    btcutil.Amount(d.u64("funding_satoshis")),
		PushAmount:       MilliSatoshi(d.u64("push_msat")),
		DustLimit:        btcutil.Amount(d.u64("dust_limit_satoshis")),
		MaxValueInFlight: MilliSatoshi(d.u64("max_htlc_value_in_flight_msat")),
		ChannelReserve:   btcutil.Amount(d.u64("channel_reserve_satoshis")),
		HtlcMinimum:      MilliSatoshi(d.u64("htlc_minimum_msat")),
		FeePerKiloWeight: d.u32("feerate_per_kw"),
		CsvDelay:         d.u16("to_self_delay"),
		MaxAcceptedHTLCs: d.u16("max_accepted_htlcs"),
	}
	out.FundingKey = d.point("funding_pubkey")
	out.RevocationPoint = d.point("revocation_basepoint")
	out.PaymentPoint = d.point("payment_basepoint")
	out.DelayedPaymentPoint = d.point("delayed_payment_basepoint")
	out.HtlcPoint = d.point("htlc_basepoint")
	out.FirstCommitmentPoint = d.point("first_per_commitment_point")
	out.ChannelFlags = FundingFlag(d.u8("channel_flags"))
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

// putChannelKeys writes the six points of open_channel/accept_channel.
func putChannelKeys(w *bytes.Buffer, keys ...*btcec.PublicKey) error {
	names := [...]string{"funding_pubkey", "revocation_basepoint",
		"payment_basepoint", "delayed_payment_basepoint", "htlc_basepoint",
		"first_per_commitment_point"}
	for i, k := range keys {
		if err := putPoint(w, k, names[i]); err != nil {
			return err
		}
	}
	return nil
}

// openingTLVs builds the upfront_shutdown_script and channel_type records.
func openingTLVs(script []byte, chanType *RawFeatureVector) tlv.Stream {
	var own tlv.Stream
	if script != nil {
		own = append(own, tlv.Record{Type: tlvUpfrontShutdownScript,
			Value: script})
	}
	if chanType != nil {
		own = append(own, tlv.Record{Type: tlvChannelType,
			Value: chanType.Bytes()})
	}
	return own
}

func decodeOpeningTLVs(b []byte) ([]byte, *RawFeatureVector, tlv.Stream,
	error) {

	known, extra, err := decodeExtension(b, func(t uint64) bool {
		return t == tlvUpfrontShutdownScript || t == tlvChannelType
	})
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		script   []byte
		chanType *RawFeatureVector
	)
	for _, r := range known {
		switch r.Type {
		case tlvUpfrontShutdownScript:
			script = r.Value
			if script == nil {
				script = []byte{}
			}
		case tlvChannelType:
			chanType, err = NewRawFeatureVectorFromBytes(r.Value)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("channel_type: %w", err)
			}
		}
	}
	return script, chanType, extra, nil
}
