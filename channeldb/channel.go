package channeldb

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// This file holds the open-channel record: everything the channel state
// machine (lnwallet.Channel) needs to resume a channel after a restart.
// The record is data only; the rules that move it forward live in
// lnwallet.

// KeyLocator names one of our keys in the wallet by key family and index
// (m/1017'/coin'/family'/0/index), so that private keys are re-derived
// from the seed rather than stored.
type KeyLocator struct {
	Family uint32
	Index  uint32
}

// ChannelConstraints are the limits one party set for the other in
// open_channel/accept_channel (BOLT 2).
type ChannelConstraints struct {
	// DustLimit is dust_limit_satoshis: outputs of this party's
	// commitments below it are trimmed.
	DustLimit btcutil.Amount

	// ChanReserve is channel_reserve_satoshis this party must keep
	// (set by the other party).
	ChanReserve btcutil.Amount

	// HtlcMinimumMsat is the smallest HTLC this party accepts.
	HtlcMinimumMsat uint64

	// MaxHtlcValueInFlightMsat caps the total value of HTLCs offered to
	// this party.
	MaxHtlcValueInFlightMsat uint64

	// MaxAcceptedHtlcs caps how many HTLCs may be offered to this party.
	MaxAcceptedHtlcs uint16

	// CsvDelay is to_self_delay on this party's own outputs (set by the
	// other party).
	CsvDelay uint16
}

// ChannelConfig is one party's static half of a channel.
type ChannelConfig struct {
	ChannelConstraints

	// FundingKey and the four basepoints, as announced.
	FundingKey              *btcec.PublicKey
	RevocationBasePoint     *btcec.PublicKey
	PaymentBasePoint        *btcec.PublicKey
	DelayedPaymentBasePoint *btcec.PublicKey
	HtlcBasePoint           *btcec.PublicKey

	// The wallet locators of the keys above: set for our side only (the
	// zero value for the peer's).
	FundingKeyLoc         KeyLocator
	RevocationBaseLoc     KeyLocator
	PaymentBaseLoc        KeyLocator
	DelayedPaymentBaseLoc KeyLocator
	HtlcBaseLoc           KeyLocator
}

// HTLC is an HTLC in a commitment, from our node's point of view.
type HTLC struct {
	// ID is the HTLC id given by the party that offered it.
	ID uint64

	// Incoming is true for an HTLC the peer offered.
	Incoming bool

	AmountMsat  uint64
	PaymentHash [32]byte
	CltvExpiry  uint32

	// OutputIndex is the HTLC's output in this commitment transaction,
	// -1 if it was trimmed as dust.
	OutputIndex int32
}

// ChannelCommitment is one commitment of one party: the state it encodes,
// which updates of both logs it includes, and for our own commitment the
// peer's signatures that make it broadcastable.
type ChannelCommitment struct {
	// Number is the commitment number.
	Number uint64

	// TxID is the commitment transaction's id, as built by the state
	// machine when it signed or verified it.
	TxID chainhash.Hash

	// LocalLogIndex and RemoteLogIndex count the updates of our log and
	// of the peer's log the commitment includes (indices below them).
	LocalLogIndex  uint64
	RemoteLogIndex uint64

	// LocalHtlcID and RemoteHtlcID are the next HTLC ids of each party
	// after the included updates.
	LocalHtlcID  uint64
	RemoteHtlcID uint64

	// LocalBalanceMsat and RemoteBalanceMsat are each party's balance
	// before fees and anchors, HTLCs not included.
	LocalBalanceMsat  uint64
	RemoteBalanceMsat uint64

	// FeeRate is feerate_per_kw.
	FeeRate uint32

	// HTLCs are the HTLCs in flight.
	HTLCs []HTLC

	// ToLocalIndex and ToRemoteIndex are the outputs of the
	// commitment owner's and the other party's balances (-1: trimmed),
	// and ToLocalAmount and ToRemoteAmount their values: what a justice
	// or sweep transaction needs without rebuilding the commitment.
	ToLocalIndex, ToRemoteIndex   int32
	ToLocalAmount, ToRemoteAmount btcutil.Amount

	// CommitSig and HtlcSigs are the peer's signatures of our own
	// commitment (zero for the peer's commitment).
	CommitSig lnwire.Sig
	HtlcSigs  []lnwire.Sig
}

