package funding

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
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
	for i := range channels {
		st, err := scaleChannel(w, peer.PubKey(), i, states)
		if err != nil {
			b.Fatal(err)
		}
		key := channeldb.ChannelKey(st.FundingOutpoint)
		err = db.Update(func(tx kvdb.RwTx) error {
			if err := channeldb.PutOpenChannel(tx, st); err != nil {
				return err
			}
			for n := range states {
				if err := channeldb.AppendRevocationLog(tx, key,
					revokedState(uint64(n))); err != nil {

					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
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

// scaleChannel is an open channel of w with peer at commitment states:
// our keys from the wallet, the peer's from its own, and the peer's
// revealed secrets in the shachain store.
func scaleChannel(w *wallet.Wallet, peer *btcec.PublicKey, i, states int) (
	*channeldb.OpenChannel, error) {

	ours, err := newLocalKeys(w)
	if err != nil {
		return nil, err
	}
	theirs, err := newLocalKeys(w)
	if err != nil {
		return nil, err
	}
	point, err := commitPoint(ours.secrets, 0)
	if err != nil {
		return nil, err
	}
	theirPoint, err := commitPoint(theirs.secrets, uint64(states))
	if err != nil {
		return nil, err
	}
	f := &flow{peer: peer, role: channeldb.Funder, capacity: 10_000_000,
		chanType: lnwallet.ChannelTypeAnchors, feeRate: 2500, keys: ours}
	f.ours = ourSide(f.capacity, MinDustLimit, ours, point, nil)
	f.theirs = ourSide(f.capacity, MinDustLimit, theirs, theirPoint, nil)
	var op wire.OutPoint
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	copy(op.Hash[:], h[:])
	st := newState(f, op)
	st.ShortChannelID.BlockHeight = uint32(1000 + i)
	st.LocalCommit.Number = uint64(states)
	st.RemoteCommit.Number = uint64(states)
	st.RemoteNextPoint = theirPoint
	for n := range uint64(states) {
		secret, err := theirs.secrets.ForCommitment(n)
		if err != nil {
			return nil, err
		}
		idx, err := shachain.IndexForCommitment(n)
		if err != nil {
			return nil, err
		}
		if err := st.RevocationStore.Insert(idx, secret); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// revokedState is a revoked commitment with both main outputs and two
// HTLCs, as a busy channel's log holds.
func revokedState(n uint64) *channeldb.RevocationLogEntry {
	e := &channeldb.RevocationLogEntry{CommitNum: n,
		OurOutput:   &channeldb.CommitOutput{Index: 0, Amount: 4_000_000},
		TheirOutput: &channeldb.CommitOutput{Index: 1, Amount: 5_900_000}}
	binary.BigEndian.PutUint64(e.CommitTxID[:], n)
	for j := range 2 {
		e.HTLCs = append(e.HTLCs, channeldb.RevokedHTLC{OutputIndex: uint32(2 + j),
			Incoming: j == 0, Amount: 10_000, CltvExpiry: 800_000})
	}
	return e
}
