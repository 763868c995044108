package channeldb

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// The payments store (lnd's control tower): the payments this node sends,
// each attempt written before its HTLC leaves, and each attempt's outcome.

// PaymentStatus is where a payment is; the numbers are lnrpc's
// Payment.PaymentStatus.
type PaymentStatus uint8

// The payment statuses.
const (
	StatusUnknown PaymentStatus = 0
	// StatusInFlight has an attempt whose outcome is not known, or may
	// still make one.
	StatusInFlight PaymentStatus = 1
	// StatusSucceeded has a settled attempt and none in flight.
	StatusSucceeded PaymentStatus = 2
	// StatusFailed has a failure reason and no attempt in flight.
	StatusFailed PaymentStatus = 3
	// StatusInitiated is stored but has made no attempt yet.
	StatusInitiated PaymentStatus = 4
)

func (s PaymentStatus) String() string {
	switch s {
	case StatusInFlight:
		return "IN_FLIGHT"
	case StatusSucceeded:
		return "SUCCEEDED"
	case StatusFailed:
		return "FAILED"
	case StatusInitiated:
		return "INITIATED"
	}
	return "UNKNOWN"
}

// FailureReason is why a payment failed; the numbers are lnrpc's
// PaymentFailureReason.
type FailureReason uint8

// The failure reasons.
const (
	FailureReasonNone                FailureReason = 0
	FailureReasonTimeout             FailureReason = 1
	FailureReasonNoRoute             FailureReason = 2
	FailureReasonError               FailureReason = 3
	FailureReasonPaymentDetails      FailureReason = 4
	FailureReasonInsufficientBalance FailureReason = 5
	FailureReasonCanceled            FailureReason = 6
	maxFailureReason                               = FailureReasonCanceled
)

func (r FailureReason) String() string {
	names := [...]string{"NONE", "TIMEOUT", "NO_ROUTE", "ERROR",
		"INCORRECT_PAYMENT_DETAILS", "INSUFFICIENT_BALANCE", "CANCELED"}
	if int(r) < len(names) {
		return "FAILURE_REASON_" + names[r]
	}
	return fmt.Sprintf("failure reason %d", uint8(r))
}

// Payments store errors, with lnd's messages (apps match them).
var (
	ErrAlreadyPaid             = errors.New("invoice is already paid")
	ErrPaymentInFlight         = errors.New("payment is in transition")
	ErrPaymentExists           = errors.New("payment already exists")
	ErrPaymentNotInitiated     = errors.New("payment isn't initiated")
	ErrPaymentAlreadySucceeded = errors.New("payment is already succeeded")
	ErrPaymentAlreadyFailed    = errors.New("payment has already failed")
	ErrAttemptAlreadySettled   = errors.New("attempt already settled")
	ErrAttemptAlreadyFailed    = errors.New("attempt already failed")
	ErrAttemptNotFound         = errors.New("unable to find attempt info for inflight payment")
	ErrAttemptExists           = errors.New("attempt id already registered")
	ErrValueExceedsAmt         = errors.New("attempted value exceeds payment amount")
	ErrPaymentPendingSettled   = errors.New("payment has settled htlcs")
	ErrPaymentPendingFailed    = errors.New("payment has failure reason")
	ErrMPPMismatch             = errors.New("mp payment total amount or address mismatch")
)

// PaymentCreation is what a payment is for, fixed when it starts.
type PaymentCreation struct {
	PaymentHash [32]byte
	// Value is the amount the recipient is to receive in all.
	Value        lnwire.MilliSatoshi
	CreationTime time.Time
	// PaymentRequest is the BOLT 11 invoice paid, empty for keysend
	// and routes built by the caller.
	PaymentRequest string
}

// PaymentHop is one hop of an attempt's route, with what its onion
// payload carried.
type PaymentHop struct {
	PubKey           [33]byte
	ChannelID        lnwire.ShortChannelID
	AmtToForward     lnwire.MilliSatoshi
	OutgoingTimeLock uint32
	// MPP is the payment_data record of the final hop, nil if none.
	MPP *MPPRecord
	// CustomRecords are the final hop's records of type 65536 and
	// above (the keysend preimage among them).
	CustomRecords map[uint64][]byte
}

