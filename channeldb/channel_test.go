package channeldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// testChannel builds a record with every field set, from seed.
func testChannel(t testing.TB, seed int64) *OpenChannel {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	key := func() *btcec.PublicKey {
		var b [32]byte
		r.Read(b[:])
		_, pub := btcec.PrivKeyFromBytes(b[:])
		return pub
	}
	cfg := func(ours bool) ChannelConfig {
		c := ChannelConfig{
			ChannelConstraints: ChannelConstraints{
				DustLimit: 354, ChanReserve: 10_000,
				HtlcMinimumMsat: 1000, MaxHtlcValueInFlightMsat: 1 << 40,
				MaxAcceptedHtlcs: 483, CsvDelay: 144,
			},
			FundingKey: key(), RevocationBasePoint: key(),
			PaymentBasePoint: key(), DelayedPaymentBasePoint: key(),
			HtlcBasePoint: key(),
		}
		if ours {
			c.FundingKeyLoc = KeyLocator{0, 7}
			c.RevocationBaseLoc = KeyLocator{1, 7}
			c.PaymentBaseLoc = KeyLocator{3, 7}
			c.DelayedPaymentBaseLoc = KeyLocator{4, 7}
			c.HtlcBaseLoc = KeyLocator{2, 7}
		}
		return c
	}
	commit := func(n uint64, sigs int) ChannelCommitment {
		c := ChannelCommitment{
			Number: n, LocalLogIndex: n, RemoteLogIndex: n + 1,
			LocalHtlcID: 3, RemoteHtlcID: 4,
			LocalBalanceMsat: 1_000_000, RemoteBalanceMsat: 2_000_000,
			FeeRate: 2500,
		}
		r.Read(c.TxID[:])
		for i := 0; i < 3; i++ {
			h := HTLC{ID: uint64(i), Incoming: i%2 == 0,
				AmountMsat: uint64(1000 * (i + 1)), CltvExpiry: 700}
			r.Read(h.PaymentHash[:])
			c.HTLCs = append(c.HTLCs, h)
		}
		for i := 0; i < sigs; i++ {
			var s lnwire.Sig
			r.Read(s[:])
			c.HtlcSigs = append(c.HtlcSigs, s)
		}
		r.Read(c.CommitSig[:])
		return c
	}
	chanID := lnwire.ChannelID{1}
	add := &lnwire.UpdateAddHTLC{ChanID: chanID, ID: 3, Amount: 5000,
		Expiry: 800}
	r.Read(add.OnionBlob[:])
	store := shachain.NewStore()
	prod := shachain.NewProducer([32]byte{9})
	for i := uint64(0); i < 5; i++ {
		s, _ := prod.ForCommitment(i)
		idx, _ := shachain.IndexForCommitment(i)
		if err := store.Insert(idx, s); err != nil {
			t.Fatal(err)
		}
	}
	var op wire.OutPoint
	r.Read(op.Hash[:])
	op.Index = 1
	return &OpenChannel{
		FundingOutpoint: op,
		Capacity:        1_000_000,
		ChanType:        2,
		IsInitiator:     true,
		ShortChannelID:  lnwire.NewShortChanIDFromInt(800_000 << 40),
		Aliases: []lnwire.ShortChannelID{
			lnwire.NewShortChanIDFromInt(16_000_000 << 40)},
		RemoteNode:     key(),
		LocalConfig:    cfg(true),
		RemoteConfig:   cfg(false),
		RevocationRoot: KeyLocator{5, 7},
		LocalCommit:    commit(5, 2),
		RemoteCommit:   commit(6, 0),
		PendingRemote: &CommitDiff{
			Commitment: commit(7, 0),
			CommitSig: &lnwire.CommitSig{ChanID: chanID,
				HtlcSigs: []lnwire.Sig{{1}}},
			SignedAtLocal: 5,
		},
		LocalLog: []LogUpdate{
			{Index: 5, Msg: add},
			{Index: 6, Msg: &lnwire.UpdateFee{ChanID: chanID,
				FeePerKw: 3000}},
		},
		RemoteLog: []LogUpdate{
			{Index: 6, Msg: &lnwire.UpdateFulfillHTLC{ChanID: chanID,
				ID: 1}},
			{Index: 7, Msg: &lnwire.UpdateFailHTLC{ChanID: chanID,
				ID: 2, Reason: []byte("nope")}, FailDust: true},
			{Index: 8, Msg: &lnwire.UpdateFailMalformedHTLC{
				ChanID: chanID, ID: 0, FailureCode: 0x8005}},
		},
		NextLocalLogIndex:  7,
		NextRemoteLogIndex: 9,
		NextLocalHtlcID:    4,
		NextRemoteHtlcID:   5,
		RemoteCurrentPoint: key(),
		RemoteNextPoint:    key(),
		RevocationStore:    store,
	}
}

