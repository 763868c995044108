package channeldb

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// ChannelHead is the start of an open channel's record: what path finding
// needs of our own channels, read without decoding the rest (configs,
// commitments, logs, the revocation store) or parsing any key. The node
// key is kept as its 33 stored bytes, which a full decode checks is a
// valid point.
type ChannelHead struct {
	FundingOutpoint wire.OutPoint
	Capacity        btcutil.Amount
	ShortChannelID  lnwire.ShortChannelID
	Aliases         []lnwire.ShortChannelID
	RemoteNode      [33]byte
}

// DecodeChannelHead decodes the head of an open-channel record written by
// EncodeOpenChannel.
func DecodeChannelHead(data []byte) (*ChannelHead, error) {
	d := &decoder{b: data, record: "header"}
	h := &ChannelHead{}
	if v := d.u8(); d.err == nil && v != openChannelVersion {
		d.fail("unknown version %d", v)
	}
	h.FundingOutpoint = d.outpoint()
	h.Capacity = d.amount()
	d.u8()   // channel type
	d.bool() // initiator
	h.ShortChannelID = lnwire.NewShortChanIDFromInt(d.u64())
	n := d.count(8)
	for i := 0; i < n; i++ {
		h.Aliases = append(h.Aliases, lnwire.NewShortChanIDFromInt(d.u64()))
	}
	if d.u8() != 1 && d.err == nil {
		d.fail("remote node key absent")
	}
	if k := d.take(33); k != nil {
		if k[0] != 2 && k[0] != 3 {
			d.fail("remote node key is not a compressed key")
		}
		copy(h.RemoteNode[:], k)
	}
	if d.err != nil {
		name := "unknown channel"
		if len(data) >= 37 {
			name = h.FundingOutpoint.String()
		}
		return nil, NewRecordError("open channel", name,
			fmt.Errorf("%w: %w", ErrCorruptChannel, d.err))
	}
	return h, nil
}

// ForEachChannelHead calls f with the head of every open channel, in key
// order. A record whose head cannot be decoded stops the walk with its
// error.
func ForEachChannelHead(tx kvdb.RTx, f func(*ChannelHead) error) error {
	b := tx.ReadBucket(openChanBucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		h, err := DecodeChannelHead(v)
		if err != nil {
			return err
		}
		if len(k) != 36 || !bytes.Equal(k, ChannelKey(h.FundingOutpoint)) {
			return NewRecordError("open channel", fmt.Sprintf("%x", k),
				fmt.Errorf("%w: key does not match channel point %v",
					ErrCorruptChannel, h.FundingOutpoint))
		}
		return f(h)
	})
}

// ListChannelHeads reads the head of every open channel: ListOpenChannels
// for a caller that needs only the channel's identity, capacity and peer,
// at a fraction of the cost (a payer lists its channels for every
// payment).
func (d *DB) ListChannelHeads() ([]*ChannelHead, error) {
	var list []*ChannelHead
	err := d.View(func(tx kvdb.RTx) error {
		list = nil
		return ForEachChannelHead(tx, func(h *ChannelHead) error {
			list = append(list, h)
			return nil
		})
	})
	return list, err
}
