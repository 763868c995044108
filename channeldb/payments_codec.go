package channeldb

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

const (
	paymentVersion = 1
	attemptVersion = 1

	// maxRouteHops bounds a stored route: no onion carries more hops
	// than 1,300 bytes of the smallest payloads hold.
	maxRouteHops = 27
	// maxFailureMessage bounds a stored failuremsg (BOLT 4 pads to 256;
	// a reason is at most a lightning message long).
	maxFailureMessage = 65535
	// minHopLen is the smallest encoded hop, for count checks.
	minHopLen = 33 + 8 + 8 + 4 + 1 + 1
)

// Attempt flags.
const (
	attFlagSettle = 1 << iota
	attFlagFailure
)

// hopFlagMPP marks a hop carrying payment_data.
const hopFlagMPP = 1

// DefaultMaxPayments is what ListPayments returns when the caller sets no
// maximum (lnd's).
const DefaultMaxPayments = 100

func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func encodePaymentCreation(info *PaymentCreation) []byte {
	w := recWriter{b: make([]byte, 0, 32+len(info.PaymentRequest))}
	w.u8(paymentVersion)
	w.u64(uint64(info.Value))
	w.u64(mcTime(info.CreationTime))
	w.bytes([]byte(info.PaymentRequest))
	return w.b
}

