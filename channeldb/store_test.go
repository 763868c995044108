package channeldb

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

func update(t testing.TB, db *DB, f func(tx kvdb.RwTx) error) {
	t.Helper()
	if err := db.Update(f); err != nil {
		t.Fatal(err)
	}
}

func view(t testing.TB, db *DB, f func(tx kvdb.RTx) error) {
	t.Helper()
	if err := db.View(f); err != nil {
		t.Fatal(err)
	}
}

// sameEncoding fails unless two records encode alike: the strongest
// equality check for records holding keys and addresses.
func sameEncoding(t *testing.T, what string, want, got []byte, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: encode: %v", what, err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s: round trip differs\nwant %x\ngot  %x", what, want, got)
	}
}

func TestLinkNodes(t *testing.T) {
	db, _ := openTestDB(t)
	n := sampleLinkNode()
	other := &LinkNode{Network: n.Network, IdentityPub: samplePub(9), LastSeen: time.Unix(5, 0)}
	update(t, db, func(tx kvdb.RwTx) error {
		if err := PutLinkNode(tx, n); err != nil {
			return err
		}
		return PutLinkNode(tx, other)
	})
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchLinkNode(tx, n.IdentityPub)
		if err != nil {
			return err
		}
		want, _ := encodeLinkNode(n)
		enc, err := encodeLinkNode(got)
		sameEncoding(t, "link node", want, enc, err)
		if len(got.Addresses) != 3 || got.Addresses[2].String() != n.Addresses[2].String() ||
			got.Addresses[1].String() != "[2001:db8::1]:9736" || !got.LastSeen.Equal(n.LastSeen) {
			t.Errorf("link node read back as %+v", got)
		}
		all, err := ListLinkNodes(tx)
		if err != nil || len(all) != 2 {
			t.Errorf("list: %d nodes, %v", len(all), err)
		}
		return nil
	})
	update(t, db, func(tx kvdb.RwTx) error { return DeleteLinkNode(tx, n.IdentityPub) })
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchLinkNode(tx, n.IdentityPub); !errors.Is(err, ErrLinkNodeNotFound) {
			t.Errorf("fetch after delete: %v", err)
		}
		return nil
	})
	bad := sampleLinkNode()
	bad.Addresses = append(bad.Addresses, &lnwire.OnionAddr{OnionService: "short.onion", Port: 1})
	if err := db.Update(func(tx kvdb.RwTx) error { return PutLinkNode(tx, bad) }); err == nil {
		t.Error("stored a Tor v2 address")
	}
}

func TestClosedChannels(t *testing.T) {
	db, _ := openTestDB(t)
	s := sampleClosed()
	done := sampleClosed()
	done.ChanPoint = sampleOutpoint(1)
	done.IsPending = false
	done.CloseType = CooperativeClose
	update(t, db, func(tx kvdb.RwTx) error {
		if err := PutClosedChannel(tx, s); err != nil {
			return err
		}
		return PutClosedChannel(tx, done)
	})
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchClosedChannel(tx, s.ChanPoint)
		if err != nil {
			return err
		}
		want, _ := encodeClosed(s)
		enc, err := encodeClosed(got)
		sameEncoding(t, "closed channel", want, enc, err)
		pending, err := ListClosedChannels(tx, true)
		if err != nil || len(pending) != 1 || pending[0].ChanPoint != s.ChanPoint {
			t.Errorf("pending closes: %v, %v", pending, err)
		}
		return nil
	})
	update(t, db, func(tx kvdb.RwTx) error { return MarkChannelFullyResolved(tx, s.ChanPoint) })
	view(t, db, func(tx kvdb.RTx) error {
		pending, err := ListClosedChannels(tx, true)
		all, err2 := ListClosedChannels(tx, false)
		if err != nil || err2 != nil || len(pending) != 0 || len(all) != 2 {
			t.Errorf("after resolve: %d pending, %d in all (%v, %v)", len(pending), len(all), err, err2)
		}
		if _, err := FetchClosedChannel(tx, sampleOutpoint(99)); !errors.Is(err, ErrClosedChannelNotFound) {
			t.Errorf("fetch of an unknown close: %v", err)
		}
		return nil
	})
	if err := db.Update(func(tx kvdb.RwTx) error {
		return MarkChannelFullyResolved(tx, sampleOutpoint(99))
	}); !errors.Is(err, ErrClosedChannelNotFound) {
		t.Errorf("resolve of an unknown close: %v", err)
	}
	// A reorg takes a closing transaction out: its summary goes.
	update(t, db, func(tx kvdb.RwTx) error { return DeleteClosedChannel(tx, s.ChanPoint) })
	update(t, db, func(tx kvdb.RwTx) error { return DeleteClosedChannel(tx, sampleOutpoint(99)) })
	view(t, db, func(tx kvdb.RTx) error {
		all, err := ListClosedChannels(tx, false)
		if _, e := FetchClosedChannel(tx, s.ChanPoint); !errors.Is(e, ErrClosedChannelNotFound) || err != nil || len(all) != 1 {
			t.Errorf("after delete: %d left, fetch %v (%v)", len(all), e, err)
		}
		return nil
	})
}

