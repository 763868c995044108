package kvdb

import (
	"path/filepath"
	"testing"
)

// TestFsyncDefault checks that a database syncs each commit unless
// WithNoSync asks otherwise: durability is the default.
func TestFsyncDefault(t *testing.T) {
	for _, c := range []struct {
		opts   []Option
		noSync bool
	}{{nil, false}, {[]Option{WithNoSync()}, true}} {
		b, err := OpenBolt(filepath.Join(t.TempDir(), "x.db"), c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.(*boltBackend).db.NoSync; got != c.noSync {
			t.Errorf("options %d: NoSync %v, want %v", len(c.opts), got, c.noSync)
		}
		b.Close()
	}
}
