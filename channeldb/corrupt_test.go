package channeldb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/channeldb/kvdb"
)

// storedRecord is one record as a store writes it: where it lives, how
// to write it and how to read it back through the store's own API.
type storedRecord struct {
	kind  string
	path  [][]byte // buckets, top-level first
	key   []byte
	name  string // how errors name it
	put   func(tx kvdb.RwTx) error
	fetch func(tx kvdb.RTx) error
}

func storedRecords() []storedRecord {
	ln, cl, pe, ci, fp := sampleLinkNode(), sampleClosed(), samplePending(), sampleCircuit(), sampleFwdPkg()
	chanKey := outpointKey(sampleOutpoint(3))
	rev := sampleRevLog(300, 3)
	ev := sampleFwdEvent(1_700_000_000_000_000_000)
	gn, gc := sampleNodeAnn(1, 100), sampleGraphChannel(800_000<<40|5<<16|1)
	gu := sampleUpdate(gc.ID.ToUint64(), 1, 300)
	inv := sampleInvoice(4)
	inv.State = InvoiceOpen
	mc := sampleMCResult(1, 2, 1_800_000_000)
	pay, att := samplePaymentCreation(5), sampleAttempt(7, true)
	putPayment := func(tx kvdb.RwTx) error {
		if _, err := InitPayment(tx, pay); err != nil {
			return err
		}
		return RegisterAttempt(tx, pay.PaymentHash, att)
	}
	fetchPayment := func(tx kvdb.RTx) error { _, err := FetchPayment(tx, pay.PaymentHash); return err }
	cc := sampleCoopClose()
	return []storedRecord{
		{"payment", [][]byte{paymentsBucket, pay.PaymentHash[:]}, payInfoKey, hexs(pay.PaymentHash[:]),
			putPayment, fetchPayment},
		{"payment attempt", [][]byte{paymentsBucket, pay.PaymentHash[:], payAttemptsKey}, u64Key(7), "7",
			putPayment, fetchPayment},
		{"channel status", [][]byte{chanStatusBucket}, outpointKey(cc.ChanPoint), cc.ChanPoint.String(),
			func(tx kvdb.RwTx) error { return AddChanStatus(tx, cc.ChanPoint, ChanStatusLocalDataLoss) },
			func(tx kvdb.RTx) error { _, err := FetchChanStatus(tx, cc.ChanPoint); return err }},
		{"coop close", [][]byte{coopCloseBucket}, outpointKey(cc.ChanPoint), cc.ChanPoint.String(),
			func(tx kvdb.RwTx) error { return PutCoopClose(tx, cc) },
			func(tx kvdb.RTx) error { _, err := FetchCoopClose(tx, cc.ChanPoint); return err }},
		{"graph node", [][]byte{graphNodeBucket}, gn.NodeID[:], hexs(gn.NodeID[:]),
			func(tx kvdb.RwTx) error { return PutGraphNode(tx, gn) },
			func(tx kvdb.RTx) error { _, err := FetchGraphNode(tx, gn.NodeID); return err }},
		{"graph channel", [][]byte{graphChanBucket}, u64Key(gc.ID.ToUint64()), gc.ID.String(),
			func(tx kvdb.RwTx) error { return PutGraphChannel(tx, gc) },
			func(tx kvdb.RTx) error { _, err := FetchGraphChannel(tx, gc.ID); return err }},
		{"channel policy", [][]byte{graphPolicyBucket}, policyKey(gc.ID, 1), gc.ID.String() + "/1",
			func(tx kvdb.RwTx) error {
				if err := PutGraphChannel(tx, gc); err != nil {
					return err
				}
				return PutChannelUpdate(tx, gu)
			},
			func(tx kvdb.RTx) error { _, err := FetchChannelUpdates(tx, gc.ID); return err }},
		{"zombie", [][]byte{graphZombieBucket}, u64Key(gc.ID.ToUint64()), hexs(u64Key(gc.ID.ToUint64())),
			func(tx kvdb.RwTx) error { return MarkZombie(tx, gc.ID, time.Unix(5, 0)) },
			func(tx kvdb.RTx) error { _, _, err := ZombieSince(tx, gc.ID); return err }},
		{"prune tip", [][]byte{graphMetaBucket}, pruneTipKey, string(pruneTipKey),
			func(tx kvdb.RwTx) error { return PutPruneTip(tx, PruneTip{Height: 5, Hash: chainhash.Hash{1}}) },
			func(tx kvdb.RTx) error { _, _, err := FetchPruneTip(tx); return err }},
		{"link node", [][]byte{linkNodeBucket}, ln.IdentityPub.SerializeCompressed(),
			hexs(ln.IdentityPub.SerializeCompressed()),
			func(tx kvdb.RwTx) error { return PutLinkNode(tx, ln) },
			func(tx kvdb.RTx) error { _, err := FetchLinkNode(tx, ln.IdentityPub); return err }},
		{"closed channel", [][]byte{closedChanBucket}, outpointKey(cl.ChanPoint), cl.ChanPoint.String(),
			func(tx kvdb.RwTx) error { return PutClosedChannel(tx, cl) },
			func(tx kvdb.RTx) error { _, err := FetchClosedChannel(tx, cl.ChanPoint); return err }},
		{"pending channel", [][]byte{pendingChanBucket}, pe.PendingChanID[:], hexs(pe.PendingChanID[:]),
			func(tx kvdb.RwTx) error { return PutPendingChannel(tx, pe) },
			func(tx kvdb.RTx) error { _, err := FetchPendingChannelByPoint(tx, *pe.ChanPoint); return err }},
		{"revocation log entry", [][]byte{revLogBucket, chanKey}, u64Key(300),
			"channel " + hexs(chanKey) + " commitment 300",
			func(tx kvdb.RwTx) error { return AppendRevocationLog(tx, chanKey, rev) },
			func(tx kvdb.RTx) error { _, err := FetchRevocationLog(tx, chanKey, 300); return err }},
		{"circuit", [][]byte{circuitBucket}, ci.Incoming.bytes(), "incoming " + ci.Incoming.String(),
			func(tx kvdb.RwTx) error { return PutCircuit(tx, ci) },
			func(tx kvdb.RTx) error { _, err := FetchCircuitByOutgoing(tx, *ci.Outgoing); return err }},
		{"forwarding package", [][]byte{fwdPkgBucket, u64Key(fp.Source.ToUint64())}, u64Key(fp.Height),
			fp.Source.String() + " at 42",
			func(tx kvdb.RwTx) error { return PutFwdPkg(tx, fp) },
			func(tx kvdb.RTx) error { _, err := FetchFwdPkg(tx, fp.Source, fp.Height); return err }},
		{"forwarding event", [][]byte{fwdLogBucket}, u64Key(tsNano(ev.Timestamp)), "2023-11-14T22:13:20Z",
			func(tx kvdb.RwTx) error { return AddForwardingEvents(tx, []ForwardingEvent{ev}) },
			func(tx kvdb.RTx) error {
				_, err := QueryForwardingLog(tx, ForwardingLogQuery{End: ev.Timestamp, NumMax: 1})
				return err
			}},
		{"invoice", [][]byte{invoiceBucket}, inv.PaymentHash[:], hexs(inv.PaymentHash[:]),
			func(tx kvdb.RwTx) error { _, err := AddInvoice(tx, inv); return err },
			func(tx kvdb.RTx) error { _, err := FetchInvoiceByAddr(tx, inv.PaymentAddr); return err }},
		{"mission control result", [][]byte{missionControlBucket}, mcKey(&mc), hexs(mcKey(&mc)),
			func(tx kvdb.RwTx) error { return ReplaceMissionControlResults(tx, []MissionControlResult{mc}, 0) },
			func(tx kvdb.RTx) error { _, err := FetchMissionControlResults(tx); return err }},
	}
}