func TestPendingChannels(t *testing.T) {
	db, _ := openTestDB(t)
	p := samplePending()
	fundee := &PendingChannel{PendingChanID: [32]byte{0xbb}, Role: Fundee, PeerPub: samplePub(4),
		Capacity: 10_000, State: FundingNegotiating}
	update(t, db, func(tx kvdb.RwTx) error {
		if err := PutPendingChannel(tx, p); err != nil {
			return err
		}
		return PutPendingChannel(tx, fundee)
	})
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchPendingChannel(tx, p.PendingChanID)
		if err != nil {
			return err
		}
		want, _ := encodePending(p)
		enc, err := encodePending(got)
		sameEncoding(t, "pending channel", want, enc, err)
		if got.FundingTx.TxHash() != p.FundingTx.TxHash() {
			t.Error("funding tx changed")
		}
		byPoint, err := FetchPendingChannelByPoint(tx, *p.ChanPoint)
		if err != nil || byPoint.PendingChanID != p.PendingChanID {
			t.Errorf("by channel point: %v, %v", byPoint, err)
		}
		all, err := ListPendingChannels(tx)
		if err != nil || len(all) != 2 || all[1].ChanPoint != nil || all[1].FundingTx != nil {
			t.Errorf("list: %v, %v", all, err)
		}
		return nil
	})
	// Another pending channel cannot claim the same channel point.
	other := samplePending()
	other.PendingChanID[0] = 0xcc
	if err := db.Update(func(tx kvdb.RwTx) error { return PutPendingChannel(tx, other) }); !errors.Is(err, ErrIndexConflict) {
		t.Errorf("second pending channel on one channel point: %v", err)
	}
	// The funding outpoint changes (a re-funded flow): the old index
	// entry goes.
	oldPoint := *p.ChanPoint
	newPoint := sampleOutpoint(55)
	p.ChanPoint = &newPoint
	update(t, db, func(tx kvdb.RwTx) error { return PutPendingChannel(tx, p) })
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchPendingChannelByPoint(tx, oldPoint); !errors.Is(err, ErrPendingChannelNotFound) {
			t.Errorf("old channel point still indexed: %v", err)
		}
		if _, err := FetchPendingChannelByPoint(tx, newPoint); err != nil {
			t.Errorf("new channel point: %v", err)
		}
		return nil
	})
	update(t, db, func(tx kvdb.RwTx) error { return DeletePendingChannel(tx, p.PendingChanID) })
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchPendingChannel(tx, p.PendingChanID); !errors.Is(err, ErrPendingChannelNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if _, err := FetchPendingChannelByPoint(tx, newPoint); !errors.Is(err, ErrPendingChannelNotFound) {
			t.Errorf("index after delete: %v", err)
		}
		return nil
	})
}

