package channeldb

import (
	"errors"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

func TestAnnounceSigs(t *testing.T) {
	db, _ := openTestDB(t)
	op := wire.OutPoint{Hash: [32]byte{7}, Index: 1}
	in := &AnnounceSigs{ChanPoint: op,
		ShortChannelID: lnwire.ShortChannelID{BlockHeight: 600, TxIndex: 2, TxPosition: 1}}
	for i := range in.NodeSig {
		in.NodeSig[i], in.BitcoinSig[i] = byte(i), byte(200-i)
	}
	fetch := func() (*AnnounceSigs, error) {
		var got *AnnounceSigs
		err := db.View(func(tx kvdb.RTx) (err error) {
			got, err = FetchAnnounceSigs(tx, op)
			return err
		})
		return got, err
	}
	if _, err := fetch(); !errors.Is(err, ErrAnnounceSigsNotFound) {
		t.Fatalf("empty: %v", err)
	}
	if err := db.Update(func(tx kvdb.RwTx) error { return PutAnnounceSigs(tx, in) }); err != nil {
		t.Fatal(err)
	}
	got, err := fetch()
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("got %+v, %v; want %+v", got, err, in)
	}
	if err := db.Update(func(tx kvdb.RwTx) error { return DeleteAnnounceSigs(tx, op) }); err != nil {
		t.Fatal(err)
	}
	if _, err := fetch(); !errors.Is(err, ErrAnnounceSigsNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestAnnounceSigsCorrupt(t *testing.T) {
	op := wire.OutPoint{Index: 1}
	w := &recWriter{}
	w.u8(announceSigsVersion)
	w.u64(5)
	w.raw(make([]byte, 128))
	if _, err := DecodeAnnounceSigs(op, w.b); err != nil {
		t.Fatal(err)
	}
	for n := range len(w.b) {
		if _, err := DecodeAnnounceSigs(op, w.b[:n]); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("length %d: err %v", n, err)
		}
	}
	if _, err := DecodeAnnounceSigs(op, append(w.b, 0)); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("trailing byte: err %v", err)
	}
}