// MPPRecord is BOLT 4's payment_data: the payment secret and the total
// of all parts.
type MPPRecord struct {
	PaymentAddr [32]byte
	TotalMsat   lnwire.MilliSatoshi
}

// PaymentRoute is the route an attempt took.
type PaymentRoute struct {
	SourcePubKey  [33]byte
	TotalAmount   lnwire.MilliSatoshi
	TotalTimeLock uint32
	Hops          []PaymentHop
}

// ReceiverAmt is what the final hop receives.
func (r *PaymentRoute) ReceiverAmt() lnwire.MilliSatoshi {
	if len(r.Hops) == 0 {
		return 0
	}
	return r.Hops[len(r.Hops)-1].AmtToForward
}

// HTLCFailReason says what is known of a failed attempt's failure; the
// numbers are lnrpc's HTLCAttempt failure handling (Failure is decoded
// only for FailMessage).
type HTLCFailReason uint8

// The attempt failure kinds.
const (
	// HTLCFailUnknown: the outcome was lost (never sent, say).
	HTLCFailUnknown HTLCFailReason = 0
	// HTLCFailUnreadable: the failure decrypted with no hop's key.
	HTLCFailUnreadable HTLCFailReason = 1
	// HTLCFailInternal: our own node failed it before it left.
	HTLCFailInternal HTLCFailReason = 2
	// HTLCFailMessage: a hop's failure message, in Message.
	HTLCFailMessage HTLCFailReason = 3
)

// HTLCSettle is a settled attempt's outcome.
type HTLCSettle struct {
	Preimage   [32]byte
	SettleTime time.Time
}

// HTLCFailure is a failed attempt's outcome.
type HTLCFailure struct {
	Reason HTLCFailReason
	// SourceIndex is the index of the node that failed it: 0 our own
	// node, i the route's hop i-1.
	SourceIndex uint32
	// Message is the BOLT 4 failuremsg as decrypted (code and data).
	Message  []byte
	FailTime time.Time
}

// HTLCAttempt is one HTLC sent for a payment.
type HTLCAttempt struct {
	AttemptID   uint64
	SessionKey  [32]byte
	Route       PaymentRoute
	AttemptTime time.Time
	// At most one of Settle and Failure is set; neither while in
	// flight.
	Settle  *HTLCSettle
	Failure *HTLCFailure
}

// InFlight reports whether the attempt's outcome is unknown.
func (a *HTLCAttempt) InFlight() bool { return a.Settle == nil && a.Failure == nil }

// Payment is a stored payment and its attempts, in attempt id order.
type Payment struct {
	Info PaymentCreation
	// SequenceNum orders payments by creation, from 1 (ListPayments'
	// index_offset).
	SequenceNum uint64
	Attempts    []HTLCAttempt
	// FailureReason is set once the payment gave up; attempts in flight
	// may still settle it.
	FailureReason *FailureReason
}

// Status derives the payment's status from its attempts and failure
// reason, as lnd does.
func (p *Payment) Status() PaymentStatus {
	var inflight, settled bool
	for i := range p.Attempts {
		switch {
		case p.Attempts[i].Settle != nil:
			settled = true
		case p.Attempts[i].Failure == nil:
			inflight = true
		}
	}
	switch {
	case inflight:
		return StatusInFlight
	case settled:
		return StatusSucceeded
	case p.FailureReason != nil:
		return StatusFailed
	case len(p.Attempts) > 0:
		return StatusInFlight
	}
	return StatusInitiated
}

// Preimage returns the preimage of a settled attempt.
func (p *Payment) Preimage() ([32]byte, bool) {
	for i := range p.Attempts {
		if s := p.Attempts[i].Settle; s != nil {
			return s.Preimage, true
		}
	}
	return [32]byte{}, false
}

// Sent is what the payment's in-flight and settled attempts deliver
// to the recipient, and what they cost in fees.
func (p *Payment) Sent() (amt, fees lnwire.MilliSatoshi) {
	for i := range p.Attempts {
		a := &p.Attempts[i]
		if a.Failure != nil {
			continue
		}
		amt += a.Route.ReceiverAmt()
		fees += a.Route.TotalAmount - a.Route.ReceiverAmt()
	}
	return amt, fees
}