// LogUpdate is one update of an update log: the message as it went on the
// wire, at its index in its log.
type LogUpdate struct {
	// Index is the update's position in its log.
	Index uint64

	// Msg is one of UpdateAddHTLC, UpdateFulfillHTLC, UpdateFailHTLC,
	// UpdateFailMalformedHTLC or UpdateFee.
	Msg lnwire.Message

	// FailDust marks an incoming HTLC that pushed our dust exposure over
	// its limit: it is to be failed once committed (BOLT 2).
	FailDust bool
}

// CommitDiff is a commitment of the peer's that we signed and they have
// not revoked the previous one for: the commitment, and the exact
// commitment_signed, so that both can be retransmitted on reconnection.
type CommitDiff struct {
	Commitment ChannelCommitment
	CommitSig  *lnwire.CommitSig

	// SignedAtLocal is the number of our own commitment when we signed:
	// if we later revoked it, our revoke_and_ack went after this
	// commitment_signed, and a retransmission keeps that order.
	SignedAtLocal uint64
}

// OpenChannel is an open channel's full state.
type OpenChannel struct {
	// FundingOutpoint identifies the channel.
	FundingOutpoint wire.OutPoint

	// Capacity is the funding output's value.
	Capacity btcutil.Amount

	// ChanType holds the channel type bits of lnwallet.ChannelType.
	ChanType uint8

	// IsInitiator is true if we sent open_channel.
	IsInitiator bool

	// ShortChannelID is the confirmed position of the funding output;
	// Aliases are the scids (option_scid_alias) the channel is known by.
	ShortChannelID lnwire.ShortChannelID
	Aliases        []lnwire.ShortChannelID

	// RemoteNode is the peer's node key.
	RemoteNode *btcec.PublicKey

	// LocalConfig and RemoteConfig are each party's static parameters.
	LocalConfig  ChannelConfig
	RemoteConfig ChannelConfig

	// RevocationRoot locates the wallet key our per-commitment secrets
	// (the shachain seed) are derived from.
	RevocationRoot KeyLocator

	// LocalCommit and RemoteCommit are the latest commitment of each
	// party whose predecessor is revoked.
	LocalCommit  ChannelCommitment
	RemoteCommit ChannelCommitment

	// PendingRemote is the peer's next commitment, signed by us and not
	// yet acknowledged with revoke_and_ack; nil if none.
	PendingRemote *CommitDiff

	// LocalLog and RemoteLog are the updates each party proposed that are
	// not yet included in both commitments.
	LocalLog  []LogUpdate
	RemoteLog []LogUpdate

	// NextLocalLogIndex and NextRemoteLogIndex are the indices of the
	// next update of each log; NextLocalHtlcID and NextRemoteHtlcID the
	// next HTLC id each party will offer.
	NextLocalLogIndex  uint64
	NextRemoteLogIndex uint64
	NextLocalHtlcID    uint64
	NextRemoteHtlcID   uint64

	// RemoteCurrentPoint is the peer's per_commitment_point of
	// RemoteCommit, RemoteNextPoint that of its next commitment.
	RemoteCurrentPoint *btcec.PublicKey
	RemoteNextPoint    *btcec.PublicKey

	// RevocationStore holds the per-commitment secrets the peer revealed.
	RevocationStore *shachain.Store
}

// ChannelID returns the BOLT 2 channel_id.
func (c *OpenChannel) ChannelID() lnwire.ChannelID {
	return lnwire.NewChanIDFromOutPoint(c.FundingOutpoint)
}

// ChannelUpdate is what one transition of the channel state machine
// writes, in one transaction: the new state and, when the peer revoked a
// commitment, what a justice transaction for it needs.
type ChannelUpdate struct {
	State *OpenChannel

	// Revoked, if set, is appended to the channel's revocation log.
	Revoked *RevocationLogEntry

	// FwdPkg, if set, holds the peer's updates that became irrevocably
	// committed (adds to forward, settles and fails of HTLCs we
	// offered), for the switch: written in the same transaction, so
	// none is lost if the node stops before acting on them.
	FwdPkg *FwdPkg
}
