package channeldb

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// CloseType is how a channel closed.
type CloseType uint8

// The close types; their numbers are stored.
const (
	CooperativeClose CloseType = iota
	LocalForceClose
	RemoteForceClose
	BreachClose
	FundingCanceled
	Abandoned
)

func (c CloseType) String() string {
	switch c {
	case CooperativeClose:
		return "cooperative"
	case LocalForceClose:
		return "local force"
	case RemoteForceClose:
		return "remote force"
	case BreachClose:
		return "breach"
	case FundingCanceled:
		return "funding canceled"
	case Abandoned:
		return "abandoned"
	}
	return fmt.Sprintf("close type %d", uint8(c))
}

// ChannelCloseSummary is what remains of a closed channel.
type ChannelCloseSummary struct {
	ChanPoint   wire.OutPoint
	ShortChanID lnwire.ShortChannelID
	RemotePub   *btcec.PublicKey
	Capacity    btcutil.Amount
	ClosingTxID chainhash.Hash
	CloseHeight uint32
	// SettledBalance is ours, spendable at once after the close.
	SettledBalance btcutil.Amount
	// TimeLockedBalance is ours behind a CSV or CLTV lock.
	TimeLockedBalance btcutil.Amount
	CloseType         CloseType
	// IsPending holds until every output of ours is resolved on chain.
	IsPending bool
}

var closedChanBucket = []byte("closed-channels")

const closedVersion = 1

// PutClosedChannel stores s under its channel point, replacing any
// earlier summary.
func PutClosedChannel(tx kvdb.RwTx, s *ChannelCloseSummary) error {
	v, err := encodeClosed(s)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(closedChanBucket)
	if err != nil {
		return err
	}
	return b.Put(outpointKey(s.ChanPoint), v)
}

// FetchClosedChannel returns the summary of chanPoint, or
// ErrClosedChannelNotFound.
func FetchClosedChannel(tx kvdb.RTx, chanPoint wire.OutPoint) (*ChannelCloseSummary, error) {
	b := tx.ReadBucket(closedChanBucket)
	if b == nil {
		return nil, fmt.Errorf("%w: %v", ErrClosedChannelNotFound, chanPoint)
	}
	key := outpointKey(chanPoint)
	v := b.Get(key)
	if v == nil {
		return nil, fmt.Errorf("%w: %v", ErrClosedChannelNotFound, chanPoint)
	}
	return DecodeClosedChannel(key, v)
}

// DeleteClosedChannel removes the summary of chanPoint, if any: the
// closing transaction it describes left the chain in a reorg.
func DeleteClosedChannel(tx kvdb.RwTx, chanPoint wire.OutPoint) error {
	b := tx.ReadWriteBucket(closedChanBucket)
	if b == nil {
		return nil
	}
	return b.Delete(outpointKey(chanPoint))
}

// MarkChannelFullyResolved clears IsPending of chanPoint's summary.
func MarkChannelFullyResolved(tx kvdb.RwTx, chanPoint wire.OutPoint) error {
	s, err := FetchClosedChannel(tx, chanPoint)
	if err != nil {
		return err
	}
	s.IsPending = false
	return PutClosedChannel(tx, s)
}

// ListClosedChannels returns the summaries, in channel-point order; only
// the pending ones if pendingOnly.
func ListClosedChannels(tx kvdb.RTx, pendingOnly bool) ([]*ChannelCloseSummary, error) {
	b := tx.ReadBucket(closedChanBucket)
	if b == nil {
		return nil, nil
	}
	var out []*ChannelCloseSummary
	err := b.ForEach(func(k, v []byte) error {
		s, err := DecodeClosedChannel(k, v)
		if err != nil {
			return err
		}
		if !pendingOnly || s.IsPending {
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

func encodeClosed(s *ChannelCloseSummary) ([]byte, error) {
	if s.RemotePub == nil {
		return nil, fmt.Errorf("closed channel %v: no remote key", s.ChanPoint)
	}
	if s.CloseType > Abandoned {
		return nil, fmt.Errorf("closed channel %v: unknown %v", s.ChanPoint, s.CloseType)
	}
	w := recWriter{b: make([]byte, 0, 128)}
	w.u8(closedVersion)
	w.u64(s.ShortChanID.ToUint64())
	w.pubkey(s.RemotePub)
	w.u64(uint64(s.Capacity))
	w.raw(s.ClosingTxID[:])
	w.u32(s.CloseHeight)
	w.u64(uint64(s.SettledBalance))
	w.u64(uint64(s.TimeLockedBalance))
	w.u8(uint8(s.CloseType))
	w.bool(s.IsPending)
	return w.b, nil
}

// DecodeClosedChannel decodes a closed-channel record stored under key
// (the 36-byte channel point).
func DecodeClosedChannel(key, v []byte) (*ChannelCloseSummary, error) {
	op, ok := parseOutpointKey(key)
	if !ok {
		return nil, NewRecordError("closed channel", fmt.Sprintf("%x", key), fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	r.version(closedVersion)
	s := &ChannelCloseSummary{ChanPoint: op}
	s.ShortChanID = lnwire.NewShortChanIDFromInt(r.u64("short channel id"))
	s.RemotePub = r.pubkey("remote key")
	s.Capacity = r.amount("capacity")
	s.ClosingTxID = r.hash("closing txid")
	s.CloseHeight = r.u32("close height")
	s.SettledBalance = r.amount("settled balance")
	s.TimeLockedBalance = r.amount("time-locked balance")
	s.CloseType = CloseType(r.u8("close type"))
	if r.err == nil && s.CloseType > Abandoned {
		r.fail(fmt.Errorf("unknown %v", s.CloseType))
	}
	s.IsPending = r.bool("pending flag")
	if err := r.finish("closed channel", op.String()); err != nil {
		return nil, err
	}
	return s, nil
}