// Buckets: payments holds one nested bucket per payment hash (keys
// below); payments-index maps a sequence number to its hash;
// payment-attempt-ids only gives out attempt ids.
var (
	paymentsBucket      = []byte("payments")
	paymentsIndexBucket = []byte("payments-index")
	attemptIDBucket     = []byte("payment-attempt-ids")

	payInfoKey     = []byte("info")
	paySeqKey      = []byte("seq")
	payFailKey     = []byte("fail")
	payAttemptsKey = []byte("attempts")
)

// NextAttemptID gives out a fresh attempt id, unique across all payments
// (the switch keys its results on it).
func NextAttemptID(tx kvdb.RwTx) (uint64, error) {
	b, err := tx.CreateTopLevelBucket(attemptIDBucket)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

// InitPayment stores a new payment for info.PaymentHash with the next
// sequence number. A hash already paid gives ErrAlreadyPaid, one in
// flight ErrPaymentInFlight, one stored with no attempt yet
// ErrPaymentExists; a failed payment is replaced (its attempts dropped),
// as lnd lets a failed payment be tried again.
func InitPayment(tx kvdb.RwTx, info *PaymentCreation) (uint64, error) {
	p, err := InitPaymentFetch(tx, info)
	if err != nil {
		return 0, err
	}
	return p.SequenceNum, nil
}

// InitPaymentFetch is InitPayment returning the new payment as
// FetchPayment would read it, without reading it.
func InitPaymentFetch(tx kvdb.RwTx, info *PaymentCreation) (*Payment, error) {
	if info.Value == 0 || info.Value > lnwire.MaxMilliSatoshi {
		return nil, fmt.Errorf("init payment %x: amount %v", info.PaymentHash, info.Value)
	}
	if len(info.PaymentRequest) > MaxPaymentRequestSize {
		return nil, fmt.Errorf("init payment %x: %w", info.PaymentHash, ErrPayReqTooLong)
	}
	if old, err := FetchPayment(tx, info.PaymentHash); err == nil {
		switch old.Status() {
		case StatusSucceeded:
			return nil, ErrAlreadyPaid
		case StatusInFlight:
			return nil, ErrPaymentInFlight
		case StatusInitiated:
			return nil, ErrPaymentExists
		}
		if err := deletePayment(tx, old); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, ErrPaymentNotInitiated) {
		return nil, err
	}

	root, err := tx.CreateTopLevelBucket(paymentsBucket)
	if err != nil {
		return nil, err
	}
	idx, err := tx.CreateTopLevelBucket(paymentsIndexBucket)
	if err != nil {
		return nil, err
	}
	kvdb.AppendOnly(idx)
	seq, err := idx.NextSequence()
	if err != nil {
		return nil, err
	}
	pb, err := root.CreateBucket(info.PaymentHash[:])
	if err != nil {
		return nil, err
	}
	if _, err := pb.CreateBucket(payAttemptsKey); err != nil {
		return nil, err
	}
	enc := encodePaymentCreation(info)
	if err := pb.Put(payInfoKey, enc); err != nil {
		return nil, err
	}
	if err := pb.Put(paySeqKey, u64Key(seq)); err != nil {
		return nil, err
	}
	if err := idx.Put(u64Key(seq), info.PaymentHash[:]); err != nil {
		return nil, err
	}
	// Decoded from what was stored, as readPayment would (the times
	// as stored, not as given).
	stored, err := DecodePaymentCreation(info.PaymentHash[:], enc)
	if err != nil {
		return nil, err
	}
	return &Payment{Info: *stored, SequenceNum: seq}, nil
}

// paymentBucket returns the payment's bucket, or ErrPaymentNotInitiated.
func paymentBucket(tx kvdb.RwTx, hash [32]byte) (kvdb.RwBucket, error) {
	root := tx.ReadWriteBucket(paymentsBucket)
	if root == nil {
		return nil, fmt.Errorf("%w: %x", ErrPaymentNotInitiated, hash)
	}
	pb := root.NestedReadWriteBucket(hash[:])
	if pb == nil {
		return nil, fmt.Errorf("%w: %x", ErrPaymentNotInitiated, hash)
	}
	return pb, nil
}

// RegisterAttempt stores an attempt of the payment before its HTLC is
// sent. It refuses one for a payment that is final, has a settled
// attempt or a failure reason (no new attempts then), whose attempts
// would deliver more than its value, or whose MPP record disagrees with
// the payment's other attempts.
func RegisterAttempt(tx kvdb.RwTx, hash [32]byte, a *HTLCAttempt) error {
	_, err := RegisterAttemptFetch(tx, hash, a)
	return err
}

// RegisterAttemptFetch is RegisterAttempt returning the payment with
// the new attempt, as FetchPayment would read it after, without reading
// the payment twice.
func RegisterAttemptFetch(tx kvdb.RwTx, hash [32]byte, a *HTLCAttempt) (*Payment, error) {
	pb, err := paymentBucket(tx, hash)
	if err != nil {
		return nil, err
	}
	p, err := readPayment(hash, pb)
	if err != nil {
		return nil, err
	}
	return registerAttempt(pb, p, a)
}

// RegisterAttemptOn is RegisterAttemptFetch for p, the payment as tx
// holds it (from InitPaymentFetch or a write in tx), which it does not
// read again; p itself takes the attempt.
func RegisterAttemptOn(tx kvdb.RwTx, p *Payment, a *HTLCAttempt) (*Payment, error) {
	pb, err := paymentBucket(tx, p.Info.PaymentHash)
	if err != nil {
		return nil, err
	}
	return registerAttempt(pb, p, a)
}

func registerAttempt(pb kvdb.RwBucket, p *Payment, a *HTLCAttempt) (*Payment, error) {
	hash := p.Info.PaymentHash
	if err := checkNewAttempt(p, a); err != nil {
		return nil, fmt.Errorf("register attempt %d of %x: %w", a.AttemptID, hash, err)
	}
	ab := pb.NestedReadWriteBucket(payAttemptsKey)
	key := u64Key(a.AttemptID)
	if ab.Get(key) != nil {
		return nil, fmt.Errorf("%w: %d", ErrAttemptExists, a.AttemptID)
	}
	v, err := encodeAttempt(a)
	if err != nil {
		return nil, err
	}
	if err := ab.Put(key, v); err != nil {
		return nil, err
	}
	// The stored attempt as read back (no memory shared with a), in
	// attempt id order.
	stored, err := DecodeAttempt(key, v)
	if err != nil {
		return nil, err
	}
	i := len(p.Attempts)
	for i > 0 && p.Attempts[i-1].AttemptID > a.AttemptID {
		i--
	}
	p.Attempts = slices.Insert(p.Attempts, i, *stored)
	return p, nil
}

func checkNewAttempt(p *Payment, a *HTLCAttempt) error {
	switch p.Status() {
	case StatusSucceeded:
		return ErrPaymentAlreadySucceeded
	case StatusFailed:
		return ErrPaymentAlreadyFailed
	}
	if _, ok := p.Preimage(); ok {
		return ErrPaymentPendingSettled
	}
	if p.FailureReason != nil {
		return ErrPaymentPendingFailed
	}
	if !a.InFlight() {
		return fmt.Errorf("a new attempt has no outcome")
	}
	if len(a.Route.Hops) == 0 {
		return fmt.Errorf("empty route")
	}
	sent, _ := p.Sent()
	if sent+a.Route.ReceiverAmt() > p.Info.Value {
		return fmt.Errorf("%w: %v in flight or settled, %v more, of %v",
			ErrValueExceedsAmt, sent, a.Route.ReceiverAmt(), p.Info.Value)
	}
	mpp := a.Route.Hops[len(a.Route.Hops)-1].MPP
	for i := range p.Attempts {
		hops := p.Attempts[i].Route.Hops
		if other := hops[len(hops)-1].MPP; (other == nil) != (mpp == nil) ||
			(mpp != nil && *other != *mpp) {
			return ErrMPPMismatch
		}
	}
	return nil
}

// SettleAttempt records an attempt's preimage and returns the payment.
func SettleAttempt(tx kvdb.RwTx, hash [32]byte, attemptID uint64, s *HTLCSettle) (*Payment, error) {
	return resolveAttempt(tx, hash, attemptID, func(a *HTLCAttempt) { a.Settle = s })
}

// FailAttempt records an attempt's failure and returns the payment.
func FailAttempt(tx kvdb.RwTx, hash [32]byte, attemptID uint64, f *HTLCFailure) (*Payment, error) {
	return resolveAttempt(tx, hash, attemptID, func(a *HTLCAttempt) { a.Failure = f })
}

func resolveAttempt(tx kvdb.RwTx, hash [32]byte, id uint64, set func(*HTLCAttempt)) (*Payment, error) {
	pb, err := paymentBucket(tx, hash)
	if err != nil {
		return nil, err
	}
	p, err := readPayment(hash, pb)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(p.Attempts, func(a HTLCAttempt) bool { return a.AttemptID == id })
	if i < 0 {
		return nil, fmt.Errorf("%w: attempt %d of %x", ErrAttemptNotFound, id, hash)
	}
	a := &p.Attempts[i]
	switch {
	case a.Settle != nil:
		return nil, fmt.Errorf("%w: attempt %d of %x", ErrAttemptAlreadySettled, id, hash)
	case a.Failure != nil:
		return nil, fmt.Errorf("%w: attempt %d of %x", ErrAttemptAlreadyFailed, id, hash)
	}
	set(a)
	enc, err := encodeAttempt(a)
	if err != nil {
		return nil, err
	}
	key := u64Key(id)
	if err := pb.NestedReadWriteBucket(payAttemptsKey).Put(key, enc); err != nil {
		return nil, err
	}
	// The attempt as read back: no memory shared with the caller's
	// outcome.
	stored, err := DecodeAttempt(key, enc)
	if err != nil {
		return nil, err
	}
	p.Attempts[i] = *stored
	return p, nil
}

// FailPayment records that the payment will make no more attempts, and
// why; it is FAILED once no attempt is in flight. A payment already
// settled or failed is refused.
func FailPayment(tx kvdb.RwTx, hash [32]byte, reason FailureReason) (*Payment, error) {
	if reason > maxFailureReason {
		return nil, fmt.Errorf("fail payment %x: unknown %v", hash, reason)
	}
	p, err := FetchPayment(tx, hash)
	if err != nil {
		return nil, err
	}
	switch p.Status() {
	case StatusSucceeded:
		return nil, ErrPaymentAlreadySucceeded
	case StatusFailed:
		return nil, ErrPaymentAlreadyFailed
	}
	pb, err := paymentBucket(tx, hash)
	if err != nil {
		return nil, err
	}
	if err := pb.Put(payFailKey, []byte{paymentVersion, byte(reason)}); err != nil {
		return nil, err
	}
	p.FailureReason = &reason
	return p, nil
}

// FetchPayment returns the payment for hash, or ErrPaymentNotInitiated.
func FetchPayment(tx kvdb.RTx, hash [32]byte) (*Payment, error) {
	root := tx.ReadBucket(paymentsBucket)
	if root == nil {
		return nil, fmt.Errorf("%w: %x", ErrPaymentNotInitiated, hash)
	}
	pb := root.NestedReadBucket(hash[:])
	if pb == nil {
		return nil, fmt.Errorf("%w: %x", ErrPaymentNotInitiated, hash)
	}
	return readPayment(hash, pb)
}

func readPayment(hash [32]byte, pb kvdb.RBucket) (*Payment, error) {
	// The hash is formatted only for an error.
	info, err := DecodePaymentCreation(hash[:], pb.Get(payInfoKey))
	if err != nil {
		return nil, err
	}
	p := &Payment{Info: *info}
	seq := pb.Get(paySeqKey)
	if len(seq) != 8 {
		return nil, NewRecordError("payment sequence number", fmt.Sprintf("%x", hash), fmt.Errorf("%d bytes", len(seq)))
	}
	p.SequenceNum = be64(seq)
	if v := pb.Get(payFailKey); v != nil {
		r, err := decodeFailureReason(v)
		if err != nil {
			return nil, NewRecordError("payment failure reason", fmt.Sprintf("%x", hash), err)
		}
		p.FailureReason = &r
	}
	ab := pb.NestedReadBucket(payAttemptsKey)
	if ab == nil {
		return nil, NewRecordError("payment", fmt.Sprintf("%x", hash), errors.New("no attempts bucket"))
	}
	// A copy the closure takes by value: hash itself is sliced above,
	// and capturing it would move it to the heap.
	name := hash
	err = ab.ForEach(func(k, v []byte) error {
		a, err := DecodeAttempt(k, v)
		if err != nil {
			return fmt.Errorf("payment %x: %w", name, err)
		}
		p.Attempts = append(p.Attempts, *a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func decodeFailureReason(v []byte) (FailureReason, error) {
	if len(v) != 2 {
		return 0, fmt.Errorf("%w: %d bytes", errTruncated, len(v))
	}
	if v[0] != paymentVersion {
		return 0, fmt.Errorf("%w %d", ErrUnknownVersion, v[0])
	}
	if FailureReason(v[1]) > maxFailureReason {
		return 0, fmt.Errorf("unknown failure reason %d", v[1])
	}
	return FailureReason(v[1]), nil
}

// FetchInFlightPayments returns every payment that is not final
// (initiated or in flight), in sequence order: what the router resumes
// at start.
func FetchInFlightPayments(tx kvdb.RTx) ([]*Payment, error) {
	var out []*Payment
	err := forEachPayment(tx, 0, false, func(p *Payment) (bool, error) {
		if s := p.Status(); s == StatusInFlight || s == StatusInitiated {
			out = append(out, p)
		}
		return true, nil
	})
	return out, err
}

// DeletePayment deletes the payment for hash, or with failedHTLCsOnly
// only its failed attempts. A payment in flight is refused
// (ErrPaymentInFlight).
func DeletePayment(tx kvdb.RwTx, hash [32]byte, failedHTLCsOnly bool) error {
	p, err := FetchPayment(tx, hash)
	if err != nil {
		return err
	}
	if p.Status() == StatusInFlight {
		return fmt.Errorf("%w: %x", ErrPaymentInFlight, hash)
	}
	if failedHTLCsOnly {
		return deleteFailedAttempts(tx, p)
	}
	return deletePayment(tx, p)
}

// DeletePayments deletes every payment not in flight (with failedOnly,
// only FAILED ones), or with failedHTLCsOnly only their failed attempts.
// It returns how many payments it deleted or trimmed.
func DeletePayments(tx kvdb.RwTx, failedOnly, failedHTLCsOnly bool) (int, error) {
	var victims []*Payment
	err := forEachPayment(tx, 0, false, func(p *Payment) (bool, error) {
		switch s := p.Status(); {
		case s == StatusInFlight:
		case failedOnly && s != StatusFailed:
		default:
			victims = append(victims, p)
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, p := range victims {
		if failedHTLCsOnly {
			err = deleteFailedAttempts(tx, p)
		} else {
			err = deletePayment(tx, p)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(victims), nil
}

func deletePayment(tx kvdb.RwTx, p *Payment) error {
	if idx := tx.ReadWriteBucket(paymentsIndexBucket); idx != nil {
		if err := idx.Delete(u64Key(p.SequenceNum)); err != nil {
			return err
		}
	}
	return tx.ReadWriteBucket(paymentsBucket).DeleteNestedBucket(p.Info.PaymentHash[:])
}

func deleteFailedAttempts(tx kvdb.RwTx, p *Payment) error {
	pb, err := paymentBucket(tx, p.Info.PaymentHash)
	if err != nil {
		return err
	}
	ab := pb.NestedReadWriteBucket(payAttemptsKey)
	for i := range p.Attempts {
		if p.Attempts[i].Failure != nil {
			if err := ab.Delete(u64Key(p.Attempts[i].AttemptID)); err != nil {
				return err
			}
		}
	}
	return nil
}
