package channeldb

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/internal/etcdtest"
)

// BenchmarkUpdateRound is one Update with fsync on writing what a
// commitment round of a forwarding node does: a revocation log entry
// with 3 HTLCs, a circuit, a forwarding package with two adds (onions
// included) and a link node — about 3.4 KB of values.
func BenchmarkUpdateRound(b *testing.B) {
	path := filepath.Join(b.TempDir(), "channel.db")
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var size int
	db.Update(func(tx kvdb.RwTx) error {
		size = roundSize(tx)
		return nil
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		if err := db.Update(func(tx kvdb.RwTx) error { return crashRound(tx, uint64(i)) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "value-bytes/round")
}

// BenchmarkUpdateRoundEtcd is BenchmarkUpdateRound on a real etcd (one
// member in the test process, fsync on, over loopback): the cost of a
// commitment round's write for a node of a cluster.
func BenchmarkUpdateRoundEtcd(b *testing.B) {
	srv := etcdtest.Start(b, etcdtest.WithFsync())
	db, err := OpenBackend(etcd.New(srv.Client(), "bench/"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		if err := db.Update(func(tx kvdb.RwTx) error { return crashRound(tx, uint64(i)) }); err != nil {
			b.Fatal(err)
		}
	}
}

// roundSize is the encoded size of one crashRound's values.
func roundSize(kvdb.RwTx) int {
	rev, _ := EncodeRevocationLogEntry(sampleRevLog(1, 3))
	c, _ := encodeCircuit(sampleCircuit())
	p, _ := encodeFwdPkg(sampleFwdPkg())
	n, _ := encodeLinkNode(sampleLinkNode())
	return len(rev) + len(c) + len(p) + len(n)
}

// BenchmarkAppendRevocationLog is one revoked state appended in its own
// Update, fsync on: the cost the revocation adds to a round when it is
// written alone.
func BenchmarkAppendRevocationLog(b *testing.B) {
	for _, htlcs := range []int{0, 3, 10} {
		b.Run(fmt.Sprintf("htlcs=%d", htlcs), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "channel.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			key := outpointKey(sampleOutpoint(1))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := sampleRevLog(uint64(i), htlcs)
				if err := db.Update(func(tx kvdb.RwTx) error { return AppendRevocationLog(tx, key, e) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRevocationLogSize appends b.N revoked states to one channel's
// log (10,000 per Update, fsync off: the layout on disk does not depend
// on fsync) and reports the space they take: bytes/state is the pages
// the log's bucket occupies per state, file-bytes/state the whole file
// per state, value-bytes/state the encoded key and value. Run with
// -benchtime=1000000x for a million states.
func BenchmarkRevocationLogSize(b *testing.B) {
	for _, htlcs := range []int{0, 3, 10} {
		b.Run(fmt.Sprintf("htlcs=%d", htlcs), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "channel.db")
			db, err := Open(path, WithNoSync())
			if err != nil {
				b.Fatal(err)
			}
			key := outpointKey(sampleOutpoint(1))
			const batch = 10_000
			b.ResetTimer()
			for start := 0; start < b.N; start += batch {
				err := db.Update(func(tx kvdb.RwTx) error {
					for i := start; i < b.N && i < start+batch; i++ {
						if err := AppendRevocationLog(tx, key, sampleRevLog(uint64(i), htlcs)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			val, _ := EncodeRevocationLogEntry(sampleRevLog(1, htlcs))
			alloc, file := logSpace(b, path, key)
			n := float64(b.N)
			b.ReportMetric(float64(alloc)/n, "bytes/state")
			b.ReportMetric(float64(file)/n, "file-bytes/state")
			b.ReportMetric(float64(8+len(val)), "value-bytes/state")
		})
	}
}

// logSpace returns the bytes of pages the channel's log bucket holds,
// and the file's size.
func logSpace(b *testing.B, path string, chanKey []byte) (int, int64) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var alloc int
	db.View(func(tx *bolt.Tx) error {
		s := tx.Bucket(revLogBucket).Bucket(chanKey).Stats()
		alloc = s.BranchAlloc + s.LeafAlloc
		return nil
	})
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return alloc, fi.Size()
}
