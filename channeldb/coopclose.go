package channeldb

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
)

// The cooperative closes in progress: one record per channel from the
// moment we send or receive shutdown, until the channel is closed; then
// the record moves to the closed bucket, where ClosedChannels finds who
// opened and who closed the channel.
//
//	coop-close-bucket/
//	    <channel point (36)> -> CoopClose record
//	closed-coop-bucket/
//	    <channel point (36)> -> CoopClose record

var (
	coopCloseBucket  = []byte("coop-close-bucket")
	closedCoopBucket = []byte("closed-coop-bucket")
)

// ErrCoopCloseNotFound is returned for a channel with no close in progress.
var ErrCoopCloseNotFound = errors.New("cooperative close not found")

const (
	coopCloseVersion = 1
	// maxClosingTx bounds a stored closing transaction (one input, two
	// outputs: a few hundred bytes).
	maxClosingTx = 100_000
)

// CoopClose is a cooperative close in progress: enough to retransmit our
// shutdown after a restart (BOLT 2), to restart the fee negotiation with
// the operator's limits, and, once a closing transaction is agreed, to
// rebroadcast it and watch for its confirmation.
type CoopClose struct {
	ChanPoint wire.OutPoint

	// LocalScript is the scriptpubkey of our shutdown; ShutdownSent says
	// we sent it (it is chosen, and stored, before it is sent).
	LocalScript  []byte
	ShutdownSent bool

	// RemoteScript is the peer's shutdown scriptpubkey, nil until
	// received.
	RemoteScript []byte

	// LocallyInitiated is true when our operator asked for the close;
	// LocalIsOpener when we opened the channel.
	LocallyInitiated bool
	LocalIsOpener    bool

	// FeeRate and MaxFeeRate are the operator's limits in sat/kw (0:
	// estimate, and lnd's default maximum).
	FeeRate    uint64
	MaxFeeRate uint64

	// HeightHint is a height at or below any spend of the funding
	// output by a closing transaction: the tip when the close began.
	HeightHint uint32

	// ClosingTx is the agreed closing transaction, signed by both; nil
	// while negotiating. Fee is its fee.
	ClosingTx *wire.MsgTx
	Fee       btcutil.Amount
}

func encodeCoopClose(c *CoopClose) ([]byte, error) {
	if len(c.LocalScript) > maxShutdownScript ||
		len(c.RemoteScript) > maxShutdownScript {

		return nil, fmt.Errorf("coop close %v: script too long", c.ChanPoint)
	}
	w := &recWriter{}
	w.u8(coopCloseVersion)
	w.bytes(c.LocalScript)
	w.bool(c.ShutdownSent)
	w.bool(c.RemoteScript != nil)
	w.bytes(c.RemoteScript)
	w.bool(c.LocallyInitiated)
	w.bool(c.LocalIsOpener)
	w.u64(c.FeeRate)
	w.u64(c.MaxFeeRate)
	w.u32(c.HeightHint)
	var tx []byte
	if c.ClosingTx != nil {
		var buf bytes.Buffer
		if err := c.ClosingTx.Serialize(&buf); err != nil {
			return nil, fmt.Errorf("coop close %v: %w", c.ChanPoint, err)
		}
		tx = buf.Bytes()
	}
	w.bytes(tx)
	w.u64(uint64(c.Fee))
	return w.b, nil
}

// DecodeCoopClose decodes the record stored under key (the channel point).
func DecodeCoopClose(key, v []byte) (*CoopClose, error) {
	op, ok := parseOutpointKey(key)
	if !ok {
		return nil, NewRecordError("coop close", fmt.Sprintf("%x", key),
			fmt.Errorf("key of %d bytes", len(key)))
	}
	r := &recReader{b: v}
	r.version(coopCloseVersion)
	c := &CoopClose{ChanPoint: op}
	c.LocalScript = r.bytes(maxShutdownScript, "local script")
	c.ShutdownSent = r.bool("shutdown sent")
	hasRemote := r.bool("remote script flag")
	remote := r.bytes(maxShutdownScript, "remote script")
	if hasRemote {
		c.RemoteScript = remote
		if c.RemoteScript == nil {
			c.RemoteScript = []byte{}
		}
	} else if len(remote) > 0 {
		r.fail(errors.New("remote script without its flag"))
	}
	c.LocallyInitiated = r.bool("locally initiated")
	c.LocalIsOpener = r.bool("local is opener")
	c.FeeRate = r.u64("fee rate")
	c.MaxFeeRate = r.u64("max fee rate")
	c.HeightHint = r.u32("height hint")
	raw := r.bytes(maxClosingTx, "closing tx")
	if r.err == nil && len(raw) > 0 {
		tx := &wire.MsgTx{}
		rd := bytes.NewReader(raw)
		if err := tx.Deserialize(rd); err != nil {
			r.fail(fmt.Errorf("closing tx: %w", err))
		} else if rd.Len() != 0 {
			r.fail(errors.New("closing tx: trailing bytes"))
		} else {
			c.ClosingTx = tx
		}
	}
	c.Fee = r.amount("fee")
	if err := r.finish("coop close", op.String()); err != nil {
		return nil, err
	}
	return c, nil
}