func hexs(b []byte) string { return fmt.Sprintf("%x", b) }

func recordBucket(tx kvdb.RwTx, path [][]byte) kvdb.RwBucket {
	b := tx.ReadWriteBucket(path[0])
	for _, p := range path[1:] {
		b = b.NestedReadWriteBucket(p)
	}
	return b
}

// TestTruncatedRecords stores each kind of record, then cuts it at every
// length, and at each expects the store's reader to return an error that
// matches ErrCorruptRecord and names the record and its key. It also
// flips the version byte and appends a byte.
func TestTruncatedRecords(t *testing.T) {
	for _, rec := range storedRecords() {
		t.Run(rec.kind, func(t *testing.T) {
			db, _ := openTestDB(t)
			update(t, db, rec.put)
			var full []byte
			view(t, db, func(tx kvdb.RTx) error {
				if err := rec.fetch(tx); err != nil {
					t.Fatalf("intact record: %v", err)
				}
				b := tx.ReadBucket(rec.path[0])
				for _, p := range rec.path[1:] {
					b = b.NestedReadBucket(p)
				}
				full = bytes.Clone(b.Get(rec.key))
				return nil
			})
			if len(full) == 0 {
				t.Fatal("record not found where the layout says")
			}
			bad := [][]byte{append(bytes.Clone(full), 0), append([]byte{99}, full[1:]...)}
			for n := 0; n < len(full); n++ {
				bad = append(bad, full[:n])
			}
			for i, v := range bad {
				update(t, db, func(tx kvdb.RwTx) error {
					return recordBucket(tx, rec.path).Put(rec.key, v)
				})
				err := db.View(rec.fetch)
				var re *RecordError
				switch {
				case !errors.Is(err, ErrCorruptRecord) || !errors.As(err, &re):
					t.Fatalf("case %d (%d bytes): err %v, want a corrupt-record error", i, len(v), err)
				case re.Kind != rec.kind || re.Key != rec.name:
					t.Fatalf("case %d: error names %q %q, want %q %q", i, re.Kind, re.Key, rec.kind, rec.name)
				}
				if i == 1 && !errors.Is(err, ErrUnknownVersion) {
					t.Errorf("version 99: %v, want ErrUnknownVersion", err)
				}
			}
		})
	}
}

// TestUvarintMinimal: the reader's minimal-length rule is the encoder's
// length for every bit length, and a padded varint is refused.
func TestUvarintMinimal(t *testing.T) {
	for i := 0; i <= 64; i++ {
		for _, v := range []uint64{1<<i - 1, 1 << i, 1<<i + 1} {
			if i == 64 && v != 1<<i-1 {
				continue
			}
			b := binary.AppendUvarint(nil, v)
			r := recReader{b: b}
			if got := r.uvarint("v"); r.err != nil || got != v || r.off != len(b) {
				t.Fatalf("%d: read %d, err %v", v, got, r.err)
			}
			if len(b) == binary.MaxVarintLen64 {
				// No room to pad: an 11th byte overflows.
				continue
			}
			// The same value with a continuation byte of zeros.
			padded := append(append([]byte(nil), b...), 0)
			padded[len(b)-1] |= 0x80
			r = recReader{b: padded}
			if r.uvarint("v"); r.err == nil || !strings.Contains(r.err.Error(), "not minimally encoded") {
				t.Fatalf("%d padded: err %v", v, r.err)
			}
		}
	}
	r := recReader{b: []byte{0x80}}
	if r.count(1, "adds"); r.err == nil || !strings.Contains(r.err.Error(), "adds count at offset 0") {
		t.Fatalf("truncated count: %v", r.err)
	}
}