func TestOpenChannelRoundTrip(t *testing.T) {
	c := testChannel(t, 1)
	raw, err := EncodeOpenChannel(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeOpenChannel(raw)
	if err != nil {
		t.Fatal(err)
	}
	again, err := EncodeOpenChannel(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, again) {
		t.Fatal("re-encoding differs")
	}
	// Compare field by field where reflect can (keys, messages and the
	// store are compared through their encodings above).
	if got.FundingOutpoint != c.FundingOutpoint ||
		got.Capacity != c.Capacity || got.ChanType != c.ChanType ||
		!got.IsInitiator || got.ShortChannelID != c.ShortChannelID ||
		!reflect.DeepEqual(got.Aliases, c.Aliases) ||
		!reflect.DeepEqual(got.LocalCommit, c.LocalCommit) ||
		!reflect.DeepEqual(got.RemoteCommit, c.RemoteCommit) ||
		got.PendingRemote.SignedAtLocal != 5 ||
		got.LocalConfig.HtlcBaseLoc != c.LocalConfig.HtlcBaseLoc ||
		!got.RemoteNextPoint.IsEqual(c.RemoteNextPoint) ||
		got.NextRemoteHtlcID != 5 || !got.RemoteLog[1].FailDust {

		t.Fatal("decoded record differs")
	}
	s, err := got.RevocationStore.LookUpCommitment(3)
	want, _ := shachain.NewProducer([32]byte{9}).ForCommitment(3)
	if err != nil || s != want {
		t.Fatal("revocation store lost a secret")
	}
}

// TestOpenChannelCorrupt checks that every truncation and a sample of
// bit flips give an error naming the channel and the record, not a
// panic.
func TestOpenChannelCorrupt(t *testing.T) {
	c := testChannel(t, 2)
	raw, err := EncodeOpenChannel(c)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(raw); n++ {
		_, err := DecodeOpenChannel(raw[:n])
		if !errors.Is(err, ErrCorruptChannel) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
		if n > 40 && !strings.Contains(err.Error(),
			c.FundingOutpoint.String()) {

			t.Fatalf("truncated to %d: error does not name the "+
				"channel: %v", n, err)
		}
	}
	records := []string{"header", "local config", "remote config",
		"revocation root", "local commitment", "remote commitment",
		"pending remote commitment", "local update log",
		"remote update log", "counters", "remote commitment points",
		"revocation store"}
	seen := map[string]bool{}
	for n := 0; n < len(raw); n++ {
		_, err := DecodeOpenChannel(raw[:n])
		for _, rec := range records {
			if strings.Contains(err.Error(), ": "+rec+": ") {
				seen[rec] = true
			}
		}
	}
	if len(seen) != len(records) {
		t.Fatalf("truncations named only the records %v", seen)
	}
	_, err = DecodeOpenChannel(append(append([]byte(nil), raw...), 0))
	if !errors.Is(err, ErrCorruptChannel) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
	bad := append([]byte(nil), raw...)
	bad[0] = 99
	if _, err := DecodeOpenChannel(bad); !errors.Is(err, ErrCorruptChannel) {
		t.Fatalf("unknown version accepted: %v", err)
	}
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), raw...)
		b[r.Intn(len(b))] ^= byte(1 << r.Intn(8))
		DecodeOpenChannel(b) // must not panic
	}
}