// DecodePaymentCreation decodes a payment's creation record, stored in
// the bucket of key (its payment hash).
func DecodePaymentCreation(key, v []byte) (*PaymentCreation, error) {
	// Record names are formatted only for an error: this runs for every
	// payment the router reads. (hex, unlike fmt, does not make key
	// escape: the caller's hash can stay on its stack.)
	if len(key) != 32 {
		return nil, NewRecordError("payment", hex.EncodeToString(key), fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	r.version(paymentVersion)
	info := &PaymentCreation{PaymentHash: [32]byte(key)}
	info.Value = r.msat("value")
	info.CreationTime = r.mcTime("creation time")
	info.PaymentRequest = string(r.bytes(MaxPaymentRequestSize, "payment request"))
	if err := r.done(); err != nil {
		return nil, NewRecordError("payment", hex.EncodeToString(key), err)
	}
	return info, nil
}

func encodeAttempt(a *HTLCAttempt) ([]byte, error) {
	switch {
	case a.Settle != nil && a.Failure != nil:
		return nil, fmt.Errorf("attempt %d both settled and failed", a.AttemptID)
	case len(a.Route.Hops) == 0 || len(a.Route.Hops) > maxRouteHops:
		return nil, fmt.Errorf("attempt %d: route of %d hops", a.AttemptID, len(a.Route.Hops))
	case a.Failure != nil && (a.Failure.Reason > HTLCFailMessage || len(a.Failure.Message) > maxFailureMessage):
		return nil, fmt.Errorf("attempt %d: bad failure", a.AttemptID)
	}
	var flags uint8
	if a.Settle != nil {
		flags |= attFlagSettle
	}
	if a.Failure != nil {
		flags |= attFlagFailure
	}
	w := recWriter{b: make([]byte, 0, 128+len(a.Route.Hops)*64)}
	w.u8(attemptVersion)
	w.u8(flags)
	w.raw(a.SessionKey[:])
	w.u64(mcTime(a.AttemptTime))
	rt := &a.Route
	w.raw(rt.SourcePubKey[:])
	w.u64(uint64(rt.TotalAmount))
	w.u32(rt.TotalTimeLock)
	w.uvarint(uint64(len(rt.Hops)))
	for i := range rt.Hops {
		if err := encodeHop(&w, &rt.Hops[i]); err != nil {
			return nil, fmt.Errorf("attempt %d hop %d: %w", a.AttemptID, i, err)
		}
	}
	if s := a.Settle; s != nil {
		w.raw(s.Preimage[:])
		w.u64(mcTime(s.SettleTime))
	}
	if f := a.Failure; f != nil {
		w.u8(uint8(f.Reason))
		w.u32(f.SourceIndex)
		w.bytes(f.Message)
		w.u64(mcTime(f.FailTime))
	}
	return w.b, nil
}

func encodeHop(w *recWriter, h *PaymentHop) error {
	if len(h.CustomRecords) > maxCustomRecords {
		return fmt.Errorf("%d custom records", len(h.CustomRecords))
	}
	w.raw(h.PubKey[:])
	w.u64(h.ChannelID.ToUint64())
	w.u64(uint64(h.AmtToForward))
	w.u32(h.OutgoingTimeLock)
	if h.MPP != nil {
		w.u8(hopFlagMPP)
		w.raw(h.MPP.PaymentAddr[:])
		w.u64(uint64(h.MPP.TotalMsat))
	} else {
		w.u8(0)
	}
	return w.customRecords(h.CustomRecords)
}

// DecodeAttempt decodes an attempt record stored under key (its attempt
// id).
func DecodeAttempt(key, v []byte) (*HTLCAttempt, error) {
	if len(key) != 8 {
		return nil, NewRecordError("payment attempt", fmt.Sprintf("%x", key), fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	r.version(attemptVersion)
	a := &HTLCAttempt{AttemptID: be64(key)}
	flags := r.u8("flags")
	if r.err == nil && (flags > attFlagFailure<<1-1 || flags == attFlagSettle|attFlagFailure) {
		r.fail(fmt.Errorf("bad flags %#x", flags))
	}
	a.SessionKey = r.bytes32("session key")
	a.AttemptTime = r.mcTime("attempt time")
	copy(a.Route.SourcePubKey[:], r.take(33, "source key"))
	a.Route.TotalAmount = r.msat("total amount")
	a.Route.TotalTimeLock = r.u32("total time lock")
	n := r.count(minHopLen, "hops")
	if r.err == nil && (n == 0 || n > maxRouteHops) {
		r.fail(fmt.Errorf("route of %d hops", n))
	}
	if r.err == nil {
		a.Route.Hops = make([]PaymentHop, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		a.Route.Hops = append(a.Route.Hops, decodeHop(&r))
	}
	if flags&attFlagSettle != 0 {
		a.Settle = &HTLCSettle{Preimage: r.bytes32("preimage")}
		a.Settle.SettleTime = r.mcTime("settle time")
	}
	if flags&attFlagFailure != 0 {
		f := &HTLCFailure{Reason: HTLCFailReason(r.u8("failure reason"))}
		if r.err == nil && f.Reason > HTLCFailMessage {
			r.fail(fmt.Errorf("unknown failure reason %d", f.Reason))
		}
		f.SourceIndex = r.u32("failure source index")
		f.Message = r.bytes(maxFailureMessage, "failure message")
		f.FailTime = r.mcTime("failure time")
		a.Failure = f
	}
	if err := r.done(); err != nil {
		return nil, NewRecordError("payment attempt", fmt.Sprintf("%d", be64(key)), err)
	}
	return a, nil
}

func decodeHop(r *recReader) PaymentHop {
	var h PaymentHop
	copy(h.PubKey[:], r.take(33, "hop key"))
	h.ChannelID = lnwire.NewShortChanIDFromInt(r.u64("hop channel"))
	h.AmtToForward = r.msat("hop amount")
	h.OutgoingTimeLock = r.u32("hop time lock")
	switch flags := r.u8("hop flags"); {
	case r.err != nil:
	case flags == hopFlagMPP:
		h.MPP = &MPPRecord{PaymentAddr: r.bytes32("mpp payment address")}
		h.MPP.TotalMsat = r.msat("mpp total")
	case flags != 0:
		r.fail(fmt.Errorf("bad hop flags %#x", flags))
	}
	h.CustomRecords = r.customRecords()
	return h
}

// PaymentsQuery pages through payments in sequence order, as lnd's
// ListPayments: IndexOffset is exclusive (the sequence number of the last
// payment seen; 0 starts at the beginning, or at the end if Reversed),
// at most MaxPayments payments, only SUCCEEDED ones unless
// IncludeIncomplete, created within [CreationDateStart, CreationDateEnd]
// in whole seconds (zero: unbounded).
type PaymentsQuery struct {
	IndexOffset       uint64
	MaxPayments       uint64
	Reversed          bool
	IncludeIncomplete bool
	CreationDateStart int64
	CreationDateEnd   int64
	// CountTotal counts every stored payment into TotalCount.
	CountTotal bool
}

// PaymentsPage is a query's answer, in ascending sequence order either
// way; the offsets are its first and last payment's sequence numbers
// (both the query's offset if it is empty).
type PaymentsPage struct {
	Payments         []*Payment
	FirstIndexOffset uint64
	LastIndexOffset  uint64
	TotalCount       uint64
}

// QueryPayments answers q.
func QueryPayments(tx kvdb.RTx, q PaymentsQuery) (*PaymentsPage, error) {
	page := &PaymentsPage{FirstIndexOffset: q.IndexOffset, LastIndexOffset: q.IndexOffset}
	if q.MaxPayments > 0 {
		err := forEachPayment(tx, q.IndexOffset, q.Reversed, func(p *Payment) (bool, error) {
			created := p.Info.CreationTime.Unix()
			switch {
			case !q.IncludeIncomplete && p.Status() != StatusSucceeded:
			case created < q.CreationDateStart:
			case q.CreationDateEnd != 0 && created > q.CreationDateEnd:
			default:
				page.Payments = append(page.Payments, p)
			}
			return uint64(len(page.Payments)) < q.MaxPayments, nil
		})
		if err != nil {
			return nil, err
		}
	}
	if q.Reversed {
		slices.Reverse(page.Payments)
	}
	if n := len(page.Payments); n > 0 {
		page.FirstIndexOffset = page.Payments[0].SequenceNum
		page.LastIndexOffset = page.Payments[n-1].SequenceNum
	}
	if q.CountTotal {
		if idx := tx.ReadBucket(paymentsIndexBucket); idx != nil {
			err := idx.ForEach(func(_, _ []byte) error {
				page.TotalCount++
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return page, nil
}

// forEachPayment walks payments by sequence number after offset (before
// it when reversed; offset 0 starts at the end), until f says stop.
func forEachPayment(tx kvdb.RTx, offset uint64, reversed bool, f func(*Payment) (bool, error)) error {
	idx := tx.ReadBucket(paymentsIndexBucket)
	root := tx.ReadBucket(paymentsBucket)
	if idx == nil || root == nil || (!reversed && offset == math.MaxUint64) {
		return nil
	}
	c := idx.ReadCursor()
	var k, v []byte
	switch {
	case reversed && offset == 0:
		k, v = c.Last()
	case reversed:
		if k, _ = c.Seek(u64Key(offset)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	default:
		k, v = c.Seek(u64Key(offset + 1))
	}
	for ; k != nil; k, v = step(c, reversed) {
		if len(k) != 8 || len(v) != 32 {
			return NewRecordError("payment index entry", fmt.Sprintf("%x", k),
				fmt.Errorf("key of %d bytes, hash of %d", len(k), len(v)))
		}
		pb := root.NestedReadBucket(v)
		if pb == nil {
			return NewRecordError("payment index entry", fmt.Sprintf("%d", be64(k)),
				fmt.Errorf("no payment %x", v))
		}
		p, err := readPayment([32]byte(v), pb)
		if err != nil {
			return err
		}
		more, err := f(p)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func step(c kvdb.RCursor, reversed bool) ([]byte, []byte) {
	if reversed {
		return c.Prev()
	}
	return c.Next()
}
