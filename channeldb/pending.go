package channeldb

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// FundingRole is our side of a channel opening.
type FundingRole uint8

const (
	// Funder opened the channel (sent open_channel).
	Funder FundingRole = iota
	// Fundee accepted it.
	Fundee
)

// FundingState is how far an opening got. The numbers are stored; the
// funding flow defines what each means for it.
type FundingState uint8

const (
	// FundingNegotiating: open_channel/accept_channel exchanged.
	FundingNegotiating FundingState = iota
	// FundingSigned: funding_created/funding_signed exchanged.
	FundingSigned
	// FundingBroadcast: the funding transaction was broadcast (or, for
	// the fundee, is awaited on chain).
	FundingBroadcast
	// FundingConfirmed: it has enough confirmations; channel_ready is
	// being exchanged.
	FundingConfirmed
)

// PendingChannel is the resumable state of a channel being opened: what
// a funder or fundee needs after a restart to carry on or give up.
type PendingChannel struct {
	// PendingChanID is the temporary channel id of open_channel.
	PendingChanID [32]byte
	Role          FundingRole
	PeerPub       *btcec.PublicKey
	// ChanPoint is the funding outpoint, nil until known.
	ChanPoint       *wire.OutPoint
	Capacity        btcutil.Amount
	PushAmt         lnwire.MilliSatoshi
	BroadcastHeight uint32
	// FundingTx is set when we are the funder, once signed.
	FundingTx *wire.MsgTx
	State     FundingState
}

var (
	// pendingChanBucket: pending channel id -> record.
	pendingChanBucket = []byte("pending-channels")
	// pendingByPointBucket: channel point -> pending channel id.
	pendingByPointBucket = []byte("pending-channels-by-point")
)

const (
	pendingVersion = 1
	// maxFundingTx bounds a stored funding transaction (the standard
	// transaction weight limit in bytes).
	maxFundingTx = 400_000
)

// PutPendingChannel stores p, replacing an earlier record of its pending
// id, and indexes it by its channel point when known.
func PutPendingChannel(tx kvdb.RwTx, p *PendingChannel) error {
	v, err := encodePending(p)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(pendingChanBucket)
	if err != nil {
		return err
	}
	idx, err := tx.CreateTopLevelBucket(pendingByPointBucket)
	if err != nil {
		return err
	}
	if p.ChanPoint != nil {
		if other := idx.Get(outpointKey(*p.ChanPoint)); other != nil &&
			!bytes.Equal(other, p.PendingChanID[:]) {
			return fmt.Errorf("%w: pending channel %x: channel point %v is %x's",
				ErrIndexConflict, p.PendingChanID, *p.ChanPoint, other)
		}
	}
	if err := unindexPending(b, idx, p.PendingChanID[:]); err != nil {
		return err
	}
	if err := b.Put(p.PendingChanID[:], v); err != nil {
		return err
	}
	if p.ChanPoint != nil {
		return idx.Put(outpointKey(*p.ChanPoint), p.PendingChanID[:])
	}
	return nil
}

// unindexPending removes the channel-point index entry of the record
// stored under id, if any.
func unindexPending(b, idx kvdb.RwBucket, id []byte) error {
	v := b.Get(id)
	if v == nil {
		return nil
	}
	old, err := DecodePendingChannel(id, v)
	if err != nil {
		return err
	}
	if old.ChanPoint == nil {
		return nil
	}
	return idx.Delete(outpointKey(*old.ChanPoint))
}

// FetchPendingChannel returns the record of a pending channel id, or
// ErrPendingChannelNotFound.
func FetchPendingChannel(tx kvdb.RTx, id [32]byte) (*PendingChannel, error) {
	b := tx.ReadBucket(pendingChanBucket)
	if b == nil {
		return nil, fmt.Errorf("%w: %x", ErrPendingChannelNotFound, id)
	}
	v := b.Get(id[:])
	if v == nil {
		return nil, fmt.Errorf("%w: %x", ErrPendingChannelNotFound, id)
	}
	return DecodePendingChannel(id[:], v)
}

// FetchPendingChannelByPoint returns the pending channel funded by
// chanPoint, or ErrPendingChannelNotFound.
func FetchPendingChannelByPoint(tx kvdb.RTx, chanPoint wire.OutPoint) (*PendingChannel, error) {
	idx := tx.ReadBucket(pendingByPointBucket)
	if idx == nil {
		return nil, fmt.Errorf("%w: %v", ErrPendingChannelNotFound, chanPoint)
	}
	id := idx.Get(outpointKey(chanPoint))
	if id == nil {
		return nil, fmt.Errorf("%w: %v", ErrPendingChannelNotFound, chanPoint)
	}
	if len(id) != 32 {
		return nil, NewRecordError("pending channel index", chanPoint.String(),
			fmt.Errorf("id of %d bytes", len(id)))
	}
	p, err := FetchPendingChannel(tx, [32]byte(id))
	if err != nil {
		return nil, err
	}
	if p.ChanPoint == nil || *p.ChanPoint != chanPoint {
		return nil, NewRecordError("pending channel index", chanPoint.String(),
			fmt.Errorf("points to %x, which has another channel point", id))
	}
	return p, nil
}