func TestRevocationLog(t *testing.T) {
	db, _ := openTestDB(t)
	chanA, chanB := outpointKey(sampleOutpoint(1)), outpointKey(sampleOutpoint(2))
	update(t, db, func(tx kvdb.RwTx) error {
		// Numbers above 255 check the big-endian key order.
		for _, n := range []uint64{0, 1, 2, 255, 256, 70000} {
			if err := AppendRevocationLog(tx, chanA, sampleRevLog(n, int(n%11))); err != nil {
				return err
			}
		}
		return AppendRevocationLog(tx, chanB, sampleRevLog(0, 0))
	})
	err := db.Update(func(tx kvdb.RwTx) error {
		return AppendRevocationLog(tx, chanA, sampleRevLog(256, 0))
	})
	if !errors.Is(err, ErrRevocationLogOrder) {
		t.Errorf("append of an old number: %v", err)
	}
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchRevocationLog(tx, chanA, 256)
		if err != nil {
			return err
		}
		want, _ := EncodeRevocationLogEntry(sampleRevLog(256, 256%11))
		enc, err := EncodeRevocationLogEntry(got)
		sameEncoding(t, "revocation log entry", want, enc, err)
		if got.CommitNum != 256 || len(got.HTLCs) != 256%11 {
			t.Errorf("entry read back as %+v", got)
		}
		var nums []uint64
		err = ForEachRevocationLog(tx, chanA, func(e *RevocationLogEntry) error {
			nums = append(nums, e.CommitNum)
			return nil
		})
		if err != nil || len(nums) != 6 || nums[3] != 255 || nums[4] != 256 || nums[5] != 70000 {
			t.Errorf("walk: %v, %v", nums, err)
		}
		if _, err := FetchRevocationLog(tx, chanA, 3); !errors.Is(err, ErrRevocationLogNotFound) {
			t.Errorf("fetch of a missing number: %v", err)
		}
		return nil
	})
	// A commitment with no outputs of either side but HTLCs.
	bare := sampleRevLog(1, 2)
	bare.OurOutput, bare.TheirOutput = nil, nil
	update(t, db, func(tx kvdb.RwTx) error {
		if err := AppendRevocationLog(tx, chanB, bare); err != nil {
			return err
		}
		return DeleteRevocationLog(tx, chanA)
	})
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchRevocationLog(tx, chanA, 0); !errors.Is(err, ErrRevocationLogNotFound) {
			t.Errorf("after delete: %v", err)
		}
		got, err := FetchRevocationLog(tx, chanB, 1)
		if err != nil || got.OurOutput != nil || got.TheirOutput != nil || len(got.HTLCs) != 2 {
			t.Errorf("bare entry: %+v, %v", got, err)
		}
		return nil
	})
}

func TestCircuits(t *testing.T) {
	db, _ := openTestDB(t)
	c := sampleCircuit()
	half := &PaymentCircuit{Incoming: CircuitKey{ChanID: c.Incoming.ChanID, HtlcID: 6}, IncomingAmount: 1}
	update(t, db, func(tx kvdb.RwTx) error {
		if err := PutCircuit(tx, c); err != nil {
			return err
		}
		return PutCircuit(tx, half)
	})
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchCircuitByOutgoing(tx, *c.Outgoing)
		if err != nil {
			return err
		}
		want, _ := encodeCircuit(c)
		enc, err := encodeCircuit(got)
		sameEncoding(t, "circuit", want, enc, err)
		all, err := ListCircuits(tx)
		if err != nil || len(all) != 2 || all[1].Outgoing != nil {
			t.Errorf("list: %v, %v", all, err)
		}
		return nil
	})
	// Another circuit cannot claim the same outgoing HTLC.
	thief := sampleCircuit()
	thief.Incoming.HtlcID = 99
	if err := db.Update(func(tx kvdb.RwTx) error { return PutCircuit(tx, thief) }); !errors.Is(err, ErrIndexConflict) {
		t.Errorf("second circuit on one outgoing HTLC: %v", err)
	}
	update(t, db, func(tx kvdb.RwTx) error { return DeleteCircuit(tx, c.Incoming) })
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchCircuit(tx, c.Incoming); !errors.Is(err, ErrCircuitNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if _, err := FetchCircuitByOutgoing(tx, *c.Outgoing); !errors.Is(err, ErrCircuitNotFound) {
			t.Errorf("outgoing index after delete: %v", err)
		}
		return nil
	})
}

