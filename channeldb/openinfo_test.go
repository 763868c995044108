package channeldb

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

func TestChannelOpenInfo(t *testing.T) {
	db, _ := openTestDB(t)
	op := wire.OutPoint{Hash: [32]byte{1, 2}, Index: 3}
	in := &ChannelOpenInfo{ChanPoint: op, Private: true, PushMsat: 1234,
		MinDepth: 3, LocalShutdown: []byte{0, 20, 1, 2},
		RemoteShutdown: []byte{}, ScidAlias: true,
		PeerAlias: lnwire.NewShortChanIDFromInt(16_000_000<<40 | 7),
		AliasOnly: true}
	if err := db.Update(func(tx kvdb.RwTx) error {
		return PutChannelOpenInfo(tx, in)
	}); err != nil {
		t.Fatal(err)
	}
	var got *ChannelOpenInfo
	if err := db.View(func(tx kvdb.RTx) (err error) {
		got, err = FetchChannelOpenInfo(tx, op)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("got %+v, want %+v", got, in)
	}
	if err := db.Update(func(tx kvdb.RwTx) error {
		return DeleteChannelOpenInfo(tx, op)
	}); err != nil {
		t.Fatal(err)
	}
	err := db.View(func(tx kvdb.RTx) error {
		_, err := FetchChannelOpenInfo(tx, op)
		return err
	})
	if !errors.Is(err, ErrOpenInfoNotFound) {
		t.Fatalf("err %v", err)
	}
}

// TestChannelOpenInfoCorrupt: every truncation is an error naming the
// record, never a panic; versions 1 and 2 still read.
func TestChannelOpenInfoCorrupt(t *testing.T) {
	op := wire.OutPoint{Index: 1}
	w := &recWriter{}
	w.u8(openInfoVersion)
	w.bool(false)
	w.u64(5)
	w.u32(3)
	w.bytes([]byte{1, 2, 3})
	w.bytes(nil)
	w.bool(false)
	w.u64(16_000_000<<40 | 7)
	w.bool(true)
	if i, err := DecodeChannelOpenInfo(op, w.b); err != nil || !i.AliasOnly {
		t.Fatalf("version 3 record: %+v, %v", i, err)
	}
	// A version 2 record, without the alias-only flag, still reads.
	v2 := append([]byte{2}, w.b[1:len(w.b)-1]...)
	if i, err := DecodeChannelOpenInfo(op, v2); err != nil || i.AliasOnly ||
		i.PeerAlias.ToUint64() != 16_000_000<<40|7 {

		t.Fatalf("version 2 record: %+v, %v", i, err)
	}
	// A version 1 record, without the peer's alias, still reads.
	v1 := append([]byte{1}, w.b[1:len(w.b)-9]...)
	if i, err := DecodeChannelOpenInfo(op, v1); err != nil ||
		i.PeerAlias.ToUint64() != 0 || i.AliasOnly {

		t.Fatalf("version 1 record: %+v, %v", i, err)
	}
	for _, bad := range [][]byte{append([]byte{0}, w.b[1:]...),
		append([]byte{4}, w.b[1:]...), append(w.b[:len(w.b)-1:len(w.b)-1], 2)} {

		if _, err := DecodeChannelOpenInfo(op, bad); err == nil {
			t.Fatalf("%x decoded", bad)
		}
	}
	for n := range len(w.b) {
		if _, err := DecodeChannelOpenInfo(op, w.b[:n]); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("length %d: err %v", n, err)
		}
	}
}

// TestChannelOpenInfoBytes pins the version 3 encoding.
func TestChannelOpenInfoBytes(t *testing.T) {
	db, _ := openTestDB(t)
	op := wire.OutPoint{Hash: [32]byte{9}, Index: 2}
	in := &ChannelOpenInfo{ChanPoint: op, Private: true, PushMsat: 0x0102,
		MinDepth: 6, LocalShutdown: []byte{0xaa}, ScidAlias: true,
		PeerAlias: lnwire.NewShortChanIDFromInt(0x0f42400000010002),
		AliasOnly: true}
	var got []byte
	if err := db.Update(func(tx kvdb.RwTx) error {
		if err := PutChannelOpenInfo(tx, in); err != nil {
			return err
		}
		got = append([]byte(nil), tx.ReadBucket(openInfoBucket).Get(outpointKey(op))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("03" + "01" + "0000000000000102" + "00000006" +
		"01aa" + "00" + "01" + "0f42400000010002" + "01")
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
}

func FuzzDecodeChannelOpenInfo(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeChannelOpenInfo(wire.OutPoint{}, b)
	})
}
