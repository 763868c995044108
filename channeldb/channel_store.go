package channeldb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
)

// The open-channel store: one bucket, one record per channel.
//
//	open-chan-bucket/
//	    <funding txid (32) || output index (4, big-endian)> -> OpenChannel record

var openChanBucket = []byte("open-chan-bucket")

// ErrChannelNotFound is returned for a channel point with no open-channel
// record.
var ErrChannelNotFound = errors.New("open channel not found")

// ChannelKey is the key of a channel's records: the funding txid followed
// by the output index, big-endian. The revocation log uses it too.
func ChannelKey(op wire.OutPoint) []byte {
	k := make([]byte, 36)
	copy(k, op.Hash[:])
	binary.BigEndian.PutUint32(k[32:], op.Index)
	return k
}

// PutOpenChannel writes c, replacing any previous record of the channel.
func PutOpenChannel(tx kvdb.RwTx, c *OpenChannel) error {
	raw, err := EncodeOpenChannel(c)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(openChanBucket)
	if err != nil {
		return err
	}
	// raw is ours alone: the store may keep it rather than copy it.
	return kvdb.PutOwned(b, ChannelKey(c.FundingOutpoint), raw)
}

// FetchOpenChannel reads the record of the channel at op.
func FetchOpenChannel(tx kvdb.RTx, op wire.OutPoint) (*OpenChannel, error) {
	b := tx.ReadBucket(openChanBucket)
	if b == nil {
		return nil, fmt.Errorf("%w: %v", ErrChannelNotFound, op)
	}
	raw := b.Get(ChannelKey(op))
	if raw == nil {
		return nil, fmt.Errorf("%w: %v", ErrChannelNotFound, op)
	}
	return DecodeOpenChannel(raw)
}

// ForEachOpenChannel calls f with every open channel, in key order. A
// record that cannot be decoded stops the walk with its error.
func ForEachOpenChannel(tx kvdb.RTx, f func(*OpenChannel) error) error {
	b := tx.ReadBucket(openChanBucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		c, err := DecodeOpenChannel(v)
		if err != nil {
			return err
		}
		if len(k) != 36 || !bytes.Equal(k, ChannelKey(c.FundingOutpoint)) {
			return NewRecordError("open channel", fmt.Sprintf("%x", k),
				fmt.Errorf("%w: key does not match channel point %v",
					ErrCorruptChannel, c.FundingOutpoint))
		}
		return f(c)
	})
}

// DeleteOpenChannel removes the record of the channel at op.
func DeleteOpenChannel(tx kvdb.RwTx, op wire.OutPoint) error {
	b := tx.ReadWriteBucket(openChanBucket)
	if b == nil || b.Get(ChannelKey(op)) == nil {
		return fmt.Errorf("%w: %v", ErrChannelNotFound, op)
	}
	return b.Delete(ChannelKey(op))
}

// PersistChannel writes what one transition of the channel state machine
// produced (the state, a revocation-log entry, a forwarding package), in
// one durable transaction (lnwallet's Store).
func (d *DB) PersistChannel(ctx context.Context, u *ChannelUpdate) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.Update(func(tx kvdb.RwTx) error {
		return PutChannelTransition(tx, u)
	})
}

// PutChannelTransition is PersistChannel in the caller's transaction, so that
// the switch can write its own records (circuits, acknowledgements) in
// the same durable write as the channel's transition.
func PutChannelTransition(tx kvdb.RwTx, u *ChannelUpdate) error {
	if err := PutOpenChannel(tx, u.State); err != nil {
		return err
	}
	if u.FwdPkg != nil {
		if err := PutFwdPkg(tx, u.FwdPkg); err != nil {
			return err
		}
	}
	if u.Revoked == nil {
		return nil
	}
	return AppendRevocationLog(tx,
		ChannelKey(u.State.FundingOutpoint), u.Revoked)
}

// CloseChannel deletes the open-channel record of the channel at op and
// writes its close summary, in the caller's transaction. The revocation
// log stays: a breach can still be punished after the close.
func CloseChannel(tx kvdb.RwTx, op wire.OutPoint,
	summary *ChannelCloseSummary) error {

	if summary.ChanPoint != op {
		return fmt.Errorf("close channel %v: summary is for %v", op,
			summary.ChanPoint)
	}
	if err := DeleteOpenChannel(tx, op); err != nil {
		return err
	}
	return PutClosedChannel(tx, summary)
}

// CloseChannel is CloseChannel in its own durable transaction.
func (d *DB) CloseChannel(op wire.OutPoint,
	summary *ChannelCloseSummary) error {

	return d.Update(func(tx kvdb.RwTx) error {
		return CloseChannel(tx, op, summary)
	})
}

// FetchOpenChannel reads one open channel.
func (d *DB) FetchOpenChannel(op wire.OutPoint) (*OpenChannel, error) {
	var c *OpenChannel
	err := d.View(func(tx kvdb.RTx) error {
		var err error
		c, err = FetchOpenChannel(tx, op)
		return err
	})
	return c, err
}

// ListOpenChannels reads every open channel.
func (d *DB) ListOpenChannels() ([]*OpenChannel, error) {
	var list []*OpenChannel
	err := d.View(func(tx kvdb.RTx) error {
		list = nil
		return ForEachOpenChannel(tx, func(c *OpenChannel) error {
			list = append(list, c)
			return nil
		})
	})
	return list, err
}