// ListPendingChannels returns every pending channel, by pending id.
func ListPendingChannels(tx kvdb.RTx) ([]*PendingChannel, error) {
	b := tx.ReadBucket(pendingChanBucket)
	if b == nil {
		return nil, nil
	}
	var out []*PendingChannel
	err := b.ForEach(func(k, v []byte) error {
		p, err := DecodePendingChannel(k, v)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// DeletePendingChannel removes a pending channel and its index entry;
// removing an absent one is not an error.
func DeletePendingChannel(tx kvdb.RwTx, id [32]byte) error {
	b := tx.ReadWriteBucket(pendingChanBucket)
	idx := tx.ReadWriteBucket(pendingByPointBucket)
	if b == nil || idx == nil {
		return nil
	}
	if err := unindexPending(b, idx, id[:]); err != nil {
		return err
	}
	return b.Delete(id[:])
}

const (
	pendingHasPoint = 1 << iota
	pendingHasTx
)

func encodePending(p *PendingChannel) ([]byte, error) {
	if p.PeerPub == nil {
		return nil, fmt.Errorf("pending channel %x: no peer key", p.PendingChanID)
	}
	if p.Role > Fundee || p.State > FundingConfirmed {
		return nil, fmt.Errorf("pending channel %x: role %d, state %d unknown",
			p.PendingChanID, p.Role, p.State)
	}
	w := recWriter{b: make([]byte, 0, 128)}
	w.u8(pendingVersion)
	w.u8(uint8(p.Role))
	w.u8(uint8(p.State))
	w.pubkey(p.PeerPub)
	w.u64(uint64(p.Capacity))
	w.u64(uint64(p.PushAmt))
	w.u32(p.BroadcastHeight)
	var flags uint8
	if p.ChanPoint != nil {
		flags |= pendingHasPoint
	}
	if p.FundingTx != nil {
		flags |= pendingHasTx
	}
	w.u8(flags)
	if p.ChanPoint != nil {
		w.outpoint(*p.ChanPoint)
	}
	if p.FundingTx != nil {
		var buf bytes.Buffer
		if err := p.FundingTx.Serialize(&buf); err != nil {
			return nil, fmt.Errorf("pending channel %x: %w", p.PendingChanID, err)
		}
		w.bytes(buf.Bytes())
	}
	return w.b, nil
}

// DecodePendingChannel decodes a pending-channel record stored under key
// (the 32-byte pending channel id).
func DecodePendingChannel(key, v []byte) (*PendingChannel, error) {
	name := fmt.Sprintf("%x", key)
	if len(key) != 32 {
		return nil, NewRecordError("pending channel", name, fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	r.version(pendingVersion)
	p := &PendingChannel{PendingChanID: [32]byte(key)}
	p.Role = FundingRole(r.u8("role"))
	p.State = FundingState(r.u8("state"))
	if r.err == nil && (p.Role > Fundee || p.State > FundingConfirmed) {
		r.fail(fmt.Errorf("role %d, state %d unknown", p.Role, p.State))
	}
	p.PeerPub = r.pubkey("peer key")
	p.Capacity = r.amount("capacity")
	p.PushAmt = lnwire.MilliSatoshi(r.u64("push amount"))
	p.BroadcastHeight = r.u32("broadcast height")
	flags := r.u8("flags")
	if r.err == nil && flags&^(pendingHasPoint|pendingHasTx) != 0 {
		r.fail(fmt.Errorf("unknown flags %#x", flags))
	}
	if flags&pendingHasPoint != 0 {
		op := r.outpoint("channel point")
		p.ChanPoint = &op
	}
	if flags&pendingHasTx != 0 {
		raw := r.bytes(maxFundingTx, "funding tx")
		if r.err == nil {
			p.FundingTx = decodeTx(&r, raw)
		}
	}
	if err := r.finish("pending channel", name); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeTx(r *recReader, raw []byte) *wire.MsgTx {
	tx := new(wire.MsgTx)
	rd := bytes.NewReader(raw)
	if err := tx.Deserialize(rd); err != nil {
		r.fail(fmt.Errorf("funding tx: %w", err))
		return nil
	}
	if rd.Len() != 0 {
		r.fail(fmt.Errorf("funding tx: %d trailing bytes", rd.Len()))
		return nil
	}
	return tx
}