func FuzzDecodeOpenChannel(f *testing.F) {
	for seed := int64(1); seed <= 3; seed++ {
		raw, err := EncodeOpenChannel(testChannel(f, seed))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeOpenChannel(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptChannel) {
				t.Fatalf("error not ErrCorruptChannel: %v", err)
			}
			return
		}
		// What decodes must re-encode to the same bytes.
		again, err := EncodeOpenChannel(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func TestOpenChannelStore(t *testing.T) {
	db, err := Open(t.TempDir() + "/channel.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, b := testChannel(t, 1), testChannel(t, 2)
	for _, c := range []*OpenChannel{a, b} {
		if err := db.PersistChannel(context.Background(),
			&ChannelUpdate{State: c}); err != nil {

			t.Fatal(err)
		}
	}
	a.LocalCommit.Number = 99
	if err := db.PersistChannel(context.Background(),
		&ChannelUpdate{State: a}); err != nil {

		t.Fatal(err)
	}
	got, err := db.FetchOpenChannel(a.FundingOutpoint)
	if err != nil || got.LocalCommit.Number != 99 {
		t.Fatalf("fetch: %v", err)
	}
	list, err := db.ListOpenChannels()
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	if err := db.Update(func(tx kvdb.RwTx) error {
		return DeleteOpenChannel(tx, b.FundingOutpoint)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FetchOpenChannel(b.FundingOutpoint); !errors.Is(err,
		ErrChannelNotFound) {

		t.Fatalf("deleted channel: %v", err)
	}
	// A corrupt record is reported with the channel and the record.
	if err := db.Update(func(tx kvdb.RwTx) error {
		return tx.ReadWriteBucket(openChanBucket).Put(
			ChannelKey(a.FundingOutpoint), []byte{1, 2, 3})
	}); err != nil {
		t.Fatal(err)
	}
	_, err = db.FetchOpenChannel(a.FundingOutpoint)
	if !errors.Is(err, ErrCorruptRecord) || !errors.Is(err,
		ErrCorruptChannel) || !strings.Contains(err.Error(), "open channel") {

		t.Fatalf("corrupt record: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.PersistChannel(ctx, &ChannelUpdate{State: a}); err == nil {
		t.Fatal("persist with a cancelled context")
	}
}

// TestOpenChannelEncodingPinned pins the bytes of a record (with every
// kind of log update), so that changes to how the encoder builds them
// cannot change what is on disk.
func TestOpenChannelEncodingPinned(t *testing.T) {
	raw, err := EncodeOpenChannel(testChannel(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	const want = "3969 18c6164619877c55d839829e21c1fecf598bc5e5a06efa633d1433650934e73c"
	if got := fmt.Sprintf("%d %x", len(raw), sha256.Sum256(raw)); got != want {
		t.Fatalf("record is %s, want %s", got, want)
	}
}

// TestFwdPkgEncodingPinned pins the bytes of a forwarding package (adds
// and a settle), so that changes to how the encoder builds them cannot
// change what is on disk.
func TestFwdPkgEncodingPinned(t *testing.T) {
	p := sampleFwdPkg()
	p.SettleFails = append(p.SettleFails, PkgUpdate{LogIndex: 6,
		Msg: &lnwire.UpdateFailHTLC{ChanID: lnwire.ChannelID{3}, ID: 10,
			Reason: []byte("reason")}})
	p.SettleFailFilter = NewPkgFilter(2)
	raw, err := encodeFwdPkg(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = "3072 eb8f8984bbdc0a4bcfc2f3af3c86313aa26e3b85fe5ab017027033fccaf587f6"
	if got := fmt.Sprintf("%d %x", len(raw), sha256.Sum256(raw)); got != want {
		t.Fatalf("record is %s, want %s", got, want)
	}
}
