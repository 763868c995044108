package channeldb

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/internal/cpumeter"
	"lnd.xprv/lnwire"
)

// benchInvoiceBatch is how many invoices share a transaction, as
// concurrent AddInvoice calls and a link's round share kvdb's batches.
const benchInvoiceBatch = 50

// benchStoreInvoice is an invoice as AddInvoice stores it: a payment
// request of the length a regtest invoice with a short memo has.
func benchStoreInvoice(i int) *Invoice {
	pre := [32]byte{byte(i), byte(i >> 8), byte(i >> 16), 0x77}
	return &Invoice{
		PaymentHash:    [32]byte{byte(i), byte(i >> 8), byte(i >> 16), 0x55},
		Preimage:       &pre,
		PaymentAddr:    [32]byte{byte(i), byte(i >> 8), byte(i >> 16), 0x66},
		PaymentRequest: "lnbcrt100n1" + strings.Repeat("q", 300),
		Memo:           "bench",
		Value:          10_000,
		CreationDate:   time.Unix(1_700_000_000, 0),
		Expiry:         24 * time.Hour,
		CltvDelta:      80,
		State:          InvoiceOpen,
	}
}

// BenchmarkInvoiceStore measures the invoice store's work per invoice
// (fsync off, so that the CPU of the store and bbolt shows): "add" is
// AddInvoice, "settle" is what the registry does when one HTLC pays an
// invoice (fetch, accept and settle, UpdateInvoice), both in
// transactions of benchInvoiceBatch invoices.
func BenchmarkInvoiceStore(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "channel.db"), WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var next int
	add := func(n int) []*Invoice {
		invs := make([]*Invoice, n)
		err := db.Update(func(tx kvdb.RwTx) error {
			for j := range invs {
				next++
				invs[j] = benchStoreInvoice(next)
				if _, err := AddInvoice(tx, invs[j]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return invs
	}
	// A store that already holds some invoices, as a node's does.
	for range 2000 / benchInvoiceBatch {
		add(benchInvoiceBatch)
	}
	b.Run("add", func(b *testing.B) {
		b.ReportAllocs()
		m := cpumeter.Start()
		w := writtenBytes()
		for i := 0; i < b.N; i += benchInvoiceBatch {
			add(min(benchInvoiceBatch, b.N-i))
		}
		m.Report(b)
		reportWritten(b, w)
	})
	b.Run("settle", func(b *testing.B) {
		b.StopTimer()
		invs := add(b.N)
		b.StartTimer()
		b.ReportAllocs()
		m := cpumeter.Start()
		w := writtenBytes()
		for i := 0; i < b.N; i += benchInvoiceBatch {
			batch := invs[i:min(i+benchInvoiceBatch, b.N)]
			err := db.Update(func(tx kvdb.RwTx) error {
				for _, inv := range batch {
					if err := benchSettle(tx, inv.PaymentHash); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		m.Report(b)
		reportWritten(b, w)
	})
}

// writtenBytes is what the process has written so far (Linux's
// /proc/self/io wchar: bbolt's page writes, the page cache's side of
// them), -1 where it cannot be read.
func writtenBytes() int64 {
	v, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range bytes.Lines(v) {
		if rest, ok := bytes.CutPrefix(line, []byte("wchar: ")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// reportWritten sets b's written-B/op metric from a writtenBytes reading.
func reportWritten(b *testing.B, start int64) {
	if end := writtenBytes(); start >= 0 && end >= 0 && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "written-B/op")
	}
}

// benchSettle is the store's part of a one-HTLC payment's settle.
func benchSettle(tx kvdb.RwTx, hash [32]byte) error {
	inv, err := FetchInvoice(tx, hash)
	if err != nil {
		return err
	}
	now := time.Unix(1_700_000_100, 0)
	inv.HTLCs = append(inv.HTLCs, InvoiceHTLC{
		Circuit: CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(1 << 40), HtlcID: uint64(inv.AddIndex)},
		Amount:  inv.Value, MPPTotal: inv.Value, AcceptHeight: 800_000, AcceptTime: now,
		ResolveTime: now, Expiry: 800_100, State: HTLCSettled,
	})
	inv.AmtPaid, inv.State, inv.SettleDate = inv.Value, InvoiceSettled, now
	return UpdateInvoice(tx, inv)
}
