package channeldb

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

func samplePaymentCreation(b byte) *PaymentCreation {
	return &PaymentCreation{
		PaymentHash:    [32]byte{b, 0xaa},
		Value:          1_000_000,
		CreationTime:   time.Unix(1_700_000_000+int64(b), 123),
		PaymentRequest: "lnbcrt10u1sample",
	}
}

// sampleAttempt is a two-hop attempt delivering 500,000 msat, with an MPP
// record when mpp.
func sampleAttempt(id uint64, mpp bool) *HTLCAttempt {
	a := &HTLCAttempt{
		AttemptID:   id,
		SessionKey:  [32]byte{byte(id), 1},
		AttemptTime: time.Unix(1_700_000_100, int64(id)),
		Route: PaymentRoute{
			SourcePubKey:  [33]byte(samplePub(1).SerializeCompressed()),
			TotalAmount:   501_000,
			TotalTimeLock: 900,
			Hops: []PaymentHop{
				{PubKey: [33]byte(samplePub(2).SerializeCompressed()),
					ChannelID: lnwire.NewShortChanIDFromInt(800_000<<40 | 1), AmtToForward: 500_000, OutgoingTimeLock: 860},
				{PubKey: [33]byte(samplePub(3).SerializeCompressed()),
					ChannelID: lnwire.NewShortChanIDFromInt(800_001<<40 | 2), AmtToForward: 500_000, OutgoingTimeLock: 860,
					CustomRecords: map[uint64][]byte{65537: {1, 2}}},
			},
		},
	}
	if mpp {
		a.Route.Hops[1].MPP = &MPPRecord{PaymentAddr: [32]byte{9}, TotalMsat: 1_000_000}
	}
	return a
}

func mustPayment(t *testing.T, db *DB, hash [32]byte) *Payment {
	t.Helper()
	var p *Payment
	view(t, db, func(tx kvdb.RTx) error {
		var err error
		p, err = FetchPayment(tx, hash)
		return err
	})
	return p
}

func TestPaymentLifecycle(t *testing.T) {
	db, _ := openTestDB(t)
	info := samplePaymentCreation(1)
	h := info.PaymentHash
	update(t, db, func(tx kvdb.RwTx) error {
		seq, err := InitPayment(tx, info)
		if err == nil && seq != 1 {
			t.Fatalf("sequence %d", seq)
		}
		return err
	})
	if s := mustPayment(t, db, h).Status(); s != StatusInitiated {
		t.Fatalf("new payment %v", s)
	}
	// Initiated, then in flight: a second payment of the hash is refused.
	initErr := func() error {
		return db.Update(func(tx kvdb.RwTx) error { _, err := InitPayment(tx, info); return err })
	}
	if err := initErr(); !errors.Is(err, ErrPaymentExists) {
		t.Fatalf("init twice: %v", err)
	}
	update(t, db, func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(1, true)) })
	update(t, db, func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(2, true)) })
	if err := initErr(); !errors.Is(err, ErrPaymentInFlight) {
		t.Fatalf("init in flight: %v", err)
	}
	// A third part would exceed the value; a non-MPP part mismatches.
	err := db.Update(func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(3, true)) })
	if !errors.Is(err, ErrValueExceedsAmt) {
		t.Fatalf("over value: %v", err)
	}
	update(t, db, func(tx kvdb.RwTx) error {
		_, err := FailAttempt(tx, h, 2, &HTLCFailure{Reason: HTLCFailMessage, SourceIndex: 2,
			Message: []byte{0x40, 0x0f}, FailTime: time.Unix(1_700_000_200, 0)})
		return err
	})
	err = db.Update(func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(4, false)) })
	if !errors.Is(err, ErrMPPMismatch) {
		t.Fatalf("mpp mismatch: %v", err)
	}
	err = db.Update(func(tx kvdb.RwTx) error {
		_, err := FailAttempt(tx, h, 2, &HTLCFailure{})
		return err
	})
	if !errors.Is(err, ErrAttemptAlreadyFailed) {
		t.Fatalf("fail twice: %v", err)
	}
	update(t, db, func(tx kvdb.RwTx) error {
		_, err := SettleAttempt(tx, h, 1, &HTLCSettle{Preimage: [32]byte{7}, SettleTime: time.Unix(1_700_000_300, 0)})
		return err
	})
	p := mustPayment(t, db, h)
	if p.Status() != StatusSucceeded || len(p.Attempts) != 2 {
		t.Fatalf("after settle: %v with %d attempts", p.Status(), len(p.Attempts))
	}
	if pre, ok := p.Preimage(); !ok || pre != [32]byte{7} {
		t.Fatalf("preimage %x %v", pre, ok)
	}
	if err := initErr(); !errors.Is(err, ErrAlreadyPaid) {
		t.Fatalf("init paid: %v", err)
	}
	err = db.Update(func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(5, true)) })
	if !errors.Is(err, ErrPaymentAlreadySucceeded) {
		t.Fatalf("attempt after success: %v", err)
	}
	// The stored attempt reads back as written.
	want := sampleAttempt(2, true)
	want.Failure = p.Attempts[1].Failure
	a, _ := encodeAttempt(want)
	b, err := encodeAttempt(&p.Attempts[1])
	sameEncoding(t, "attempt", a, b, err)
}

