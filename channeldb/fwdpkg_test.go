package channeldb

import (
	"errors"
	"testing"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// TestAckFwdPkg checks that AckFwdPkg leaves the same bytes as setting
// the bits on the decoded package and writing it again, deletes a package
// once every bit is set, and refuses a corrupt record.
func TestAckFwdPkg(t *testing.T) {
	db, _ := openTestDB(t)
	p := sampleFwdPkg()
	p.Adds = append(p.Adds, PkgUpdate{LogIndex: 6, Msg: &lnwire.UpdateAddHTLC{
		ID: 3, Amount: 9000, PaymentHash: [32]byte{3}, Expiry: 800_042}})
	for i := range p.Adds {
		p.Adds[i].Msg.(*lnwire.UpdateAddHTLC).OnionBlob[7] = byte(i + 1)
	}
	p.AckFilter = NewPkgFilter(uint16(len(p.Adds)))
	update(t, db, func(tx kvdb.RwTx) error { return PutFwdPkg(tx, p) })

	ack := func(adds, settles []uint16) error {
		return db.Update(func(tx kvdb.RwTx) error {
			return AckFwdPkg(tx, p.Source, p.Height, adds, settles)
		})
	}
	// Out of range indexes are ignored, as PkgFilter.Set does.
	if err := ack([]uint16{2, 40}, []uint16{0, 9}); err != nil {
		t.Fatal(err)
	}
	p.AckFilter.Set(2)
	p.SettleFailFilter.Set(0)
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchFwdPkg(tx, p.Source, p.Height)
		if err != nil {
			return err
		}
		want, _ := encodeFwdPkg(p)
		enc, err := encodeFwdPkg(got)
		sameEncoding(t, "acknowledged package", want, enc, err)
		raw := tx.ReadBucket(fwdPkgBucket).NestedReadBucket(
			u64Key(p.Source.ToUint64())).Get(u64Key(p.Height))
		if string(raw) != string(want) {
			t.Errorf("stored bytes differ from the package's encoding")
		}
		return nil
	})
	if err := ack([]uint16{0, 1}, nil); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchFwdPkg(tx, p.Source, p.Height); !errors.Is(err, ErrFwdPkgNotFound) {
			t.Errorf("fully acknowledged package: %v", err)
		}
		return nil
	})
	if err := ack([]uint16{0}, nil); !errors.Is(err, ErrFwdPkgNotFound) {
		t.Errorf("absent package: %v", err)
	}

	// Every truncation of a record, and padding bits set past the
	// filter's length, are corrupt records, not panics.
	raw, err := encodeFwdPkg(p)
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{append(append([]byte(nil), raw[:len(raw)-1]...), 0x80)}
	for n := 0; n < len(raw); n++ {
		bad = append(bad, raw[:n])
	}
	for _, v := range bad {
		err := db.Update(func(tx kvdb.RwTx) error {
			b, err := fwdPkgSourceBucket(tx, p.Source)
			if err != nil {
				return err
			}
			if err := b.Put(u64Key(p.Height), v); err != nil {
				return err
			}
			return AckFwdPkg(tx, p.Source, p.Height, []uint16{0}, nil)
		})
		if !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("record of %d bytes: %v", len(v), err)
		}
	}
}

// TestFwdPkgClone checks that a clone's filters are its own.
func TestFwdPkgClone(t *testing.T) {
	p := sampleFwdPkg()
	c := p.Clone()
	c.AckFilter.Set(0)
	c.SettleFailFilter.Set(0)
	if p.AckFilter.Contains(0) || p.SettleFailFilter.Contains(0) {
		t.Fatal("setting a clone's bits set the original's")
	}
	if !c.AckFilter.Contains(1) || len(c.Adds) != len(p.Adds) {
		t.Fatal("clone lost the package's content")
	}
}
