package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// tlvCommitFundingTxid is the funding_txid record of commitment_signed_tlvs.
const tlvCommitFundingTxid = 1

// CommitSig signs the peer's next commitment and its HTLC transactions
// (BOLT 2 commitment_signed).
type CommitSig struct {
	ChanID    ChannelID
	CommitSig Sig

	// HtlcSigs are in the order of the HTLC outputs of the commitment
	// (BOLT 3).
	HtlcSigs []Sig

	// FundingTxid is the funding_txid record (splicing: which funding
	// transaction this commitment spends), nil if absent.
	FundingTxid *chainhash.Hash

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgCommitSig.
func (m *CommitSig) MsgType() MessageType { return MsgCommitSig }

// Encode writes the payload.
func (m *CommitSig) Encode(w *bytes.Buffer) error {
	if len(m.HtlcSigs) > 0xffff {
		return fmt.Errorf("%d htlc signatures: %w", len(m.HtlcSigs),
			ErrFieldTooLong)
	}
	w.Grow(32 + 64 + 2 + 64*len(m.HtlcSigs))
	w.Write(m.ChanID[:])
	w.Write(m.CommitSig[:])
	putU16(w, uint16(len(m.HtlcSigs)))
	for i := range m.HtlcSigs {
		w.Write(m.HtlcSigs[i][:])
	}
	var own tlv.Stream
	if m.FundingTxid != nil {
		own = tlv.Stream{{Type: tlvCommitFundingTxid,
			Value: m.FundingTxid[:]}}
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *CommitSig) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *CommitSig) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := CommitSig{ChanID: d.chanID("channel_id"), CommitSig: d.sig("signature")}
	n := int(d.u16("num_htlcs"))
	raw := d.next(64*n, "htlc_signature")
	if d.err != nil {
		return d.err
	}
	if n > 0 {
		out.HtlcSigs = make([]Sig, n)
		for i := range out.HtlcSigs {
			copy(out.HtlcSigs[i][:], raw[64*i:])
		}
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == tlvCommitFundingTxid
	})
	if err != nil {
		return err
	}
	for _, r := range known {
		if err := tlvFixed(r, 32); err != nil {
			return err
		}
		h := chainhash.Hash(r.Value)
		out.FundingTxid = &h
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}
