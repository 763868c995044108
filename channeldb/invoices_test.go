package channeldb

import (
	"errors"
	"slices"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
)

// addInvoices stores n open invoices with hashes 1..n and returns them.
func addInvoices(t *testing.T, db *DB, n int) []*Invoice {
	t.Helper()
	var out []*Invoice
	for i := 1; i <= n; i++ {
		inv := sampleInvoice(byte(i))
		inv.State, inv.HTLCs, inv.AmtPaid = InvoiceOpen, nil, 0
		update(t, db, func(tx kvdb.RwTx) error {
			idx, err := AddInvoice(tx, inv)
			if err == nil && idx != uint64(i) {
				t.Fatalf("invoice %d got add index %d", i, idx)
			}
			return err
		})
		out = append(out, inv)
	}
	return out
}

func TestInvoiceAddFetch(t *testing.T) {
	db, _ := openTestDB(t)
	want := sampleInvoice(1)
	want.State, want.HTLCs = InvoiceOpen, nil
	if err := db.Update(func(tx kvdb.RwTx) error { _, err := AddInvoice(tx, want); return err }); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchInvoice(tx, want.PaymentHash)
		if err != nil {
			return err
		}
		a, _ := encodeInvoice(want)
		b, err := encodeInvoice(got)
		sameEncoding(t, "invoice", a, b, err)
		byAddr, err := FetchInvoiceByAddr(tx, want.PaymentAddr)
		if err != nil || byAddr.PaymentHash != want.PaymentHash {
			t.Fatalf("by payment address: %v %v", byAddr, err)
		}
		if _, err := FetchInvoice(tx, [32]byte{9}); !errors.Is(err, ErrInvoiceNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		if _, err := FetchInvoiceByAddr(tx, [32]byte{9}); !errors.Is(err, ErrInvoiceNotFound) {
			t.Fatalf("unknown address: %v", err)
		}
		return nil
	})

	dupHash := sampleInvoice(1)
	dupHash.State, dupHash.PaymentAddr = InvoiceOpen, [32]byte{42}
	err := db.Update(func(tx kvdb.RwTx) error { _, err := AddInvoice(tx, dupHash); return err })
	if !errors.Is(err, ErrDuplicateInvoice) {
		t.Fatalf("same hash: %v", err)
	}
	dupAddr := sampleInvoice(2)
	dupAddr.State, dupAddr.PaymentAddr = InvoiceOpen, want.PaymentAddr
	err = db.Update(func(tx kvdb.RwTx) error { _, err := AddInvoice(tx, dupAddr); return err })
	if !errors.Is(err, ErrDuplicatePayAddr) {
		t.Fatalf("same payment address: %v", err)
	}
	long := sampleInvoice(3)
	long.State, long.Memo = InvoiceOpen, string(make([]byte, MaxMemoSize+1))
	err = db.Update(func(tx kvdb.RwTx) error { _, err := AddInvoice(tx, long); return err })
	if !errors.Is(err, ErrMemoTooLong) {
		t.Fatalf("long memo: %v", err)
	}
	// Keysend invoices have no payment address; several may be stored.
	for i := byte(10); i < 12; i++ {
		ks := sampleInvoice(i)
		ks.State, ks.PaymentAddr, ks.IsKeysend, ks.HTLCs = InvoiceOpen, [32]byte{}, true, nil
		update(t, db, func(tx kvdb.RwTx) error { _, err := AddInvoice(tx, ks); return err })
	}
}

func TestInvoiceSettleIndex(t *testing.T) {
	db, reopen := openTestDB(t)
	invs := addInvoices(t, db, 4)
	settle := func(inv *Invoice) {
		update(t, db, func(tx kvdb.RwTx) error {
			inv.State, inv.SettleDate = InvoiceSettled, time.Unix(1_700_000_500, 0)
			return UpdateInvoice(tx, inv)
		})
	}
	settle(invs[2])
	settle(invs[0])
	if invs[2].SettleIndex != 1 || invs[0].SettleIndex != 2 {
		t.Fatalf("settle indices %d %d, want 1 2", invs[2].SettleIndex, invs[0].SettleIndex)
	}
	// Rewriting a settled invoice keeps its index.
	settle(invs[2])
	if invs[2].SettleIndex != 1 {
		t.Fatalf("settle index moved to %d", invs[2].SettleIndex)
	}
	// A final state is never left.
	invs[2].State = InvoiceCanceled
	if err := db.Update(func(tx kvdb.RwTx) error { return UpdateInvoice(tx, invs[2]) }); !errors.Is(err, ErrInvoiceFinal) {
		t.Fatalf("cancel a settled invoice: %v", err)
	}
	invs[1].State = InvoiceCanceled
	update(t, db, func(tx kvdb.RwTx) error { return UpdateInvoice(tx, invs[1]) })

	db.Close()
	db, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	view(t, db, func(tx kvdb.RTx) error {
		settled, err := InvoicesSettledSince(tx, 0)
		if err != nil || len(settled) != 2 || settled[0].PaymentHash != invs[2].PaymentHash ||
			settled[1].PaymentHash != invs[0].PaymentHash {
			t.Fatalf("settled since 0: %v %v", settled, err)
		}
		if s, _ := InvoicesSettledSince(tx, 1); len(s) != 1 || s[0].SettleIndex != 2 {
			t.Fatalf("settled since 1: %v", s)
		}
		added, err := InvoicesAddedSince(tx, 2)
		if err != nil || len(added) != 2 || added[0].AddIndex != 3 || added[1].AddIndex != 4 {
			t.Fatalf("added since 2: %v %v", added, err)
		}
		pend, err := PendingInvoices(tx)
		if err != nil || len(pend) != 1 || pend[0].AddIndex != 4 {
			t.Fatalf("pending: %v %v", pend, err)
		}
		return nil
	})
}

