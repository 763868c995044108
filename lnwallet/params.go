package lnwallet

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"
)

// ChannelType selects the commitment format, as negotiated through
// channel_type (BOLT 2) or the features of both peers.
type ChannelType uint8

const (
	// ChannelTypeLegacy is the original format: to_remote pays a key
	// tweaked with the per-commitment point. It exists only so that the
	// Appendix C vectors' legacy derivation can be reproduced; new
	// channels must not use it.
	ChannelTypeLegacy ChannelType = 0

	// ChannelTypeStaticRemoteKey is option_static_remotekey: to_remote
	// is a P2WPKH to the peer's payment_basepoint.
	ChannelTypeStaticRemoteKey ChannelType = 1 << 0

	// ChannelTypeAnchors is option_anchors with zero-fee HTLC
	// transactions (option_anchors_zero_fee_htlc_tx); it implies
	// option_static_remotekey.
	ChannelTypeAnchors ChannelType = 1 << 1
)

// HasAnchors reports whether commitments carry anchor outputs, CSV-locked
// remote outputs and zero-fee HTLC transactions.
func (t ChannelType) HasAnchors() bool {
	return t&ChannelTypeAnchors != 0
}

// StaticRemoteKey reports whether remotepubkey is the peer's
// payment_basepoint rather than a per-commitment key.
func (t ChannelType) StaticRemoteKey() bool {
	return t&(ChannelTypeStaticRemoteKey|ChannelTypeAnchors) != 0
}

func (t ChannelType) String() string {
	switch {
	case t.HasAnchors():
		return "anchors_zero_fee_htlc_tx"
	case t.StaticRemoteKey():
		return "static_remotekey"
	default:
		return "legacy"
	}
}

// Party names one side of a channel from our node's point of view.
type Party uint8

const (
	// Local is our node.
	Local Party = iota
	// Remote is the peer.
	Remote
)

func (p Party) String() string {
	if p == Local {
		return "local"
	}
	return "remote"
}

// Other returns the opposite party.
func (p Party) Other() Party {
	return 1 - p
}

// ChannelConfig is one party's half of the channel parameters, as exchanged
// in open_channel/accept_channel.
type ChannelConfig struct {
	// DustLimit is this party's dust_limit_satoshis; it trims outputs
	// of this party's commitment transactions.
	DustLimit btcutil.Amount

	// ChanReserve is the reserve this party must keep, as set by the
	// other party. It does not shape transactions; it is carried for the
	// state machine's checks.
	ChanReserve btcutil.Amount

	// CsvDelay is the to_self_delay applied to this party's own outputs
	// (its to_local and HTLC transaction outputs); it is the value the
	// OTHER party sent.
	CsvDelay uint16

	// FundingKey is this party's funding_pubkey.
	FundingKey *btcec.PublicKey

	// The basepoints (BOLT 2 open_channel).
	RevocationBasePoint     *btcec.PublicKey
	PaymentBasePoint        *btcec.PublicKey
	DelayedPaymentBasePoint *btcec.PublicKey
	HtlcBasePoint           *btcec.PublicKey
}

func (c *ChannelConfig) validate() error {
	if err := checkKeys(c.FundingKey, c.RevocationBasePoint,
		c.PaymentBasePoint, c.DelayedPaymentBasePoint,
		c.HtlcBasePoint); err != nil {

		return err
	}
	if c.CsvDelay == 0 {
		return errors.New("zero to_self_delay")
	}
	return nil
}

// ChannelParams is everything about a channel that stays fixed across
// commitments and shapes its transactions.
type ChannelParams struct {
	// FundingOutpoint is the funding transaction output every
	// commitment spends.
	FundingOutpoint wire.OutPoint

	// Capacity is the funding output's value.
	Capacity btcutil.Amount

	// Type is the negotiated commitment format.
	Type ChannelType

	// LocalIsOpener reports that our node sent open_channel: it pays the
	// commitment fee and the anchors, and its payment_basepoint comes
	// first in the commitment number obscuring factor.
	LocalIsOpener bool

	// Local and Remote are each party's configuration.
	Local, Remote ChannelConfig
}

