package channeldb

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
)

// BenchmarkPaymentWrites is a payer's two writes of a one-attempt
// payment, as the router makes them (without fsync, to show their CPU):
// the payment created with its attempt and read back, then the settle,
// over a store already holding 10,000 payments.
func BenchmarkPaymentWrites(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "channel.db"), WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	hashOf := func(i int) [32]byte {
		var h [32]byte
		// Spread like real payment hashes.
		binary.BigEndian.PutUint64(h[:], uint64(i)*0x9e3779b97f4a7c15)
		binary.BigEndian.PutUint64(h[8:], uint64(i))
		return h
	}
	template := sampleAttempt(0, true)
	pay := func(tx kvdb.RwTx, i int) (*Payment, error) {
		info := samplePaymentCreation(0)
		info.PaymentHash = hashOf(i)
		p, err := InitPaymentFetch(tx, info)
		if err != nil {
			return nil, err
		}
		id, err := NextAttemptID(tx)
		if err != nil {
			return nil, err
		}
		a := *template
		a.AttemptID = id
		return RegisterAttemptOn(tx, p, &a)
	}
	const stored = 10_000
	for n := 0; n < stored; n += 1000 {
		err := db.Update(func(tx kvdb.RwTx) error {
			for i := n; i < n+1000; i++ {
				if _, err := pay(tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := stored
	for b.Loop() {
		var p *Payment
		err := db.Update(func(tx kvdb.RwTx) error {
			var err error
			p, err = pay(tx, i)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		err = db.Update(func(tx kvdb.RwTx) error {
			_, err := SettleAttempt(tx, hashOf(i), p.Attempts[0].AttemptID,
				&HTLCSettle{Preimage: [32]byte{1}, SettleTime: time.Unix(1_700_000_200, 0)})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}
