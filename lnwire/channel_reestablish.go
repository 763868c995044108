package lnwire

import (
	"bytes"
	"errors"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// TLV types of channel_reestablish_tlvs.
const (
	tlvNextFunding            = 1
	tlvMyCurrentFundingLocked = 5
	fundingTxidAndFlagsLen    = 33
)

// ErrReestablishNoPoint is returned when encoding a channel_reestablish that
// has TLV records or a last secret but no current per-commitment point: the
// legacy short form can carry neither.
var ErrReestablishNoPoint = errors.New("lnwire: channel_reestablish without my_current_per_commitment_point")

// FundingTxidFlags is the value of the next_funding and
// my_current_funding_locked records: a funding txid and a bitfield of
// messages to retransmit.
type FundingTxidFlags struct {
	Txid            chainhash.Hash
	RetransmitFlags uint8
}

// ChannelReestablish resynchronises a channel's state after a reconnection
// (BOLT 2 "Message Retransmission"), with the option_data_loss_protect
// fields that let a node that lost data find out.
type ChannelReestablish struct {
	ChanID               ChannelID
	NextCommitmentNumber uint64
	NextRevocationNumber uint64

	// YourLastPerCommitmentSecret and MyCurrentPerCommitmentPoint are the
	// data-loss-protect fields. BOLT 2 requires them; a message from a
	// very old peer may lack both, which decodes with a nil point and
	// re-encodes in the same short form.
	YourLastPerCommitmentSecret [32]byte
	MyCurrentPerCommitmentPoint *btcec.PublicKey

	// NextFunding is the next_funding record (splicing, dual funding),
	// nil if absent.
	NextFunding *FundingTxidFlags

	// MyCurrentFundingLocked is the my_current_funding_locked record, nil
	// if absent.
	MyCurrentFundingLocked *FundingTxidFlags

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgChannelReestablish.
func (m *ChannelReestablish) MsgType() MessageType { return MsgChannelReestablish }

// Encode writes the payload.
func (m *ChannelReestablish) Encode(w *bytes.Buffer) error {
	w.Write(m.ChanID[:])
	putU64(w, m.NextCommitmentNumber)
	putU64(w, m.NextRevocationNumber)
	var own tlv.Stream
	for _, rec := range []struct {
		typ uint64
		v   *FundingTxidFlags
	}{{tlvNextFunding, m.NextFunding},
		{tlvMyCurrentFundingLocked, m.MyCurrentFundingLocked}} {
		if rec.v != nil {
			val := append(rec.v.Txid[:len(rec.v.Txid):len(rec.v.Txid)],
				rec.v.RetransmitFlags)
			own = append(own, tlv.Record{Type: rec.typ, Value: val})
		}
	}
	if m.MyCurrentPerCommitmentPoint == nil {
		if len(own) > 0 || len(m.ExtraTLV) > 0 ||
			m.YourLastPerCommitmentSecret != [32]byte{} {
			return ErrReestablishNoPoint
		}
		return nil
	}
	w.Write(m.YourLastPerCommitmentSecret[:])
	w.Write(m.MyCurrentPerCommitmentPoint.SerializeCompressed())
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *ChannelReestablish) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *ChannelReestablish) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := ChannelReestablish{
		ChanID:               d.chanID("channel_id"),
		NextCommitmentNumber: d.u64("next_commitment_number"),
		NextRevocationNumber: d.u64("next_revocation_number"),
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) == 0 {
		// Legacy form without the data-loss-protect fields.
		*m = out
		return nil
	}
	out.YourLastPerCommitmentSecret = d.bytes32("your_last_per_commitment_secret")
	out.MyCurrentPerCommitmentPoint = d.point("my_current_per_commitment_point")
	if d.err != nil {
		return d.err
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvNextFunding || t == tlvMyCurrentFundingLocked
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		if err := tlvFixed(r, fundingTxidAndFlagsLen); err != nil {
			return err
		}
		v := &FundingTxidFlags{Txid: chainhash.Hash(r.Value[:32]),
			RetransmitFlags: r.Value[32]}
		if r.Type == tlvNextFunding {
			out.NextFunding = v
		} else {
			out.MyCurrentFundingLocked = v
		}
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