// ErrInvalidParams is returned for incomplete or inconsistent channel
// parameters.
var ErrInvalidParams = errors.New("lnwallet: invalid channel parameters")

// Validate checks that the parameters can build transactions.
func (p *ChannelParams) Validate() error {
	if err := p.Local.validate(); err != nil {
		return fmt.Errorf("%w: local: %v", ErrInvalidParams, err)
	}
	if err := p.Remote.validate(); err != nil {
		return fmt.Errorf("%w: remote: %v", ErrInvalidParams, err)
	}
	if p.Capacity <= 0 || p.Capacity > btcutil.MaxSatoshi {
		return fmt.Errorf("%w: capacity %v", ErrInvalidParams,
			p.Capacity)
	}
	if p.Type&^(ChannelTypeStaticRemoteKey|ChannelTypeAnchors) != 0 {
		return fmt.Errorf("%w: unknown channel type %d",
			ErrInvalidParams, p.Type)
	}
	return nil
}

// config returns the configuration of one party.
func (p *ChannelParams) config(party Party) *ChannelConfig {
	if party == Local {
		return &p.Local
	}
	return &p.Remote
}

// opener returns the party that opened the channel.
func (p *ChannelParams) opener() Party {
	if p.LocalIsOpener {
		return Local
	}
	return Remote
}

// FundingScript returns the funding output's witness script and P2WSH
// output script.
func (p *ChannelParams) FundingScript() (witnessScript, pkScript []byte,
	err error) {

	return FundingScript(p.Local.FundingKey, p.Remote.FundingKey)
}

// ObscuringFactor returns the lower 48 bits of
// SHA256(opener payment_basepoint || accepter payment_basepoint), which is
// XORed into commitment numbers.
func (p *ChannelParams) ObscuringFactor() uint64 {
	open, acc := p.Local.PaymentBasePoint, p.Remote.PaymentBasePoint
	if !p.LocalIsOpener {
		open, acc = acc, open
	}
	return ObscuringFactor(open, acc)
}

// ObscuringFactor returns the lower 48 bits of
// SHA256(openerPaymentBase || accepterPaymentBase).
func ObscuringFactor(openerPaymentBase,
	accepterPaymentBase *btcec.PublicKey) uint64 {

	h := sha256.New()
	h.Write(openerPaymentBase.SerializeCompressed())
	h.Write(accepterPaymentBase.SerializeCompressed())
	sum := h.Sum(nil)
	var b [8]byte
	copy(b[2:], sum[26:32])
	return binary.BigEndian.Uint64(b[:])
}

// maxCommitNumber is the largest 48-bit commitment number.
const maxCommitNumber = 1<<48 - 1

// ObscuredCommitmentLockTime splits an obscured commitment number into the
// commitment transaction's locktime (0x20 then its lower 24 bits) and its
// input sequence (0x80 then its upper 24 bits).
func ObscuredCommitmentLockTime(commitNum, factor uint64) (lockTime,
	sequence uint32) {

	obscured := (commitNum ^ factor) & maxCommitNumber
	lockTime = 0x20<<24 | uint32(obscured&0xffffff)
	sequence = 0x80<<24 | uint32(obscured>>24)
	return lockTime, sequence
}

// CommitNumberFromTx recovers the commitment number from a commitment
// transaction's locktime and input sequence, e.g. to recognize a revoked
// commitment on chain. ok is false if tx does not look like a commitment.
func CommitNumberFromTx(tx *wire.MsgTx, factor uint64) (uint64, bool) {
	if len(tx.TxIn) != 1 || tx.LockTime>>24 != 0x20 ||
		tx.TxIn[0].Sequence>>24 != 0x80 {

		return 0, false
	}
	obscured := uint64(tx.TxIn[0].Sequence&0xffffff)<<24 |
		uint64(tx.LockTime&0xffffff)
	return obscured ^ factor, true
}
