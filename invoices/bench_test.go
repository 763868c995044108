package invoices

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/cpumeter"
	"lnd.xprv/invoices/bolt11"
)

// BenchmarkAddAndSettle adds an invoice and settles it with one HTLC, on
// a bbolt file with fsync on: two durable writes and a signature.
func BenchmarkAddAndSettle(b *testing.B) {
	reg := benchRegistry(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		inv, err := reg.AddInvoice(ctx, NewInvoice{Value: 1000})
		if err != nil {
			b.Fatal(err)
		}
		in := payment(inv, uint64(i), 1000, 1000)
		res, err := reg.NotifyExitHopHtlc(in.hash, in.amt, in.expiry, in.height, circuit(in.id), in.payload, nil)
		if err != nil || res == nil || !res.Settled() {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkAddInvoiceParallel is AddInvoice from many callers at once
// (as the REST payers of the load tool), fsync off: the CPU of the
// registry, the request's encoding and signature, and the store, with
// concurrent adds sharing commits.
func BenchmarkAddInvoiceParallel(b *testing.B) {
	reg := benchRegistry(b, channeldb.WithNoSync())
	ctx := context.Background()
	b.SetParallelism(50)
	b.ReportAllocs()
	m := cpumeter.Start()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := reg.AddInvoice(ctx, NewInvoice{Value: 10_000, Memo: "bench"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	m.Report(b)
}

// benchRegistry is a started registry on a bbolt file of its own,
// stopped and closed when b ends.
func benchRegistry(b *testing.B, opts ...channeldb.Option) *Registry {
	db, err := channeldb.Open(filepath.Join(b.TempDir(), "channel.db"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	reg := New(Config{DB: db, Net: &chaincfg.RegressionNetParams, Sign: bolt11.KeySigner(nodeKey)})
	if err := reg.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Stop() })
	return reg
}
