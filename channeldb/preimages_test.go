package channeldb

import (
	"crypto/sha256"
	"errors"
	"testing"

	"lnd.xprv/channeldb/kvdb"
)

// TestPreimages: preimages are found by their hash after a reopen, a
// second put is harmless, and a value that is not the key's preimage
// is a corrupt record.
func TestPreimages(t *testing.T) {
	db, reopen := openTestDB(t)
	pres := [][32]byte{{1}, {2}}
	for range 2 {
		if err := db.Update(func(tx kvdb.RwTx) error { return PutPreimages(tx, pres) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fetch := func(h [32]byte) (p [32]byte, ok bool, err error) {
		err = db.View(func(tx kvdb.RTx) error {
			var err error
			p, ok, err = FetchPreimage(tx, h)
			return err
		})
		return
	}
	for _, p := range pres {
		got, ok, err := fetch(sha256.Sum256(p[:]))
		if err != nil || !ok || got != p {
			t.Fatalf("preimage %x: got %x %v %v", p, got, ok, err)
		}
	}
	if _, ok, err := fetch([32]byte{9}); ok || err != nil {
		t.Fatalf("unknown hash: %v %v", ok, err)
	}
	bad := sha256.Sum256([]byte{7})
	if err := db.Update(func(tx kvdb.RwTx) error {
		return tx.ReadWriteBucket(preimageBucket).Put(bad[:], make([]byte, 32))
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := fetch(bad); ok || !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("corrupt preimage: %v %v", ok, err)
	}
}