func TestPaymentFailAndRetry(t *testing.T) {
	db, _ := openTestDB(t)
	info := samplePaymentCreation(2)
	h := info.PaymentHash
	update(t, db, func(tx kvdb.RwTx) error { _, err := InitPayment(tx, info); return err })
	update(t, db, func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(1, false)) })
	update(t, db, func(tx kvdb.RwTx) error { _, err := FailPayment(tx, h, FailureReasonNoRoute); return err })
	// A failure reason with an attempt in flight: still in flight, and
	// no new attempt.
	if s := mustPayment(t, db, h).Status(); s != StatusInFlight {
		t.Fatalf("failed with attempt in flight: %v", s)
	}
	err := db.Update(func(tx kvdb.RwTx) error { return RegisterAttempt(tx, h, sampleAttempt(2, false)) })
	if !errors.Is(err, ErrPaymentPendingFailed) {
		t.Fatalf("attempt after failure reason: %v", err)
	}
	err = db.Update(func(tx kvdb.RwTx) error { return DeletePayment(tx, h, false) })
	if !errors.Is(err, ErrPaymentInFlight) {
		t.Fatalf("delete in flight: %v", err)
	}
	update(t, db, func(tx kvdb.RwTx) error {
		_, err := FailAttempt(tx, h, 1, &HTLCFailure{Reason: HTLCFailUnreadable})
		return err
	})
	p := mustPayment(t, db, h)
	if p.Status() != StatusFailed || *p.FailureReason != FailureReasonNoRoute {
		t.Fatalf("failed payment: %v %v", p.Status(), p.FailureReason)
	}
	// A failed payment may be tried again: a fresh record, a new
	// sequence number.
	update(t, db, func(tx kvdb.RwTx) error {
		seq, err := InitPayment(tx, info)
		if err == nil && seq != 2 {
			t.Fatalf("retry sequence %d", seq)
		}
		return err
	})
	p = mustPayment(t, db, h)
	if p.Status() != StatusInitiated || len(p.Attempts) != 0 || p.FailureReason != nil {
		t.Fatalf("retried payment: %v", p)
	}
	view(t, db, func(tx kvdb.RTx) error {
		page, err := QueryPayments(tx, PaymentsQuery{MaxPayments: 10, IncludeIncomplete: true, CountTotal: true})
		if err == nil && (len(page.Payments) != 1 || page.TotalCount != 1) {
			t.Fatalf("old index entry kept: %d payments, total %d", len(page.Payments), page.TotalCount)
		}
		return err
	})
}

// addPayments stores n payments: odd ones succeeded, even ones failed,
// the last in flight.
func addPayments(t *testing.T, db *DB, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		info := samplePaymentCreation(byte(i))
		update(t, db, func(tx kvdb.RwTx) error {
			if _, err := InitPayment(tx, info); err != nil {
				return err
			}
			if err := RegisterAttempt(tx, info.PaymentHash, sampleAttempt(uint64(i), false)); err != nil {
				return err
			}
			var err error
			switch {
			case i == n:
			case i%2 == 1:
				_, err = SettleAttempt(tx, info.PaymentHash, uint64(i), &HTLCSettle{Preimage: [32]byte{byte(i)}})
			default:
				if _, err = FailAttempt(tx, info.PaymentHash, uint64(i), &HTLCFailure{}); err == nil {
					_, err = FailPayment(tx, info.PaymentHash, FailureReasonTimeout)
				}
			}
			return err
		})
	}
}