// PutCoopClose stores c, replacing the channel's earlier record.
func PutCoopClose(tx kvdb.RwTx, c *CoopClose) error {
	v, err := encodeCoopClose(c)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(coopCloseBucket)
	if err != nil {
		return err
	}
	return b.Put(outpointKey(c.ChanPoint), v)
}

// FetchCoopClose returns the close in progress of op, or
// ErrCoopCloseNotFound.
func FetchCoopClose(tx kvdb.RTx, op wire.OutPoint) (*CoopClose, error) {
	b := tx.ReadBucket(coopCloseBucket)
	var v []byte
	if b != nil {
		v = b.Get(outpointKey(op))
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %v", ErrCoopCloseNotFound, op)
	}
	return DecodeCoopClose(outpointKey(op), v)
}

// ListCoopCloses returns every close in progress, in channel-point order.
func ListCoopCloses(tx kvdb.RTx) ([]*CoopClose, error) {
	b := tx.ReadBucket(coopCloseBucket)
	if b == nil {
		return nil, nil
	}
	var out []*CoopClose
	err := b.ForEach(func(k, v []byte) error {
		c, err := DecodeCoopClose(k, v)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// DeleteCoopClose removes the record of op; an absent one is no error.
func DeleteCoopClose(tx kvdb.RwTx, op wire.OutPoint) error {
	b := tx.ReadWriteBucket(coopCloseBucket)
	if b == nil {
		return nil
	}
	return b.Delete(outpointKey(op))
}

// CloseCooperatively moves the channel at op to closed with summary and
// its close in progress to the closed records, in one transaction. A channel already
// closed with a summary is left as it is (another watcher of the funding
// output may have closed it first): marking closed is idempotent.
func (d *DB) CloseCooperatively(op wire.OutPoint,
	summary *ChannelCloseSummary) error {

	return d.Update(func(tx kvdb.RwTx) error {
		err := CloseChannel(tx, op, summary)
		if errors.Is(err, ErrChannelNotFound) {
			if _, ferr := FetchClosedChannel(tx, op); ferr == nil {
				err = nil
			}
		}
		if err != nil {
			return err
		}
		rec, err := FetchCoopClose(tx, op)
		if errors.Is(err, ErrCoopCloseNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := encodeCoopClose(rec)
		if err != nil {
			return err
		}
		b, err := tx.CreateTopLevelBucket(closedCoopBucket)
		if err != nil {
			return err
		}
		if err := b.Put(outpointKey(op), v); err != nil {
			return err
		}
		return DeleteCoopClose(tx, op)
	})
}

// FetchClosedCoop returns the record of a channel closed cooperatively,
// or ErrCoopCloseNotFound.
func FetchClosedCoop(tx kvdb.RTx, op wire.OutPoint) (*CoopClose, error) {
	b := tx.ReadBucket(closedCoopBucket)
	var v []byte
	if b != nil {
		v = b.Get(outpointKey(op))
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %v", ErrCoopCloseNotFound, op)
	}
	return DecodeCoopClose(outpointKey(op), v)
}

// FetchCoopClose reads the close in progress of op.
func (d *DB) FetchCoopClose(op wire.OutPoint) (*CoopClose, error) {
	var c *CoopClose
	err := d.View(func(tx kvdb.RTx) error {
		var err error
		c, err = FetchCoopClose(tx, op)
		return err
	})
	return c, err
}

// PutCoopClose stores c durably.
func (d *DB) PutCoopClose(c *CoopClose) error {
	return d.Update(func(tx kvdb.RwTx) error { return PutCoopClose(tx, c) })
}

// ListCoopCloses reads every close in progress.
func (d *DB) ListCoopCloses() ([]*CoopClose, error) {
	var out []*CoopClose
	err := d.View(func(tx kvdb.RTx) error {
		var err error
		out, err = ListCoopCloses(tx)
		return err
	})
	return out, err
}