func TestFwdPkgs(t *testing.T) {
	db, _ := openTestDB(t)
	p := sampleFwdPkg()
	later := sampleFwdPkg()
	later.Height = 43
	later.State = FwdCompleted
	later.AckFilter.Set(0)
	update(t, db, func(tx kvdb.RwTx) error {
		if err := PutFwdPkg(tx, later); err != nil {
			return err
		}
		return PutFwdPkg(tx, p)
	})
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchFwdPkg(tx, p.Source, 42)
		if err != nil {
			return err
		}
		want, _ := encodeFwdPkg(p)
		enc, err := encodeFwdPkg(got)
		sameEncoding(t, "forwarding package", want, enc, err)
		if got.AckFilter.Contains(0) || !got.AckFilter.Contains(1) || got.AckFilter.IsFull() {
			t.Errorf("ack filter read back wrong")
		}
		list, err := ListFwdPkgs(tx, p.Source)
		if err != nil || len(list) != 2 || list[0].Height != 42 || !list[1].AckFilter.IsFull() {
			t.Errorf("list: %v, %v", list, err)
		}
		return nil
	})
	update(t, db, func(tx kvdb.RwTx) error { return DeleteFwdPkg(tx, p.Source, 42) })
	view(t, db, func(tx kvdb.RTx) error {
		if _, err := FetchFwdPkg(tx, p.Source, 42); !errors.Is(err, ErrFwdPkgNotFound) {
			t.Errorf("after delete: %v", err)
		}
		return nil
	})
	wrong := sampleFwdPkg()
	wrong.Adds = append(wrong.Adds, PkgUpdate{Msg: &lnwire.UpdateFee{}})
	wrong.AckFilter = NewPkgFilter(3)
	update(t, db, func(tx kvdb.RwTx) error { return PutFwdPkg(tx, wrong) })
	if err := db.View(func(tx kvdb.RTx) error {
		_, err := FetchFwdPkg(tx, wrong.Source, wrong.Height)
		return err
	}); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("an update_fee among the adds read as %v", err)
	}
}

func TestForwardingLog(t *testing.T) {
	db, _ := openTestDB(t)
	base := int64(1_700_000_000_000_000_000)
	var events []ForwardingEvent
	for i := int64(0); i < 10; i++ {
		events = append(events, sampleFwdEvent(base+i*int64(time.Second)))
	}
	// Two forwards in the same nanosecond are both kept.
	events = append(events, sampleFwdEvent(base))
	update(t, db, func(tx kvdb.RwTx) error { return AddForwardingEvents(tx, events) })
	view(t, db, func(tx kvdb.RTx) error {
		all, err := QueryForwardingLog(tx, ForwardingLogQuery{End: time.Unix(0, base+time.Hour.Nanoseconds()), NumMax: 100})
		if err != nil {
			return err
		}
		if len(all.Events) != 11 || all.LastIndexOffset != 11 || all.Events[1].Timestamp.UnixNano() != base+1 {
			t.Errorf("everything: %d events, offset %d", len(all.Events), all.LastIndexOffset)
		}
		if f := all.Events[0].Fee(); f != 1000 {
			t.Errorf("fee %d", f)
		}
		// From second 2 to second 6 inclusive, skipping one, two per
		// page.
		q := ForwardingLogQuery{
			Start:       time.Unix(0, base+2*int64(time.Second)),
			End:         time.Unix(0, base+6*int64(time.Second)),
			IndexOffset: 1, NumMax: 2,
		}
		page, err := QueryForwardingLog(tx, q)
		if err != nil {
			return err
		}
		if len(page.Events) != 2 || page.LastIndexOffset != 3 ||
			page.Events[0].Timestamp.UnixNano() != base+3*int64(time.Second) {
			t.Errorf("page: %+v", page)
		}
		q.IndexOffset = page.LastIndexOffset
		page, err = QueryForwardingLog(tx, q)
		if err != nil {
			return err
		}
		if len(page.Events) != 2 || page.LastIndexOffset != 5 ||
			page.Events[1].Timestamp.UnixNano() != base+6*int64(time.Second) {
			t.Errorf("second page: %+v", page)
		}
		q.IndexOffset = page.LastIndexOffset
		if page, _ = QueryForwardingLog(tx, q); len(page.Events) != 0 || page.LastIndexOffset != 5 {
			t.Errorf("past the end: %+v", page)
		}
		return nil
	})
}
