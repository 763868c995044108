package channeldb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// ForwardingEvent is one HTLC the switch forwarded and got settled.
type ForwardingEvent struct {
	// Timestamp is the event's time, to the nanosecond; it is the key,
	// so two events never share one (see AddForwardingEvents).
	Timestamp      time.Time
	IncomingChanID lnwire.ShortChannelID
	OutgoingChanID lnwire.ShortChannelID
	AmtIn          lnwire.MilliSatoshi
	AmtOut         lnwire.MilliSatoshi
}

// Fee is what we earned: AmtIn - AmtOut.
func (e *ForwardingEvent) Fee() lnwire.MilliSatoshi { return e.AmtIn - e.AmtOut }

// fwdLogBucket: timestamp (unix ns, 8, BE) -> event.
var fwdLogBucket = []byte("forwarding-log")

const (
	fwdEventVersion = 1
	fwdEventLen     = 1 + 8 + 8 + 8 + 8
)

// AddForwardingEvents appends events to the log. An event whose
// timestamp is taken (two forwards in the same nanosecond, or a clock
// step back) is stored at the next free nanosecond, as lnd does, so no
// event is lost.
func AddForwardingEvents(tx kvdb.RwTx, events []ForwardingEvent) error {
	b, err := tx.CreateTopLevelBucket(fwdLogBucket)
	if err != nil {
		return err
	}
	// Events arrive in time order, bar clock steps.
	kvdb.AppendOnly(b)
	for i := range events {
		e := &events[i]
		ts := tsNano(e.Timestamp)
		for b.Get(u64Key(ts)) != nil {
			ts++
		}
		if err := b.Put(u64Key(ts), encodeFwdEvent(e)); err != nil {
			return err
		}
	}
	return nil
}

// ForwardingLogQuery selects events by time, then pages through them:
// the events with Start <= timestamp <= End, skipping the first
// IndexOffset of those, at most NumMax.
type ForwardingLogQuery struct {
	Start, End  time.Time
	IndexOffset uint32
	NumMax      uint32
}

// ForwardingLogPage is a query's answer. LastIndexOffset is the
// IndexOffset that continues after it.
type ForwardingLogPage struct {
	Events          []ForwardingEvent
	LastIndexOffset uint32
}

// QueryForwardingLog answers q in timestamp order.
func QueryForwardingLog(tx kvdb.RTx, q ForwardingLogQuery) (*ForwardingLogPage, error) {
	page := &ForwardingLogPage{LastIndexOffset: q.IndexOffset}
	b := tx.ReadBucket(fwdLogBucket)
	if b == nil || q.NumMax == 0 {
		return page, nil
	}
	end := u64Key(tsNano(q.End))
	c := b.ReadCursor()
	var skipped uint32
	for k, v := c.Seek(u64Key(tsNano(q.Start))); k != nil &&
		bytes.Compare(k, end) <= 0; k, v = c.Next() {
		if skipped < q.IndexOffset {
			skipped++
			continue
		}
		e, err := DecodeForwardingEvent(k, v)
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, *e)
		page.LastIndexOffset++
		if uint32(len(page.Events)) == q.NumMax {
			break
		}
	}
	return page, nil
}

// tsNano is t in unix nanoseconds, clamped to what the key holds (the
// zero time.Time is before 1970; UnixNano is undefined after 2262).
func tsNano(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

func encodeFwdEvent(e *ForwardingEvent) []byte {
	w := recWriter{b: make([]byte, 0, fwdEventLen)}
	w.u8(fwdEventVersion)
	w.u64(e.IncomingChanID.ToUint64())
	w.u64(e.OutgoingChanID.ToUint64())
	w.u64(uint64(e.AmtIn))
	w.u64(uint64(e.AmtOut))
	return w.b
}

// DecodeForwardingEvent decodes the event stored under key (its
// timestamp).
func DecodeForwardingEvent(key, v []byte) (*ForwardingEvent, error) {
	if len(key) != 8 {
		return nil, NewRecordError("forwarding event", fmt.Sprintf("%x", key),
			fmt.Errorf("key of %d bytes", len(key)))
	}
	ts := time.Unix(0, int64(binary.BigEndian.Uint64(key))).UTC()
	r := recReader{b: v}
	r.version(fwdEventVersion)
	e := &ForwardingEvent{Timestamp: ts}
	e.IncomingChanID = lnwire.NewShortChanIDFromInt(r.u64("incoming channel"))
	e.OutgoingChanID = lnwire.NewShortChanIDFromInt(r.u64("outgoing channel"))
	e.AmtIn = lnwire.MilliSatoshi(r.u64("amount in"))
	e.AmtOut = lnwire.MilliSatoshi(r.u64("amount out"))
	if err := r.finish("forwarding event", ts.Format(time.RFC3339Nano)); err != nil {
		return nil, err
	}
	return e, nil
}
