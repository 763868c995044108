package funding

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/channeldb"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/wallet"
)

// BenchmarkStartupLoad measures what a node's start does with its open
// channels (cmd/xlnd startLinks): open the channel database, read every
// open channel, resume each as a state machine over the wallet's keys
// (funding.NewChannel) and start its link. The database holds 1,000
// channels, each at commitment 1,000 with 1,000 revoked states in its
// revocation log and a full shachain store; the keys come from a real
// wallet file. It reports the time of one whole load (ns/op), the heap
// the loaded channels keep (live-MiB), the slowest load without the
// stop that follows it (load-s-max), and the file's size.
func BenchmarkStartupLoad(b *testing.B) {
	const channels, states = 1000, 1000
	dir := b.TempDir()
	w, _, err := wallet.Create(wallet.Config{DBPath: filepath.Join(dir, "wallet.db"),
		Net:    &chaincfg.RegressionNetParams,
		Scrypt: wallet.ScryptParams{N: 16, R: 8, P: 1}},
		wallet.CreateParams{NoPassword: true})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	path := filepath.Join(dir, "channel.db")
	fileSize := writeScaleDB(b, w, path, channels, states)

	b.ReportAllocs()
	b.ResetTimer()
	var live uint64
	var slowest time.Duration
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		db, links, n := loadAsAtStart(b, w, path)
		elapsed := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		if n != channels {
			b.Fatalf("loaded %d channels, want %d", n, channels)
		}
		slowest = max(slowest, elapsed)
		links.Stop()
		db.Close()
	}
	b.ReportMetric(slowest.Seconds(), "load-s-max")
	b.ReportMetric(float64(live)/(1<<20), "live-MiB")
	b.ReportMetric(float64(fileSize)/(1<<20), "file-MiB")
}

// loadAsAtStart is the start-up path of cmd/xlnd for open channels.
func loadAsAtStart(b *testing.B, w *wallet.Wallet, path string) (*channeldb.DB,
	*htlcswitch.Links, int) {

	db, err := channeldb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	open, err := db.ListOpenChannels()
	if err != nil {
		b.Fatal(err)
	}
	links := htlcswitch.New(htlcswitch.Config{DB: db}).Links()
	for _, st := range open {
		ch, err := NewChannel(w, st)
		if err != nil {
			b.Fatal(err)
		}
		links.Add(htlcswitch.NewLink(htlcswitch.LinkConfig{Channel: ch, DB: db}))
	}
	return db, links, len(open)
}

// writeScaleDB writes channels open channels of the wallet, each with
// states revoked states, and returns the file's size.
func writeScaleDB(b *testing.B, w *wallet.Wallet, path string, channels,
	states int) int64 {

	b.Helper()
	db, err := channeldb.Open(path, channeldb.WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	peer, err := btcec.NewPrivateKey()
	if err != nil {
		b.Fatal(err)
	}
	if err := WriteScaleChannels(db, w, peer.PubKey(), channels, states, 1000); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