func seqs(ps []*Payment) []uint64 {
	var out []uint64
	for _, p := range ps {
		out = append(out, p.SequenceNum)
	}
	return out
}

func TestQueryPayments(t *testing.T) {
	db, _ := openTestDB(t)
	addPayments(t, db, 8)
	cases := []struct {
		name        string
		q           PaymentsQuery
		want        []uint64
		first, last uint64
	}{
		{"all", PaymentsQuery{MaxPayments: 100, IncludeIncomplete: true}, []uint64{1, 2, 3, 4, 5, 6, 7, 8}, 1, 8},
		{"succeeded only", PaymentsQuery{MaxPayments: 100}, []uint64{1, 3, 5, 7}, 1, 7},
		{"page", PaymentsQuery{IndexOffset: 2, MaxPayments: 3, IncludeIncomplete: true}, []uint64{3, 4, 5}, 3, 5},
		{"reversed from end", PaymentsQuery{MaxPayments: 3, Reversed: true, IncludeIncomplete: true}, []uint64{6, 7, 8}, 6, 8},
		{"reversed before 6", PaymentsQuery{IndexOffset: 6, MaxPayments: 2, Reversed: true}, []uint64{3, 5}, 3, 5},
		{"past the end", PaymentsQuery{IndexOffset: 8, MaxPayments: 2}, nil, 8, 8},
		{"none asked", PaymentsQuery{IncludeIncomplete: true}, nil, 0, 0},
		{"dates", PaymentsQuery{MaxPayments: 100, IncludeIncomplete: true,
			CreationDateStart: 1_700_000_003, CreationDateEnd: 1_700_000_005}, []uint64{3, 4, 5}, 3, 5},
	}
	for _, c := range cases {
		view(t, db, func(tx kvdb.RTx) error {
			page, err := QueryPayments(tx, c.q)
			if err != nil {
				return err
			}
			got := seqs(page.Payments)
			if len(got) != len(c.want) || page.FirstIndexOffset != c.first || page.LastIndexOffset != c.last {
				t.Fatalf("%s: got %v (%d..%d), want %v (%d..%d)", c.name, got,
					page.FirstIndexOffset, page.LastIndexOffset, c.want, c.first, c.last)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("%s: got %v, want %v", c.name, got, c.want)
				}
			}
			return nil
		})
	}
	view(t, db, func(tx kvdb.RTx) error {
		inflight, err := FetchInFlightPayments(tx)
		if err == nil && (len(inflight) != 1 || inflight[0].SequenceNum != 8) {
			t.Fatalf("in flight: %v", seqs(inflight))
		}
		return err
	})
}

func TestDeletePayments(t *testing.T) {
	db, _ := openTestDB(t)
	addPayments(t, db, 6)
	count := func() uint64 {
		var n uint64
		view(t, db, func(tx kvdb.RTx) error {
			page, err := QueryPayments(tx, PaymentsQuery{CountTotal: true})
			n = page.TotalCount
			return err
		})
		return n
	}
	// Failed HTLCs only: payments stay, their failed attempts go.
	update(t, db, func(tx kvdb.RwTx) error {
		n, err := DeletePayments(tx, true, true)
		if err == nil && n != 2 {
			t.Fatalf("trimmed %d", n)
		}
		return err
	})
	if p := mustPayment(t, db, samplePaymentCreation(2).PaymentHash); len(p.Attempts) != 0 || count() != 6 {
		t.Fatalf("after trimming: %d attempts, %d payments", len(p.Attempts), count())
	}
	update(t, db, func(tx kvdb.RwTx) error { _, err := DeletePayments(tx, true, false); return err })
	if count() != 4 {
		t.Fatalf("after deleting failed: %d", count())
	}
	update(t, db, func(tx kvdb.RwTx) error { return DeletePayment(tx, samplePaymentCreation(1).PaymentHash, false) })
	update(t, db, func(tx kvdb.RwTx) error { _, err := DeletePayments(tx, false, false); return err })
	// The one in flight stays.
	if count() != 1 {
		t.Fatalf("after deleting all: %d", count())
	}
	err := db.View(func(tx kvdb.RTx) error { _, err := FetchPayment(tx, samplePaymentCreation(1).PaymentHash); return err })
	if !errors.Is(err, ErrPaymentNotInitiated) {
		t.Fatalf("deleted payment: %v", err)
	}
}

