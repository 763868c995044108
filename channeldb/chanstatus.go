package channeldb

import (
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
)

// Channel status flags, kept beside the open-channel record: conditions
// that outlive the process and change what the node may do with the
// channel.
//
//	chan-status-bucket/
//	    <channel point (36)> -> version (1) || flags (u32)

var chanStatusBucket = []byte("chan-status-bucket")

const chanStatusVersion = 1

// ChanStatus is a set of channel status flags.
type ChanStatus uint32

const (
	// ChanStatusLocalDataLoss: the peer proved (option_data_loss_protect)
	// that our state is old. Our commitment must never be broadcast and
	// the channel never used again; we wait for the peer to close it.
	ChanStatusLocalDataLoss ChanStatus = 1 << iota
)

// String names the flags as lnd's chan_status_flags do.
func (s ChanStatus) String() string {
	if s == 0 {
		return "ChanStatusDefault"
	}
	out := ""
	if s&ChanStatusLocalDataLoss != 0 {
		out = "ChanStatusBorked|ChanStatusLocalDataLoss"
	}
	if rest := s &^ ChanStatusLocalDataLoss; rest != 0 {
		if out != "" {
			out += "|"
		}
		out += fmt.Sprintf("ChanStatus(%#x)", uint32(rest))
	}
	return out
}

// AddChanStatus sets flags on the channel at op, keeping the others.
func AddChanStatus(tx kvdb.RwTx, op wire.OutPoint, flags ChanStatus) error {
	cur, err := FetchChanStatus(tx, op)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(chanStatusBucket)
	if err != nil {
		return err
	}
	w := &recWriter{}
	w.u8(chanStatusVersion)
	w.u32(uint32(cur | flags))
	return b.Put(outpointKey(op), w.b)
}

// FetchChanStatus returns the flags of the channel at op (none: 0).
func FetchChanStatus(tx kvdb.RTx, op wire.OutPoint) (ChanStatus, error) {
	b := tx.ReadBucket(chanStatusBucket)
	if b == nil {
		return 0, nil
	}
	v := b.Get(outpointKey(op))
	if v == nil {
		return 0, nil
	}
	return decodeChanStatus(op, v)
}

func decodeChanStatus(op wire.OutPoint, v []byte) (ChanStatus, error) {
	r := &recReader{b: v}
	r.version(chanStatusVersion)
	s := ChanStatus(r.u32("flags"))
	if err := r.finish("channel status", op.String()); err != nil {
		return 0, err
	}
	return s, nil
}

// AddChanStatus is AddChanStatus in its own durable transaction.
func (d *DB) AddChanStatus(op wire.OutPoint, flags ChanStatus) error {
	return d.Update(func(tx kvdb.RwTx) error { return AddChanStatus(tx, op, flags) })
}

// FetchChanStatus reads the flags of the channel at op.
func (d *DB) FetchChanStatus(op wire.OutPoint) (ChanStatus, error) {
	var s ChanStatus
	err := d.View(func(tx kvdb.RTx) error {
		var err error
		s, err = FetchChanStatus(tx, op)
		return err
	})
	return s, err
}