func addIndices(p *InvoicePage) []uint64 {
	var out []uint64
	for _, inv := range p.Invoices {
		out = append(out, inv.AddIndex)
	}
	return out
}

func TestQueryInvoices(t *testing.T) {
	db, _ := openTestDB(t)
	invs := addInvoices(t, db, 7)
	for _, i := range []int{1, 4} { // add indices 2 and 5 settled
		update(t, db, func(tx kvdb.RwTx) error {
			invs[i].State = InvoiceSettled
			return UpdateInvoice(tx, invs[i])
		})
	}
	tests := []struct {
		name        string
		q           InvoiceQuery
		want        []uint64
		first, last uint64
	}{
		{"first page", InvoiceQuery{NumMax: 3}, []uint64{1, 2, 3}, 1, 3},
		{"next page", InvoiceQuery{IndexOffset: 3, NumMax: 3}, []uint64{4, 5, 6}, 4, 6},
		{"last page", InvoiceQuery{IndexOffset: 6, NumMax: 3}, []uint64{7}, 7, 7},
		{"past the end", InvoiceQuery{IndexOffset: 7, NumMax: 3}, nil, 7, 7},
		{"reversed from the end", InvoiceQuery{NumMax: 3, Reversed: true}, []uint64{5, 6, 7}, 5, 7},
		{"reversed next", InvoiceQuery{IndexOffset: 5, NumMax: 3, Reversed: true}, []uint64{2, 3, 4}, 2, 4},
		{"reversed to the start", InvoiceQuery{IndexOffset: 2, NumMax: 3, Reversed: true}, []uint64{1}, 1, 1},
		{"reversed past an offset beyond", InvoiceQuery{IndexOffset: 100, NumMax: 2, Reversed: true}, []uint64{6, 7}, 6, 7},
		{"pending only", InvoiceQuery{NumMax: 3, PendingOnly: true}, []uint64{1, 3, 4}, 1, 4},
		{"pending reversed", InvoiceQuery{NumMax: 3, PendingOnly: true, Reversed: true}, []uint64{4, 6, 7}, 4, 7},
		{"none asked", InvoiceQuery{NumMax: 0}, nil, 0, 0},
	}
	for _, tc := range tests {
		view(t, db, func(tx kvdb.RTx) error {
			p, err := QueryInvoices(tx, tc.q)
			if err != nil {
				return err
			}
			got := addIndices(p)
			if len(got) != len(tc.want) || p.FirstIndexOffset != tc.first || p.LastIndexOffset != tc.last {
				t.Errorf("%s: got %v [%d,%d], want %v [%d,%d]", tc.name, got, p.FirstIndexOffset,
					p.LastIndexOffset, tc.want, tc.first, tc.last)
				return nil
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
				}
			}
			return nil
		})
	}
}

func TestInvoiceStoreEmpty(t *testing.T) {
	db, _ := openTestDB(t)
	view(t, db, func(tx kvdb.RTx) error {
		if p, err := QueryInvoices(tx, InvoiceQuery{NumMax: 10}); err != nil || len(p.Invoices) != 0 {
			t.Fatalf("query on empty: %v %v", p, err)
		}
		if s, err := InvoicesAddedSince(tx, 0); err != nil || s != nil {
			t.Fatalf("added since: %v %v", s, err)
		}
		if s, err := PendingInvoices(tx); err != nil || s != nil {
			t.Fatalf("pending: %v %v", s, err)
		}
		return nil
	})
}

// TestPeekInvoice: UpdateInvoice's peek reads a record's payment address,
// state and indexes as DecodeInvoice does, and fails on a record cut
// short before them.
func TestPeekInvoice(t *testing.T) {
	inv := sampleInvoice(9)
	inv.AddIndex, inv.SettleIndex, inv.State = 12, 4, InvoiceSettled
	v, err := encodeInvoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	key := inv.PaymentHash[:]
	want := storedInvoice{PaymentAddr: inv.PaymentAddr, State: InvoiceSettled, AddIndex: 12, SettleIndex: 4}
	if s, err := peekInvoice(key, v); err != nil || s != want {
		t.Fatalf("peek %+v %v, want %+v", s, err, want)
	}
	// The HTLCs (their count first) follow the settle index: a record
	// cut before it fails, one cut after it passes.
	bare := *inv
	bare.HTLCs = nil
	head, err := encodeInvoice(&bare)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(v); n++ {
		s, err := peekInvoice(key, v[:n])
		var re *RecordError
		switch {
		case n < len(head)-1 && !errors.As(err, &re):
			t.Fatalf("cut at %d: %v", n, err)
		case n >= len(head)-1 && (err != nil || s != want):
			t.Fatalf("cut at %d: %+v %v", n, s, err)
		}
	}
	bad := slices.Clone(v)
	bad[0] = invoiceVersion + 1
	if _, err := peekInvoice(key, bad); !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("unknown version: %v", err)
	}
}