func TestNextAttemptID(t *testing.T) {
	db, _ := openTestDB(t)
	for want := uint64(1); want <= 3; want++ {
		update(t, db, func(tx kvdb.RwTx) error {
			id, err := NextAttemptID(tx)
			if err == nil && id != want {
				t.Fatalf("id %d, want %d", id, want)
			}
			return err
		})
	}
}

func FuzzDecodeAttempt(f *testing.F) {
	key := u64Key(7)
	f.Add(must(encodeAttempt(sampleAttempt(7, true))))
	settled := sampleAttempt(7, false)
	settled.Settle = &HTLCSettle{Preimage: [32]byte{1}, SettleTime: time.Unix(5, 0)}
	f.Add(must(encodeAttempt(settled)))
	failed := sampleAttempt(7, true)
	failed.Failure = &HTLCFailure{Reason: HTLCFailMessage, SourceIndex: 1, Message: []byte{0x10, 7, 0, 0}}
	f.Add(must(encodeAttempt(failed)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*HTLCAttempt, error) { return DecodeAttempt(key, b) },
			encodeAttempt, true)
	})
}

func FuzzDecodePaymentCreation(f *testing.F) {
	info := samplePaymentCreation(3)
	f.Add(encodePaymentCreation(info))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*PaymentCreation, error) { return DecodePaymentCreation(info.PaymentHash[:], b) },
			func(p *PaymentCreation) ([]byte, error) { return encodePaymentCreation(p), nil }, true)
	})
}

// TestWritesReturnWhatIsStored: the payment each write returns is the one
// FetchPayment reads after it, times as stored (not as given, with a
// monotonic reading and a zone), and an attempt registered on the payment
// InitPaymentFetch returned is stored as RegisterAttemptFetch stores it.
func TestWritesReturnWhatIsStored(t *testing.T) {
	db, _ := openTestDB(t)
	info := samplePaymentCreation(3)
	info.CreationTime = time.Now().In(time.FixedZone("x", 3600))
	h := info.PaymentHash
	same := func(what string, got *Payment) {
		t.Helper()
		if want := mustPayment(t, db, h); !reflect.DeepEqual(got, want) {
			t.Errorf("%s returned\n%+v\nstored\n%+v", what, got, want)
		}
	}
	var p *Payment
	update(t, db, func(tx kvdb.RwTx) error {
		var err error
		p, err = InitPaymentFetch(tx, info)
		return err
	})
	same("InitPaymentFetch", p)
	a := sampleAttempt(1, true)
	a.AttemptTime = time.Now()
	update(t, db, func(tx kvdb.RwTx) error {
		var err error
		p, err = RegisterAttemptOn(tx, p, a)
		return err
	})
	same("RegisterAttemptOn", p)
	update(t, db, func(tx kvdb.RwTx) error {
		var err error
		p, err = RegisterAttemptFetch(tx, h, sampleAttempt(2, true))
		return err
	})
	same("RegisterAttemptFetch", p)
	update(t, db, func(tx kvdb.RwTx) error {
		var err error
		p, err = SettleAttempt(tx, h, 1, &HTLCSettle{Preimage: [32]byte{7}, SettleTime: time.Now()})
		return err
	})
	same("SettleAttempt", p)
	// RegisterAttemptOn checks the attempt as RegisterAttempt does.
	err := db.Update(func(tx kvdb.RwTx) error {
		_, err := RegisterAttemptOn(tx, p, sampleAttempt(3, true))
		return err
	})
	if !errors.Is(err, ErrPaymentPendingSettled) {
		t.Errorf("attempt on a settled payment: %v", err)
	}
	// A payment already stored is refused with nothing written.
	err = db.Update(func(tx kvdb.RwTx) error {
		_, err := InitPaymentFetch(tx, info)
		return err
	})
	if !errors.Is(err, ErrPaymentInFlight) {
		t.Errorf("init of a payment in flight: %v", err)
	}
}
